package server;

import call.Call;
import call.Callback;
import call.Done;
import call.Listener;
import call.Plan;
import call.Report;
import call.Try;
import http.Bearer;
import http.Replies;
import text.Json;

import com.sun.net.httpserver.HttpExchange;

import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.function.Predicate;

/**
 * The status monitor of the asynchronous request-reply pattern (RFC 9110 section 15.3.3): every 202 says
 * "Location: /calls/ID", and GET /calls/ID answers how that call is going, as JSON: its state (queued,
 * working, retrying, done, failed, cancelled), when it was accepted, started and finished, its attempts, the
 * status of its answer and a command's exit code, and the answer (its first 4 KiB), with Retry-After while
 * it is not finished. GET /calls lists the calls, newest first; DELETE /calls/ID cancels one, POST
 * /calls/ID/retry runs a failed or cancelled one again, POST /calls/retry all of them. Fed by the endpoint's
 * events without a store; finished calls are kept for a bounded time and count.
 */
public final class Monitor implements Listener {
    /** One call as the monitor knows it without a store. */
    private static final class State {
        final String id;
        Instant accepted = Instant.now();
        String state = "queued", group;
        Instant started, next;
        Callback callback;
        int attempts;
        final StringBuilder tries = new StringBuilder();
        Report finished;

        final Report.Asked asked;

        State(String id, Report.Asked asked) {
            this.id = id;
            this.asked = asked;
        }

        Report report() {
            return finished != null ? finished : new Report(id, state, accepted, started, null, OptionalInt.empty(), OptionalInt.empty(),
                null, 0, null, attempts, next, group, tries.toString(), callback, asked);
        }
    }

    /** Where a monitor with a store reads its calls. */
    public interface Reader {
        Report report(String id) throws java.sql.SQLException;

        /**
         * Calls in state, of group, with key, accepted from since and before until (each null: any), newest first, at most
         * limit, older than the call before (null: from the newest).
         */
        List<Report> list(String state, String group, String key, Instant since, Instant until, int limit, String before)
            throws java.sql.SQLException;

        /** How many calls are in each state. */
        Map<String, Long> counts() throws java.sql.SQLException;
    }

    /** What the management routes ask of the endpoint. Each answers an HTTP status. */
    public interface Control {
        /** 200: cancelled (now, or before); 202: being cancelled still; 409: done or failed; 404: no such call. */
        int cancel(String id) throws Exception;

        /** 202: queued again; 409: not failed or cancelled, or its request is no longer kept; 404: no such call; 503: the queue is full. */
        int rerun(String id) throws Exception;

        /** Runs again the calls in state (failed or cancelled) that ended at since or later (null: all); returns how many, -1 when the queue is full. */
        long rerunAll(String state, Instant since) throws Exception;
    }

    static final int LIST_DEFAULT = 50, LIST_MOST = 1000;

    private final Duration keep;
    private final int most;
    private final Predicate<HttpExchange> trusted;
    private final Reader store;
    private final Output output;
    private final Changes changes;
    private volatile Control control;
    /** In arrival order: a list reads it backwards. */
    private final LinkedHashMap<String, State> calls = new LinkedHashMap<>();
    private final ArrayDeque<State> finished = new ArrayDeque<>();

    /**
     * @param keep how long a finished call stays; most how many finished calls stay at most
     * @param trusted whether a request may read a monitor (the endpoint's token)
     * @param store where the calls are read from (null: from the events this monitor is told)
     */
    public Monitor(Duration keep, int most, Predicate<HttpExchange> trusted, Reader store, Output output, Changes changes) {
        this.output = output;
        this.changes = changes;
        this.keep = keep;
        this.most = most;
        this.trusted = trusted;
        this.store = store;
    }

    /** The endpoint that cancels and re-runs calls (set once it exists). */
    public void control(Control control) {
        this.control = control;
    }

    @Override
    public synchronized void accepted(Call call) {
        State s = new State(call.id(), Report.Asked.of(call)), before = calls.remove(call.id());
        if (before != null) { // a call run again: listed as the newest arrival, accepted when it was first, its attempts so far kept
            s.accepted = before.accepted;
            s.tries.append(before.tries);
        }
        calls.put(call.id(), s);
    }

    @Override
    public synchronized void planned(Call call, Plan plan) {
        State s = calls.get(call.id());
        if (s == null) return;
        s.next = plan.notBefore();
        s.group = plan.group();
        if (plan.callback() != null) s.callback = Callback.asked(plan.callback());
    }

    @Override
    public synchronized void started(Call call, Instant due) {
        State s = calls.get(call.id());
        if (s == null) return;
        s.started = Instant.now();
        s.state = "working";
        s.next = null;
    }

    @Override
    public synchronized void tried(Done end, Try attempt, int attempts, Instant next) {
        State s = calls.get(end.call().id());
        if (s == null) return;
        s.attempts = attempt.attempt();
        if (!s.tries.isEmpty()) s.tries.append(',');
        s.tries.append(attempt.json());
        if (next != null) {
            s.state = "retrying";
            s.next = next;
        }
    }

    @Override
    public synchronized void done(Done done) {
        State s = calls.get(done.call().id());
        if (s == null) return; // refused before it was accepted: it has no monitor
        String answer = done.answer() == null ? null : done.answer().substring(0, Math.min(done.answer().length(), Report.ANSWER_SHOWN));
        String state = done.cancelled() ? "cancelled" : done.failed() ? "failed" : "done";
        s.finished = new Report(s.id, state, s.accepted, s.started, Instant.now(), done.workStatus(), done.exit(), answer, done.answerBytes(),
            done.note(), s.attempts, null, s.group, s.tries.toString(),
            s.callback == null ? null : new Callback(s.callback.url(), Callback.SENDING, 0, 0), s.asked);
        finished.addLast(s);
        forgetOld();
    }

    /** How a call's callback went, without a store: its monitor shows it. */
    public synchronized void told(String id, Instant ended, Callback c) {
        State s = calls.get(id);
        if (s == null || s.finished == null || !s.finished.finished().equals(ended)) return; // run again since: not this end's
        s.callback = c;
        s.finished = s.finished.told(c);
    }

    /** A call as its monitor shows it, or null (no such call, or the store cannot be read). */
    public Report read(String id) {
        try {
            return report(id);
        } catch (java.sql.SQLException e) {
            return null;
        }
    }

    private void forgetOld() {
        Instant before = Instant.now().minus(keep);
        while (!finished.isEmpty() && (finished.size() > most || finished.peekFirst().finished.finished().isBefore(before))) {
            State gone = finished.removeFirst();
            calls.remove(gone.id, gone); // a call run again since is another State
        }
    }

    /** /calls and /calls/…: a monitor, the list, a cancel, a re-run, a call's output as it is written. */
    public void handle(HttpExchange exchange) {
        try (exchange) {
            String path = exchange.getRequestURI().getRawPath(), method = exchange.getRequestMethod();
            boolean read = method.equals("GET") || method.equals("HEAD");
            if ((path.equals("/calls") || path.equals("/calls/")) && read && Dashboard.wanted(exchange)) {
                Dashboard.page(exchange); // holds no data: it asks for the token itself
                return;
            }
            if (!trusted.test(exchange)) {
                Bearer.refuse(exchange);
                return;
            }
            String[] parts = path.split("/", -1); // "", "calls", ID, "retry"
            try {
                if (path.equals("/calls") || path.equals("/calls/")) {
                    if (read) list(exchange); else notAllowed(exchange, "GET, HEAD");
                } else if (path.equals("/calls/retry")) {
                    if (method.equals("POST")) rerunAll(exchange); else notAllowed(exchange, "POST");
                } else if (parts.length == 4 && parts[3].equals("retry")) {
                    if (method.equals("POST")) rerun(exchange, parts[2]); else notAllowed(exchange, "POST");
                } else if (path.equals("/calls/counts")) {
                    if (read) counts(exchange); else notAllowed(exchange, "GET, HEAD");
                } else if (path.equals("/calls/events")) {
                    if (method.equals("GET")) changes.follow(exchange); else notAllowed(exchange, "GET");
                } else if (parts.length == 4 && parts[3].equals("output")) {
                    if (method.equals("GET")) output.follow(exchange, parts[2], this::read); else notAllowed(exchange, "GET");
                } else if (parts.length == 3) {
                    if (read) show(exchange, parts[2]);
                    else if (method.equals("DELETE")) cancel(exchange, parts[2]);
                    else notAllowed(exchange, "GET, HEAD, DELETE");
                } else {
                    text(exchange, 404, "404 Not Found: no such route (/calls, /calls/ID, /calls/ID/retry, /calls/ID/output, /calls/retry, /calls/counts, /calls/events)");
                }
            } catch (java.sql.SQLException e) {
                exchange.getResponseHeaders().set("Retry-After", "1");
                text(exchange, 503, "Service Unavailable: the store cannot be read (" + e.getMessage() + ")");
            } catch (Bad e) {
                text(exchange, 400, "Bad Request: " + e.getMessage());
            } catch (Exception e) {
                text(exchange, 500, "Internal Server Error: " + e);
            }
        }
    }

    /** A request whose query or id is not what the route takes. */
    private static final class Bad extends Exception {
        Bad(String message) {
            super(message, null, false, false);
        }
    }

    private static void notAllowed(HttpExchange exchange, String allow) {
        exchange.getResponseHeaders().set("Allow", allow);
        text(exchange, 405, "Method Not Allowed: " + exchange.getRequestMethod() + " (this route takes " + allow + ")");
    }

    private static void text(HttpExchange exchange, int status, String text) {
        Replies.send(exchange, status, text + "\n", Replies.hasBody(exchange));
    }

    private static boolean isId(String id) {
        return id.matches("[0-9a-f]{32}");
    }

    /** GET /calls/ID. */
    private void show(HttpExchange exchange, String id) throws java.sql.SQLException {
        Report report = report(id);
        if (report == null) {
            text(exchange, 404, "404 Not Found: no such call (or it finished longer ago than it is kept)");
            return;
        }
        if (report.finished() == null) exchange.getResponseHeaders().set("Retry-After", String.valueOf(retryAfter(report)));
        json(exchange, 200, json(report));
    }

    private Report report(String id) throws java.sql.SQLException {
        return !isId(id) ? null : store != null ? store.report(id) : inMemory(id);
    }

    /** When to look again: 1 s, or when a call waiting for a time is due. */
    private static long retryAfter(Report r) {
        return r.next() == null ? 1 : Math.max(1, Duration.between(Instant.now(), r.next()).toSeconds());
    }

    /** DELETE /calls/ID: 200 and the monitor once cancelled (202 while its work is still ending), 409 and the monitor when done or failed. */
    private void cancel(HttpExchange exchange, String id) throws Exception {
        int asked = !isId(id) || control == null ? 0 : control.cancel(id);
        Report report = report(id);
        if (report == null) {
            text(exchange, 404, "404 Not Found: no such call (or it finished longer ago than it is kept)");
            return;
        }
        // Done or failed (or a call whose caller waits for it, which has no one to tell): 409, and how it is.
        int status = report.state().equals("cancelled") ? 200 : report.finished() != null || asked == 0 ? 409 : 202;
        json(exchange, status, json(report));
    }

    /** POST /calls/ID/retry: 202 and its Location, the call queued again with new attempts. */
    private void rerun(HttpExchange exchange, String id) throws Exception {
        int status = !isId(id) || control == null ? 0 : control.rerun(id);
        if (status == 0) status = report(id) == null ? 404 : 409;
        switch (status) {
            case 202 -> {
                exchange.getResponseHeaders().set("Location", "/calls/" + id);
                Replies.send(exchange, 202, "", Replies.hasBody(exchange));
            }
            case 404 -> text(exchange, 404, "404 Not Found: no such call (or it finished longer ago than it is kept)");
            case 503 -> {
                exchange.getResponseHeaders().set("Retry-After", "1");
                text(exchange, 503, "Service Unavailable: the queue is full (--queue); try again later");
            }
            default -> text(exchange, 409, "Conflict: only a failed or cancelled call runs again (this one is "
                + stateOf(id) + "), and only while its request is kept");
        }
    }

    private String stateOf(String id) throws java.sql.SQLException {
        Report r = report(id);
        return r == null ? "gone" : r.state();
    }

    /** POST /calls/retry?state=failed|cancelled&since=ISO-8601: 202 and {"retried": N}. */
    private void rerunAll(HttpExchange exchange) throws Exception {
        Map<String, String> q = query(exchange, "state", "since");
        String state = q.getOrDefault("state", "failed");
        if (!state.equals("failed") && !state.equals("cancelled")) throw new Bad("state is failed or cancelled here, not " + state);
        Instant since = null;
        if (q.containsKey("since")) {
            try {
                since = Instant.parse(q.get("since"));
            } catch (DateTimeParseException e) {
                throw new Bad("since is an ISO-8601 time such as 2026-12-05T10:00:00Z, not " + q.get("since"));
            }
        }
        long n = control == null ? 0 : control.rerunAll(state, since);
        if (n < 0) {
            exchange.getResponseHeaders().set("Retry-After", "1");
            text(exchange, 503, "Service Unavailable: the queue is full (--queue); try again later");
            return;
        }
        json(exchange, 202, "{\"retried\":" + n + "}\n");
    }

    /** GET /calls?state=S&group=G&key=K&since=T&until=T&limit=N&before=ID. */
    private void list(HttpExchange exchange) throws Exception {
        Map<String, String> q = query(exchange, "state", "group", "key", "since", "until", "limit", "before");
        String state = q.get("state"), group = q.get("group"), key = q.get("key");
        Instant since = time(q, "since"), until = time(q, "until");
        if (state != null && !Report.STATES.contains(state)) throw new Bad("state is one of " + String.join(", ", Report.STATES) + ", not " + state);
        int limit = LIST_DEFAULT;
        if (q.containsKey("limit")) {
            try {
                limit = Integer.parseInt(q.get("limit"));
            } catch (NumberFormatException e) {
                limit = 0;
            }
            if (limit < 1 || limit > LIST_MOST) throw new Bad("limit is a number from 1 to " + LIST_MOST + ", not " + q.get("limit"));
        }
        String before = q.get("before");
        if (before != null && (!isId(before) || report(before) == null)) throw new Bad("before names a call kept here, not " + before);
        List<Report> page = store != null ? store.list(state, group, key, since, until, limit + 1, before)
            : inMemory(r -> (state == null || state.equals(r.state())) && (group == null || group.equals(r.group()))
                && (key == null || r.asked() != null && key.equals(r.asked().key())) && (since == null || !r.accepted().isBefore(since))
                && (until == null || r.accepted().isBefore(until)), limit + 1, before);
        StringBuilder out = new StringBuilder("{\"calls\":[");
        for (int i = 0; i < Math.min(limit, page.size()); i++) out.append(i == 0 ? "" : ",").append(json(page.get(i)).strip());
        out.append("],\"next\":");
        if (page.size() > limit) {
            StringBuilder next = new StringBuilder("/calls?");
            q.forEach((name, value) -> {
                if (!name.equals("before")) next.append(name).append('=').append(java.net.URLEncoder.encode(value, StandardCharsets.UTF_8)).append('&');
            });
            out.append(Json.bytes(next.append("before=").append(page.get(limit - 1).id()).toString()));
        } else {
            out.append("null");
        }
        json(exchange, 200, out.append("}\n").toString());
    }

    /** The query's parameters, each once at most, and only those named. */
    private static Map<String, String> query(HttpExchange exchange, String... names) throws Bad {
        Map<String, String> q = new LinkedHashMap<>();
        String raw = exchange.getRequestURI().getRawQuery();
        if (raw == null || raw.isEmpty()) return q;
        for (String pair : raw.split("&")) {
            String[] kv = pair.split("=", 2);
            String name = decode(kv[0]), value = kv.length == 2 ? decode(kv[1]) : "";
            if (!List.of(names).contains(name)) throw new Bad("this route takes " + String.join(", ", names) + ", not " + name);
            if (q.put(name, value) != null) throw new Bad(name + " is given once at most");
        }
        return q;
    }

    private static String decode(String s) throws Bad {
        try {
            return URLDecoder.decode(s, StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            throw new Bad("a malformed % escape in the query");
        }
    }

    private static void json(HttpExchange exchange, int status, String json) {
        exchange.getResponseHeaders().set("Content-Type", "application/json");
        exchange.getResponseHeaders().set("Cache-Control", "no-store");
        Replies.send(exchange, status, json.getBytes(StandardCharsets.UTF_8), Replies.hasBody(exchange));
    }

    private synchronized Report inMemory(String id) {
        forgetOld();
        State s = calls.get(id);
        return s == null ? null : s.report();
    }

    /** A time of the query (ISO-8601), or null when not given. */
    private static Instant time(Map<String, String> q, String name) throws Bad {
        if (!q.containsKey(name)) return null;
        try {
            return Instant.parse(q.get(name));
        } catch (DateTimeParseException e) {
            throw new Bad(name + " is an ISO-8601 time such as 2026-12-05T10:00:00Z, not " + q.get(name));
        }
    }

    /** GET /calls/counts: {"queued":N, "retrying":N, "working":N, "done":N, "failed":N, "cancelled":N}. */
    private void counts(HttpExchange exchange) throws Exception {
        Map<String, Long> counts;
        if (store != null) {
            counts = store.counts();
        } else {
            counts = new LinkedHashMap<>();
            for (String state : Report.STATES) counts.put(state, 0L);
            synchronized (this) {
                forgetOld();
                for (State s : calls.values()) counts.merge(s.report().state(), 1L, Long::sum);
            }
        }
        StringBuilder out = new StringBuilder("{");
        counts.forEach((state, n) -> out.append(out.length() > 1 ? "," : "").append('"').append(state).append("\":").append(n));
        json(exchange, 200, out.append("}\n").toString());
    }

    private synchronized List<Report> inMemory(Predicate<Report> which, int limit, String before) {
        forgetOld();
        List<Report> page = new ArrayList<>();
        boolean past = before == null;
        for (State s : calls.sequencedValues().reversed()) {
            if (!past) {
                past = s.id.equals(before);
                continue;
            }
            Report r = s.report();
            if (which.test(r)) page.add(r);
            if (page.size() == limit) break;
        }
        return page;
    }

    /** A monitor's JSON: the fields it has always had, then attempts, next, group and tries. */
    public static String json(Report s) {
        StringBuilder out = new StringBuilder("{\"id\":\"").append(s.id()).append('"');
        if (s.asked() != null) {
            out.append(",\"method\":").append(Json.bytes(s.asked().method())).append(",\"uri\":").append(Json.bytes(s.asked().uri()))
                .append(",\"key\":").append(s.asked().key() == null ? "null" : Json.bytes(s.asked().key()));
        }
        out.append(",\"state\":\"").append(s.state())
            .append("\",\"accepted\":\"").append(s.accepted()).append('"')
            .append(",\"started\":").append(s.started() == null ? "null" : "\"" + s.started() + "\"")
            .append(",\"finished\":").append(s.finished() == null ? "null" : "\"" + s.finished() + "\"");
        if (s.finished() != null) {
            out.append(",\"status\":").append(s.status().orElse(0));
            s.exit().ifPresent(exit -> out.append(",\"exit\":").append(exit));
            if (s.answer() != null) out.append(",\"answer\":").append(Json.bytes(s.answer())).append(",\"answer_bytes\":").append(s.answerBytes());
            if (s.note() != null) out.append(",\"note\":").append(Json.bytes(s.note()));
        }
        out.append(",\"attempts\":").append(s.attempts())
            .append(",\"next\":").append(s.next() == null ? "null" : "\"" + s.next() + "\"")
            .append(",\"group\":").append(s.group() == null ? "null" : Json.bytes(s.group()))
            .append(",\"tries\":[").append(s.tries() == null ? "" : s.tries()).append(']');
        if (s.callback() != null) out.append(",\"callback\":").append(s.callback().json());
        return out.append("}\n").toString();
    }
}
