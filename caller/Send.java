package caller;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
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
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Flow;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The article's two functions, ported: sendCURL (its curl call) and sendSock (its fsockopen), with PHP's
 * http_build_query and a retry for calls that could not connect. JDK only, Java 17+: copy this file
 * into your project (change its package line), or the methods you need.
 */
public final class Send {
    private Send() {}


    /** The largest answer sendCURL and sendSock read: a larger one is an error, not a reason to run out of memory. */
    public static final int ANSWER_LIMIT = 1 << 20;

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
    public static HttpResponse<String> sendCURL(HttpClient client, String method, URI url, Map<?, ?> data,
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
    public static int sendSock(String method, URI url, Map<?, ?> data, OutputStream answer, String... headers)
            throws IOException {
        return sendSock((javax.net.ssl.SSLSocketFactory) javax.net.ssl.SSLSocketFactory.getDefault(), method, url, data, answer, headers);
    }

    /**
     * sendSock, with the TLS sockets to use for an https:// URL (as fsockopen's ssl://): the server's
     * certificate is verified, and its name.
     */
    public static int sendSock(javax.net.ssl.SSLSocketFactory tls, String method, URI url, Map<?, ?> data, OutputStream answer,
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
    public interface Fire<T> {
        T fire() throws IOException, InterruptedException;
    }

    /**
     * Fires a call, and again after 100 ms, 200 ms, 400 ms... (at most 5 s apart, retries times at most)
     * while it could not connect: then nothing was sent, so trying again cannot do the work twice. Any
     * other failure may come after the request was sent, so it is retried only when the call carries an
     * Idempotency-Key (the endpoint then works on it once).
     */
    public static <T> T withRetries(int retries, boolean idempotencyKey, Fire<T> call) throws IOException, InterruptedException {
        long backoff = 100;
        for (int attempt = 0; ; attempt++) {
            try {
                return call.fire();
            } catch (IOException e) {
                if (attempt >= retries || !(notSent(e) || idempotencyKey)) throw givenUp(e, attempt + 1);
            }
            Thread.sleep(backoff);
            backoff = Math.min(backoff * 2, 5000);
        }
    }

    /** The failure of the last try; the HttpClient's ConnectException has no message of its own, so it is given one. */
    private static IOException givenUp(IOException e, int tries) {
        if (!(e instanceof ConnectException) || e.getMessage() != null) return e;
        ConnectException said = new ConnectException("could not connect (" + tries + (tries == 1 ? " try)" : " tries)"));
        said.initCause(e);
        return said;
    }

    /** Whether a failure means the request never left: the connection could not be made, or TLS not agreed. */
    public static boolean notSent(IOException e) {
        return e instanceof ConnectException || e instanceof NoRouteToHostException || e instanceof UnknownHostException
            || e instanceof HttpConnectTimeoutException || e instanceof javax.net.ssl.SSLHandshakeException
            || (e instanceof SocketTimeoutException && String.valueOf(e.getMessage()).contains("Connect timed out"));
    }

    /** PHP's http_build_query($data): nested maps and lists as a[b][0]=..., RFC 1738 encoding, nulls left out. */
    public static String httpBuildQuery(Map<?, ?> data) {
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
    public static String phpFloat(double d) {
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
    public static String urlencode(String s) {
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

    /** The URL with the query added (after & when it has one). */
    static URI withQuery(URI url, String query) {
        if (query.isEmpty()) return url;
        return URI.create(url + (url.getRawQuery() == null ? "?" : "&") + query);
    }

}
