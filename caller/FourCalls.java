package caller;

import static caller.Send.httpBuildQuery;
import static caller.Send.notSent;
import static caller.Send.sendCURL;
import static caller.Send.sendSock;
import static caller.Send.withQuery;
import static caller.Send.withRetries;

import java.io.IOException;
import java.net.ConnectException;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.net.UnknownHostException;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import text.Shown;

/** The article's four calls (sendCURL and sendSock, GET and POST, hello => world!), as test.java and the page fire them. */
public final class FourCalls {
    private FourCalls() {}

    /** The article's data, and its four calls in its order. */
    public static final Map<String, String> HELLO = Map.of("hello", "world!");
    public static final List<Call> CALLS = List.of(new Call("sendCURL", "GET"), new Call("sendCURL", "POST"),
        new Call("sendSock", "GET"), new Call("sendSock", "POST"));

    /** One of the four: the function that fires it, and its method. */
    public record Call(String function, String method) {
        /** The URL the call goes to, as a line shows it: a password in it is never shown. */
        public String target(URI url, Map<?, ?> data) {
            return Shown.url(method.equals("GET") ? withQuery(url, httpBuildQuery(data)) : url);
        }

        /** curl-get, curl-post, sock-get, sock-post. */
        public String id() {
            return function.substring(4).toLowerCase(Locale.ROOT) + "-" + method.toLowerCase(Locale.ROOT);
        }

        public boolean curl() {
            return function.equals("sendCURL");
        }
    }

    /** What calls go out with: the HttpClient of sendCURL, the TLS sockets of sendSock (both trusting the same certificates). */
    public record Clients(HttpClient client, javax.net.ssl.SSLSocketFactory tls) {}

    /** What firing a call gave: its outcome as a line shows it, whether it was delivered, its monitor (a 202's Location, or null). */
    public record Outcome(String text, boolean delivered, String monitor) {}

    /**
     * Fires one of the four calls (a sendCURL with "Prefer: respond-async" and timeout, a sendSock
     * fire-and-forget), retried while it cannot connect. Throws when it could not be sent, or when what
     * came back was not an HTTP answer.
     */
    public static Outcome fire(Clients clients, Call call, URI url, Map<?, ?> data, Duration timeout, int retries,
                               String... headers) throws IOException, InterruptedException {
        if (!call.curl()) {
            int sent = withRetries(retries, true, () -> sendSock(clients.tls(), call.method(), url, data, null, headers));
            return new Outcome("sent " + sent + " bytes", true, null);
        }
        String[] curlHeaders = Arrays.copyOf(headers, headers.length + 2);
        curlHeaders[headers.length] = "Prefer";
        curlHeaders[headers.length + 1] = "respond-async";
        HttpResponse<String> r = withRetries(retries, true, () -> sendCURL(clients.client(), call.method(), url, data, timeout, curlHeaders));
        // 503: the endpoint's backlog is full; it says when to come back (Retry-After, in seconds).
        for (int left = retries; r != null && r.statusCode() == 503 && left > 0; left--) {
            TimeUnit.SECONDS.sleep(r.headers().firstValue("Retry-After").filter(v -> v.matches("\\d{1,2}")).map(Long::parseLong).orElse(1L));
            r = withRetries(left, true, () -> sendCURL(clients.client(), call.method(), url, data, timeout, curlHeaders));
        }
        if (r == null) return new Outcome("sent, no answer within " + timeout.toMillis() + " ms", true, null);
        return new Outcome(status(r.statusCode()), r.statusCode() / 100 == 2, r.headers().firstValue("Location").orElse(null));
    }

    /** A status as a line shows it: "202 Accepted". */
    public static String status(int code) {
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
    public static String describe(Throwable e, URI url) {
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
}
