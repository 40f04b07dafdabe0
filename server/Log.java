package server;

import call.Call;
import call.Done;
import call.Listener;
import com.sun.net.httpserver.HttpExchange;
import text.Shown;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.Locale;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

/** The php -S 8.2 log: "[Wed Nov 25 16:33:14 2026] 127.0.0.1:47790 text", control characters escaped. */
public final class Log implements Listener {
    private static final DateTimeFormatter ASCTIME = DateTimeFormatter.ofPattern("EEE MMM ppd HH:mm:ss yyyy", Locale.US);
    /** "REQUEST LINE [400 Bad Request] (why)": a refusal of the JDK's own, which says why (ours say "()"). */
    private static final java.util.regex.Pattern REFUSAL = java.util.regex.Pattern.compile("(?s).* \\[4\\d\\d .*\\] \\(.+\\)");
    /**
     * The JDK's HTTP server reports what it refuses before any handler runs only in its debug log:
     * this is the one place that reads it.
     */
    private static final Logger JDK_HTTP = Logger.getLogger("com.sun.net.httpserver");
    private final OutputStream out;
    private final boolean verbose;
    private final AtomicInteger failedAccepts = new AtomicInteger();
    /** Calls whose last attempt ended, and the attempts they had at most: their end's line, told next, says it. */
    private final java.util.concurrent.ConcurrentHashMap<String, Integer> lastOf = new java.util.concurrent.ConcurrentHashMap<>();
    private final AtomicLong lastFailedAcceptLine = new AtomicLong(System.nanoTime() - 2_000_000_000L);
    /** Entries given and not yet written, and the entries themselves, in the order given. */
    private static final int PENDING_MAX = 100_000;
    private static final long LOG_WAIT_NANOS = 5_000_000_000L;
    private final AtomicLong pending = new AtomicLong();
    private final ConcurrentLinkedQueue<byte[]> queue = new ConcurrentLinkedQueue<>();
    private final Thread writer;
    /** The writer is parked, or about to be: the next entry unparks it. */
    private final AtomicBoolean writerIdle = new AtomicBoolean();
    private volatile boolean closed;
    /** What the writer writes next (under the lock of out). */
    private final java.io.ByteArrayOutputStream batch = new java.io.ByteArrayOutputStream(64 * 1024);

    public Log(OutputStream out, boolean verbose) {
        this.out = out;
        this.verbose = verbose;
        this.writer = Thread.ofPlatform().name("log").daemon().start(this::write);
    }

    @Override
    public void warning(Call call, String text) {
        line(call.from(), text);
    }

    /** An attempt that is tried again: "[status]: METHOD URI - attempt N of M failed (why): tried again in S s". */
    @Override
    public void tried(Done end, call.Try attempt, int attempts, java.time.Instant next) {
        Call call = end.call();
        if (next == null) {
            if (attempt.attempt() > 1 || end.failed()) lastOf.put(call.id(), attempts); // said by its end's line, which comes next
            return;
        }
        long in = Math.max(0, java.time.Duration.between(java.time.Instant.now(), next).toMillis());
        line(call.from(), "[" + end.status() + "]: " + call.method() + " " + call.uri() + " - attempt " + attempt.attempt() + " of " + attempts
            + " failed (" + why(end) + "): tried again in " + String.format(java.util.Locale.ROOT, "%.1f", in / 1000.0) + " s");
    }

    private static String why(Done end) {
        return end.note() != null ? end.note() : end.exit().orElse(0) != 0 ? "exit " + end.exit().getAsInt() : "status " + end.workStatus().orElse(0);
    }

    /**
     * "[status]: METHOD URI", a note after " - " (a call answered 202 whose last attempt ended it: "failed, attempt N of M (why)" or
     * "done, attempt N of M"), and with -v the answer (at most Done.ANSWER_KEPT bytes of it).
     */
    @Override
    public void done(Done done) {
        Call call = done.call();
        Integer of = lastOf.remove(call.id());
        String note = done.note();
        if (of != null && done.status() == 202 && !done.cancelled()) {
            String at = "attempt " + call.attempt() + " of " + of;
            note = done.failed() ? "failed, " + at + " (" + why(done) + ")" : "done, " + at;
        }
        String line = "[" + done.status() + "]: " + call.method() + " " + call.uri() + (note == null ? "" : " - " + note);
        if (verbose && done.answer() != null) {
            line += "\n" + done.answer().stripTrailing();
            long left = done.answerBytes() - done.answer().length();
            if (left > 0) line += "\n... (" + left + " more bytes of this answer are not logged)";
        }
        line(call.from(), line);
    }

    /**
     * Brings into this log what the JDK's server refuses before any handler runs, which it reports
     * only in its debug log: a malformed request or conflicting headers ("Invalid request (...)", as
     * php -S says), a request line or headers past its limit, a request that did not arrive within
     * the request timeout, and connections it cannot accept (one line a second at most, and a count
     * when it accepts again). Lines naming another server's port are left to that server.
     */
    public Handler rejectionsOf(int port, int headLimit) {
        Handler h = new Handler() {
            @Override
            public void publish(LogRecord r) {
                // Called for each of the JDK's debug records, several a request: cheap tests first.
                String m = r.getMessage();
                if (m == null) return;
                Throwable thrown = r.getThrown();
                if (thrown != null) {
                    if (m.startsWith("Dispatcher")) failedAccept(thrown);
                    if (m.startsWith("ServerImpl.Exchange") && String.valueOf(thrown.getMessage()).startsWith("Maximum")) {
                        line(null, "Invalid request (request line and headers over " + headLimit
                            + " bytes: closed without an answer)");
                    }
                } else if (m.startsWith("closing: no request")) {
                    if (m.contains(":" + port + " remote=")) {
                        line(null, "Invalid request (no complete request within the request timeout: "
                            + m.replaceAll(".*remote=/?([^\\]]*)\\].*", "$1") + " closed)");
                    }
                } else if (m.contains(" [4") && !m.endsWith("()") && REFUSAL.matcher(m).matches()) {
                    line(null, "Invalid request (" + (m.length() <= 300 ? m : m.substring(0, 300) + "... " + m.length() + " chars") + ")");
                }
            }

            @Override
            public void flush() {}

            @Override
            public void close() {}
        };
        JDK_HTTP.setLevel(Level.FINER);
        JDK_HTTP.setUseParentHandlers(false);
        JDK_HTTP.addHandler(h);
        return h;
    }

    private void failedAccept(Throwable why) {
        long now = System.nanoTime(), last = lastFailedAcceptLine.get();
        int n = failedAccepts.incrementAndGet();
        if (now - last > 1_000_000_000L && lastFailedAcceptLine.compareAndSet(last, now)) {
            line(null, "Cannot accept connections: " + why.getMessage() + " (" + n + " failed accepts so far;"
                + " waiting connections stay queued)");
        }
    }

    /** A call arrived: "Accepted", after a count of failed accepts if there were some. */
    public void arrival(HttpExchange call) {
        int failed = failedAccepts.getAndSet(0);
        if (failed > 0) line(null, "Accepting connections again, after " + failed + " failed accepts");
        line(call.getRemoteAddress(), "Accepted");
    }

    public void remove(Handler h) {
        JDK_HTTP.removeHandler(h);
    }

    /**
     * Writes one entry; a byte string from a request is shown safely: no raw control characters. The entry is handed to
     * the writer, which writes the entries that came together in one write: a request never waits on the log's file
     * or on another request writing to it (two lines a request, each a write under a lock, were a third of serve's time
     * under load). Past PENDING_MAX entries waiting, the caller waits: a log nobody reads holds the calls, as before.
     */
    public void line(InetSocketAddress from, String text) {
        String who = from == null ? "" : Shown.address(from) + " ";
        byte[] entry = ("[" + ASCTIME.format(ZonedDateTime.now()) + "] " + who + Shown.logged(text) + "\n").getBytes(StandardCharsets.UTF_8);
        if (pending.incrementAndGet() > PENDING_MAX) awaitWritten(PENDING_MAX);
        queue.add(entry);
        if (closed) {
            writeWaiting(); // no writer any more
        } else if (writerIdle.get() && writerIdle.compareAndSet(true, false)) {
            LockSupport.unpark(writer);
        }
    }

    /** Writes what is waiting (at most 5 s) and ends the writer: entries given later are written by their callers. */
    public void close() {
        awaitWritten(0);
        closed = true;
        LockSupport.unpark(writer);
        try {
            writer.join(LOG_WAIT_NANOS / 1_000_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        writeWaiting(); // one given as the writer ended
    }

    private void awaitWritten(long left) {
        long deadline = System.nanoTime() + LOG_WAIT_NANOS;
        while (pending.get() > left && System.nanoTime() < deadline && writer.isAlive()) LockSupport.parkNanos(100_000);
    }

    /**
     * The writer: what is waiting, in one write, then a millisecond for the next entries to gather (under load one write
     * and one wake-up a millisecond, not one an entry: a thread more on the cores must take little of them); parked when
     * nothing is waiting.
     */
    private void write() {
        while (true) {
            if (writeWaiting() > 0) {
                LockSupport.parkNanos(1_000_000);
                continue;
            }
            if (closed) return;
            writerIdle.set(true); // then look again: an entry added before this saw the writer busy, and is written now
            if (queue.isEmpty() && !closed) LockSupport.park(this);
            writerIdle.set(false);
        }
    }

    /** Writes the entries waiting (up to 64 KiB of them) in one write; returns how many. */
    private int writeWaiting() {
        synchronized (out) {
            int n = 0;
            for (byte[] e; batch.size() < 64 * 1024 && (e = queue.poll()) != null; n++) batch.writeBytes(e);
            if (n == 0) return 0;
            try {
                batch.writeTo(out);
                out.flush();
            } catch (IOException | RuntimeException e) {
                // Nowhere left to log to; the calls go on (and the writer with them).
            }
            batch.reset();
            pending.addAndGet(-n);
            return n;
        }
    }
}
