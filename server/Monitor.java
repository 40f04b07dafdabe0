package server;

import call.Call;
import call.Done;
import call.Listener;
import call.Report;
import http.Bearer;
import http.Replies;
import text.Json;

import com.sun.net.httpserver.HttpExchange;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;
import java.util.OptionalInt;
import java.util.function.Predicate;

/**
 * The status monitor of the asynchronous request-reply pattern (RFC 9110 section 15.3.3): every 202 says
 * "Location: /calls/ID", and GET /calls/ID answers how that call is going, as JSON: its state (queued,
 * working, done, failed), when it was accepted, started and finished, the status of its answer and a
 * command's exit code, and the answer (its first 4 KiB), with Retry-After while it is not
 * finished. Fed by the endpoint's events; finished calls are kept for a bounded time and count.
 */
public final class Monitor implements Listener {
    /** One call as the monitor knows it: accepted, then started, then its report once finished. */
    private static final class State {
        final String id;
        final Instant accepted = Instant.now();
        Instant started;
        Report finished;

        State(String id) {
            this.id = id;
        }

        Report report() {
            return finished != null ? finished : new Report(id, accepted, started, null, OptionalInt.empty(), OptionalInt.empty(), null, 0, null, false);
        }
    }

    /** Where a monitor with a store reads its calls. */
    public interface Reader {
        Report report(String id) throws java.sql.SQLException;
    }

    private final Duration keep;
    private final int most;
    private final Predicate<HttpExchange> trusted;
    private final Reader store;
    private final Map<String, State> calls = new HashMap<>();
    private final ArrayDeque<State> finished = new ArrayDeque<>();

    /**
     * @param keep how long a finished call stays; most how many finished calls stay at most
     * @param trusted whether a request may read a monitor (the endpoint's token)
     * @param store where the calls are read from (null: from the events this monitor is told)
     */
    public Monitor(Duration keep, int most, Predicate<HttpExchange> trusted, Reader store) {
        this.keep = keep;
        this.most = most;
        this.trusted = trusted;
        this.store = store;
    }

    @Override
    public synchronized void accepted(Call call) {
        calls.put(call.id(), new State(call.id()));
    }

    @Override
    public synchronized void started(Call call) {
        State s = calls.get(call.id());
        if (s != null) s.started = Instant.now();
    }

    @Override
    public synchronized void done(Done done) {
        State s = calls.get(done.call().id());
        if (s == null) return; // refused before it was accepted: it has no monitor
        String answer = done.answer() == null ? null : done.answer().substring(0, Math.min(done.answer().length(), Report.ANSWER_SHOWN));
        s.finished = new Report(s.id, s.accepted, s.started, Instant.now(), done.workStatus(), done.exit(), answer, done.answerBytes(),
            done.note(), done.failed());
        finished.addLast(s);
        forgetOld();
    }

    private void forgetOld() {
        Instant before = Instant.now().minus(keep);
        while (!finished.isEmpty() && (finished.size() > most || finished.peekFirst().finished.finished().isBefore(before))) {
            calls.remove(finished.removeFirst().id);
        }
    }

    /** GET /calls/ID. */
    public void handle(HttpExchange exchange) {
        try (exchange) {
            String id = exchange.getRequestURI().getRawPath().substring("/calls/".length());
            if (!trusted.test(exchange)) {
                Bearer.refuse(exchange);
                return;
            }
            Report report;
            try {
                report = !id.matches("[0-9a-f]{32}") ? null : store != null ? store.report(id) : inMemory(id);
            } catch (java.sql.SQLException e) {
                exchange.getResponseHeaders().set("Retry-After", "1");
                Replies.send(exchange, 503, "Service Unavailable: the store cannot be read (" + e.getMessage() + ")\n", Replies.hasBody(exchange));
                return;
            }
            if (report != null && report.finished() == null) exchange.getResponseHeaders().set("Retry-After", "1");
            if (report == null) {
                Replies.send(exchange, 404, "404 Not Found: no such call (or it finished longer ago than it is kept)\n", Replies.hasBody(exchange));
                return;
            }
            exchange.getResponseHeaders().set("Content-Type", "application/json");
            exchange.getResponseHeaders().set("Cache-Control", "no-store");
            Replies.send(exchange, 200, json(report).getBytes(StandardCharsets.UTF_8), Replies.hasBody(exchange));
        }
    }

    private synchronized Report inMemory(String id) {
        forgetOld();
        State s = calls.get(id);
        return s == null ? null : s.report();
    }

    private static String json(Report s) {
        StringBuilder out = new StringBuilder("{\"id\":\"").append(s.id()).append("\",\"state\":\"").append(s.state())
            .append("\",\"accepted\":\"").append(s.accepted()).append('"')
            .append(",\"started\":").append(s.started() == null ? "null" : "\"" + s.started() + "\"")
            .append(",\"finished\":").append(s.finished() == null ? "null" : "\"" + s.finished() + "\"");
        if (s.finished() != null) {
            out.append(",\"status\":").append(s.status().orElse(0));
            s.exit().ifPresent(exit -> out.append(",\"exit\":").append(exit));
            if (s.answer() != null) out.append(",\"answer\":").append(Json.bytes(s.answer())).append(",\"answer_bytes\":").append(s.answerBytes());
            if (s.note() != null) out.append(",\"note\":").append(Json.bytes(s.note()));
        }
        return out.append("}\n").toString();
    }
}
