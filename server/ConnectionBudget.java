package server;

import call.Listener;
import com.sun.net.httpserver.Filter;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The connections serve holds, bounded by its heap as well as by its file descriptors. The JDK's server
 * bounds them by count alone, while a connection whose request is being read or answered holds up to 31 KiB
 * of heap (54 KiB over TLS) and an idle kept-alive one 22 KiB; one that waits its turn holds under 1 KiB.
 * So: at most budget requests are read or answered at once (the others wait their turn, in order, unread
 * and cheap, never refused); at most half as many connections stay idle, the oldest closed first (as nginx
 * reuses its oldest); while requests wait, a connection whose request has taken over a second to come is
 * closed, oldest first; near the descriptor limit, every one that sent nothing for 0.2 s. What it closed is
 * told once a second at most, in the log and to the listeners (--events).
 */
public final class ConnectionBudget extends Filter implements AutoCloseable {
    /** Live heap a connection holds at most, measured on JDK 25: 22 KiB idle, 31 KiB while its request comes; 54 KiB over TLS. */
    static final long PLAIN_BYTES = 32 * 1024, TLS_BYTES = 56 * 1024;
    /** A connection whose request has not come whole this long may be closed for others. */
    static final long SLOW_MILLIS = 1000;
    /**
     * A request that waited this long for its turn is read as far as its head and answered 503 (Retry-After), before
     * the JDK's request timer (30 s, which counts the wait) would close it unread.
     */
    static final long TURN_WAIT_MILLIS = 10_000;
    /** Near the descriptor limit, a new connection that sent nothing this long may be closed for others (a caller sends at once). */
    static final long SILENT_MILLIS = 200;
    private final int budget;
    private final int descriptors;
    private final String why;
    private final Optional<OpenConnections> open;
    private final Log log;
    private final Listener listeners;
    private final Semaphore turns;
    /** Heads read past the budget to be refused, at once at most: a twentieth of it (a refusal is over in a moment, unless its caller stalls: the slow ones are closed). */
    private final Semaphore refusals;
    private final AtomicInteger[] closed = {new AtomicInteger(), new AtomicInteger(), new AtomicInteger()};
    private final AtomicInteger refused = new AtomicInteger();
    private final Thread keeper;
    private boolean failedRound;
    /** The exchanges that hold a turn (reading a request, answering it), by their thread. */
    private final Map<Thread, Reader> readers = new ConcurrentHashMap<>();

    /**
     * An exchange's connection (null where the JDK's sets cannot be read), since when its turn (System.nanoTime),
     * whether its request head is in, and whether its thread was parked (waiting for bytes) when last looked at.
     */
    private static final class Reader {
        final Object connection;
        final long since = System.nanoTime();
        /** Waited past TURN_WAIT_MILLIS: its head is read to answer it 503. */
        final boolean refuse;
        volatile boolean headIn;
        boolean parked;
        /** When its request line was last looked at (System.nanoTime). */
        long looked = since - LOOK_NANOS;

        Reader(Object connection, boolean refuse) {
            this.connection = connection;
            this.refuse = refuse;
        }
    }

    /** The answer to a request line that ends with LF alone: the JDK's server reads on for a CRLF that never comes. */
    /** A waiting reader's request line is looked at twice a second at most. */
    private static final long LOOK_NANOS = 500_000_000L;
    private static final byte[] BARE_LF = answer(400, "Bad Request", "Bad Request: the request line ends with LF alone; HTTP/1.1 needs CRLF\n");

    private static byte[] answer(int status, String reason, String body) {
        return ("HTTP/1.1 " + status + " " + reason + "\r\nContent-Type: text/plain; charset=UTF-8\r\nContent-Length: " + body.length()
            + "\r\nConnection: close\r\n\r\n" + body).getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    }

    private ConnectionBudget(HttpServer http, boolean tls, Log log, Listener listeners) {
        long heap = Runtime.getRuntime().maxMemory();
        this.budget = budget(heap, tls);
        this.descriptors = descriptorCap();
        this.turns = new Semaphore(budget, true);
        this.refusals = new Semaphore(Math.max(1, budget / 20));
        this.why = "two fifths of the " + (heap >> 20) + " MiB heap at " + ((tls ? TLS_BYTES : PLAIN_BYTES) >> 10) + " KiB a connection";
        this.open = OpenConnections.of(http);
        this.log = log;
        this.listeners = listeners;
        this.keeper = Thread.ofPlatform().daemon().name("connection-budget").unstarted(this::keep);
    }

    /** Keeps the connections of this server within the budget until closed; logs a warning where it cannot see them. */
    public static ConnectionBudget start(HttpServer http, boolean tls, Log log, Listener listeners) {
        ConnectionBudget b = new ConnectionBudget(http, tls, log, listeners);
        if (b.open.isPresent()) {
            b.keeper.start();
            if (!b.open.get().readsBuffers()) log.line(null, "Warning: a request line ending with LF alone waits for the request timeout"
                + " (java.io is closed to serve: run serve with JBang, or java --add-opens java.base/java.io=ALL-UNNAMED)");
        } else {
            log.line(null, "Warning: idle and slow connections are not closed for others (the JDK's HTTP server is closed to"
                + " serve: run serve with JBang, or java --add-opens jdk.httpserver/sun.net.httpserver=ALL-UNNAMED)");
        }
        return b;
    }

    /** Requests read or answered at once, at most, for a heap of so many bytes: two fifths of it. */
    public static int budget(long heap, boolean tls) {
        return (int) Math.max(1, heap * 2 / 5 / (tls ? TLS_BYTES : PLAIN_BYTES));
    }

    /**
     * The JDK's own bound on connections (jdk.httpserver.maxConnections, past which it closes a new one
     * unread): the file descriptor limit less 128 for everything else (and at least half of it).
     */
    public static int descriptorCap() {
        if (java.lang.management.ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.UnixOperatingSystemMXBean os) {
            long fds = os.getMaxFileDescriptorCount();
            return (int) Math.min(Integer.MAX_VALUE, Math.max(fds / 2, fds - 128));
        }
        return 10_000;
    }

    /** The executor for the server's exchanges: each takes its turn (of budget) before it reads a byte; answers counts them. */
    public Executor turns(Executor calls, Answers answers) {
        return exchange -> {
            answers.begin();
            try {
                calls.execute(() -> answers.answer(() -> take(exchange)));
            } catch (RuntimeException | Error refused) {
                answers.abandon(); // the server stops (or no thread can start): no thread for it
                throw refused;
            }
        };
    }

    private void take(Runnable exchange) {
        Semaphore held = turns;
        try {
            if (!turns.tryAcquire(TURN_WAIT_MILLIS, TimeUnit.MILLISECONDS)) {
                held = refusals;
                refusals.acquire(); // a refusal is over in a moment: the next one comes soon
            }
        } catch (InterruptedException stopping) {
            return; // the server stops: it closes the connection
        }
        try {
            Object connection = open.map(o -> o.connectionOf(exchange)).orElse(null);
            if (connection != null) open.get().forgetRead(connection);
            readers.put(Thread.currentThread(), new Reader(connection, held == refusals));
            exchange.run();
        } finally {
            readers.remove(Thread.currentThread());
            held.release();
        }
    }

    /** Connections open now (-1 when the JDK's server does not show them). */
    public int open() {
        return open.map(OpenConnections::open).orElse(-1);
    }

    /**
     * For a graceful stop: waits until every request that came before the listener closed has been read as far
     * as its caller sent it (and so became a call, which the stop then waits for), at most until deadline
     * (System.nanoTime): no exchange waits its turn, and every reader waits for its caller (parked at two looks
     * 10 ms apart: a half-sent request does not hold the stop), or does a call's work.
     */
    public void awaitExchanges(long deadline) throws InterruptedException {
        Set<Thread> parkedBefore = Set.of();
        while (System.nanoTime() - deadline < 0) {
            Set<Thread> parked = new HashSet<>();
            for (Thread reader : readers.keySet()) if (parked(reader)) parked.add(reader);
            if (turns.getQueueLength() == 0 && parked.size() == readers.size() && parkedBefore.containsAll(parked)) return;
            parkedBefore = parked;
            open.ifPresent(o -> closeSlow(o, Integer.MAX_VALUE));
            Thread.sleep(10);
        }
    }

    /** First of every route's filters: the request's head is in (on the thread that read it), so it is no slow sender. */
    @Override
    public void doFilter(HttpExchange call, Chain chain) throws IOException {
        Reader reader = readers.get(Thread.currentThread());
        if (reader != null) reader.headIn = true;
        if (reader != null && reader.refuse) {
            refused.incrementAndGet();
            call.getResponseHeaders().set("Retry-After", "5");
            http.Replies.send(call, 503, "Service Unavailable: no turn to read the request within " + TURN_WAIT_MILLIS / 1000
                + " s (" + budget + " requests are read at once); try again later\n", true);
            call.close();
            return;
        }
        chain.doFilter(call);
    }

    /** Every 50 ms: back within the budget; every second: what was closed, if anything. */
    private void keep() {
        long lastReport = System.nanoTime();
        while (!Thread.currentThread().isInterrupted()) {
            try {
                Thread.sleep(50);
            } catch (InterruptedException stopping) {
                return;
            }
            try {
                keepWithin(open.orElseThrow());
            } catch (RuntimeException e) {
                // A connection the JDK closed meanwhile, or its internals changed: the next round tries again, and one line says so.
                if (!failedRound) log.line(null, "Warning: the connection budget could not keep a round (" + e + "); it goes on");
                failedRound = true;
            }
            if (System.nanoTime() - lastReport >= 1_000_000_000L) {
                lastReport = System.nanoTime();
                report();
            }
        }
    }

    private void keepWithin(OpenConnections connections) {
        int idleOver = connections.count(OpenConnections.Kind.IDLE) - budget / 2;
        if (idleOver > 0) close(connections, OpenConnections.Kind.IDLE, idleOver + budget / 20, 0);
        closeSlow(connections, turns.getQueueLength() + refusals.getQueueLength()); // looks at every reader each round, closes while others wait
        // Near the limit every silent one goes: a burst of callers comes faster than a round every 50 ms frees room.
        if (connections.open() > descriptors - descriptors / 10) close(connections, OpenConnections.Kind.SILENT, Integer.MAX_VALUE, SILENT_MILLIS);
    }

    private void close(OpenConnections connections, OpenConnections.Kind kind, int n, long minAgeMillis) {
        closed[kind.ordinal()].addAndGet(connections.closeOldest(kind, n, minAgeMillis));
    }

    /**
     * Closes up to n connections whose request head has been read for over SLOW_MILLIS, oldest first, and whose
     * reader was parked (waiting for bytes) at this look and the one before: under load a reader may wait as
     * long for a carrier thread, runnable, with its head in.
     */
    private void closeSlow(OpenConnections connections, int n) {
        long before = System.nanoTime() - SLOW_MILLIS * 1_000_000;
        List<Reader> slow = new ArrayList<>();
        readers.forEach((thread, reader) -> {
            if (reader.headIn || reader.connection == null) return;
            boolean parked = parked(thread);
            if (parked && reader.parked && bareLineFeed(connections, thread, reader)) return;
            if (parked && reader.parked && reader.since - before < 0) slow.add(reader);
            reader.parked = parked;
        });
        if (n == 0) return;
        slow.sort(Comparator.comparingLong(h -> h.since));
        int done = 0;
        for (int i = 0; i < slow.size() && done < n; i++) if (connections.closeSlow(slow.get(i).connection)) done++;
        closed[OpenConnections.Kind.SLOW.ordinal()].addAndGet(done);
    }

    /**
     * Whether a reader waiting for more of its request line got one ending with LF alone, and so was answered 400
     * and closed: RFC 9112 lets a server refuse it, and the JDK's reads on for a CRLF until its request timeout.
     * While the JDK reads a request line, every byte of the request so far is in its buffer (its bytes before
     * were zeroed), read over from its start as more come: any LF there without a CR before it is in the line.
     */
    private boolean bareLineFeed(OpenConnections connections, Thread thread, Reader reader) {
        long now = System.nanoTime();
        if (now - reader.looked < LOOK_NANOS) return false;
        reader.looked = now;
        byte[] bytes = connections.buffer(reader.connection);
        if (bytes == null || !bareLineFeed(bytes) || !readingRequestLine(thread)) return false;
        java.net.InetSocketAddress remote = connections.remote(reader.connection);
        if (!connections.answerSlow(reader.connection, BARE_LF)) return false;
        log.line(remote, "Invalid request (a request line ending with LF alone, not CRLF): answered 400 and closed");
        return true;
    }

    private static boolean bareLineFeed(byte[] bytes) {
        // One at the start may end a CR of the bytes read before (the buffer is filled from its start each time).
        for (int i = 1; i < bytes.length; i++) if (bytes[i] == '\n' && bytes[i - 1] != '\r') return true;
        return false;
    }

    /** Whether an exchange's thread is reading its request line (sun.net.httpserver.Request's constructor does). */
    private static boolean readingRequestLine(Thread thread) {
        for (StackTraceElement frame : thread.getStackTrace()) {
            if (frame.getClassName().equals("sun.net.httpserver.Request") && frame.getMethodName().equals("<init>")) return true;
        }
        return false;
    }

    private static boolean parked(Thread thread) {
        Thread.State state = thread.getState();
        return state == Thread.State.WAITING || state == Thread.State.TIMED_WAITING;
    }

    private void report() {
        int busy = refused.getAndSet(0);
        if (busy > 0) {
            log.line(null, "Requests answered 503 in the last second after waiting " + TURN_WAIT_MILLIS / 1000 + " s for a turn: " + busy
                + " (" + budget + " requests are read at once, " + why + ")");
            listeners.refused("no turn", busy);
        }
        int idle = closed[0].getAndSet(0), silent = closed[1].getAndSet(0), slow = closed[2].getAndSet(0);
        if (idle + silent + slow == 0) return;
        log.line(null, "Connections closed for others in the last second, oldest first: " + idle + " idle (past " + budget / 2
            + "), " + slow + " whose request took over 1 s while others waited, " + silent + " silent for 0.2 s near the descriptor limit ("
            + descriptors + "); " + budget + " requests are read at once (" + why + "), " + turns.getQueueLength() + " waiting");
        if (idle > 0) listeners.refused("idle connection", idle);
        if (slow > 0) listeners.refused("slow request", slow);
        if (silent > 0) listeners.refused("silent connection", silent);
    }

    @Override
    public String description() {
        return "the connection budget";
    }

    @Override
    public void close() {
        keeper.interrupt();
        try {
            if (keeper.isAlive()) keeper.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (open.isPresent()) report(); // the last second's
    }
}
