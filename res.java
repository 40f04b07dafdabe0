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
import java.time.Duration;
import java.util.Arrays;
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
 */
public class res implements HttpHandler {

    /** What the endpoint tells its server about each call: a warning while reading it, and the end of its work. */
    public interface Events {
        void warning(Call call, String text);

        /**
         * Called exactly once per call, when its work is done or it was refused: the status sent, the
         * print_r answer (null when refused), and a note on why it was refused or not worked on (or null).
         */
        void done(Call call, int status, String answer, String note);
    }

    /**
     * What is said of a call, kept apart from its exchange, whose buffers it would hold while working:
     * its method, URI, caller and Idempotency-Key (or null).
     */
    public record Call(String method, URI uri, InetSocketAddress from, String key) {
        static Call of(HttpExchange exchange) {
            return new Call(exchange.getRequestMethod(), exchange.getRequestURI(), exchange.getRemoteAddress(),
                exchange.getRequestHeaders().getFirst("Idempotency-Key"));
        }
    }

    static final Set<String> METHODS = Set.of("GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "PATCH");
    static final int MAX_HEADERS = 100;
    static final int MAX_HEADER_BYTES = 64 * 1024;

    private final Duration work;
    private final Semaphore workers;
    private final byte[] tokenHash;
    private final Idempotency keys;
    private final Executor background;
    private final Events events;
    private int working;

    /**
     * @param workers bounds the calls worked on at once; null for no bound
     * @param token the shared secret a call must carry as "Authorization: Bearer TOKEN"; null for none
     * @param keys the Idempotency-Keys seen; null to ignore the header
     * @param background runs the work of a call answered 202, once its exchange is let go
     */
    public res(Duration work, Semaphore workers, String token, Idempotency keys, Executor background, Events events) {
        this.work = work;
        this.workers = workers;
        this.tokenHash = token == null ? null : sha256(token.getBytes(StandardCharsets.UTF_8));
        this.keys = keys;
        this.background = background;
        this.events = events;
    }

    /** An answer that ends a call before any work: its status and its text (also the log's note). */
    private record Refusal(int status, String text) {}

    @Override
    public void handle(HttpExchange exchange) {
        Call call = Call.of(exchange);
        working(+1);
        int status = 0;
        String answer = null, note = null, key = null;
        boolean workingInBackground = false;
        try {
            Refusal refusal = check(exchange);
            byte[] body = refusal == null ? readBody(exchange) : null;
            if (refusal == null && body == null) {
                refusal = new Refusal(413, "Payload Too Large: the limit is " + Php.POST_MAX_SIZE + " bytes");
            }
            if (refusal == null && keys != null && exchange.getRequestHeaders().containsKey("Idempotency-Key")) {
                String k = exchange.getRequestHeaders().getFirst("Idempotency-Key");
                refusal = firstTime(k, fingerprint(exchange, body));
                if (refusal == null) key = k; // this call is the key's first: it records the outcome
            }
            if (refusal != null) {
                status = send(exchange, refusal.status, refusal.text + "\n", refusal.status >= 400);
                note = refusal.text;
                return;
            }
            Map<Object, Object> data = data(call.method(), call.uri().getRawQuery(),
                exchange.getRequestHeaders().getFirst("Content-Type"), body, text -> events.warning(call, text));
            answer = Php.printR(data);
            if (prefersAsync(exchange.getRequestHeaders().get("Prefer"))) {
                status = accept(exchange);
                if (key != null) keys.done(key, status);
                exchange.close();
                // The work goes on in a thread of its own, which holds the call's data but not its exchange.
                String k = key, a = answer;
                background.execute(() -> workAfterAccepting(call, k, a));
                workingInBackground = true;
                return;
            }
            doWork();
            status = send(exchange, 200, answer, false);
        } catch (InterruptedException stopping) {
            Thread.currentThread().interrupt();
            if (status == 0) status = send(exchange, 503, "Service Unavailable: the server is stopping\n", true);
            note = "stopped before the work was done";
        } catch (BodyEndedEarly e) {
            status = send(exchange, 400, "Bad Request: " + e.getMessage() + "\n", true);
            note = e.getMessage();
        } catch (RuntimeException e) {
            if (status == 0) status = send(exchange, 500, "Internal Server Error\n", true);
            note = "failed: " + e;
        } finally {
            exchange.close();
            if (!workingInBackground) finish(call, key, status, answer, note);
        }
    }

    private void workAfterAccepting(Call call, String key, String answer) {
        String note = null;
        try {
            doWork();
        } catch (InterruptedException stopping) {
            note = "stopped before the work was done";
        } finally {
            finish(call, key, 202, answer, note);
        }
    }

    /** The end of a call: its Idempotency-Key's outcome recorded, the server told, the count of calls working. */
    private void finish(Call call, String key, int status, String answer, String note) {
        if (key != null && note == null) keys.done(key, status);
        if (key != null && note != null) keys.forget(key); // not done: a retry may do the work
        events.done(call, status, answer, note);
        working(-1);
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

    /** The checks made before the body is read: the method, the size of the headers, the token. */
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
        if (!trusted(call)) {
            call.getResponseHeaders().set("WWW-Authenticate", "Bearer");
            return new Refusal(401, UNAUTHORIZED);
        }
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

    private static byte[] fingerprint(HttpExchange call, byte[] body) {
        byte[] line = (call.getRequestMethod() + " " + call.getRequestURI() + "\n").getBytes(StandardCharsets.ISO_8859_1);
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

    /** The body, or null when it is larger than post_max_size: then it is not read further. */
    private static byte[] readBody(HttpExchange call) throws BodyEndedEarly {
        String length = call.getRequestHeaders().getFirst("Content-Length");
        boolean chunked = call.getRequestHeaders().containsKey("Transfer-Encoding");
        try {
            if (length == null && !chunked) return new byte[0];
            if (chunked) {
                byte[] body = call.getRequestBody().readNBytes(Php.POST_MAX_SIZE + 1);
                return body.length > Php.POST_MAX_SIZE ? null : body;
            }
            long n = Long.parseLong(length.trim());
            if (n > Php.POST_MAX_SIZE) return null;
            // Exactly the announced size: no 16 KiB read buffer for a small body, which 10,000 calls would feel.
            byte[] body = call.getRequestBody().readNBytes((int) n);
            if (body.length < n) throw new BodyEndedEarly();
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

    private void doWork() throws InterruptedException {
        if (workers == null) {
            sleep();
            return;
        }
        workers.acquire();
        try {
            sleep();
        } finally {
            workers.release();
        }
    }

    private void sleep() throws InterruptedException {
        Thread.sleep(work.toMillis(), work.toNanosPart() % 1_000_000);
    }

    private static int accept(HttpExchange call) {
        call.getResponseHeaders().set("Preference-Applied", "respond-async");
        return send(call, 202, null, false);
    }

    /** Sends an answer; a caller that has gone away is expected, so a failed write is not an error. */
    private static int send(HttpExchange call, int status, String text, boolean close) {
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
