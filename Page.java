import com.sun.net.httpserver.HttpExchange;

import java.io.IOException;
import java.io.OutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.LocalTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The article's test.php as a page, served by serve.java itself: /test.php fires the four calls at this
 * server's own /res.php (with test.java's sendCURL and sendSock) and answers at once with a page that
 * lists them; /events tells the page, with Server-Sent Events, when the endpoint has done each call's
 * work, and the page marks it done without reloading.
 */
final class Page {
    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("HH:mm:ss.SSS");
    private static final int PAGES_KEPT = 1000;

    /** One served page: when, and for each of its calls, how it was fired and when its work was done. */
    private static final class Served {
        final LocalTime at = LocalTime.now();
        final long nanos = System.nanoTime();
        final Map<String, String> fired = new LinkedHashMap<>();
        final Map<String, String> done = new LinkedHashMap<>();
    }

    private final URI endpoint;
    private final Duration work;
    private final String[] token;
    private final HttpClient client = HttpClient.newHttpClient();
    private final SecureRandom random = new SecureRandom();
    private final Map<String, Served> pages = new LinkedHashMap<>(16, 0.75f, false) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, Served> eldest) {
            return size() > PAGES_KEPT;
        }
    };

    /** @param token the endpoint's token, which the page's calls then carry; null for none */
    Page(URI endpoint, Duration work, String token) {
        this.endpoint = endpoint;
        this.work = work;
        this.token = token == null ? new String[0] : new String[] {"Authorization", "Bearer " + token};
    }

    /** The endpoint has done a call's work: if it was one of a page's, its page is told. */
    void done(res.Call call) {
        String key = call.key();
        if (key == null || !key.startsWith("page-")) return;
        int dash = key.indexOf('-', 5);
        String page = key.substring(5, dash), name = key.substring(dash + 1);
        synchronized (pages) {
            Served served = pages.get(page);
            if (served == null || !served.fired.containsKey(name)) return;
            served.done.put(name, LocalTime.now().format(TIME) + " (" + seconds(System.nanoTime() - served.nanos) + " after the page was served)");
            pages.notifyAll();
        }
    }

    /** GET /test.php: fires the four calls, then answers with the page. */
    void page(HttpExchange exchange) throws IOException {
        String id = HexFormat.of().formatHex(bytes(8));
        Served served = new Served();
        synchronized (pages) {
            pages.put(id, served);
        }
        for (test.Call call : test.CALLS) {
            String[] key = concat(token, "Idempotency-Key", "page-" + id + "-" + call.id());
            long start = System.nanoTime();
            String outcome;
            try {
                outcome = test.fire(client, call, endpoint, test.HELLO, Duration.ofSeconds(1), 0, key).outcome();
            } catch (IOException e) {
                outcome = "not sent: " + test.describe(e, endpoint);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                outcome = "not sent: the server is stopping";
            }
            String line = call.function() + " " + call.method() + " " + call.target(endpoint, test.HELLO);
            synchronized (pages) {
                served.fired.put(call.id(), line + "\t" + String.format(Locale.ROOT, "%.1f ms", (System.nanoTime() - start) / 1e6) + "\t" + outcome);
            }
        }
        String nonce = HexFormat.of().formatHex(bytes(12));
        byte[] html = html(id, served, nonce).getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().set("Content-Type", "text/html; charset=UTF-8");
        exchange.getResponseHeaders().set("Content-Security-Policy",
            "default-src 'none'; script-src 'nonce-" + nonce + "'; style-src 'nonce-" + nonce + "'; connect-src 'self'");
        exchange.getResponseHeaders().set("X-Content-Type-Options", "nosniff");
        exchange.getResponseHeaders().set("Cache-Control", "no-store");
        exchange.sendResponseHeaders(200, html.length);
        try (OutputStream out = exchange.getResponseBody()) {
            out.write(html);
        }
    }

    /** GET /events?page=ID: a "done" event for each of the page's calls as its work ends, then "end". */
    void events(HttpExchange exchange) throws IOException, InterruptedException {
        String query = exchange.getRequestURI().getRawQuery();
        String id = query != null && query.matches("page=[0-9a-f]{16}") ? query.substring(5) : "";
        Served served;
        synchronized (pages) {
            served = pages.get(id);
        }
        if (served == null) {
            byte[] text = "404 Not Found: no such page\n".getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().set("Content-Type", "text/plain; charset=UTF-8");
            exchange.sendResponseHeaders(404, text.length);
            exchange.getResponseBody().write(text);
            exchange.close();
            return;
        }
        exchange.getResponseHeaders().set("Content-Type", "text/event-stream; charset=UTF-8");
        exchange.getResponseHeaders().set("Cache-Control", "no-store");
        exchange.sendResponseHeaders(200, 0);
        try (OutputStream out = exchange.getResponseBody()) {
            List<String> sent = new ArrayList<>();
            long deadline = System.nanoTime() + work.toNanos() + 60_000_000_000L;
            while (sent.size() < test.CALLS.size() && System.nanoTime() < deadline) {
                List<String> fresh = new ArrayList<>();
                synchronized (pages) {
                    while (served.done.size() == sent.size() && System.nanoTime() < deadline) {
                        pages.wait(Math.max(1, (deadline - System.nanoTime()) / 1_000_000));
                    }
                    for (Map.Entry<String, String> e : served.done.entrySet()) {
                        if (!sent.contains(e.getKey())) fresh.add(e.getKey() + "\t" + e.getValue());
                    }
                }
                for (String f : fresh) {
                    String[] p = f.split("\t", 2);
                    sent.add(p[0]);
                    out.write(("event: done\ndata: {\"call\":\"" + p[0] + "\",\"at\":\"" + json(p[1]) + "\"}\n\n").getBytes(StandardCharsets.UTF_8));
                }
                out.flush();
            }
            out.write("event: end\ndata: {}\n\n".getBytes(StandardCharsets.UTF_8));
        }
    }

    private String html(String id, Served served, String nonce) {
        StringBuilder items = new StringBuilder();
        synchronized (pages) {
            for (Map.Entry<String, String> e : served.fired.entrySet()) {
                String[] p = e.getValue().split("\t", 3);
                String done = served.done.get(e.getKey());
                items.append("  <li data-call=\"").append(e.getKey()).append("\" data-state=\"").append(done == null ? "fired" : "done")
                    .append("\"><code>").append(escape(p[0])).append("</code><br>fired in <b>").append(escape(p[1]))
                    .append("</b>: ").append(escape(p[2])).append(" &mdash; <span class=\"state\">")
                    .append(done == null ? "working&hellip;" : "done at " + escape(done)).append("</span></li>\n");
            }
        }
        return """
            <!doctype html>
            <html lang="en">
            <head>
            <meta charset="utf-8">
            <title>test.php &mdash; asynccall</title>
            <style nonce="NONCE">
              body { font: 16px/1.5 system-ui, sans-serif; margin: 2em auto; max-width: 52em; color: #222; }
              li { margin: .6em 0; padding: .5em .8em; border-left: 6px solid #e0a030; background: #fdf6e8; list-style: none; }
              li[data-state="done"] { border-color: #2e9e4f; background: #ecf8ef; }
              code { font-size: 14px; }
              .state { font-weight: bold; }
            </style>
            </head>
            <body>
            <h1>test.php</h1>
            <p>Served at <b>SERVED</b>. The page is here and loaded; the four calls it fired go on in the endpoint
            (each works WORK s) and are marked done as they finish, without reloading.</p>
            <ul>
            ITEMS</ul>
            <script nonce="NONCE">
              const source = new EventSource('/events?page=ID');
              source.addEventListener('done', event => {
                const done = JSON.parse(event.data);
                const item = document.querySelector('li[data-call="' + done.call + '"]');
                item.dataset.state = 'done';
                item.querySelector('.state').textContent = 'done at ' + done.at;
              });
              source.addEventListener('end', () => source.close());
            </script>
            </body>
            </html>
            """.replace("NONCE", nonce).replace("SERVED", escape(served.at.format(TIME)))
            .replace("WORK", escape(seconds(work.toNanos()).replace(" s", ""))).replace("ID", id).replace("ITEMS", items);
    }

    /** Text for HTML: &, <, >, " and ' as entities. */
    static String escape(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;").replace("'", "&#39;");
    }

    private static String json(String s) {
        return s.replace("\\", "\\\\").replace("\"", "\\\"");
    }

    private static String seconds(long nanos) {
        return String.format(Locale.ROOT, "%.1f s", nanos / 1e9);
    }

    private static String[] concat(String[] a, String... b) {
        String[] all = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, all, a.length, b.length);
        return all;
    }

    private byte[] bytes(int n) {
        byte[] b = new byte[n];
        random.nextBytes(b);
        return b;
    }
}
