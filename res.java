///usr/bin/env jbang "$0" "$@" ; exit $?
//JAVA 21+
//SOURCES Php.java

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Semaphore;

/**
 * The endpoint, res.php ported: builds ['method' => ..., 'data' => $_REQUEST], works (sleeps), and
 * answers with its print_r. A call that says "Prefer: respond-async" (RFC 7240) gets 202 Accepted at
 * once and the work is done after; a caller that hangs up never stops the work.
 */
public class res implements HttpHandler {

    /** What the endpoint tells its server about each call: a warning while reading it, and the end of its work. */
    public interface Events {
        void warning(HttpExchange call, String text);

        /** Called exactly once per call, when its work is done (or it was refused): the status sent, and the answer. */
        void done(HttpExchange call, int status, String answer);
    }

    private final Duration work;
    private final Semaphore workers;
    private final Events events;

    /** @param workers bounds the calls worked on at once; null for no bound. */
    public res(Duration work, Semaphore workers, Events events) {
        this.work = work;
        this.workers = workers;
        this.events = events;
    }

    @Override
    public void handle(HttpExchange call) {
        int status = 0;
        String answer = null;
        try {
            byte[] body = readBody(call);
            if (body == null) {
                status = refuse(call, 413, "Payload Too Large: the limit is " + Php.POST_MAX_SIZE + " bytes\n");
                return;
            }
            Map<Object, Object> data = data(call.getRequestMethod(), call.getRequestURI().getRawQuery(),
                call.getRequestHeaders().getFirst("Content-Type"), body, text -> events.warning(call, text));
            answer = Php.printR(data);
            boolean respondAsync = prefersAsync(call.getRequestHeaders().get("Prefer"));
            if (respondAsync) status = accept(call);
            doWork();
            if (!respondAsync) status = answer(call, 200, answer);
        } catch (InterruptedException stopping) {
            Thread.currentThread().interrupt();
            if (status == 0) status = refuse(call, 503, "Service Unavailable: the server is stopping\n");
        } catch (IOException | RuntimeException e) {
            if (status == 0) status = refuse(call, 500, "Internal Server Error\n");
        } finally {
            call.close();
            events.done(call, status, answer);
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
    private static byte[] readBody(HttpExchange call) throws IOException {
        String length = call.getRequestHeaders().getFirst("Content-Length");
        if (length != null && Long.parseLong(length.trim()) > Php.POST_MAX_SIZE) return null;
        InputStream in = call.getRequestBody();
        byte[] body = in.readNBytes(Php.POST_MAX_SIZE + 1);
        return body.length > Php.POST_MAX_SIZE ? null : body;
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

    private static int answer(HttpExchange call, int status, String text) {
        return send(call, status, text, false);
    }

    private static int refuse(HttpExchange call, int status, String text) {
        return send(call, status, text, true);
    }

    /** Sends an answer; a caller that has gone away is expected, so a failed write is not an error. */
    private static int send(HttpExchange call, int status, String text, boolean close) {
        try {
            byte[] bytes = text == null ? new byte[0] : text.getBytes(StandardCharsets.ISO_8859_1);
            call.getResponseHeaders().set("Content-Type", "text/plain; charset=UTF-8");
            call.getResponseHeaders().set("X-Content-Type-Options", "nosniff");
            if (close) call.getResponseHeaders().set("Connection", "close");
            call.sendResponseHeaders(status, bytes.length == 0 ? -1 : bytes.length);
            try (OutputStream out = call.getResponseBody()) {
                out.write(bytes);
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
