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
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Flow;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The caller, test.php ported: fires the article's four calls at the endpoint and does not wait for
 * the work. sendCURL, sendSock and httpBuildQuery are JDK-only and compile on Java 17: copy the block
 * between the two "copy" lines below into a class of yours.
 */
public class test {
    static final String DEFAULT_URL = "http://127.0.0.1:8080/res.php";

    // ---- copy from here: sendCURL, sendSock, httpBuildQuery, withRetries (JDK only, Java 17+; imports: java.io.*,
    // java.net.*, java.net.http.*, java.nio.charset.*, java.time.*, java.util.*, java.util.concurrent.*, java.math.*) ----

    /** The largest answer sendCURL and sendSock read: a larger one is an error, not a reason to run out of memory. */
    static final int ANSWER_LIMIT = 1 << 20;

    /**
     * Sends method + data to url with java.net.http.HttpClient, like the article's curl: GET puts the data
     * in the query, POST sends it as a form body. Waits for the whole answer at most timeout (null: no
     * limit), and reads at most ANSWER_LIMIT bytes of it.
     *
     * @param headers name, value pairs, e.g. "Prefer", "respond-async" to be answered 202 at once
     * @return the answer, or null when none came within the timeout (the request was sent: not an error)
     * @throws IOException when the request could not be sent (e.g. java.net.ConnectException), or the
     *     answer was not HTTP or larger than ANSWER_LIMIT
     */
    static HttpResponse<String> sendCURL(HttpClient client, String method, URI url, Map<?, ?> data,
                                         Duration timeout, String... headers) throws IOException, InterruptedException {
        method = method.toUpperCase(Locale.ROOT);
        String query = httpBuildQuery(data);
        HttpRequest.Builder request = HttpRequest.newBuilder(method.equals("GET") ? withQuery(url, query) : url)
            .version(HttpClient.Version.HTTP_1_1);
        if (headers.length % 2 != 0) throw new IllegalArgumentException("headers come in name, value pairs: " + headers.length + " strings given");
        if (headers.length > 0) request.headers(headers);
        if (method.equals("GET") || method.equals("HEAD")) {
            request.method(method, HttpRequest.BodyPublishers.noBody());
        } else {
            request.header("Content-Type", "application/x-www-form-urlencoded")
                .method(method, HttpRequest.BodyPublishers.ofString(query));
        }
        CompletableFuture<HttpResponse<String>> answer = client.sendAsync(request.build(), info -> new BoundedBody());
        try {
            return timeout == null ? answer.get() : answer.get(timeout.toNanos(), TimeUnit.NANOSECONDS);
        } catch (TimeoutException sentNoAnswer) {
            answer.cancel(true);
            return null;
        } catch (InterruptedException e) {
            answer.cancel(true);
            throw e;
        } catch (ExecutionException e) {
            if (e.getCause() instanceof HttpConnectTimeoutException notSent) throw notSent;
            if (e.getCause() instanceof HttpTimeoutException sentNoAnswer) return null;
            if (e.getCause() instanceof IOException failed) throw failed;
            throw new IOException(e.getCause());
        }
    }

    /** An answer's body as text (UTF-8), at most ANSWER_LIMIT bytes of it. */
    private static final class BoundedBody implements HttpResponse.BodySubscriber<String> {
        private final CompletableFuture<String> text = new CompletableFuture<>();
        private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        private Flow.Subscription subscription;

        @Override
        public CompletionStage<String> getBody() {
            return text;
        }

        @Override
        public void onSubscribe(Flow.Subscription s) {
            subscription = s;
            s.request(Long.MAX_VALUE);
        }

        @Override
        public void onNext(List<java.nio.ByteBuffer> buffers) {
            for (java.nio.ByteBuffer b : buffers) {
                if (bytes.size() + b.remaining() > ANSWER_LIMIT) {
                    subscription.cancel();
                    text.completeExceptionally(new IOException("an answer larger than " + ANSWER_LIMIT + " bytes"));
                    return;
                }
                byte[] chunk = new byte[b.remaining()];
                b.get(chunk);
                bytes.write(chunk, 0, chunk.length);
            }
        }

        @Override
        public void onError(Throwable e) {
            text.completeExceptionally(e);
        }

        @Override
        public void onComplete() {
            text.complete(bytes.toString(StandardCharsets.UTF_8));
        }
    }

    /**
     * Writes method + data to url over a plain socket (TLS for https://), like the article's fsockopen: connects (30 s
     * timeout), writes the whole request at once and closes without reading, so it returns as soon as the
     * bytes are handed to the OS. The data goes in a form body, and for GET in the query too, as in the article.
     *
     * @param answer where to copy the server's raw answer before closing (at most ANSWER_LIMIT bytes,
     *     within 30 s); null to fire and forget
     * @param headers name, value pairs added to the request
     * @return the number of body bytes sent
     */
    static int sendSock(String method, URI url, Map<?, ?> data, OutputStream answer, String... headers)
            throws IOException {
        return sendSock((javax.net.ssl.SSLSocketFactory) javax.net.ssl.SSLSocketFactory.getDefault(), method, url, data, answer, headers);
    }

    /**
     * sendSock, with the TLS sockets to use for an https:// URL (as fsockopen's ssl://): the server's
     * certificate is verified, and its name.
     */
    static int sendSock(javax.net.ssl.SSLSocketFactory tls, String method, URI url, Map<?, ?> data, OutputStream answer,
                        String... headers) throws IOException {
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
        if (headers.length % 2 != 0) throw new IllegalArgumentException("headers come in name, value pairs: " + headers.length + " strings given");
        for (int i = 0; i < headers.length; i += 2) {
            if ((headers[i] + headers[i + 1]).matches("(?s).*[\\r\\n].*")) {
                throw new IllegalArgumentException("a header may not contain CR or LF: " + headers[i]);
            }
            head.append(headers[i]).append(": ").append(headers[i + 1]).append("\r\n");
        }
        byte[] start = head.append("\r\n").toString().getBytes(StandardCharsets.UTF_8);
        byte[] request = Arrays.copyOf(start, start.length + body.length);
        System.arraycopy(body, 0, request, start.length, body.length);
        boolean https = "https".equalsIgnoreCase(url.getScheme());
        int port = url.getPort() >= 0 ? url.getPort() : https ? 443 : 80;
        try (Socket plain = new Socket()) {
            plain.setTcpNoDelay(true);
            plain.connect(new InetSocketAddress(url.getHost(), port), 30_000);
            try (Socket socket = https ? handshake(tls, plain, url.getHost(), port) : plain) {
                socket.getOutputStream().write(request);
                if (answer != null) readAnswer(socket, answer, System.nanoTime() + 30_000_000_000L);
            }
        }
        return body.length;
    }

    /** TLS over a connected socket: the handshake done, the server's certificate checked, its name too. */
    private static Socket handshake(javax.net.ssl.SSLSocketFactory tls, Socket plain, String host, int port) throws IOException {
        javax.net.ssl.SSLSocket secure = (javax.net.ssl.SSLSocket) tls.createSocket(plain, host, port, true);
        javax.net.ssl.SSLParameters check = secure.getSSLParameters();
        check.setEndpointIdentificationAlgorithm("HTTPS"); // the certificate must name the host
        secure.setSSLParameters(check);
        secure.setSoTimeout(30_000);
        secure.startHandshake();
        return secure;
    }

    /** Copies what the server sends until it closes: at most ANSWER_LIMIT bytes, until deadline (System.nanoTime). */
    private static void readAnswer(Socket socket, OutputStream answer, long deadline) throws IOException {
        byte[] buffer = new byte[8192];
        long total = 0;
        for (int n; ; total += n) {
            long left = (deadline - System.nanoTime()) / 1_000_000;
            if (left <= 0) throw new SocketTimeoutException("no whole answer within 30 s");
            socket.setSoTimeout((int) Math.min(Integer.MAX_VALUE, left));
            if ((n = socket.getInputStream().read(buffer)) < 0) return;
            if (total + n > ANSWER_LIMIT) throw new IOException("an answer larger than " + ANSWER_LIMIT + " bytes");
            answer.write(buffer, 0, n);
        }
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

    /** Whether a failure means the request never left: the connection could not be made, or TLS not agreed. */
    static boolean notSent(IOException e) {
        return e instanceof ConnectException || e instanceof NoRouteToHostException || e instanceof UnknownHostException
            || e instanceof HttpConnectTimeoutException || e instanceof javax.net.ssl.SSLHandshakeException
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

    // ---- copy up to here ----

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
        HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(30)).sslContext(options.tls).build();
        Caller caller = new Caller(client, options.tls.getSocketFactory());
        try {
            if (options.follow) return follow(out, err, caller, options, CALLS, HELLO);
            return options.waitForAnswers
                ? waitForAnswers(out, err, caller, options, CALLS, HELLO)
                : fire(out, err, caller, options, CALLS, HELLO);
        } finally {
            try {
                // JDK 21+: else exiting waits about 300 ms for the client's threads (called so that Java 17 runs this too).
                HttpClient.class.getMethod("shutdownNow").invoke(client);
            } catch (ReflectiveOperationException java17) {
                // nothing to shut down quickly
            }
        }
    }

    /** The article's data, and its four calls in its order. */
    static final Map<String, String> HELLO = Map.of("hello", "world!");
    static final List<Call> CALLS = List.of(new Call("sendCURL", "GET"), new Call("sendCURL", "POST"),
        new Call("sendSock", "GET"), new Call("sendSock", "POST"));

    record Call(String function, String method) {
        /** The URL the call goes to, as a line shows it: a password in it is never shown. */
        String target(URI url, Map<?, ?> data) {
            return shown(method.equals("GET") ? withQuery(url, httpBuildQuery(data)) : url);
        }

        /** curl-get, curl-post, sock-get, sock-post. */
        String id() {
            return function.substring(4).toLowerCase(Locale.ROOT) + "-" + method.toLowerCase(Locale.ROOT);
        }
    }

    /** What calls go out with: the HttpClient of sendCURL, the TLS sockets of sendSock (both trusting the same certificates). */
    record Caller(HttpClient client, javax.net.ssl.SSLSocketFactory tls) {}

    /** What firing a call gave: its outcome as a line shows it, whether it was delivered, its monitor (a 202's Location, or null). */
    record Fired(String outcome, boolean delivered, String monitor) {}

    /**
     * Fires one of the four calls (a sendCURL with "Prefer: respond-async" and timeout, a sendSock
     * fire-and-forget), retried while it cannot connect. Throws when it could not be sent, or when what
     * came back was not an HTTP answer.
     */
    static Fired fire(Caller caller, Call call, URI url, Map<?, ?> data, Duration timeout, int retries,
                      String... headers) throws IOException, InterruptedException {
        if (call.function.equals("sendSock")) {
            int sent = withRetries(retries, true, () -> sendSock(caller.tls(), call.method, url, data, null, headers));
            return new Fired("sent " + sent + " bytes", true, null);
        }
        String[] curlHeaders = Arrays.copyOf(headers, headers.length + 2);
        curlHeaders[headers.length] = "Prefer";
        curlHeaders[headers.length + 1] = "respond-async";
        HttpResponse<String> r = withRetries(retries, true, () -> sendCURL(caller.client(), call.method, url, data, timeout, curlHeaders));
        // 503: the endpoint's backlog is full; it says when to come back (Retry-After, in seconds).
        for (int left = retries; r != null && r.statusCode() == 503 && left > 0; left--) {
            TimeUnit.SECONDS.sleep(r.headers().firstValue("Retry-After").filter(v -> v.matches("\\d{1,2}")).map(Long::parseLong).orElse(1L));
            r = withRetries(left, true, () -> sendCURL(caller.client(), call.method, url, data, timeout, curlHeaders));
        }
        if (r == null) return new Fired("sent, no answer within " + timeout.toMillis() + " ms", true, null);
        return new Fired(status(r.statusCode()), r.statusCode() / 100 == 2, r.headers().firstValue("Location").orElse(null));
    }

    private static int fire(PrintWriter out, PrintWriter err, Caller caller, Options options,
                            List<Call> calls, Map<?, ?> data) {
        String failure = null;
        long all = System.nanoTime();
        for (Call call : calls) {
            long start = System.nanoTime();
            String outcome;
            try {
                Fired fired = fire(caller, call, options.url, data, options.timeout, options.retries,
                    options.headers("Idempotency-Key", UUID.randomUUID().toString()));
                outcome = fired.outcome();
                if (!fired.delivered()) failure = shown(options.url) + " answered " + outcome;
            } catch (IOException e) {
                String why = describe(e, options.url);
                outcome = (notSent(e) ? "not sent: " : "sent, but ") + why;
                failure = why + (options.retries > 0 ? " (after " + options.retries + " retries)" : "");
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return 1;
            }
            out.printf(Locale.ROOT, "%-8s %-4s %-45s %8.1f ms  %s%n", call.function, call.method,
                call.target(options.url, data), (System.nanoTime() - start) / 1e6, printable(outcome));
        }
        out.printf(Locale.ROOT, "%d calls fired in %.1f ms%n", calls.size(), (System.nanoTime() - all) / 1e6);
        if (failure == null) return 0;
        err.println("Error: " + printable(failure));
        return 1;
    }

    /**
     * --wait: the article's commented-out code. All four at once, without Prefer, answers printed in
     * order; the whole wait is bounded by --timeout, and each answer by ANSWER_LIMIT.
     */
    private static int waitForAnswers(PrintWriter out, PrintWriter err, Caller caller, Options o, List<Call> calls, Map<?, ?> data) {
        long start = System.nanoTime(), deadline = start + o.timeout.toNanos();
        String[] headers = o.headers();
        ExecutorService pool = Executors.newCachedThreadPool(); // four threads, and Java 17 has no virtual ones
        try {
            List<Future<String>> answers = new ArrayList<>();
            for (Call call : calls) {
                Callable<String> task = call.function.equals("sendCURL")
                    ? () -> {
                        HttpResponse<String> r = sendCURL(caller.client(), call.method, o.url, data, o.timeout, headers);
                        if (r == null) throw new HttpTimeoutException("no whole answer within " + o.timeout.toMillis() + " ms");
                        return r.body();
                    }
                    : () -> {
                        ByteArrayOutputStream answer = new ByteArrayOutputStream();
                        sendSock(caller.tls(), call.method, o.url, data, answer, headers);
                        return answer.toString(StandardCharsets.UTF_8);
                    };
                answers.add(pool.submit(task));
            }
            for (int i = 0; i < calls.size(); i++) {
                String answer;
                try {
                    answer = answers.get(i).get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
                } catch (TimeoutException late) {
                    answers.forEach(f -> f.cancel(true));
                    err.println("Error: no whole answer from " + shown(o.url) + " within " + o.timeout.toMillis() + " ms (--timeout)");
                    return 1;
                }
                out.print((calls.get(i).function.equals("sendCURL") ? "CURL" : "Sock") + " Response ("
                    + calls.get(i).method + "):\n" + printable(answer) + "\n");
            }
        } catch (ExecutionException e) {
            err.println("Error: " + printable(describe(e.getCause(), o.url)));
            return 1;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return 1;
        } finally {
            pool.shutdownNow();
        }
        out.printf(Locale.ROOT, "%d answers in %.0f ms%n", calls.size(), (System.nanoTime() - start) / 1e6);
        return 0;
    }

    /**
     * --follow: the four calls fired with "Prefer: respond-async" (each answered 202 at once, naming its
     * monitor), then each answer printed as its call finishes, read from the monitors (GET /calls/ID,
     * as often as their Retry-After says): the article's --wait without holding four connections open.
     */
    private static int follow(PrintWriter out, PrintWriter err, Caller caller, Options o, List<Call> calls, Map<?, ?> data) {
        long start = System.nanoTime(), deadline = start + o.timeout.toNanos();
        String[] headers = o.headers("Prefer", "respond-async");
        Map<Call, URI> monitors = new java.util.LinkedHashMap<>();
        try {
            for (Call call : calls) {
                String location;
                if (call.function.equals("sendCURL")) {
                    HttpResponse<String> r = sendCURL(caller.client(), call.method, o.url, data, o.timeout, headers);
                    location = r == null ? null : r.headers().firstValue("Location").orElse(null);
                } else {
                    ByteArrayOutputStream answer = new ByteArrayOutputStream();
                    sendSock(caller.tls(), call.method, o.url, data, answer, headers);
                    java.util.regex.Matcher m = java.util.regex.Pattern.compile("(?im)^location: *(\\S+)\r?$").matcher(answer.toString(StandardCharsets.ISO_8859_1));
                    location = m.find() ? m.group(1) : null;
                }
                if (location == null) {
                    err.println("Error: " + shown(o.url) + " named no monitor for " + call.function + " " + call.method
                        + " (no 202 with a Location: does it honour Prefer: respond-async?)");
                    return 1;
                }
                URI monitor = o.url.resolve(location);
                // The token goes to the endpoint's own monitors only, never to another host a Location names.
                if (!(monitor.getScheme() + monitor.getAuthority()).equalsIgnoreCase(o.url.getScheme() + o.url.getAuthority())) {
                    err.println("Error: " + shown(o.url) + " named a monitor elsewhere (" + printable(location) + "): not followed");
                    return 1;
                }
                monitors.put(call, monitor);
                out.printf(Locale.ROOT, "%-8s %-4s %-45s  202 Accepted, monitor %s%n", call.function, call.method, call.target(o.url, data), location);
            }
            out.flush();
            int failed = 0;
            while (!monitors.isEmpty()) {
                long next = Long.MAX_VALUE;
                for (var it = monitors.entrySet().iterator(); it.hasNext(); ) {
                    var m = it.next();
                    HttpResponse<String> r = sendCURL(caller.client(), "GET", m.getValue(), Map.of(), o.timeout, o.headers());
                    String state = r == null || r.statusCode() != 200 ? null : jsonString(r.body(), "state");
                    if (state == null) {
                        err.println("Error: the monitor " + m.getValue().getRawPath() + " answered " + (r == null ? "nothing" : status(r.statusCode())));
                        return 1;
                    }
                    if (state.equals("done") || state.equals("failed")) {
                        if (state.equals("failed")) failed++;
                        String answer = jsonString(r.body(), "answer"), note = jsonString(r.body(), "note");
                        java.util.regex.Matcher bytes = java.util.regex.Pattern.compile("\"answer_bytes\":(\\d+)").matcher(r.body());
                        long whole = bytes.find() ? Long.parseLong(bytes.group(1)) : 0, shown = answer == null ? 0 : answer.getBytes(StandardCharsets.UTF_8).length;
                        out.printf(Locale.ROOT, "%s Response (%s), %s after %.1f s%s:%n%s%s%n", m.getKey().function.equals("sendCURL") ? "CURL" : "Sock",
                            m.getKey().method, state, (System.nanoTime() - start) / 1e9, note == null ? "" : " (" + printable(note) + ")",
                            printable(answer == null ? "" : answer), whole > shown ? "\n... (the monitor keeps the first " + shown + " of " + whole + " bytes)" : "");
                        out.flush();
                        it.remove();
                    } else {
                        // As Retry-After says, a fifth of a second at least.
                        long wait = r.headers().firstValue("Retry-After").filter(v -> v.matches("\\d{1,5}")).map(Long::parseLong).orElse(1L);
                        next = Math.min(next, System.nanoTime() + Math.max(200_000_000L, wait * 1_000_000_000L));
                    }
                }
                if (monitors.isEmpty()) break;
                if (System.nanoTime() >= deadline) {
                    err.println("Error: " + plural(monitors.size()) + " not finished within " + o.timeout.toMillis() + " ms (--timeout)");
                    return 1;
                }
                TimeUnit.NANOSECONDS.sleep(Math.max(0, Math.min(next, deadline) - System.nanoTime())); // and once more at the deadline
            }
            out.printf(Locale.ROOT, "%d answers in %.0f ms%n", calls.size(), (System.nanoTime() - start) / 1e6);
            if (failed > 0) err.println("Error: " + plural(failed) + " failed (see the monitors' answers above)");
            return failed == 0 ? 0 : 1;
        } catch (IOException e) {
            err.println("Error: " + printable(describe(e, o.url)));
            return 1;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return 1;
        }
    }

    private static String plural(int n) {
        return n + (n == 1 ? " call" : " calls");
    }

    /** A string field of a JSON object such as a monitor's, decoded; null when it is not there. */
    static String jsonString(String json, String field) {
        int at = json.indexOf("\"" + field + "\":\"");
        if (at < 0) return null;
        StringBuilder out = new StringBuilder();
        for (int i = at + field.length() + 4; i < json.length(); i++) {
            char c = json.charAt(i);
            if (c == '"') return out.toString();
            if (c != '\\' || i + 1 >= json.length()) {
                out.append(c);
                continue;
            }
            char e = json.charAt(++i);
            switch (e) {
                case 'n' -> out.append('\n');
                case 'r' -> out.append('\r');
                case 't' -> out.append('\t');
                case 'b' -> out.append('\b');
                case 'f' -> out.append('\f');
                case 'u' -> {
                    out.append((char) Integer.parseInt(json.substring(i + 1, Math.min(json.length(), i + 5)), 16));
                    i += 4;
                }
                default -> out.append(e);
            }
        }
        return null;
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
        String where = url.getHost() + ":" + port(url);
        if (e instanceof UnknownHostException || ((e instanceof ConnectException) && !resolves(url.getHost()))) {
            return "Unknown host: " + url.getHost();
        }
        if (e instanceof ConnectException) return "Connection refused: " + where;
        if (e instanceof HttpConnectTimeoutException || (e instanceof SocketTimeoutException && notSent((IOException) e))) {
            return "Connect timed out: " + where;
        }
        if (e instanceof javax.net.ssl.SSLException) return "TLS failed with " + where + ": " + e.getMessage();
        return e.getMessage() == null ? e.getClass().getSimpleName() + ": " + where : e.getMessage();
    }

    private static boolean resolves(String host) {
        try {
            java.net.InetAddress.getByName(host);
            return true;
        } catch (UnknownHostException e) {
            return false;
        }
    }

    private static int port(URI url) {
        return url.getPort() >= 0 ? url.getPort() : "https".equalsIgnoreCase(url.getScheme()) ? 443 : 80;
    }

    /** A URL as it may be shown: without the password of user:password@host. */
    static String shown(URI url) {
        String info = url.getRawUserInfo();
        if (info == null || !info.contains(":")) return url.toString();
        return url.toString().replaceFirst("//" + java.util.regex.Pattern.quote(info) + "@", "//" + info.substring(0, info.indexOf(':')) + ":***@");
    }

    /**
     * Text from a server, safe to print on a terminal: control characters other than a line break or a
     * tab, and the characters that move or hide text (U+2028/2029, bidi controls, U+FEFF, U+FFF9–FFFB),
     * become escapes.
     */
    static String printable(String text) {
        StringBuilder out = new StringBuilder(text.length());
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if ((Character.isISOControl(c) && c != '\n' && c != '\t' && !(c == '\r' && i + 1 < text.length() && text.charAt(i + 1) == '\n')) || movesText(c)) {
                out.append(c < 0x100 ? String.format("\\x%02X", (int) c) : String.format("\\u{%04X}", (int) c));
            } else {
                out.append(c);
            }
        }
        return out.toString();
    }

    /** U+2028/2029, the bidi controls U+202A–202E and U+2066–2069, U+FEFF, U+FFF9–FFFB: they move or hide text. */
    static boolean movesText(char c) {
        return c >= 0x2028 && c <= 0x202e || c >= 0x2066 && c <= 0x2069 || c == 0xfeff || c >= 0xfff9 && c <= 0xfffb;
    }

    /** The JDK's own TLS, trusting its own certificate authorities. */
    static javax.net.ssl.SSLContext jdkTls() {
        try {
            return javax.net.ssl.SSLContext.getDefault();
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has TLS", e);
        }
    }

    /** TLS that trusts the certificates of a PEM file, and no others, as curl's --cacert. */
    static javax.net.ssl.SSLContext trusting(java.nio.file.Path file) {
        try (var in = java.nio.file.Files.newInputStream(file)) {
            var store = java.security.KeyStore.getInstance("PKCS12");
            store.load(null, null);
            int n = 0;
            for (var cert : java.security.cert.CertificateFactory.getInstance("X.509").generateCertificates(in)) {
                store.setCertificateEntry("ca" + n++, cert);
            }
            if (n == 0) throw new java.security.GeneralSecurityException("no certificate in it");
            var trust = javax.net.ssl.TrustManagerFactory.getInstance(javax.net.ssl.TrustManagerFactory.getDefaultAlgorithm());
            trust.init(store);
            var tls = javax.net.ssl.SSLContext.getInstance("TLS");
            tls.init(null, trust.getTrustManagers(), null);
            return tls;
        } catch (IOException | java.security.GeneralSecurityException e) {
            throw new IllegalArgumentException("cannot read --cacert " + file + ": " + e.getMessage());
        }
    }

    static final class Options {
        URI url = URI.create(DEFAULT_URL);
        Duration timeout;
        int retries;
        String token;
        javax.net.ssl.SSLContext tls;
        boolean waitForAnswers, follow, help;

        static Options parse(String... args) {
            Options o = new Options();
            String tokenFile = null, cacert = null;
            for (int i = 0; i < args.length; i++) {
                String option = args[i];
                switch (option) {
                    case "-h", "--help" -> o.help = true;
                    case "--wait" -> o.waitForAnswers = true;
                    case "--follow" -> o.follow = true;
                    case "--url" -> o.url = url(value(args, ++i, option));
                    case "--timeout" -> o.timeout = Duration.ofMillis(positive(value(args, ++i, option), option));
                    case "--retries" -> o.retries = retries(value(args, ++i, option));
                    case "--token-file" -> tokenFile = value(args, ++i, option);
                    case "--cacert" -> cacert = value(args, ++i, option);
                    default -> throw new IllegalArgumentException("unknown option: " + option);
                }
            }
            if (o.waitForAnswers && o.follow) throw new IllegalArgumentException("--wait and --follow go one at a time");
            if (o.timeout == null) o.timeout = Duration.ofMillis(o.waitForAnswers || o.follow ? 30_000 : 1000);
            o.token = token(tokenFile);
            o.tls = cacert == null ? jdkTls() : trusting(java.nio.file.Path.of(cacert));
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
            URI u = null;
            try {
                u = new URI(s);
                boolean scheme = "http".equalsIgnoreCase(u.getScheme()) || "https".equalsIgnoreCase(u.getScheme());
                if (scheme && u.getHost() != null && u.getPort() <= 65535 && u.getPort() != 0) return u;
            } catch (java.net.URISyntaxException bad) {
                // said below
            }
            throw new IllegalArgumentException("invalid value given for --url: " + (u == null ? printable(s) : shown(u))
                + " (an http:// or https:// URL, port 1 to 65535)");
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
        Usage: test [--url URL] [--wait | --follow] [--timeout MS] [--retries N] [--token-file FILE] [--cacert FILE] [-h]
        Fires the article's four calls (sendCURL GET/POST, sendSock GET/POST, hello => world!) and does
        not wait for the work.
          --url URL       the endpoint, http:// or https:// (default http://127.0.0.1:8080/res.php)
          --wait          the article's commented-out code: wait for the four answers and print them
          --follow        fire the four with Prefer: respond-async (202 at once) and print each answer as it
                          finishes, read from the monitor each 202 names (GET /calls/ID)
          --timeout MS    how long sendCURL waits for an answer (default 1000, as CURLOPT_TIMEOUT 1);
                          with --wait or --follow, how long the four answers may take in all (default 30000)
          --retries N     retry a call up to N times (0 to 100, default 0) while the endpoint cannot be reached,
                          waiting 0.1 s, 0.2 s, 0.4 s ... at most 5 s between tries: 20 retries wait 76.3 s
                          at most in all; and a sendCURL answered 503 as its Retry-After says (at most 99 s
                          each); each call carries an Idempotency-Key, so none is worked on twice
          --token-file FILE  send "Authorization: Bearer TOKEN" (the file's content); the ASYNCCALL_TOKEN
                          environment variable does the same
          --cacert FILE   trust the certificates in this PEM file for https:// (instead of the JDK's own)
          -h, --help      this help
        Exit status: 0 all four delivered, 1 any not delivered, 2 bad arguments.
        """;
}
