import com.sun.net.httpserver.HttpExchange;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;
import java.util.function.Predicate;

/**
 * The status monitor of the asynchronous request-reply pattern (RFC 9110 section 15.3.3): every 202 says
 * "Location: /calls/ID", and GET /calls/ID answers how that call is going, as JSON: its state (queued,
 * working, done, failed), when it was accepted, started and finished, the status of its answer and a
 * command's exit code, and the answer (at most res.ANSWER_KEPT bytes), with Retry-After while it is not
 * finished. Fed by the endpoint's events; finished calls are kept for a bounded time and count.
 */
final class Monitor implements res.Listener {
    /** One call as the monitor knows it. */
    private static final class State {
        final String id;
        final Instant accepted = Instant.now();
        Instant started, finished;
        res.Done done;

        State(String id) {
            this.id = id;
        }
    }

    private final Duration keep;
    private final int most;
    private final Predicate<HttpExchange> trusted;
    private final Map<String, State> calls = new HashMap<>();
    private final ArrayDeque<State> finished = new ArrayDeque<>();

    /**
     * @param keep how long a finished call stays; most how many finished calls stay at most
     * @param trusted whether a request may read a monitor (the endpoint's token)
     */
    Monitor(Duration keep, int most, Predicate<HttpExchange> trusted) {
        this.keep = keep;
        this.most = most;
        this.trusted = trusted;
    }

    @Override
    public synchronized void accepted(res.Call call) {
        calls.put(call.id(), new State(call.id()));
    }

    @Override
    public synchronized void started(res.Call call) {
        State s = calls.get(call.id());
        if (s != null) s.started = Instant.now();
    }

    @Override
    public synchronized void done(res.Done done) {
        State s = calls.get(done.call().id());
        if (s == null) return; // refused before it was accepted: it has no monitor
        s.finished = Instant.now();
        s.done = done;
        finished.addLast(s);
        forgetOld();
    }

    private void forgetOld() {
        Instant before = Instant.now().minus(keep);
        while (!finished.isEmpty() && (finished.size() > most || finished.peekFirst().finished.isBefore(before))) {
            calls.remove(finished.removeFirst().id);
        }
    }

    /** GET /calls/ID. */
    void handle(HttpExchange exchange) {
        try (exchange) {
            String id = exchange.getRequestURI().getRawPath().substring("/calls/".length());
            if (!trusted.test(exchange)) {
                exchange.getResponseHeaders().set("WWW-Authenticate", "Bearer");
                res.send(exchange, 401, res.UNAUTHORIZED + "\n", res.hasBody(exchange));
                return;
            }
            String json;
            synchronized (this) {
                forgetOld();
                State s = id.matches("[0-9a-f]{32}") ? calls.get(id) : null;
                json = s == null ? null : json(s);
                if (s != null && s.finished == null) exchange.getResponseHeaders().set("Retry-After", "1");
            }
            if (json == null) {
                res.send(exchange, 404, "404 Not Found: no such call (or it finished longer ago than it is kept)\n", res.hasBody(exchange));
                return;
            }
            exchange.getResponseHeaders().set("Content-Type", "application/json");
            exchange.getResponseHeaders().set("Cache-Control", "no-store");
            res.send(exchange, 200, json.getBytes(StandardCharsets.UTF_8), res.hasBody(exchange));
        }
    }

    private static String json(State s) {
        res.Done d = s.done;
        String state = d != null ? (failed(d) ? "failed" : "done") : s.started != null ? "working" : "queued";
        StringBuilder out = new StringBuilder("{\"id\":\"").append(s.id).append("\",\"state\":\"").append(state)
            .append("\",\"accepted\":\"").append(s.accepted).append('"')
            .append(",\"started\":").append(s.started == null ? "null" : "\"" + s.started + "\"")
            .append(",\"finished\":").append(s.finished == null ? "null" : "\"" + s.finished + "\"");
        if (d != null) {
            out.append(",\"status\":").append(d.workStatus());
            if (d.exit() >= 0) out.append(",\"exit\":").append(d.exit());
            if (d.answer() != null) out.append(",\"answer\":").append(EventLog.json(d.answer())).append(",\"answer_bytes\":").append(d.answerBytes());
            if (d.note() != null) out.append(",\"note\":").append(EventLog.json(d.note()));
        }
        return out.append("}\n").toString();
    }

    /** Failed: not worked on (stopped, failed), a command that did not exit 0, or a work that answered 5xx. */
    static boolean failed(res.Done d) {
        return d.note() != null || d.exit() > 0 || d.workStatus() >= 500;
    }
}
