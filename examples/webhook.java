///usr/bin/env jbang "$0" "$@" ; exit $?
//JAVA 21+
//SOURCES ../serve.java

import text.Json;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The endpoint with real work: each call is relayed as a webhook, its request variables POSTed as JSON
 * to another URL. A failed POST throws, and serve tries the call again with backoff (--attempts, --backoff);
 * one that URL refuses for good (a 4xx) gives up at once. Run: jbang examples/webhook.java --to URL [serve's options]
 */
public class webhook {

    public static void main(String... args) {
        List<String> rest = new ArrayList<>(List.of(args));
        int at = rest.indexOf("--to");
        if (at < 0 || at + 1 >= rest.size()) {
            System.err.println("Error: no value given for --to\nUsage: webhook --to URL [serve's options: serve -h]");
            System.exit(2);
        }
        URI to = URI.create(rest.remove(at + 1));
        rest.remove(at);
        HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
        serve.run(rest.toArray(String[]::new), request ->
            relay(client, to, "{\"method\":" + json(request.method()) + ",\"data\":" + json(request.data()) + "}", request.attempt()));
    }

    /** POSTs the JSON once: taken (2xx), refused for good (4xx but 408 and 429: gives up), or thrown, for serve to try again. */
    static String relay(HttpClient client, URI to, String json, int attempt) throws Exception {
        HttpRequest post = HttpRequest.newBuilder(to).timeout(Duration.ofSeconds(30)).header("Content-Type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofString(json)).build();
        HttpResponse<String> r = client.send(post, HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() / 100 == 2) return "relayed to " + to + ": " + r.statusCode() + " at attempt " + attempt + "\n";
        if (r.statusCode() / 100 == 4 && r.statusCode() != 408 && r.statusCode() != 429) throw new res.GiveUp(to + " refused it: " + r.statusCode());
        throw new IOException(to + " did not take the webhook: " + r.statusCode());
    }

    /** PHP's request variables (maps of Long or String keys, byte-string values) as JSON text. */
    static String json(Object v) {
        if (!(v instanceof Map<?, ?> m)) return Json.bytes(String.valueOf(v));
        List<String> fields = new ArrayList<>();
        m.forEach((k, x) -> fields.add(Json.bytes(String.valueOf(k)) + ":" + json(x)));
        return "{" + String.join(",", fields) + "}";
    }
}
