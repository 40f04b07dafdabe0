///usr/bin/env jbang "$0" "$@" ; exit $?
//JAVA 21+
//SOURCES call/*.java php/*.java store/*.java http/*.java text/*.java cli/*.java queue/*.java

import call.Backoff;
import call.Call;
import call.Done;
import call.Listener;
import call.Plan;
import call.Received;
import call.Result;
import call.Try;
import call.Verdict;
import call.Work;
import cli.Args;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import http.Bearer;
import http.Replies;
import http.RequestBody;
import php.Php;
import queue.Kept;
import queue.Line;
import store.Idempotency;
import store.Store;

import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.Set;
import java.util.concurrent.Executor;
import java.util.concurrent.Semaphore;
import java.util.function.IntConsumer;

/**
 * The endpoint, res.php ported: builds ['method' => ..., 'data' => $_REQUEST], works (sleeps), and
 * answers with its print_r. A call that says "Prefer: respond-async" (RFC 7240) gets 202 Accepted at
 * once and the work is done after; a caller that hangs up never stops the work.
 *
 * A call goes through stages: check (method, headers, token), read (the body), deduplicate
 * (Idempotency-Key), answer (202 at once, or after the work), work. While it waits it holds what it
 * received, never its answer, which is built and streamed when the work ends.
 */
public class res implements HttpHandler {

    /**
     * How the endpoint works: the sleep, workers (0: no bound), the token (null: none), Idempotency-Keys
     * remembered (0: header ignored), the work (null: the article's, sleep then print_r), the calls
     * accepted and not finished at most (past it: 503 and Retry-After), the attempts at a call answered
     * 202 at most and the wait between them, how long a failed call stays to run again (without a store), and the
     * callback URLs a call may name.
     */
    public record Settings(Duration sleep, int workers, String token, int keys, Work work, int queue, int attempts, Backoff backoff,
                           Duration keep, http.CallbackUrls callbacks) {
        public Settings(Duration sleep, int workers, String token, int keys, Work work, int queue) {
            this(sleep, workers, token, keys, work, queue, 1, new Backoff(Duration.ofSeconds(1), Duration.ofSeconds(1)), Duration.ofHours(1),
                http.CallbackUrls.NONE);
        }
    }

    /**
     * A call as a Java function sees it: the call, its method, $_REQUEST as PHP builds it (keys Long or
     * String, values String or such a map), its headers, and its raw body.
     */
    public record Request(Call call, String method, Map<Object, Object> data, Map<String, List<String>> headers, byte[] body) {
        /** Which attempt at this call this is: 1, then 2, … when the ones before threw. */
        public int attempt() {
            return call.attempt();
        }
    }

    /** A Java function as the work of each call: what it returns is the answer (text/plain), what it throws fails the call. */
    public interface Job {
        String answer(Request request) throws Exception;
    }

    /** Thrown by a Job whose call is not to be tried again (a bad request, not a passing fault): the call fails at once. */
    public static final class GiveUp extends Exception {
        public GiveUp(String why) {
            super(why);
        }
    }

    /** The work of a Job: the call's $_REQUEST built as PHP would, then the function. */
    static Work of(Job job) {
        return (call, received) -> {
            Map<Object, Object> data = Php.request(received.method(), received.rawQuery(), received.contentType(), received.body(), warning -> { });
            String answer;
            try {
                answer = job.answer(new Request(call, received.method(), data, received.headers(), received.body()));
            } catch (GiveUp e) {
                return Result.text(500, "Internal Server Error\n", Done.GAVE_UP + e.getMessage());
            }
            return new Result(200, Map.of(), (answer == null ? "" : answer).getBytes(StandardCharsets.UTF_8), OptionalInt.empty(), null, null);
        };
    }

    static final Set<String> METHODS = Set.of("GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "PATCH");
    static final int MAX_HEADERS = 100;
    static final int MAX_HEADER_BYTES = 64 * 1024;

    private final Settings settings;
    private final Semaphore workers;
    private final Bearer bearer;
    private final Idempotency keys;
    private final Executor background;
    private final Listener listener;
    /** Attempts at work going on now (a call's work, between its start and its end). */
    private final java.util.concurrent.atomic.AtomicInteger busy = new java.util.concurrent.atomic.AtomicInteger();
    private final Store store;
    private final SecureRandom random = new SecureRandom();
    private final Semaphore answering = new Semaphore(Runtime.getRuntime().availableProcessors());
    private final long heldLimit = Runtime.getRuntime().maxMemory() / 4;
    private int working;
    private long held;
    /** With a store: calls admitted and not yet committed (counted with the store's backlog against --queue). */
    private int storing;
    /** Set by a stop once its grace is over: a taken call whose work ends now goes back to the store. */
    private volatile boolean abandoning;
    /** Without a store: the calls answered 202, worked, retried, cancelled and kept to run again. */
    private final Line line;
    /** With a store: the calls cancelled while this endpoint works them. */
    private final Set<String> cancelling = java.util.concurrent.ConcurrentHashMap.newKeySet();

    /**
     * @param background runs the work of a call answered 202, once its exchange is let go
     * @param listener told of every call; what it throws is its own affair and never stops a call
     */
    public res(Settings settings, Executor background, Listener listener) {
        this(settings, background, listener, null);
    }

    /**
     * @param store where calls are kept (null: in memory only): a 202 is then sent once the call is
     *     committed, and its work is done when an endpoint takes it from the store (see startWorking)
     */
    public res(Settings settings, Executor background, Listener listener, Store store) {
        this.settings = settings;
        this.store = store;
        this.workers = settings.workers() == 0 ? null : new Semaphore(settings.workers(), true);
        this.bearer = new Bearer(settings.token());
        this.keys = settings.keys() == 0 ? null : new Idempotency(settings.keys());
        this.background = background;
        this.listener = listener;
        // A failed call's request kept to run again: 10,000 of them, a sixteenth of the heap, at most.
        this.line = new Line(background, listener, settings.backoff(), (call, received, due) -> workOrFail(call, received, due, null, status -> { }),
            new Kept(10_000, heldLimit / 4, settings.keep()));
    }

    /** An answer that ends a call before any work: its status and its text (also the log's note). */
    private record Refusal(int status, String text) {}

    /** A call refused by a stage before its work; no stack trace, since a refusal is an answer, not a fault. */
    private static final class Refused extends Exception {
        final Refusal refusal;

        Refused(int status, String text) {
            super(text, null, false, false);
            this.refusal = new Refusal(status, text);
        }
    }

    /** res.php: check the request, read it, admit it, then answer it (202 at once, or after the work). */
    @Override
    public void handle(HttpExchange exchange) {
        Call call = new Call(newId(), exchange.getRequestMethod(), exchange.getRequestURI(), exchange.getRemoteAddress(),
            exchange.getRequestHeaders().getFirst("Idempotency-Key"));
        long holds = -1; // the bytes this call holds while it is counted; -1: it is not
        Done done = null;
        try {
            check(exchange);
            boolean async = prefersAsync(exchange.getRequestHeaders().get("Prefer"));
            Plan plan = plan(exchange, async);
            Received received = read(exchange);
            admit(exchange, received.body().length);
            holds = received.body().length;
            notifyListener(l -> l.accepted(call));
            done = answer(exchange, call, received, async, plan);
        } catch (Refused r) {
            done = refuse(exchange, call, r.refusal);
        } catch (RuntimeException | Error e) {
            done = Done.refused(call, Replies.send(exchange, 500, "Internal Server Error\n", true), "failed: " + e);
        } finally {
            exchange.close();
            end(done, holds);
        }
    }

    /**
     * A call's end as handle leaves it: told, and let go of, unless it was accepted and its work goes on in
     * the background (done null), which ends it; with a store, the call's bytes are let go here all the same.
     */
    private void end(Done done, long holds) {
        if (done != null) notifyListener(l -> l.done(done));
        if (holds >= 0 && (done != null || store != null)) countDone(holds);
    }

    /** Deduplicate, answer, work; returns the call's end, or null when it was accepted and its work goes on after. */
    private Done answer(HttpExchange exchange, Call call, Received received, boolean async, Plan plan) {
        if (store != null) return answerStored(exchange, call, received, async, plan);
        boolean ownsKey = call.key() != null && keys != null;
        if (ownsKey) {
            byte[] fingerprint = fingerprint(call, received.body());
            Idempotency.Seen first = keys.claim(call.key(), fingerprint, call.id());
            if (first != null) return refuse(exchange, call, repeat(exchange, call, first, fingerprint));
        }
        // A key's outcome is recorded before its answer is sent: a repeat sent as soon as the answer came finds it.
        IntConsumer beforeAnswer = ownsKey ? status -> keys.done(call.key(), status) : status -> { };
        if (async) {
            beforeAnswer.accept(202);
            line.hold(call, plan); // before the 202: arrival order is the order the callers were answered in
            accept(exchange, call);
            exchange.close();
            work(call, received, plan, ownsKey);
            return null;
        }
        java.time.Instant started = java.time.Instant.now();
        Done done = recordKeyOutcome(workOrFail(call, received, started, exchange, beforeAnswer), ownsKey);
        notifyListener(l -> l.tried(done, Try.of(done, started), 1, null));
        return done;
    }

    /** A call answered 202 (or run again) without a store joins the line, which works it; its end is counted here. */
    private void work(Call call, Received received, Plan plan, boolean ownsKey) {
        line.start(call, received, plan, end -> {
            // A key's call that was stopped before its work is let go, so that a retry may do it; one that failed stays with it.
            if (ownsKey && Line.STOPPED.equals(end.note())) keys.forget(call.key());
            finish(end, received.body().length);
        });
    }


    /**
     * With a store: the call (and its key) is committed before any answer. A 202's work is done by
     * the endpoint that takes it from the store; a call whose caller waits is worked here at once,
     * held by this endpoint in the store meanwhile.
     */
    private Done answerStored(HttpExchange exchange, Call call, Received received, boolean async, Plan plan) {
        byte[] fingerprint = call.key() == null ? null : fingerprint(call, received.body());
        Idempotency.Seen first;
        Store.Storing pending = store.accept(call, received, fingerprint, !async, plan);
        java.util.concurrent.atomic.AtomicBoolean counted = new java.util.concurrent.atomic.AtomicBoolean(true);
        Runnable uncount = () -> {
            if (counted.getAndSet(false)) {
                synchronized (this) {
                    storing--;
                }
            }
        };
        // Committed, the call is in the store's backlog at once: it leaves this count then, on the store's thread, not
        // once its caller's thread runs (meanwhile counted twice, a burst's later calls would be refused for nothing).
        pending.done().whenComplete((seen, failure) -> uncount.run());
        try {
            first = stored(pending);
        } catch (InterruptedException | java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
            if (e instanceof InterruptedException) Thread.currentThread().interrupt();
            exchange.getResponseHeaders().set("Retry-After", "1");
            Throwable why = e.getCause() == null ? e : e.getCause();
            String what = e instanceof java.util.concurrent.TimeoutException ? "the store did not take it up within " + STORE_WAIT.toSeconds() + " s"
                : e instanceof InterruptedException ? "the server is stopping" : why.getMessage();
            return refuse(exchange, call, new Refusal(503, "Service Unavailable: the call could not be stored (" + what + "); try again later"));
        } finally {
            uncount.run(); // abandoned (never stored), or told already
        }
        if (first != null) return refuse(exchange, call, repeat(exchange, call, first, fingerprint));
        if (async) {
            accept(exchange, call);
            exchange.close();
            return null;
        }
        java.time.Instant started = java.time.Instant.now();
        Done done = workOrFail(call, received, started, exchange, status -> { });
        store.finish(done, Try.of(done, started), done.note() != null);
        return done;
    }

    /** How long a call waits for its commit before its caller is told 503 (the store's database does not answer). */
    static final Duration STORE_WAIT = Duration.ofSeconds(30);

    /**
     * The store's outcome for a call. One the store has not taken up within STORE_WAIT is abandoned, and never
     * stored, so that its 503 is true; one in a transaction is waited for once more (PostgreSQL's socket timeout,
     * 30 s, ends it): a commit that then goes unanswered is undone by the store once it is back.
     */
    private static Idempotency.Seen stored(Store.Storing storing)
            throws InterruptedException, java.util.concurrent.ExecutionException, java.util.concurrent.TimeoutException {
        try {
            return storing.done().get(STORE_WAIT.toSeconds(), java.util.concurrent.TimeUnit.SECONDS);
        } catch (InterruptedException | java.util.concurrent.TimeoutException gaveUp) {
            if (storing.abandon()) throw gaveUp;
            // In a transaction: its outcome is the answer, so that a 503 is never a call stored.
            try {
                return storing.done().get(STORE_WAIT.toSeconds(), java.util.concurrent.TimeUnit.SECONDS);
            } catch (java.util.concurrent.TimeoutException hung) {
                throw new java.util.concurrent.ExecutionException(new java.sql.SQLException("the store did not answer within "
                    + 2 * STORE_WAIT.toSeconds() + " s; the call may yet be stored"));
            } finally {
                if (gaveUp instanceof InterruptedException) Thread.currentThread().interrupt(); // a stop: still stopping
            }
        }
    }

    /** The threads working calls taken from the store, by call id: one taken over by another endpoint is interrupted. */
    private final Map<String, Thread> workingTaken = new java.util.concurrent.ConcurrentHashMap<>();

    /** A stop's grace is over: the calls taken from the store whose work ends from now on go back to it (their commands are being ended). */
    public void abandon() {
        abandoning = true;
    }

    /** Hands the calls this endpoint takes from its store to its workers (once every listener is in place). */
    public void startWorking() {
        if (store == null) return;
        store.work(taken -> {
            // On the store's thread, as its cancels are told: one told before this take (a late one of its last) is not this one's.
            cancelling.remove(taken.call().id());
            try {
                background.execute(() -> workTaken(taken));
            } catch (java.util.concurrent.RejectedExecutionException stopping) {
                store.requeue(taken.call().id());
                store.unhold(taken.call().id(), taken.received().body().length);
            }
        }, id -> {
            interrupt(id); // as a stop does: not finished here, and not queued again (not ours)
        }, id -> {
            if (cancelling.add(id)) interrupt(id); // once: the store tells it again while the work ends
        });
    }

    /** Interrupts the work of a taken call, only while its worker is listed: once it has left the list, what it was told is all. */
    private void interrupt(String id) {
        workingTaken.computeIfPresent(id, (k, worker) -> {
            worker.interrupt();
            return worker;
        });
    }

    /**
     * A call taken from the store: worked, and its end committed before it is told: done, failed, queued again for its
     * next attempt, or cancelled. A stop (or another endpoint's take-over) that interrupts its work leaves it in the store.
     */
    private void workTaken(Store.Claimed taken) {
        Call call = taken.call();
        long bytes = taken.received().body().length;
        Thread worker = Thread.currentThread();
        countWorking(bytes);
        workingTaken.put(call.id(), worker);
        try {
            if (cancelling.contains(call.id())) worker.interrupt(); // cancelled before its worker began
            java.time.Instant started = java.time.Instant.now();
            Done worked = workOrFail(call, taken.received(), taken.due(), null, status -> { });
            workingTaken.remove(call.id(), worker); // no interrupt comes after this: a cancel from here on finds the call's row
            boolean cancelled = cancelling.remove(call.id());
            if (!cancelled && (worker.isInterrupted() || abandoning)) {
                store.requeue(call.id());
                return;
            }
            Thread.interrupted(); // a cancel's: this thread goes on to record the end
            Verdict verdict = Verdict.of(worked);
            boolean cut = cancelled && verdict != Verdict.DONE; // done before the cancel could end it: done it is
            java.time.Instant next = !cut && verdict == Verdict.AGAIN && call.attempt() < taken.plan().attempts()
                ? settings.backoff().next(call.attempt(), worked.retryAfter()) : null;
            Done done = cut ? worked.noted(Done.CANCELLED) : next == null ? Line.ended(worked, verdict) : worked;
            Try attempt = Try.of(done, started);
            if (next != null && Boolean.TRUE.equals(written(store.again(done, attempt, next)))) {
                notifyListener(l -> l.tried(done, attempt, taken.plan().attempts(), null));
                notifyListener(l -> l.done(done.noted(Done.CANCELLED))); // a cancel came as the attempt ended
            } else if (next != null) {
                notifyListener(l -> l.tried(done, attempt, taken.plan().attempts(), next));
            } else {
                written(store.finish(done, attempt, false));
                notifyListener(l -> l.tried(done, attempt, taken.plan().attempts(), null));
                notifyListener(l -> l.done(done));
            }
        } finally {
            workingTaken.remove(call.id(), worker);
            cancelling.remove(call.id());
            store.unhold(call.id(), bytes);
            countDone(bytes);
        }
    }

    /** What the store made of an end it was given, once written; null when a stop cut the wait (the store writes it before it closes). */
    private static <T> T written(java.util.concurrent.CompletableFuture<T> write) {
        try {
            return write.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return write.getNow(null);
        } catch (java.util.concurrent.ExecutionException e) {
            throw new IllegalStateException(e.getCause()); // never: an end that fails to be written is written again
        }
    }

    /** The 202: the call is accepted, and its monitor is named. */
    private static void accept(HttpExchange exchange, Call call) {
        exchange.getResponseHeaders().set("Preference-Applied", "respond-async");
        exchange.getResponseHeaders().set("Location", "/calls/" + call.id());
        Replies.send(exchange, 202, "", false);
    }

    /** The work, and whatever it throws as a failed end: a call is always finished, and its key settled. */
    private Done workOrFail(Call call, Received received, Instant due, HttpExchange exchange, IntConsumer beforeAnswer) {
        try {
            return work(call, received, due, exchange, beforeAnswer);
        } catch (RuntimeException | Error e) {
            int sent = exchange == null ? 202 : Replies.send(exchange, 500, "Internal Server Error\n", true);
            return new Done(call, sent, OptionalInt.of(500), OptionalInt.empty(), null, 0, "failed: " + e);
        }
    }

    /** The outcome of a key's first call: its status when worked; forgotten when not, so that a retry may do the work. */
    private Done recordKeyOutcome(Done done, boolean ownsKey) {
        if (ownsKey && done.note() == null) keys.done(done.call().key(), done.status());
        if (ownsKey && done.note() != null) keys.forget(done.call().key());
        return done;
    }

    /**
     * Works on a call (once a worker is free), then answers: the article's work streams its print_r to
     * the caller when there is one to answer (exchange not null); the Done event keeps the answer's
     * first Done.ANSWER_KEPT bytes. beforeAnswer is told the status of a worked answer before it is sent.
     */
    private Done work(Call call, Received received, Instant due, HttpExchange exchange, IntConsumer beforeAnswer) {
        Result result = null;
        try {
            if (workers != null) workers.acquire();
            busy.incrementAndGet();
            try {
                notifyListener(l -> l.started(call, due));
                if (settings.work() == null) {
                    Duration sleep = settings.sleep();
                    Thread.sleep(sleep.toMillis(), sleep.toNanosPart() % 1_000_000);
                } else {
                    result = settings.work().work(call, received);
                }
            } finally {
                busy.decrementAndGet();
                if (workers != null) workers.release();
            }
        } catch (InterruptedException stopping) {
            Thread.currentThread().interrupt();
            if (exchange != null) Replies.send(exchange, 503, "Service Unavailable: the server is stopping\n", true);
            return Done.refused(call, exchange == null ? 202 : 503, Line.STOPPED);
        } catch (Exception e) {
            result = Result.text(500, "Internal Server Error\n", "failed: " + e);
        }
        if (result == null) return printR(call, received, exchange, beforeAnswer);
        if (result.remark() != null) {
            String remark = result.remark();
            notifyListener(l -> l.warning(call, remark));
        }
        return reply(call, result, exchange, beforeAnswer);
    }

    /** The answer of a work other than the article's: sent when a caller waits for it, kept for the Done event. */
    private static Done reply(Call call, Result result, HttpExchange exchange, IntConsumer beforeAnswer) {
        int sent = 202;
        if (exchange != null) {
            // A header the HTTP server could not send as it is (a line break or NUL in it) is left out.
            result.headers().forEach((name, values) -> {
                if (name.matches("[!#$%&'*+.^_`|~0-9A-Za-z-]+") && values.stream().noneMatch(v -> v.matches("(?s).*[\\r\\n\\x00].*"))) {
                    exchange.getResponseHeaders().put(name, values);
                }
            });
            exchange.getResponseHeaders().putIfAbsent("Content-Type", List.of("text/plain; charset=UTF-8"));
            beforeAnswer.accept(result.status());
            sent = Replies.send(exchange, result.status(), result.body(), false);
        }
        byte[] body = result.body();
        String kept = new String(body, 0, Math.min(body.length, Done.ANSWER_KEPT), StandardCharsets.ISO_8859_1);
        return new Done(call, sent, OptionalInt.of(result.status()), result.exit(), kept, body.length, result.failure(), result.stderr(),
            retryAfter(result.headers()));
    }

    /** The most a work's Retry-After may put its call's next attempt off: a day. */
    static final Duration RETRY_AFTER_MOST = Duration.ofDays(1);

    /** A work's Retry-After (RFC 9110 section 10.2.3: seconds, or an HTTP-date), or null when it gave none that can be read. */
    static Duration retryAfter(Map<String, List<String>> headers) {
        String value = null;
        for (Map.Entry<String, List<String>> h : headers.entrySet()) {
            if (h.getKey().equalsIgnoreCase("Retry-After") && !h.getValue().isEmpty()) value = h.getValue().get(0).trim();
        }
        if (value == null) return null;
        Duration wait;
        try {
            wait = value.matches("\\d{1,9}") ? Duration.ofSeconds(Long.parseLong(value))
                : Duration.between(java.time.Instant.now(), java.time.ZonedDateTime.parse(value, java.time.format.DateTimeFormatter.RFC_1123_DATE_TIME).toInstant());
        } catch (java.time.format.DateTimeParseException e) {
            return null;
        }
        return wait.isNegative() ? Duration.ZERO : wait.compareTo(RETRY_AFTER_MOST) > 0 ? RETRY_AFTER_MOST : wait;
    }

    /** The article's answer: print_r of ['method' => ..., 'data' => $_REQUEST]. */
    private Done printR(Call call, Received received, HttpExchange exchange, IntConsumer beforeAnswer) {
        Map<Object, Object> data;
        Answer answer = new Answer(null);
        // An answer no caller waits for is built a few at a time: calls that end together hold one parse each at most.
        if (exchange == null) answering.acquireUninterruptibly();
        try {
            data = data(received.method(), received.rawQuery(), received.contentType(), received.body(),
                text -> notifyListener(l -> l.warning(call, text)));
            print(data, answer);
        } catch (RuntimeException e) {
            if (exchange != null) Replies.send(exchange, 500, "Internal Server Error\n", true);
            return new Done(call, exchange == null ? 202 : 500, OptionalInt.of(500), OptionalInt.empty(), null, 0, "failed: " + e);
        } finally {
            if (exchange == null) answering.release();
        }
        if (exchange == null) return new Done(call, 202, OptionalInt.of(200), OptionalInt.empty(), answer.kept(), answer.length(), null);
        // The length first, so that the answer has a Content-Length and the connection stays usable.
        try {
            exchange.getResponseHeaders().set("Content-Type", "text/plain; charset=UTF-8");
            exchange.getResponseHeaders().set("X-Content-Type-Options", "nosniff");
            boolean head = call.method().equals("HEAD");
            beforeAnswer.accept(200);
            exchange.sendResponseHeaders(200, head || answer.length() == 0 ? -1 : answer.length());
            if (!head && answer.length() > 0) {
                try (OutputStream body = exchange.getResponseBody()) {
                    print(data, new Answer(body));
                }
            }
        } catch (IOException hungUp) {
            // The caller left before the whole answer: the work is done all the same.
        }
        return new Done(call, 200, OptionalInt.of(200), OptionalInt.empty(), answer.kept(), answer.length(), null);
    }

    private static void print(Map<Object, Object> data, Answer to) {
        try {
            Php.printR(data, to);
            to.flush();
        } catch (IOException e) {
            // Only the caller's stream throws, when the caller has left.
        }
    }

    /**
     * An answer being printed: counted, its first Done.ANSWER_KEPT bytes kept, and (when to is not null)
     * written to to, 8 KiB at a time. Chars are bytes (ISO-8859-1), as PHP's strings are.
     */
    static final class Answer implements Appendable {
        private final OutputStream to;
        private final byte[] buffer;
        private final StringBuilder kept = new StringBuilder();
        private int buffered;
        private long length;

        Answer(OutputStream to) {
            this.to = to;
            this.buffer = to == null ? null : new byte[8192];
        }

        @Override
        public Answer append(CharSequence s) throws IOException {
            return append(s, 0, s.length());
        }

        @Override
        public Answer append(CharSequence s, int start, int end) throws IOException {
            if (to == null && length >= Done.ANSWER_KEPT) {
                length += end - start; // only counted from here on
                return this;
            }
            for (int i = start; i < end; i++) append(s.charAt(i));
            return this;
        }

        @Override
        public Answer append(char c) throws IOException {
            if (length++ < Done.ANSWER_KEPT) kept.append(c);
            if (to != null) {
                buffer[buffered++] = (byte) c;
                if (buffered == buffer.length) flush();
            }
            return this;
        }

        void flush() throws IOException {
            if (to != null && buffered > 0) to.write(buffer, 0, buffered);
            buffered = 0;
        }

        long length() {
            return length;
        }

        String kept() {
            return kept.toString();
        }
    }

    /** Ends a call with a refusal: its answer sent (the connection closed when its body may not have been read). */
    private static Done refuse(HttpExchange exchange, Call call, Refusal refusal) {
        if (refusal.status() == 401) exchange.getResponseHeaders().set("WWW-Authenticate", "Bearer");
        Replies.send(exchange, refusal.status(), refusal.text() + "\n", refusal.status() >= 400);
        return Done.refused(call, refusal.status(), refusal.text());
    }

    /** The end of a call worked in the background: the listener told, then the count of calls working. */
    private void finish(Done done, long held) {
        notifyListener(l -> l.done(done));
        countDone(held);
    }

    /** Tells the listener; whatever it throws stays with it, so that no call and no count is broken. */
    private void notifyListener(java.util.function.Consumer<Listener> event) {
        try {
            event.accept(listener);
        } catch (RuntimeException e) {
            // The listener's failure is its own: the call goes on.
        }
    }

    /**
     * 48 bits of the time (ms), then 80 random: a call's monitor cannot be guessed, and ids made one after
     * another sort together, so that a store's index of them grows at one end (one page a commit, not one a call).
     */
    private String newId() {
        byte[] id = new byte[16];
        random.nextBytes(id);
        long ms = System.currentTimeMillis();
        for (int i = 0; i < 6; i++) id[i] = (byte) (ms >>> (40 - 8 * i));
        return HexFormat.of().formatHex(id);
    }

    /**
     * Counts a call in, once the whole request is in (a stop waits for these calls, not for half-sent
     * requests), unless the backlog is full: --queue calls accepted and not finished, or bodies of a
     * quarter of the heap held by them. A call past either is told to come back later (503).
     */
    private void admit(HttpExchange exchange, long bytes) throws Refused {
        if (countIn(bytes)) return;
        exchange.getResponseHeaders().set("Retry-After", "1");
        throw new Refused(503, "Service Unavailable: " + settings.queue() + " calls (or " + (heldLimit >> 20)
            + " MiB of them) are waiting already; try again later");
    }

    private synchronized boolean countIn(long bytes) {
        long waiting = store == null ? working : store.backlog() + storing;
        if (waiting >= settings.queue() || (working > 0 && held + bytes > heldLimit)) return false;
        countWorking(bytes);
        if (store != null) storing++;
        return true;
    }

    /** Counts a call in as working (a stop waits for it), holding bytes of body. */
    private synchronized void countWorking(long bytes) {
        working++;
        held += bytes;
    }

    private synchronized void countDone(long bytes) {
        working--;
        held -= bytes;
        if (working == 0) notifyAll();
    }

    /** The calls being read, waiting for a worker or worked on now. */
    public synchronized int working() {
        return working;
    }

    /** Attempts at work going on now. */
    public int busy() {
        return busy.get();
    }

    /** Calls accepted and not worked on now: with a store, those waiting in it (all its endpoints'), counted once a second. */
    public long waiting() {
        return store != null ? store.queued() : Math.max(0, working() - busy());
    }

    /**
     * Waits until no call is working, at most until deadline (System.nanoTime); returns how many still are. Calls waiting
     * for their time or their group's turn (without a store) are not waited for: they would wait past any grace.
     */
    public synchronized int awaitIdle(long deadline) throws InterruptedException {
        for (long left; working - line.resting() > 0 && (left = deadline - System.nanoTime()) > 0; ) {
            wait(Math.max(1, Math.min(100, left / 1_000_000))); // a call that starts resting does not notify: looked at again
        }
        return working;
    }

    /** The checks made before the body is read: the method, the size of the headers, the token, the key. */
    private void check(HttpExchange call) throws Refused {
        if (!METHODS.contains(call.getRequestMethod())) {
            throw new Refused(501, "Not Implemented: the method " + call.getRequestMethod() + " is not served here");
        }
        int count = 0, bytes = 0;
        for (Map.Entry<String, List<String>> h : call.getRequestHeaders().entrySet()) {
            for (String v : h.getValue()) {
                count++;
                bytes += h.getKey().length() + v.length() + 4;
            }
        }
        if (count > MAX_HEADERS || bytes > MAX_HEADER_BYTES) {
            throw new Refused(431, "Request Header Fields Too Large: at most " + MAX_HEADERS + " headers and "
                + MAX_HEADER_BYTES + " bytes");
        }
        if (!bearer.trusted(call)) throw new Refused(401, Bearer.UNAUTHORIZED);
        List<String> given = call.getRequestHeaders().get("Idempotency-Key");
        if (given != null && given.size() > 1) throw new Refused(400, "Bad Request: one Idempotency-Key at most, not " + given.size());
        String key = given == null ? null : given.get(0);
        if (key != null && !key.matches("[\\x21-\\x7e]{1,255}")) {
            throw new Refused(400, "Bad Request: an Idempotency-Key is 1 to 255 visible ASCII characters");
        }
    }

    /** The longest a call may be put off (Asynccall-Delay, Asynccall-Not-Before): 30 days, as a queue of tasks would keep one. */
    static final Duration DELAY_MOST = Duration.ofDays(30);

    /**
     * What the call asks of its work (Asynccall-Attempts, Asynccall-Delay or Asynccall-Not-Before, Asynccall-Group,
     * Asynccall-Callback): only a call answered 202 may, since a caller that waits gets its one attempt's answer. A bad
     * value is a 400 naming it.
     */
    private Plan plan(HttpExchange exchange, boolean async) throws Refused {
        String attempts = only(exchange, "Asynccall-Attempts"), delay = only(exchange, "Asynccall-Delay"),
            notBefore = only(exchange, "Asynccall-Not-Before"), group = only(exchange, "Asynccall-Group"),
            callback = only(exchange, "Asynccall-Callback");
        if (!async) {
            for (String[] h : new String[][] {{"Asynccall-Attempts", attempts}, {"Asynccall-Delay", delay}, {"Asynccall-Not-Before", notBefore},
                    {"Asynccall-Group", group}, {"Asynccall-Callback", callback}}) {
                if (h[1] != null) throw new Refused(400, "Bad Request: " + h[0] + " is for a call answered 202 (Prefer: respond-async);"
                    + " a caller that waits gets one attempt, now");
            }
            return Plan.ONCE;
        }
        int n = settings.attempts();
        if (attempts != null) {
            if (!attempts.matches("[1-9]\\d*")) throw new Refused(400, "Bad Request: Asynccall-Attempts is a number of attempts from 1, not " + attempts);
            if (attempts.length() < 4) n = Math.min(n, Integer.parseInt(attempts)); // at most the server's (100 at most)
        }
        if (delay != null && notBefore != null) throw new Refused(400, "Bad Request: Asynccall-Delay or Asynccall-Not-Before, not both");
        java.time.Instant at = null, now = java.time.Instant.now();
        if (delay != null) {
            if (!delay.matches("\\d{1,7}(\\.\\d{1,3})?")) throw new Refused(400, "Bad Request: Asynccall-Delay is seconds (decimals allowed), not " + delay);
            at = now.plusMillis(Math.round(Double.parseDouble(delay) * 1000));
        } else if (notBefore != null) {
            try {
                if (!notBefore.endsWith(" GMT")) throw new java.time.format.DateTimeParseException("an HTTP-date is GMT", notBefore, 0);
                at = java.time.ZonedDateTime.parse(notBefore, java.time.format.DateTimeFormatter.RFC_1123_DATE_TIME).toInstant();
            } catch (java.time.format.DateTimeParseException e) {
                throw new Refused(400, "Bad Request: Asynccall-Not-Before is an HTTP-date such as Sat, 05 Dec 2026 10:00:00 GMT, not " + notBefore);
            }
        }
        if (at != null && at.isAfter(now.plus(DELAY_MOST))) {
            throw new Refused(400, "Bad Request: " + (delay != null ? "Asynccall-Delay" : "Asynccall-Not-Before") + " puts the call off more than "
                + DELAY_MOST.toDays() + " days");
        }
        if (at != null && !at.isAfter(now)) at = null; // a time past is now
        if (group != null && !group.matches("[\\x21-\\x7e]{1,255}")) {
            throw new Refused(400, "Bad Request: Asynccall-Group is 1 to 255 visible ASCII characters");
        }
        java.net.URI tell = null;
        if (callback != null) {
            try {
                tell = settings.callbacks().check(callback);
            } catch (IllegalArgumentException e) {
                throw new Refused(400, "Bad Request: " + e.getMessage());
            }
        }
        return new Plan(n, at, group, tell);
    }

    /** A header's one value, or null; given more than once, a 400. */
    private static String only(HttpExchange exchange, String name) throws Refused {
        List<String> values = exchange.getRequestHeaders().get(name);
        if (values == null) return null;
        if (values.size() > 1) throw new Refused(400, "Bad Request: one " + name + " at most, not " + values.size());
        return values.get(0).trim();
    }

    /**
     * DELETE /calls/ID: a call waiting or working is cancelled (its work ended: a command's process group, a Java
     * function interrupted). Returns 200 once it ended cancelled, 202 while its work is still ending, 0 when the
     * endpoint has no such call waiting or working (the monitor answers from what it knows).
     */
    public int cancel(String id) throws Exception {
        if (store == null) return line.cancel(id, CANCEL_WAIT);
        Store.Cancelled found = store.cancel(id).get(STORE_WAIT.toSeconds(), java.util.concurrent.TimeUnit.SECONDS);
        if (found.call() != null) notifyListener(l -> l.done(Done.refused(found.call(), 202, Done.CANCELLED)));
        if (!"working".equals(found.was())) return 0;
        // Its endpoint (this one, or another on its next poll) ends its work, then records it cancelled.
        long deadline = System.nanoTime() + CANCEL_WAIT.toNanos();
        while (System.nanoTime() < deadline) {
            call.Report r = store.report(id);
            if (r == null || r.finished() != null) return 200;
            Thread.sleep(50);
        }
        return 202;
    }

    /** How long DELETE /calls/ID waits for a working call's work to end (a command gets a second after TERM). */
    static final Duration CANCEL_WAIT = Duration.ofSeconds(5);

    /** POST /calls/ID/retry: a failed or cancelled call queued again, with new attempts. 202; 0: not such a call (or not kept); 503: full. */
    public int rerun(String id) throws Exception {
        if (store != null) {
            if (room() < 1) return 503;
            return rerunStored(id, null, 0, 1) > 0 ? 202 : 0;
        }
        Kept.Entry e = line.takeKept(id);
        if (e == null) return 0;
        if (!countIn(e.received().body().length)) {
            line.keepAgain(e);
            return 503;
        }
        runAgain(e);
        return 202;
    }

    /**
     * POST /calls/retry: the failed (or cancelled) calls that ended at since or later (null: all) queued again, as many as
     * --queue has room for; returns how many, or -1 when there was no room for any.
     */
    public long rerunAll(String state, java.time.Instant since) throws Exception {
        boolean cancelled = state.equals("cancelled");
        if (store != null) {
            int room = room();
            return room < 1 ? -1 : rerunStored(null, cancelled ? "cancelled" : "failed", since == null ? 0 : since.toEpochMilli(), room);
        }
        long n = 0, full = 0;
        for (Kept.Entry e : line.takeKept(cancelled, since)) {
            if (!countIn(e.received().body().length)) {
                line.keepAgain(e); // the queue is full: it waits for the next request
                full++;
                continue;
            }
            runAgain(e);
            n++;
        }
        return n == 0 && full > 0 ? -1 : n;
    }

    /** With a store: the calls --queue lets in now. */
    private synchronized int room() {
        return (int) Math.max(0, Math.min(Integer.MAX_VALUE, settings.queue() - store.backlog() - storing));
    }

    /** Calls queued again in the store, each told accepted again; returns how many. */
    private int rerunStored(String id, String state, long sinceMs, int limit) throws Exception {
        List<Call> again = store.rerun(id, state, sinceMs, limit).get(STORE_WAIT.toSeconds(), java.util.concurrent.TimeUnit.SECONDS);
        for (Call call : again) notifyListener(l -> l.accepted(call));
        return again.size();
    }

    /** A kept call, counted in, accepted again (same id, same key) and worked anew, now (a delay it had is over). */
    private void runAgain(Kept.Entry e) {
        Call call = e.call().attempt(1);
        notifyListener(l -> l.accepted(call));
        work(call, e.received(), e.plan().again(), call.key() != null && keys != null);
    }

    /** Whether the request carries the token (always, without one): the page and the monitors ask for it too. */
    public boolean trusted(HttpExchange call) {
        return bearer.trusted(call);
    }

    /** The answer a repeat of a key gets (a 202 names the first call's monitor). */
    private static Refusal repeat(HttpExchange exchange, Call call, Idempotency.Seen first, byte[] fingerprint) {
        String key = call.key();
        if (!MessageDigest.isEqual(first.fingerprint(), fingerprint)) {
            return new Refusal(422, "Unprocessable Content: this Idempotency-Key was used for a different request");
        }
        if (first.status().isEmpty()) {
            return new Refusal(409, "Conflict: the first call with this Idempotency-Key is still being worked on");
        }
        int status = first.status().getAsInt();
        if (status == 202) exchange.getResponseHeaders().set("Location", "/calls/" + first.id());
        return new Refusal(status, Done.REPEAT + key + ", answered " + status
            + " the first time: not worked on again");
    }

    private static byte[] fingerprint(Call call, byte[] body) {
        byte[] line = (call.method() + " " + call.uri() + "\n").getBytes(StandardCharsets.ISO_8859_1);
        byte[] all = Arrays.copyOf(line, line.length + body.length);
        System.arraycopy(body, 0, all, line.length, body.length);
        return Bearer.sha256(all);
    }

    /** res.php's $data: the method as sent, and $_REQUEST as PHP would build it. */
    static Map<Object, Object> data(String method, String rawQuery, String contentType, byte[] body,
                                    java.util.function.Consumer<String> warn) {
        Map<Object, Object> data = new LinkedHashMap<>();
        data.put("method", method);
        data.put("data", Php.request(method, rawQuery, contentType, body, warn));
        return data;
    }

    /** What the call received: its body whole, at most post_max_size (a larger one is not read further). */
    private static Received read(HttpExchange call) throws Refused {
        byte[] body;
        try {
            body = RequestBody.read(call, Php.POST_MAX_SIZE);
        } catch (RequestBody.EndedEarly e) {
            throw new Refused(400, "Bad Request: " + e.getMessage());
        }
        if (body == null) throw new Refused(413, "Payload Too Large: the limit is " + Php.POST_MAX_SIZE + " bytes");
        return new Received(call.getRequestMethod(), Php.queryString(call.getRequestURI()),
            call.getRequestHeaders().getFirst("Content-Type"), Map.copyOf(call.getRequestHeaders()), body, call.getLocalAddress(),
            call.getProtocol(), call instanceof com.sun.net.httpserver.HttpsExchange);
    }

    static boolean prefersAsync(List<String> prefer) {
        if (prefer == null) return false;
        for (String header : prefer) {
            for (String preference : header.split(",")) {
                String token = preference.split(";", 2)[0].trim();
                if (token.equalsIgnoreCase("respond-async")) return true;
            }
        }
        return false;
    }

    /** `res [QUERY] [--method M] [--body B] [--content-type T]`: prints the answer, without a server. */
    public static void main(String... args) {
        PrintWriter out = new PrintWriter(System.out, true, StandardCharsets.ISO_8859_1);
        System.exit(start(out, new PrintWriter(System.err, true), args));
    }

    /** Runs the command: 0 when it printed the answer, 2 for bad arguments. */
    static int start(PrintWriter out, PrintWriter err, String... args) {
        Options options;
        try {
            options = Options.parse(args);
        } catch (IllegalArgumentException e) {
            err.println("Error: " + e.getMessage());
            err.print(USAGE);
            err.flush();
            return 2;
        }
        if (options.help) {
            out.print(USAGE);
            out.flush();
            return 0;
        }
        String contentType = options.body != null && options.contentType == null ? "application/x-www-form-urlencoded" : options.contentType;
        byte[] bytes = options.body == null ? new byte[0] : options.body.getBytes(StandardCharsets.UTF_8);
        String latin1Query = new String(options.query.getBytes(StandardCharsets.UTF_8), StandardCharsets.ISO_8859_1);
        out.print(Php.printR(data(options.method, latin1Query, contentType, bytes, warning -> err.println(warning))));
        out.flush();
        err.flush();
        return 0;
    }

    /** res's options, parsed as serve's and test's are. */
    static final class Options {
        String method = "GET", query, body, contentType;
        boolean help;

        static Options parse(String... words) {
            Options o = new Options();
            Args args = new Args(words);
            while (args.hasNext()) {
                String option = args.next();
                switch (option) {
                    case "-h", "--help" -> o.help = true;
                    case "--method" -> o.method = args.value(option);
                    case "--body" -> o.body = args.value(option);
                    case "--content-type" -> o.contentType = args.value(option);
                    default -> {
                        if (option.startsWith("-") && !option.isEmpty()) throw Args.unknown(option);
                        if (o.query != null) throw new IllegalArgumentException("one QUERY only, not " + option + " too: join them with & ('a=1&b=2')");
                        o.query = option.startsWith("?") ? option.substring(1) : option;
                    }
                }
            }
            if (o.query == null) o.query = "";
            return o;
        }
    }

    static final String USAGE = """
        Usage: res [QUERY] [--method METHOD] [--body BODY] [--content-type TYPE]
        Prints what the endpoint would answer for that request, without a server: how PHP reads it.
          QUERY                 the query string, e.g. 'a[]=1&b.c=2'
          --method METHOD       the request method (default GET)
          --body BODY           the request body (sent as application/x-www-form-urlencoded unless
                                --content-type says otherwise; only POST fills $_POST, as in PHP)
          --content-type TYPE   the body's Content-Type
          -h, --help            this help
        """;
}
