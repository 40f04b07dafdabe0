import call.Call;
import call.Done;
import call.Listener;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;

import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.function.Predicate;
import java.util.regex.Pattern;

/**
 * The calls a server under test has seen, fed by the server itself (a listener in this JVM, or the
 * JSON lines of --events from a process), for tests to wait on with a timeout, as OkHttp's
 * MockWebServer takeRequest does: never a regex over a log another thread is still writing.
 */
final class Recorder implements Listener {
    /** Notified whenever any recorder gets an end: for waiting on several servers at once. */
    private static final Object ANY = new Object();

    /** Waits until the recorders together have at least n ends that match; fails after the timeout. */
    static long awaitSum(Predicate<Done> which, long n, Duration timeout, Recorder... recorders) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        synchronized (ANY) {
            while (true) {
                long sum = 0;
                for (Recorder r : recorders) sum += r.count(which);
                if (sum >= n) return sum;
                long left = deadline - System.nanoTime();
                if (left <= 0) throw new AssertionError("waited " + timeout.toMillis() + " ms for " + n + " calls to end as expected, found " + sum);
                ANY.wait(Math.max(1, left / 1_000_000));
            }
        }
    }

    /** An end: a call with this status, method and URI (a regex), e.g. ended(202, "GET", "/res\\.php\\?a=1"). */
    static Predicate<Done> ended(int status, String method, String uri) {
        Pattern p = Pattern.compile(uri);
        return d -> d.status() == status && d.call().method().equals(method) && p.matcher(d.call().uri().toString()).matches();
    }

    /** An end worked on (200 or 202, no note) whose answer has this line, e.g. "[id] => c1". */
    static Predicate<Done> workedWith(String line) {
        return d -> d.note() == null && d.answer() != null && d.answer().contains(line + "\n");
    }

    private final List<Call> accepted = new ArrayList<>();
    private final List<Done> done = new ArrayList<>();
    private final Map<Done, Long> when = new java.util.IdentityHashMap<>();
    private final Map<String, Integer> refused = new java.util.HashMap<>();

    @Override
    public synchronized void accepted(Call call) {
        accepted.add(call);
        notifyAll();
    }

    @Override
    public void done(Done end) {
        synchronized (this) {
            done.add(end);
            when.put(end, System.nanoTime());
            notifyAll();
        }
        // Outside this recorder's lock: awaitSum holds ANY while it counts each recorder.
        synchronized (ANY) {
            ANY.notifyAll();
        }
    }

    @Override
    public synchronized void refused(String reason, int count) {
        refused.merge(reason, count, Integer::sum);
    }

    /** Connections closed for others so far, for a reason ("idle connection"). */
    synchronized int refused(String reason) {
        return refused.getOrDefault(reason, 0);
    }

    /** Waits until n ends match, and returns the first n; fails after the timeout, saying what came. */
    synchronized List<Done> await(Predicate<Done> which, int n, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            List<Done> found = done.stream().filter(which).limit(n).toList();
            if (found.size() >= n) return found;
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                throw new AssertionError("waited " + timeout.toMillis() + " ms for " + n + " calls to end as expected, "
                    + found.size() + " did; the ends seen: " + done.stream().map(Recorder::describe).toList());
            }
            wait(Math.max(1, left / 1_000_000));
        }
    }

    Done await(Predicate<Done> which, Duration timeout) throws InterruptedException {
        return await(which, 1, timeout).get(0);
    }

    /** Waits until n calls have arrived. */
    synchronized void awaitAccepted(int n, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        for (long left; accepted.size() < n; ) {
            if ((left = deadline - System.nanoTime()) <= 0) throw new AssertionError("waited " + timeout.toMillis() + " ms for " + n + " calls to arrive, " + accepted.size() + " did");
            wait(Math.max(1, left / 1_000_000));
        }
    }

    /** When the end was recorded (System.nanoTime). */
    synchronized long when(Done end) {
        return when.get(end);
    }

    synchronized long count(Predicate<Done> which) {
        return done.stream().filter(which).count();
    }

    synchronized List<Done> done() {
        return List.copyOf(done);
    }

    synchronized List<Call> accepted() {
        return List.copyOf(accepted);
    }

    private static String describe(Done d) {
        return d.status() + " " + d.call().method() + " " + d.call().uri() + (d.note() == null ? "" : " - " + d.note());
    }

    /** One JSON line of serve --events. */
    void addJson(String line) {
        JsonObject e = JsonParser.parseString(line).getAsJsonObject();
        if (e.get("event").getAsString().equals("refused")) {
            refused(e.get("reason").getAsString(), e.get("count").getAsInt());
            return;
        }
        String from = e.get("from").getAsString();
        int colon = from.lastIndexOf(':');
        Call call = new Call(e.get("id").getAsString(), e.get("method").getAsString(), URI.create(e.get("uri").getAsString()),
            new java.net.InetSocketAddress(from.substring(0, colon).replaceAll("[\\[\\]]", ""), Integer.parseInt(from.substring(colon + 1))),
            e.has("key") ? e.get("key").getAsString() : null);
        switch (e.get("event").getAsString()) {
            case "accepted" -> accepted(call);
            case "done" -> done(new Done(call, e.get("status").getAsInt(), workStatus(e.get("work_status").getAsInt()),
                e.has("exit") ? OptionalInt.of(e.get("exit").getAsInt()) : OptionalInt.empty(), e.has("answer") ? latin1(e.get("answer").getAsString()) : null,
                e.has("answer_bytes") ? e.get("answer_bytes").getAsLong() : 0, e.has("note") ? e.get("note").getAsString() : null));
            default -> { }
        }
    }

    /** The events say 0 for a call not worked on. */
    private static OptionalInt workStatus(int status) {
        return status == 0 ? OptionalInt.empty() : OptionalInt.of(status);
    }

    /** Text back to the endpoint's byte strings (one char per byte). */
    private static String latin1(String text) {
        return new String(text.getBytes(StandardCharsets.UTF_8), StandardCharsets.ISO_8859_1);
    }
}
