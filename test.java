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
        Map<String, String> data = Map.of("hello", "world!");
        HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(30)).build();
        List<Call> calls = List.of(new Call("sendCURL", "GET"), new Call("sendCURL", "POST"),
            new Call("sendSock", "GET"), new Call("sendSock", "POST"));
        try {
            return options.waitForAnswers
                ? waitForAnswers(out, err, client, options.url, calls, data)
                : fire(out, err, client, options, calls, data);
        } finally {
            client.shutdownNow(); // else exiting waits about 300 ms for the client's threads
        }
    }

    record Call(String function, String method) {
        String target(URI url, Map<?, ?> data) {
            return method.equals("GET") ? withQuery(url, httpBuildQuery(data)).toString() : url.toString();
        }
    }

    private static int fire(PrintWriter out, PrintWriter err, HttpClient client, Options options,
                            List<Call> calls, Map<?, ?> data) {
        String failure = null;
        long all = System.nanoTime();
        for (Call call : calls) {
            long start = System.nanoTime();
            String outcome;
            try {
                if (call.function.equals("sendCURL")) {
                    HttpResponse<String> r = sendCURL(client, call.method, options.url, data, options.timeout,
                        "Prefer", "respond-async");
                    outcome = r == null ? "sent, no answer within " + options.timeout.toMillis() + " ms" : status(r.statusCode());
                    if (r != null && r.statusCode() / 100 != 2) failure = options.url + " answered " + outcome;
                } else {
                    outcome = "sent " + sendSock(call.method, options.url, data, null) + " bytes";
                }
            } catch (IOException e) {
                outcome = "not sent: " + describe(e, options.url);
                failure = describe(e, options.url);
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
                                      List<Call> calls, Map<?, ?> data) {
        long start = System.nanoTime();
        try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
            List<Future<String>> answers = new ArrayList<>();
            for (Call call : calls) {
                Callable<String> task = call.function.equals("sendCURL")
                    ? () -> sendCURL(client, call.method, url, data, null).body()
                    : () -> {
                        ByteArrayOutputStream answer = new ByteArrayOutputStream();
                        sendSock(call.method, url, data, answer);
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

    private static String status(int code) {
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
        boolean waitForAnswers, help;

        static Options parse(String... args) {
            Options o = new Options();
            for (int i = 0; i < args.length; i++) {
                String option = args[i];
                switch (option) {
                    case "-h", "--help" -> o.help = true;
                    case "--wait" -> o.waitForAnswers = true;
                    case "--url" -> o.url = url(value(args, ++i, option));
                    case "--timeout" -> o.timeout = Duration.ofMillis(positive(value(args, ++i, option), option));
                    default -> throw new IllegalArgumentException("unknown option: " + option);
                }
            }
            return o;
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
        Usage: test [--url URL] [--wait] [--timeout MS] [-h]
        Fires the article's four calls (sendCURL GET/POST, sendSock GET/POST, hello => world!) and does
        not wait for the work.
          --url URL       the endpoint (default http://127.0.0.1:8080/res.php)
          --wait          the article's commented-out code: wait for the four answers and print them
          --timeout MS    how long sendCURL waits for an answer (default 1000, as CURLOPT_TIMEOUT 1)
          -h, --help      this help
        Exit status: 0 all four delivered, 1 any not delivered, 2 bad arguments.
        """;
}
