///usr/bin/env jbang "$0" "$@" ; exit $?
//JAVA 21+
//SOURCES Php.java Idempotency.java

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;

import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Executor;
import java.util.concurrent.Semaphore;

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

    /** How the endpoint works: the sleep, workers (0: no bound), the token (null: none), Idempotency-Keys remembered (0: header ignored). */
    public record Settings(Duration sleep, int workers, String token, int keys) {}

    /** A call as the server speaks of it: its id, method, URI as sent, caller and Idempotency-Key (or null). */
    public record Call(String id, String method, URI uri, InetSocketAddress from, String key) {}

    /** What a call received: all its work needs, held while it waits (the body as sent, at most post_max_size). */
    public record Received(String method, String rawQuery, String contentType, byte[] body) {}

    /**
     * The end of a call, worked or refused: the status sent, the first ANSWER_KEPT bytes of its answer
     * (one char per byte; null when there is none), the answer's whole length, and a note on why it was
     * refused or not worked on (or null).
     */
    public record Done(Call call, int status, String answer, long answerBytes, String note) {}

    /**
     * Told what happens to each call: accepted (the whole request is in and counted as working),
     * warnings while reading its variables, its end (exactly once, refusals included).
     */
    public interface Listener {
        default void accepted(Call call) {}

        default void warning(Call call, String text) {}

        default void done(Done done) {}
    }

    static final Set<String> METHODS = Set.of("GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "PATCH");
    static final int MAX_HEADERS = 100;
    static final int MAX_HEADER_BYTES = 64 * 1024;
    /** How much of an answer a Done event keeps (the -v log, the monitor): the rest is only counted. */
    static final int ANSWER_KEPT = 64 * 1024;

    private final Settings settings;
    private final Semaphore workers;
    private final byte[] tokenHash;
    private final Idempotency keys;
    private final Executor background;
    private final Listener listener;
    private final SecureRandom random = new SecureRandom();
    private final Semaphore answering = new Semaphore(Runtime.getRuntime().availableProcessors());
    private int working;

    /**
     * @param background runs the work of a call answered 202, once its exchange is let go
     * @param listener told of every call; what it throws is its own affair and never stops a call
     */
    public res(Settings settings, Executor background, Listener listener) {
        this.settings = settings;
        this.workers = settings.workers() == 0 ? null : new Semaphore(settings.workers(), true);
        this.tokenHash = settings.token() == null ? null : sha256(settings.token().getBytes(StandardCharsets.UTF_8));
        this.keys = settings.keys() == 0 ? null : new Idempotency(settings.keys());
        this.background = background;
        this.listener = listener;
    }

    /** An answer that ends a call before any work: its status and its text (also the log's note). */
    private record Refusal(int status, String text) {}

    @Override
    public void handle(HttpExchange exchange) {
        Call call = new Call(newId(), exchange.getRequestMethod(), exchange.getRequestURI(), exchange.getRemoteAddress(),
            exchange.getRequestHeaders().getFirst("Idempotency-Key"));
        boolean counted = false;
        Done done = null;
        try {
            Refusal refusal = check(exchange);
            Received received = null;
            if (refusal == null) {
                try {
                    received = read(exchange);
                    if (received == null) refusal = new Refusal(413, "Payload Too Large: the limit is " + Php.POST_MAX_SIZE + " bytes");
                } catch (BodyEndedEarly e) {
                    refusal = new Refusal(400, "Bad Request: " + e.getMessage());
                }
            }
            if (refusal != null) {
                done = refuse(exchange, call, refusal);
                return;
            }
            // Counted from here, once the whole request is in: a stop waits for these calls, not for half-sent requests.
            working(+1);
            counted = true;
            tell(l -> l.accepted(call));
            done = serve(exchange, call, received);
        } catch (RuntimeException | Error e) {
            done = new Done(call, send(exchange, 500, "Internal Server Error\n", true), null, 0, "failed: " + e);
        } finally {
            exchange.close();
            // null: the call was accepted and its work goes on in the background, which finishes it.
            if (done != null) {
                Done end = done;
                tell(l -> l.done(end));
                if (counted) working(-1);
            }
        }
    }

    /** Deduplicate, answer, work; returns the call's end, or null when it was accepted and its work goes on after. */
    private Done serve(HttpExchange exchange, Call call, Received received) {
        boolean ownsKey = call.key() != null && keys != null;
        if (ownsKey) {
            Refusal refusal = firstTime(call.key(), fingerprint(call, received.body()));
            if (refusal != null) return refuse(exchange, call, refusal);
        }
        if (prefersAsync(exchange.getRequestHeaders().get("Prefer"))) {
            exchange.getResponseHeaders().set("Preference-Applied", "respond-async");
            exchange.getResponseHeaders().set("Location", "/calls/" + call.id());
            send(exchange, 202, null, false);
            if (ownsKey) keys.done(call.key(), 202);
            exchange.close();
            // The work goes on in a thread of its own, which holds what the call received but not its exchange.
            background.execute(() -> finish(settle(work(call, received, null), ownsKey)));
            return null;
        }
        return settle(work(call, received, exchange), ownsKey);
    }

    /** The outcome of a key's first call: its status when worked; forgotten when not, so that a retry may do the work. */
    private Done settle(Done done, boolean ownsKey) {
        if (ownsKey && done.note() == null) keys.done(done.call().key(), done.status());
        if (ownsKey && done.note() != null) keys.forget(done.call().key());
        return done;
    }

    /**
     * Works on a call, then builds its answer: streamed to the caller when there is one to answer
     * (exchange not null), and kept (its first ANSWER_KEPT bytes) for the Done event.
     */
    private Done work(Call call, Received received, HttpExchange exchange) {
        try {
            sleep();
        } catch (InterruptedException stopping) {
            Thread.currentThread().interrupt();
            if (exchange != null) send(exchange, 503, "Service Unavailable: the server is stopping\n", true);
            return new Done(call, exchange == null ? 202 : 503, null, 0, "stopped before the work was done");
        }
        Map<Object, Object> data;
        Answer answer = new Answer(null);
        // An answer no caller waits for is built a few at a time: calls that end together hold one parse each at most.
        if (exchange == null) answering.acquireUninterruptibly();
        try {
            data = data(received.method(), received.rawQuery(), received.contentType(), received.body(),
                text -> tell(l -> l.warning(call, text)));
            print(data, answer);
        } catch (RuntimeException e) {
            if (exchange != null) send(exchange, 500, "Internal Server Error\n", true);
            return new Done(call, exchange == null ? 202 : 500, null, 0, "failed: " + e);
        } finally {
            if (exchange == null) answering.release();
        }
        if (exchange == null) return new Done(call, 202, answer.kept(), answer.length(), null);
        // The length first, so that the answer has a Content-Length and the connection stays usable.
        try {
            exchange.getResponseHeaders().set("Content-Type", "text/plain; charset=UTF-8");
            exchange.getResponseHeaders().set("X-Content-Type-Options", "nosniff");
            boolean head = call.method().equals("HEAD");
            exchange.sendResponseHeaders(200, head || answer.length() == 0 ? -1 : answer.length());
            if (!head && answer.length() > 0) {
                try (OutputStream body = exchange.getResponseBody()) {
                    print(data, new Answer(body));
                }
            }
        } catch (IOException hungUp) {
            // The caller left before the whole answer: the work is done all the same.
        }
        return new Done(call, 200, answer.kept(), answer.length(), null);
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
     * An answer being printed: counted, its first ANSWER_KEPT bytes kept, and (when to is not null)
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
            if (to == null && length >= ANSWER_KEPT) {
                length += end - start; // only counted from here on
                return this;
            }
            for (int i = start; i < end; i++) append(s.charAt(i));
            return this;
        }

        @Override
        public Answer append(char c) throws IOException {
            if (length++ < ANSWER_KEPT) kept.append(c);
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
        send(exchange, refusal.status(), refusal.text() + "\n", refusal.status() >= 400);
        return new Done(call, refusal.status(), null, 0, refusal.text());
    }

    /** The end of a call worked in the background: the listener told, then the count of calls working. */
    private void finish(Done done) {
        tell(l -> l.done(done));
        working(-1);
    }

    /** Tells the listener; whatever it throws stays with it, so that no call and no count is broken. */
    private void tell(java.util.function.Consumer<Listener> event) {
        try {
            event.accept(listener);
        } catch (RuntimeException e) {
            // The listener's failure is its own: the call goes on.
        }
    }

    private String newId() {
        byte[] id = new byte[16]; // 128 random bits: a call's monitor cannot be guessed
        random.nextBytes(id);
        return HexFormat.of().formatHex(id);
    }

    private synchronized void working(int change) {
        working += change;
        if (working == 0) notifyAll();
    }

    /** The calls being read, waiting for a worker or worked on now. */
    public synchronized int working() {
        return working;
    }

    /** Waits until no call is working, at most until deadline (System.nanoTime); returns how many still are. */
    public synchronized int awaitIdle(long deadline) throws InterruptedException {
        for (long left; working > 0 && (left = deadline - System.nanoTime()) > 0; ) {
            wait(Math.max(1, left / 1_000_000));
        }
        return working;
    }

    /** The checks made before the body is read: the method, the size of the headers, the token, the key. */
    private Refusal check(HttpExchange call) {
        if (!METHODS.contains(call.getRequestMethod())) {
            return new Refusal(501, "Not Implemented: the method " + call.getRequestMethod() + " is not served here");
        }
        int count = 0, bytes = 0;
        for (Map.Entry<String, List<String>> h : call.getRequestHeaders().entrySet()) {
            for (String v : h.getValue()) {
                count++;
                bytes += h.getKey().length() + v.length() + 4;
            }
        }
        if (count > MAX_HEADERS || bytes > MAX_HEADER_BYTES) {
            return new Refusal(431, "Request Header Fields Too Large: at most " + MAX_HEADERS + " headers and "
                + MAX_HEADER_BYTES + " bytes");
        }
        if (!trusted(call)) return new Refusal(401, UNAUTHORIZED);
        String key = call.getRequestHeaders().getFirst("Idempotency-Key");
        if (key != null && !key.matches("[\\x21-\\x7e]{1,255}")) {
            return new Refusal(400, "Bad Request: an Idempotency-Key is 1 to 255 visible ASCII characters");
        }
        return null;
    }

    static final String UNAUTHORIZED = "Unauthorized: this endpoint takes calls with its token only";

    /**
     * Whether the call may be served: always without a token, else only with "Authorization: Bearer
     * TOKEN", compared in constant time (hashes of equal length, MessageDigest.isEqual).
     */
    public boolean trusted(HttpExchange call) {
        if (tokenHash == null) return true;
        String authorization = call.getRequestHeaders().getFirst("Authorization");
        if (authorization == null || !authorization.regionMatches(true, 0, "Bearer ", 0, 7)) return false;
        byte[] given = sha256(authorization.substring(7).trim().getBytes(StandardCharsets.UTF_8));
        return MessageDigest.isEqual(tokenHash, given);
    }

    /** null when this is the key's first call (now recorded); else the answer a repeat gets. */
    private Refusal firstTime(String key, byte[] fingerprint) {
        Idempotency.Seen first = keys.claim(key, fingerprint);
        if (first == null) return null;
        if (!MessageDigest.isEqual(first.fingerprint(), fingerprint)) {
            return new Refusal(422, "Unprocessable Content: this Idempotency-Key was used for a different request");
        }
        if (first.status() == 0) {
            return new Refusal(409, "Conflict: the first call with this Idempotency-Key is still being worked on");
        }
        return new Refusal(first.status(), "repeat of Idempotency-Key " + key + ", answered " + first.status()
            + " the first time: not worked on again");
    }

    private static byte[] fingerprint(Call call, byte[] body) {
        byte[] line = (call.method() + " " + call.uri() + "\n").getBytes(StandardCharsets.ISO_8859_1);
        byte[] all = Arrays.copyOf(line, line.length + body.length);
        System.arraycopy(body, 0, all, line.length, body.length);
        return sha256(all);
    }

    private static byte[] sha256(byte[] bytes) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(bytes);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has SHA-256", e);
        }
    }

    /** res.php's $data: the method as sent, and $_REQUEST as PHP would build it. */
    static Map<Object, Object> data(String method, String rawQuery, String contentType, byte[] body,
                                    java.util.function.Consumer<String> warn) {
        Map<Object, Object> data = new LinkedHashMap<>();
        data.put("method", method);
        data.put("data", Php.request(method, rawQuery, contentType, body, warn));
        return data;
    }

    /** Whether the request has a body: a Content-Length other than 0, or a Transfer-Encoding. */
    static boolean hasBody(HttpExchange call) {
        String length = call.getRequestHeaders().getFirst("Content-Length");
        return call.getRequestHeaders().containsKey("Transfer-Encoding") || (length != null && !length.trim().equals("0"));
    }

    /** What the call received, or null when its body is larger than post_max_size: then it is not read further. */
    private static Received read(HttpExchange call) throws BodyEndedEarly {
        byte[] body = readBody(call);
        return body == null ? null : new Received(call.getRequestMethod(), call.getRequestURI().getRawQuery(),
            call.getRequestHeaders().getFirst("Content-Type"), body);
    }

    private static byte[] readBody(HttpExchange call) throws BodyEndedEarly {
        String length = call.getRequestHeaders().getFirst("Content-Length");
        boolean chunked = call.getRequestHeaders().containsKey("Transfer-Encoding");
        try {
            if (!chunked && length == null) {
                call.getRequestBody().read(); // the end of an empty body: the connection can take the next request
                return new byte[0];
            }
            if (chunked) {
                byte[] body = call.getRequestBody().readNBytes(Php.POST_MAX_SIZE + 1);
                return body.length > Php.POST_MAX_SIZE ? null : body;
            }
            long n = Long.parseLong(length.trim());
            if (n > Php.POST_MAX_SIZE) return null;
            // Exactly the announced size: no 16 KiB read buffer for a small body, which 10,000 calls would feel.
            byte[] body = call.getRequestBody().readNBytes((int) n);
            if (body.length < n) throw new BodyEndedEarly();
            if (n == 0) call.getRequestBody().read();
            return body;
        } catch (BodyEndedEarly e) {
            throw e;
        } catch (IOException e) {
            throw new BodyEndedEarly();
        }
    }

    /** The caller hung up, or took longer than the request timeout, before sending all its body. */
    private static final class BodyEndedEarly extends IOException {
        BodyEndedEarly() {
            super("the body ended before its Content-Length (the caller hung up or stalled)");
        }
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

    /** The work: --sleep, at most --workers at once (the others wait their turn, in arrival order). */
    private void sleep() throws InterruptedException {
        if (workers != null) workers.acquire();
        try {
            Duration work = settings.sleep();
            Thread.sleep(work.toMillis(), work.toNanosPart() % 1_000_000);
        } finally {
            if (workers != null) workers.release();
        }
    }

    /**
     * Sends an answer; a caller that has gone away is expected, so a failed write is not an error.
     * close: say "Connection: close" (a refusal whose body may not have been read).
     */
    static int send(HttpExchange call, int status, String text, boolean close) {
        try {
            byte[] bytes = text == null ? new byte[0] : text.getBytes(StandardCharsets.ISO_8859_1);
            call.getResponseHeaders().set("Content-Type", "text/plain; charset=UTF-8");
            call.getResponseHeaders().set("X-Content-Type-Options", "nosniff");
            if (close) call.getResponseHeaders().set("Connection", "close");
            boolean noBody = bytes.length == 0 || call.getRequestMethod().equals("HEAD");
            call.sendResponseHeaders(status, noBody ? -1 : bytes.length);
            if (!noBody) {
                try (OutputStream out = call.getResponseBody()) {
                    out.write(bytes);
                }
            }
        } catch (IOException | IllegalStateException hungUp) {
            // The caller left before the answer, or an answer was already sent: the work still counts.
        }
        return status;
    }

    /** `res [QUERY] [--method M] [--body B] [--content-type T]`: prints the answer, without a server. */
    public static void main(String... args) {
        PrintWriter out = new PrintWriter(System.out, true, StandardCharsets.ISO_8859_1);
        System.exit(start(out, new PrintWriter(System.err, true), args));
    }

    static int start(PrintWriter out, PrintWriter err, String... args) {
        String method = "GET", query = "", body = null, contentType = null;
        try {
            for (int i = 0; i < args.length; i++) {
                switch (args[i]) {
                    case "-h", "--help" -> {
                        out.print(USAGE);
                        out.flush();
                        return 0;
                    }
                    case "--method" -> method = value(args, ++i, "--method");
                    case "--body" -> body = value(args, ++i, "--body");
                    case "--content-type" -> contentType = value(args, ++i, "--content-type");
                    default -> {
                        if (args[i].startsWith("-") && !args[i].isEmpty()) throw new IllegalArgumentException("unknown option: " + args[i]);
                        query = args[i].startsWith("?") ? args[i].substring(1) : args[i];
                    }
                }
            }
        } catch (IllegalArgumentException e) {
            err.println("Error: " + e.getMessage());
            err.print(USAGE);
            err.flush();
            return 2;
        }
        if (body != null && contentType == null) contentType = "application/x-www-form-urlencoded";
        byte[] bytes = body == null ? new byte[0] : body.getBytes(StandardCharsets.UTF_8);
        String latin1Query = new String(query.getBytes(StandardCharsets.UTF_8), StandardCharsets.ISO_8859_1);
        out.print(Php.printR(data(method, latin1Query, contentType, bytes, warning -> err.println(warning))));
        out.flush();
        err.flush();
        return 0;
    }

    private static String value(String[] args, int i, String option) {
        if (i >= args.length) throw new IllegalArgumentException("no value given for " + option);
        return args[i];
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
