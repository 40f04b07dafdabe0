///usr/bin/env jbang "$0" "$@" ; exit $?
//JAVA 21+

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.math.BigDecimal;
import java.math.MathContext;
import java.math.RoundingMode;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.NoRouteToHostException;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.net.UnknownHostException;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * The caller, test.php ported: fires the article's four calls at the endpoint and does not wait for
 * the work. sendCURL, sendSock and httpBuildQuery are JDK-only and compile on Java 17: copy them.
 */
public class test {
    static final String DEFAULT_URL = "http://127.0.0.1:8080/res.php";

    /**
     * Sends method + data to url with java.net.http.HttpClient, like the article's curl: GET puts the data
     * in the query, POST sends it as a form body. Waits for an answer at most timeout (null: no limit).
     *
     * @param headers name, value pairs, e.g. "Prefer", "respond-async" to be answered 202 at once
     * @return the answer, or null when none came within the timeout (the request was sent: not an error)
     * @throws IOException when the request could not be sent (e.g. java.net.ConnectException)
     */
    static HttpResponse<String> sendCURL(HttpClient client, String method, URI url, Map<?, ?> data,
                                         Duration timeout, String... headers) throws IOException, InterruptedException {
        method = method.toUpperCase(Locale.ROOT);
        String query = httpBuildQuery(data);
        HttpRequest.Builder request = HttpRequest.newBuilder(method.equals("GET") ? withQuery(url, query) : url)
            .version(HttpClient.Version.HTTP_1_1);
        if (timeout != null) request.timeout(timeout);
        if (headers.length > 0) request.headers(headers);
        if (method.equals("POST")) {
            request.header("Content-Type", "application/x-www-form-urlencoded")
                .POST(HttpRequest.BodyPublishers.ofString(query));
        } else {
            request.method(method, HttpRequest.BodyPublishers.noBody());
        }
        try {
            return client.send(request.build(), HttpResponse.BodyHandlers.ofString());
        } catch (HttpConnectTimeoutException notSent) {
            throw notSent;
        } catch (HttpTimeoutException sentNoAnswer) {
            return null;
        }
    }

    /**
     * Writes method + data to url over a plain socket, like the article's fsockopen: connects (30 s
     * timeout), writes the whole request at once and closes without reading, so it returns as soon as the
     * bytes are handed to the OS. The data goes in a form body, and for GET in the query too, as in the article.
     *
     * @param answer where to copy the server's raw answer before closing; null to fire and forget
     * @param headers name, value pairs added to the request
     * @return the number of body bytes sent
     */
    static int sendSock(String method, URI url, Map<?, ?> data, OutputStream answer, String... headers)
            throws IOException {
        method = method.toUpperCase(Locale.ROOT);
        String content = httpBuildQuery(data);
        String target = (url.getRawPath() == null || url.getRawPath().isEmpty() ? "/" : url.getRawPath())
            + (url.getRawQuery() == null ? "" : "?" + url.getRawQuery());
        if (method.equals("GET") && !content.isEmpty()) target += (target.contains("?") ? "&" : "?") + content;
        byte[] body = content.getBytes(StandardCharsets.UTF_8);
        StringBuilder head = new StringBuilder()
            .append(method).append(' ').append(target).append(" HTTP/1.1\r\n")
            .append("Host: ").append(url.getHost()).append(url.getPort() < 0 ? "" : ":" + url.getPort()).append("\r\n")
            .append("Content-Type: application/x-www-form-urlencoded\r\n")
            .append("Content-Length: ").append(body.length).append("\r\n")
            .append("Connection: close\r\n");
        for (int i = 0; i + 1 < headers.length; i += 2) {
            if ((headers[i] + headers[i + 1]).matches("(?s).*[\\r\\n].*")) {
                throw new IllegalArgumentException("a header may not contain CR or LF: " + headers[i]);
            }
            head.append(headers[i]).append(": ").append(headers[i + 1]).append("\r\n");
        }
        byte[] start = head.append("\r\n").toString().getBytes(StandardCharsets.UTF_8);
        byte[] request = Arrays.copyOf(start, start.length + body.length);
        System.arraycopy(body, 0, request, start.length, body.length);
        try (Socket socket = new Socket()) {
            socket.setTcpNoDelay(true);
            socket.connect(new InetSocketAddress(url.getHost(), url.getPort() < 0 ? 80 : url.getPort()), 30_000);
            socket.getOutputStream().write(request);
            if (answer != null) socket.getInputStream().transferTo(answer);
        }
        return body.length;
    }

    /** A call to fire: sendCURL or sendSock with their arguments. */
    interface Fire<T> {
        T fire() throws IOException, InterruptedException;
    }

    /**
     * Fires a call, and again after 100 ms, 200 ms, 400 ms... (at most 5 s apart, retries times at most)
     * while it could not connect: then nothing was sent, so trying again cannot do the work twice. Any
     * other failure may come after the request was sent, so it is retried only when the call carries an
     * Idempotency-Key (the endpoint then works on it once).
     */
    static <T> T withRetries(int retries, boolean idempotencyKey, Fire<T> call) throws IOException, InterruptedException {
        long backoff = 100;
        for (int attempt = 0; ; attempt++) {
            try {
                return call.fire();
            } catch (IOException e) {
                if (attempt >= retries || !(notSent(e) || idempotencyKey)) throw e;
            }
            Thread.sleep(backoff);
            backoff = Math.min(backoff * 2, 5000);
        }
    }

    /** Whether a failure means the request never left: the connection could not be made. */
    static boolean notSent(IOException e) {
        return e instanceof ConnectException || e instanceof NoRouteToHostException || e instanceof UnknownHostException
            || e instanceof HttpConnectTimeoutException
            || (e instanceof SocketTimeoutException && String.valueOf(e.getMessage()).contains("Connect timed out"));
    }

    /** PHP's http_build_query($data): nested maps and lists as a[b][0]=..., RFC 1738 encoding, nulls left out. */
    static String httpBuildQuery(Map<?, ?> data) {
        StringBuilder out = new StringBuilder();
        buildQuery(out, null, data);
        return out.toString();
    }

    private static void buildQuery(StringBuilder out, String prefix, Object array) {
        List<?> list = array instanceof List ? (List<?>) array
            : array instanceof Object[] ? Arrays.asList((Object[]) array) : null;
        Iterable<? extends Map.Entry<?, ?>> entries = list == null ? ((Map<?, ?>) array).entrySet() : indexed(list);
        for (Map.Entry<?, ?> e : entries) {
            String key = urlencode(String.valueOf(e.getKey()));
            String name = prefix == null ? key : prefix + "%5B" + key + "%5D";
            Object v = e.getValue();
            if (v instanceof Map || v instanceof List || v instanceof Object[]) {
                buildQuery(out, name, v);
            } else if (v != null) {
                out.append(out.length() == 0 ? "" : "&").append(name).append('=').append(urlencode(scalar(v)));
            }
        }
    }

    private static List<Map.Entry<?, ?>> indexed(List<?> list) {
        List<Map.Entry<?, ?>> entries = new ArrayList<>(list.size());
        for (int i = 0; i < list.size(); i++) entries.add(new java.util.AbstractMap.SimpleEntry<>(i, list.get(i)));
        return entries;
    }

    /** A scalar as PHP turns it into a string for http_build_query: true "1", false "0", floats as %.14G. */
    private static String scalar(Object v) {
        if (v instanceof Boolean) return (Boolean) v ? "1" : "0";
        if (v instanceof Float) return phpFloat(Double.parseDouble(v.toString()));
        if (v instanceof Double) return phpFloat((Double) v);
        if (v instanceof BigDecimal) return ((BigDecimal) v).toPlainString();
        return v.toString();
    }

    /** printf("%.14G") as PHP does it: 14 significant digits, exponent form below 1E-4 and from 1E+15. */
    static String phpFloat(double d) {
        if (Double.isNaN(d)) return "NAN";
        if (Double.isInfinite(d)) return d > 0 ? "INF" : "-INF";
        String sign = d < 0 || (d == 0 && 1 / d < 0) ? "-" : "";
        if (d == 0) return sign + "0";
        BigDecimal rounded = new BigDecimal(Math.abs(d)).round(new MathContext(14, RoundingMode.HALF_EVEN)).stripTrailingZeros();
        String digits = rounded.unscaledValue().toString();
        int point = digits.length() - rounded.scale(); // the value is 0.DIGITS times 10^point
        if (point < -3 || point > 14) {
            int exponent = point - 1;
            return sign + digits.charAt(0) + "." + (digits.length() > 1 ? digits.substring(1) : "0")
                + "E" + (exponent < 0 ? "-" : "+") + Math.abs(exponent);
        }
        if (point <= 0) return sign + "0." + "0".repeat(-point) + digits;
        if (digits.length() <= point) return sign + digits + "0".repeat(point - digits.length());
        return sign + digits.substring(0, point) + "." + digits.substring(point);
    }

    /** PHP's urlencode of the UTF-8 bytes: A-Z a-z 0-9 - . _ stay, space is '+', the rest %XX. */
    static String urlencode(String s) {
        StringBuilder out = new StringBuilder();
        for (byte b : s.getBytes(StandardCharsets.UTF_8)) {
            int c = b & 0xff;
            if (c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '.' || c == '_') {
                out.append((char) c);
            } else if (c == ' ') {
                out.append('+');
            } else {
                out.append('%').append(Character.toUpperCase(Character.forDigit(c >> 4, 16)))
                    .append(Character.toUpperCase(Character.forDigit(c & 15, 16)));
            }
        }
        return out.toString();
    }

    private static URI withQuery(URI url, String query) {
        if (query.isEmpty()) return url;
        return URI.create(url + (url.getRawQuery() == null ? "?" : "&") + query);
    }

    // ---- the command line: the article's four calls ----

    public static void main(String... args) {
        PrintWriter out = new PrintWriter(System.out, true, StandardCharsets.UTF_8);
        PrintWriter err = new PrintWriter(System.err, true, StandardCharsets.UTF_8);
        System.exit(start(out, err, args));
    }

    /** Runs the command: 0 when all four calls were delivered, 1 when any was not, 2 for bad arguments. */
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
        HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(30)).build();
        try {
            return options.waitForAnswers
                ? waitForAnswers(out, err, client, options.url, CALLS, HELLO, options.headers())
                : fire(out, err, client, options, CALLS, HELLO);
        } finally {
            client.shutdownNow(); // else exiting waits about 300 ms for the client's threads
        }
    }

    /** The article's data, and its four calls in its order. */
    static final Map<String, String> HELLO = Map.of("hello", "world!");
    static final List<Call> CALLS = List.of(new Call("sendCURL", "GET"), new Call("sendCURL", "POST"),
        new Call("sendSock", "GET"), new Call("sendSock", "POST"));

    record Call(String function, String method) {
        String target(URI url, Map<?, ?> data) {
            return method.equals("GET") ? withQuery(url, httpBuildQuery(data)).toString() : url.toString();
        }

        /** curl-get, curl-post, sock-get, sock-post. */
        String id() {
            return function.substring(4).toLowerCase(Locale.ROOT) + "-" + method.toLowerCase(Locale.ROOT);
        }
    }

    /** What firing a call gave: its outcome as a line shows it, whether it was delivered, its monitor (a 202's Location, or null). */
    record Fired(String outcome, boolean delivered, String monitor) {}

    /**
     * Fires one of the four calls (a sendCURL with "Prefer: respond-async" and timeout, a sendSock
     * fire-and-forget), retried while it cannot connect. Throws when it could not be sent.
     */
    static Fired fire(HttpClient client, Call call, URI url, Map<?, ?> data, Duration timeout, int retries,
                      String... headers) throws IOException, InterruptedException {
        if (call.function.equals("sendSock")) {
            return new Fired("sent " + withRetries(retries, true, () -> sendSock(call.method, url, data, null, headers)) + " bytes", true, null);
        }
        String[] curlHeaders = Arrays.copyOf(headers, headers.length + 2);
        curlHeaders[headers.length] = "Prefer";
        curlHeaders[headers.length + 1] = "respond-async";
        HttpResponse<String> r = withRetries(retries, true, () -> sendCURL(client, call.method, url, data, timeout, curlHeaders));
        if (r == null) return new Fired("sent, no answer within " + timeout.toMillis() + " ms", true, null);
        return new Fired(status(r.statusCode()), r.statusCode() / 100 == 2, r.headers().firstValue("Location").orElse(null));
    }

    private static int fire(PrintWriter out, PrintWriter err, HttpClient client, Options options,
                            List<Call> calls, Map<?, ?> data) {
        String failure = null;
        long all = System.nanoTime();
        for (Call call : calls) {
            long start = System.nanoTime();
            String outcome;
            try {
                Fired fired = fire(client, call, options.url, data, options.timeout, options.retries,
                    options.headers("Idempotency-Key", UUID.randomUUID().toString()));
                outcome = fired.outcome();
                if (!fired.delivered()) failure = options.url + " answered " + outcome;
            } catch (IOException e) {
                outcome = "not sent: " + describe(e, options.url);
                failure = describe(e, options.url) + (options.retries > 0 ? " (after " + options.retries + " retries)" : "");
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return 1;
            }
            out.printf(Locale.ROOT, "%-8s %-4s %-45s %8.1f ms  %s%n", call.function, call.method,
                call.target(options.url, data), (System.nanoTime() - start) / 1e6, outcome);
        }
        out.printf(Locale.ROOT, "%d calls fired in %.1f ms%n", calls.size(), (System.nanoTime() - all) / 1e6);
        if (failure == null) return 0;
        err.println("Error: " + failure);
        return 1;
    }

    /** --wait: the article's commented-out code. All four at once, without Prefer or timeout, answers in order. */
    private static int waitForAnswers(PrintWriter out, PrintWriter err, HttpClient client, URI url,
                                      List<Call> calls, Map<?, ?> data, String... headers) {
        long start = System.nanoTime();
        try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
            List<Future<String>> answers = new ArrayList<>();
            for (Call call : calls) {
                Callable<String> task = call.function.equals("sendCURL")
                    ? () -> sendCURL(client, call.method, url, data, null, headers).body()
                    : () -> {
                        ByteArrayOutputStream answer = new ByteArrayOutputStream();
                        sendSock(call.method, url, data, answer, headers);
                        return answer.toString(StandardCharsets.UTF_8);
                    };
                answers.add(pool.submit(task));
            }
            for (int i = 0; i < calls.size(); i++) {
                out.print((calls.get(i).function.equals("sendCURL") ? "CURL" : "Sock") + " Response ("
                    + calls.get(i).method + "):\n" + answers.get(i).get() + "\n");
            }
        } catch (ExecutionException e) {
            err.println("Error: " + describe(e.getCause(), url));
            return 1;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return 1;
        }
        out.printf(Locale.ROOT, "%d answers in %.0f ms%n", calls.size(), (System.nanoTime() - start) / 1e6);
        return 0;
    }

    static String status(int code) {
        return switch (code) {
            case 200 -> "200 OK";
            case 202 -> "202 Accepted";
            case 401 -> "401 Unauthorized";
            case 404 -> "404 Not Found";
            case 413 -> "413 Payload Too Large";
            case 503 -> "503 Service Unavailable";
            default -> String.valueOf(code);
        };
    }

    /** A failure in one line, e.g. "Connection refused: 127.0.0.1:8080". */
    static String describe(Throwable e, URI url) {
        String where = url.getHost() + ":" + (url.getPort() < 0 ? 80 : url.getPort());
        if (e instanceof ConnectException) return "Connection refused: " + where;
        if (e instanceof HttpConnectTimeoutException || e instanceof SocketTimeoutException) return "Connect timed out: " + where;
        if (e instanceof UnknownHostException) return "Unknown host: " + url.getHost();
        return e.getMessage() == null ? e.getClass().getSimpleName() + ": " + where : e.getMessage();
    }

    static final class Options {
        URI url = URI.create(DEFAULT_URL);
        Duration timeout = Duration.ofMillis(1000);
        int retries;
        String token;
        boolean waitForAnswers, help;

        static Options parse(String... args) {
            Options o = new Options();
            String tokenFile = null;
            for (int i = 0; i < args.length; i++) {
                String option = args[i];
                switch (option) {
                    case "-h", "--help" -> o.help = true;
                    case "--wait" -> o.waitForAnswers = true;
                    case "--url" -> o.url = url(value(args, ++i, option));
                    case "--timeout" -> o.timeout = Duration.ofMillis(positive(value(args, ++i, option), option));
                    case "--retries" -> o.retries = retries(value(args, ++i, option));
                    case "--token-file" -> tokenFile = value(args, ++i, option);
                    default -> throw new IllegalArgumentException("unknown option: " + option);
                }
            }
            o.token = token(tokenFile);
            return o;
        }

        /** The shared secret, from --token-file or ASYNCCALL_TOKEN (as serve.java reads it), or null. */
        private static String token(String file) {
            String token = System.getenv("ASYNCCALL_TOKEN"), where = "ASYNCCALL_TOKEN";
            if (file != null) {
                where = "--token-file " + file;
                try {
                    token = java.nio.file.Files.readString(java.nio.file.Path.of(file)).strip();
                } catch (IOException | RuntimeException e) {
                    throw new IllegalArgumentException("cannot read --token-file " + file + ": " + e.getMessage());
                }
            }
            if (token != null && !token.matches("[\\x21-\\x7e]{1,1024}")) {
                throw new IllegalArgumentException("invalid token in " + where + ": 1 to 1024 visible ASCII characters");
            }
            return token;
        }

        private static int retries(String s) {
            if (s.matches("[0-9]{1,3}") && Integer.parseInt(s) <= 100) return Integer.parseInt(s);
            throw new IllegalArgumentException("invalid value given for --retries: " + s + " (0 to 100)");
        }

        /** The headers every call carries: the token when there is one, and the given ones. */
        String[] headers(String... more) {
            List<String> h = new ArrayList<>(List.of(more));
            if (token != null) h.addAll(List.of("Authorization", "Bearer " + token));
            return h.toArray(String[]::new);
        }

        private static String value(String[] args, int i, String option) {
            if (i >= args.length) throw new IllegalArgumentException("no value given for " + option);
            return args[i];
        }

        private static URI url(String s) {
            try {
                URI u = new URI(s);
                if ("http".equalsIgnoreCase(u.getScheme()) && u.getHost() != null) return u;
            } catch (java.net.URISyntaxException bad) {
                // said below
            }
            throw new IllegalArgumentException("invalid value given for --url: " + s + " (an http:// URL)");
        }

        private static long positive(String s, String option) {
            try {
                long v = Long.parseLong(s);
                if (v > 0) return v;
            } catch (NumberFormatException bad) {
                // said below
            }
            throw new IllegalArgumentException("invalid value given for " + option + ": " + s);
        }
    }

    static final String USAGE = """
        Usage: test [--url URL] [--wait] [--timeout MS] [--retries N] [--token-file FILE] [-h]
        Fires the article's four calls (sendCURL GET/POST, sendSock GET/POST, hello => world!) and does
        not wait for the work.
          --url URL       the endpoint (default http://127.0.0.1:8080/res.php)
          --wait          the article's commented-out code: wait for the four answers and print them
          --timeout MS    how long sendCURL waits for an answer (default 1000, as CURLOPT_TIMEOUT 1)
          --retries N     retry a call up to N times, with backoff from 100 ms, while the endpoint cannot be
                          reached (each call carries an Idempotency-Key, so none is worked on twice); default 0
          --token-file FILE  send "Authorization: Bearer TOKEN" (the file's content); the ASYNCCALL_TOKEN
                          environment variable does the same
          -h, --help      this help
        Exit status: 0 all four delivered, 1 any not delivered, 2 bad arguments.
        """;
}
