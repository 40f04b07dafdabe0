package server;

import call.Call;
import call.Done;
import call.Listener;
import http.Bearer;
import http.Replies;
import text.Json;
import caller.FourCalls;
import caller.Send;

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
import java.util.HashMap;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The article's test.php as a page, served by serve.java itself: /test.php fires the four calls at this
 * server's own /res.php (with test.java's sendCURL and sendSock) and answers at once with a page that
 * lists them; /events tells the page, with Server-Sent Events, when the endpoint has done each call's
 * work, and the page marks it done without reloading. A sendCURL call is known by the monitor its 202
 * names (the endpoint's own id for it); a sendSock call, which the endpoint cannot name to its caller,
 * is done when its answer comes, which it reads on a thread of its own.
 */
public final class Page implements Listener {
    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("HH:mm:ss.SSS");
    private static final int PAGES_KEPT = 1000;

    /** One call as the page shows it: how it was fired, how long that took, what was known at once. */
    record Fired(String line, String took, String outcome) {}

    /** One served page: when, and for each of its calls, how it was fired and when its work was done. */
    private static final class ServedPage {
        final LocalTime at = LocalTime.now();
        final long nanos = System.nanoTime();
        final Map<String, Fired> fired = new LinkedHashMap<>();
        final Map<String, String> done = new LinkedHashMap<>();
    }

    /** A call of a page, by the endpoint's id for it. */
    private record PageCall(ServedPage page, String name) {}

    private final URI endpoint;
    private final Duration work;
    private final String[] token;
    private volatile FourCalls.Clients caller;
    private final SecureRandom random = new SecureRandom();
    private final Map<String, PageCall> calls = new HashMap<>();
    private final Map<String, ServedPage> pages = new LinkedHashMap<>(16, 0.75f, false) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, ServedPage> eldest) {
            if (size() <= PAGES_KEPT) return false;
            calls.values().removeIf(mine -> mine.page() == eldest.getValue());
            return true;
        }
    };

    /**
     * @param token the endpoint's token, which the page's calls then carry; null for none
     * @param tls what the page's calls trust, for an https:// endpoint
     */
    public Page(URI endpoint, Duration work, String token, javax.net.ssl.SSLContext tls) {
        this.endpoint = endpoint;
        trust(tls);
        this.work = work;
        this.token = token == null ? new String[0] : new String[] {"Authorization", "Bearer " + token};
    }

    /** What the page's calls trust from now on (serve's certificate was reloaded). */
    public void trust(javax.net.ssl.SSLContext tls) {
        caller = new FourCalls.Clients(HttpClient.newBuilder().sslContext(tls).build(), tls.getSocketFactory());
    }

    /** The endpoint has done a call's work: if it was one of a page's, its page is told. */
    @Override
    public void done(Done done) {
        synchronized (pages) {
            PageCall mine = calls.remove(done.call().id());
            if (mine != null) markDone(mine.page(), mine.name());
        }
    }

    private void markDone(ServedPage served, String name) {
        synchronized (pages) {
            served.done.put(name, LocalTime.now().format(TIME) + " (" + seconds(System.nanoTime() - served.nanos) + " after the page was served)");
            pages.notifyAll();
        }
    }

    /** GET /test.php: fires the four calls, then answers with the page. */
    public void page(HttpExchange exchange) throws IOException {
        String id = HexFormat.of().formatHex(bytes(8));
        ServedPage served = new ServedPage();
        synchronized (pages) {
            pages.put(id, served);
        }
        for (FourCalls.Call call : FourCalls.CALLS) {
            long start = System.nanoTime();
            String outcome = call.function().equals("sendSock") ? fireSock(served, call) : fireCurl(served, call);
            Fired fired = new Fired(call.function() + " " + call.method() + " " + call.target(endpoint, FourCalls.HELLO),
                String.format(Locale.ROOT, "%.1f ms", (System.nanoTime() - start) / 1e6), outcome);
            synchronized (pages) {
                served.fired.put(call.id(), fired);
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

    /** A sendCURL call with respond-async: the 202's Location names the endpoint's id for it. */
    private String fireCurl(ServedPage served, FourCalls.Call call) {
        try {
            FourCalls.Outcome fired = FourCalls.fire(caller, call, endpoint, FourCalls.HELLO, Duration.ofSeconds(1), 0, token);
            String id = fired.monitor() == null ? null : fired.monitor().replaceFirst(".*/", "");
            synchronized (pages) {
                if (id != null) calls.put(id, new PageCall(served, call.id()));
            }
            return fired.text();
        } catch (IOException e) {
            return "not sent: " + FourCalls.describe(e, endpoint);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "not sent: the server is stopping";
        }
    }

    /** A sendSock call, its answer read on a thread of its own: the call is done when the answer comes. */
    private String fireSock(ServedPage served, FourCalls.Call call) {
        Thread.ofVirtual().start(() -> {
            try {
                Send.sendSock(caller.tls(), call.method(), endpoint, FourCalls.HELLO, OutputStream.nullOutputStream(), token);
                markDone(served, call.id());
            } catch (IOException | RuntimeException e) {
                // Not sent, or no answer: the page keeps showing it as fired.
            }
        });
        return "sent; done when its answer comes";
    }

    /** GET /events?page=ID: a "done" event for each of the page's calls as its work ends, then "end"; a comment line every 15 s. */
    public void events(HttpExchange exchange) throws IOException, InterruptedException {
        String query = exchange.getRequestURI().getRawQuery();
        String id = query != null && query.matches("page=[0-9a-f]{16}") ? query.substring(5) : "";
        ServedPage served;
        synchronized (pages) {
            served = pages.get(id);
        }
        if (served == null) {
            Replies.send(exchange, 404, "404 Not Found: no such page\n", false);
            return;
        }
        exchange.getResponseHeaders().set("Content-Type", "text/event-stream; charset=UTF-8");
        exchange.getResponseHeaders().set("Cache-Control", "no-store");
        exchange.sendResponseHeaders(200, 0);
        Answers.leave(); // a stream of events, answered: it lasts, and holds no command back
        try (OutputStream out = exchange.getResponseBody()) {
            out.write(": the calls are working\n\n".getBytes(StandardCharsets.UTF_8));
            out.flush(); // the headers and a first line at once, so that the browser knows the stream is open
            List<String> sent = new ArrayList<>();
            long deadline = System.nanoTime() + work.toNanos() + 60_000_000_000L;
            while (sent.size() < FourCalls.CALLS.size() && System.nanoTime() < deadline) {
                Map<String, String> fresh = new LinkedHashMap<>();
                synchronized (pages) {
                    long heartbeat = System.nanoTime() + 15_000_000_000L;
                    while (served.done.size() == sent.size() && System.nanoTime() < Math.min(deadline, heartbeat)) {
                        pages.wait(Math.max(1, (Math.min(deadline, heartbeat) - System.nanoTime()) / 1_000_000));
                    }
                    for (Map.Entry<String, String> e : served.done.entrySet()) {
                        if (!sent.contains(e.getKey())) fresh.put(e.getKey(), e.getValue());
                    }
                }
                if (fresh.isEmpty()) out.write(": heartbeat\n\n".getBytes(StandardCharsets.UTF_8));
                for (Map.Entry<String, String> e : fresh.entrySet()) {
                    sent.add(e.getKey());
                    out.write(("event: done\ndata: {\"call\":\"" + e.getKey() + "\",\"at\":" + Json.text(e.getValue()) + "}\n\n").getBytes(StandardCharsets.UTF_8));
                }
                out.flush();
            }
            out.write("event: end\ndata: {}\n\n".getBytes(StandardCharsets.UTF_8));
        }
    }

    private String html(String id, ServedPage served, String nonce) {
        StringBuilder items = new StringBuilder();
        synchronized (pages) {
            for (Map.Entry<String, Fired> e : served.fired.entrySet()) {
                Fired f = e.getValue();
                String done = served.done.get(e.getKey());
                items.append("  <li data-call=\"").append(e.getKey()).append("\" data-state=\"").append(done == null ? "fired" : "done")
                    .append("\"><code>").append(escape(f.line())).append("</code><br>fired in <b>").append(escape(f.took()))
                    .append("</b>: ").append(escape(f.outcome())).append(" &mdash; <span class=\"state\">")
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
            <p>ServedPage at <b>SERVED</b>. The page is here and loaded; the four calls it fired go on in the endpoint
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
    public static String escape(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;").replace("'", "&#39;");
    }

    private static String seconds(long nanos) {
        return String.format(Locale.ROOT, "%.1f s", nanos / 1e9);
    }

    private byte[] bytes(int n) {
        byte[] b = new byte[n];
        random.nextBytes(b);
        return b;
    }
}
