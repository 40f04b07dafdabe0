import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import com.sun.net.httpserver.HttpServer;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Asynccall-Callback: a call's end POSTed to the URL it named, signed (Standard Webhooks), retried, allowed only where the operator says. */
class CallbackTest {
    static final String SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

    /** A receiver of callbacks on a free port: each POST recorded, answered with the next status given (then 204). */
    static final class Receiver implements AutoCloseable {
        record Received(Map<String, List<String>> headers, String path, byte[] body) {
            String header(String name) {
                return headers.entrySet().stream().filter(e -> e.getKey().equalsIgnoreCase(name)).findFirst().map(e -> e.getValue().get(0)).orElse(null);
            }
        }

        final HttpServer http;
        final BlockingQueue<Received> posts = new LinkedBlockingQueue<>();
        final BlockingQueue<Integer> answers = new LinkedBlockingQueue<>();

        Receiver(Integer... statuses) throws Exception {
            answers.addAll(List.of(statuses));
            http = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
            http.createContext("/", exchange -> {
                byte[] body = exchange.getRequestBody().readAllBytes();
                posts.add(new Received(Map.copyOf(exchange.getRequestHeaders()), exchange.getRequestURI().toString(), body));
                Integer status = answers.poll();
                exchange.sendResponseHeaders(status == null ? 204 : status, -1);
                exchange.close();
            });
            http.start();
        }

        String url(String path) {
            return "http://127.0.0.1:" + http.getAddress().getPort() + path;
        }

        Received next() throws InterruptedException {
            Received r = posts.poll(30, TimeUnit.SECONDS);
            assertNotNull(r, "no callback within 30 s");
            return r;
        }

        @Override
        public void close() {
            http.stop(0);
        }
    }

    static Path secret(Path dir) throws Exception {
        return Files.writeString(dir.resolve("callback.secret"), SECRET + "\n");
    }

    /** PHP's hash_hmac, the independent implementation: "v1," and the base64 of HMAC-SHA256 over ID.TIMESTAMP.BODY, keyed with the secret's bytes. */
    static String phpSignature(String id, String timestamp, byte[] body) throws Exception {
        Assumptions.assumeTrue(Files.isExecutable(Path.of("/usr/bin/php")), "Debian's php-cli is not installed");
        Process php = new ProcessBuilder("/usr/bin/php", "-r", "echo 'v1,' . base64_encode(hash_hmac('sha256', stream_get_contents(STDIN),"
            + " base64_decode(substr($argv[1], 6)), true));", SECRET).start();
        php.getOutputStream().write((id + "." + timestamp + ".").getBytes(StandardCharsets.UTF_8));
        php.getOutputStream().write(body);
        php.getOutputStream().close();
        String out = new String(php.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, php.waitFor(), out);
        return out;
    }

    @Test
    void theEndIsPostedSignedAndTriedAgainUntilTheReceiverTakesIt(@TempDir Path dir) throws Exception {
        for (List<String> keeping : RetryTest.keepings(dir)) {
            try (Receiver receiver = new Receiver(500);
                 TestServer server = RetryTest.server(keeping, "--run", "echo done", "--backoff", "0.05,0.1",
                     "--callback-allow", receiver.url("/hooks/"), "--callback-secret-file", secret(dir).toString())) {
                String location = RetryTest.call(server.url("/res.php"), "Asynccall-Callback", receiver.url("/hooks/asynccall?x=1"));
                String id = RetryTest.id(location);
                Receiver.Received first = receiver.next(), second = receiver.next();
                assertEquals("/hooks/asynccall?x=1", second.path());
                assertEquals("msg_" + id + "_", second.header("webhook-id").substring(0, 37), second.headers().toString());
                assertEquals(first.header("webhook-id"), second.header("webhook-id"), "one message, one id, whichever attempt");
                for (Receiver.Received post : List.of(first, second)) {
                    assertEquals(phpSignature(post.header("webhook-id"), post.header("webhook-timestamp"), post.body()), post.header("webhook-signature"));
                    long age = System.currentTimeMillis() / 1000 - Long.parseLong(post.header("webhook-timestamp"));
                    assertTrue(age >= 0 && age < 60, "timestamp " + age + " s old");
                    assertEquals("application/json", post.header("Content-Type"));
                }
                JsonObject end = JsonParser.parseString(new String(second.body(), StandardCharsets.UTF_8)).getAsJsonObject();
                assertEquals(id, end.get("id").getAsString(), end.toString());
                assertEquals("done", end.get("state").getAsString(), end.toString());
                assertEquals("done\n", end.get("answer").getAsString(), end.toString());
                server.log.await("Callback of call " + id + " to " + Pattern.quote(receiver.url("/hooks/asynccall?x=1"))
                    + ": delivered \\(status 204, attempt 2 of 5\\)$", Duration.ofSeconds(10));
                JsonObject callback = RetryTest.monitor(server, location).getAsJsonObject("callback");
                assertEquals(receiver.url("/hooks/asynccall?x=1"), callback.get("url").getAsString());
                assertEquals("delivered", callback.get("state").getAsString(), callback.toString());
                assertEquals(2, callback.get("attempts").getAsInt(), callback.toString());
                assertEquals(204, callback.get("status").getAsInt(), callback.toString());
            }
        }
    }

    @Test
    void aReceiverThatNeverTakesItLeavesTheCallbackFailedAfterItsAttempts(@TempDir Path dir) throws Exception {
        for (List<String> keeping : RetryTest.keepings(dir)) {
            try (Receiver receiver = new Receiver(503, 503, 503);
                 TestServer server = RetryTest.server(keeping, "--run", "exit 1", "--attempts", "2", "--backoff", "0.05,0.1",
                     "--callback-allow", receiver.url("/"), "--callback-secret-file", secret(dir).toString())) {
                String location = RetryTest.call(server.url("/res.php"), "Asynccall-Callback", receiver.url("/failed"));
                String id = RetryTest.id(location);
                JsonObject end = JsonParser.parseString(new String(receiver.next().body(), StandardCharsets.UTF_8)).getAsJsonObject();
                assertEquals("failed", end.get("state").getAsString(), "a failed call is told too: " + end);
                receiver.next();
                server.log.await("Callback of call " + id + " to .*: attempt 2 of 2 failed \\(status 503\\): given up$", Duration.ofSeconds(10));
                JsonObject callback = RetryTest.monitor(server, location).getAsJsonObject("callback");
                assertEquals("failed", callback.get("state").getAsString(), callback.toString());
                assertEquals(503, callback.get("status").getAsInt(), callback.toString());
            }
        }
    }

    /** A call run again while the end of its last run is still being told: that telling stops, and the new end alone is told. */
    @Test
    void aRunAgainEndsTheTellingOfTheRunBefore(@TempDir Path dir) throws Exception {
        Path fixed = dir.resolve("fixed");
        for (List<String> keeping : RetryTest.keepings(dir)) {
            Files.deleteIfExists(fixed);
            try (Receiver receiver = new Receiver(503);
                 TestServer server = RetryTest.server(keeping, "--run", "[ -e " + Support.quote(fixed.toString()) + " ]", "--attempts", "3",
                     "--backoff", "1,1", "--callback-allow", receiver.url("/"), "--callback-secret-file", secret(dir).toString())) {
                String location = RetryTest.call(server.url("/res.php"), "Asynccall-Attempts", "1", "Asynccall-Callback", receiver.url("/hook"));
                String id = RetryTest.id(location);
                Receiver.Received failed = receiver.next(); // answered 503: told again in 1 s
                assertTrue(new String(failed.body(), StandardCharsets.UTF_8).contains("\"state\":\"failed\""));
                Files.writeString(fixed, "");
                assertEquals(202, RetryTest.send(server.url(location + "/retry"), "POST").statusCode());
                Receiver.Received done = receiver.next();
                assertTrue(new String(done.body(), StandardCharsets.UTF_8).contains("\"state\":\"done\""), new String(done.body(), StandardCharsets.UTF_8));
                assertTrue(!done.header("webhook-id").equals(failed.header("webhook-id")), "a new end, a new message");
                server.log.await("Callback of call " + id + " to .*: its end of .* is not told again \\(the call ran again since; its new end is told\\)$",
                    Duration.ofSeconds(10));
                assertEquals(0, receiver.posts.size(), "the end before was not told again: " + receiver.posts);
                JsonObject callback = RetryTest.monitor(server, location).getAsJsonObject("callback");
                assertEquals("delivered", callback.get("state").getAsString(), callback.toString());
                assertEquals(1, callback.get("attempts").getAsInt(), "the new end's own attempts: " + callback);
            }
        }
    }

    /** With a store, a callback a stop cut short (waiting for its next attempt) is sent at the next start, as the same message. */
    @Test
    void aCallbackCutShortByAStopIsSentAtTheNextStart(@TempDir Path dir) throws Exception {
        try (Receiver receiver = new Receiver(503)) {
            String[] args = {"--run", "echo done", "--backoff", "30,60", "--store", dir.resolve("calls.db").toString(),
                "--callback-allow", receiver.url("/"), "--callback-secret-file", secret(dir).toString()};
            String id;
            Receiver.Received first;
            try (TestServer server = new TestServer(args)) {
                id = RetryTest.id(RetryTest.call(server.url("/res.php"), "Asynccall-Callback", receiver.url("/hook")));
                first = receiver.next();
                server.log.await("Callback of call " + id + " to .*: attempt 1 of 5 failed \\(status 503\\): tried again in", Duration.ofSeconds(10));
            }
            try (TestServer again = new TestServer(args)) {
                again.log.await("1 callback cut short by the last stop: sent again$", Duration.ofSeconds(10));
                Receiver.Received second = receiver.next();
                assertEquals(first.header("webhook-id"), second.header("webhook-id"), "the same message");
                again.log.await("Callback of call " + id + " to .*: delivered \\(status 204, attempt 2 of 5\\)$", Duration.ofSeconds(10));
            }
        }
    }

    @Test
    void onlyUrlsUnderWhatTheOperatorAllowsAreTaken(@TempDir Path dir) throws Exception {
        try (TestServer none = new TestServer("--sleep", "0")) {
            HttpResponse<String> r = RetryTest.send(none.url("/res.php"), "GET", "Prefer", "respond-async", "Asynccall-Callback", "http://127.0.0.1:9/x");
            assertEquals(400, r.statusCode(), r.body());
            assertTrue(r.body().contains("this serve takes no callback URL"), r.body());
        }
        try (TestServer server = new TestServer("--sleep", "0", "--callback-allow", "https://hooks.example.com/asynccall",
                "--callback-allow", "http://127.0.0.1:8081/in/", "--callback-secret-file", secret(dir).toString())) {
            List<String> refused = List.of("https://hooks.example.com/asynccallx", "https://hooks.example.com/other",
                "http://hooks.example.com/asynccall", "https://hooks.example.com:8443/asynccall", "https://evil.example.com/asynccall",
                "https://user@hooks.example.com/asynccall", "https://hooks.example.com/asynccall/../admin",
                "https://hooks.example.com/asynccall/%2e%2e/admin", "https://hooks.example.com/asynccall/a%2fb", "http://127.0.0.1:8082/in/",
                "https://hooks.example.com/asynccall/..;/admin", "https://hooks.example.com/asynccall/%252e%252e/x",
                "https://hooks.example.com/asynccall/..%00/x",
                "http://127.0.0.1:8081/in", "ftp://hooks.example.com/asynccall", "/asynccall", "not a url", "https://hooks.example.com/asynccall#f");
            for (String url : refused) {
                HttpResponse<String> r = RetryTest.send(server.url("/res.php"), "GET", "Prefer", "respond-async", "Asynccall-Callback", url);
                assertEquals(400, r.statusCode(), url + ": " + r.body());
            }
            for (String url : List.of("https://hooks.example.com/asynccall", "https://HOOKS.example.com:443/asynccall/done?call=1",
                    "http://127.0.0.1:8081/in/x")) {
                HttpResponse<String> r = RetryTest.send(server.url("/res.php"), "GET", "Prefer", "respond-async", "Asynccall-Callback", url);
                assertEquals(202, r.statusCode(), url + ": " + r.body());
            }
            HttpResponse<String> waits = RetryTest.send(server.url("/res.php"), "GET", "Asynccall-Callback", "https://hooks.example.com/asynccall");
            assertEquals(400, waits.statusCode(), "a caller that waits gets the answer itself: " + waits.body());
        }
    }

    @Test
    void theOptionsSayWhatIsWrong(@TempDir Path dir) throws Exception {
        Path bad = Files.writeString(dir.resolve("bad.secret"), "not-a-secret");
        List<List<String>> cases = List.of(
            List.of("--callback-allow", "https://hooks.example.com/"),
            List.of("--callback-secret-file", secret(dir).toString()),
            List.of("--callback-allow", "https://hooks.example.com/?q=1", "--callback-secret-file", secret(dir).toString()),
            List.of("--callback-allow", "https://hooks.example.com/", "--callback-secret-file", bad.toString()));
        List<String> said = List.of("--callback-allow and --callback-secret-file go together", "--callback-allow and --callback-secret-file go together",
            "--callback-allow takes an http or https URL", "holds whsec_ and the base64 of 24 to 64 random bytes");
        for (int i = 0; i < cases.size(); i++) {
            List<String> args = new ArrayList<>(List.of("127.0.0.1:0"));
            args.addAll(cases.get(i));
            Support.Run run = Support.serveCommand(args.toArray(String[]::new));
            assertEquals(2, run.status(), cases.get(i).toString()); // bad arguments, as every option says
            assertTrue(run.err().startsWith("Error: ") && run.err().contains(said.get(i)), run.err());
        }
    }
}
