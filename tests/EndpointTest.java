import caller.Send;

import org.junit.jupiter.api.Test;

import java.io.InputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** serve.java + res.java: respond-async, a caller that hangs up, calls worked on at once, routes and limits. */
class EndpointTest {
    private static final String GET = "GET /res.php?hello=world%21 HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n";

    @Test
    void preferRespondAsyncIsAnswered202AtOnceAndTheWorkIsDoneAfter() throws Exception {
        try (TestServer server = new TestServer("--sleep", "3")) {
            long start = System.nanoTime();
            String answer = Support.raw(server.port(), GET + "Prefer: respond-async, wait=10\r\n\r\n");
            long answeredMs = (System.nanoTime() - start) / 1_000_000;
            assertEquals(202, Support.status(answer), answer);
            assertTrue(answer.toLowerCase().contains("\r\npreference-applied: respond-async\r\n"), answer);
            assertTrue(answer.toLowerCase().contains("\r\ncontent-type: text/plain; charset=utf-8\r\n"), answer);
            assertTrue(answer.toLowerCase().contains("\r\nx-content-type-options: nosniff\r\n"), answer);
            assertTrue(answeredMs < 1500, "202 came after " + answeredMs + " ms, the work takes 3000");
            assertEquals(0, server.log.count("\\[202\\]"), "logged as done before the work was done");
            LogSink.Entry done = server.log.await("\\[202\\]: GET /res\\.php\\?hello=world%21$", Duration.ofSeconds(10));
            assertTrue(done.nanos() - start >= 2_900_000_000L, "the work ended early");
        }
    }

    @Test
    void aCallerThatHangsUpNeverStopsTheWork() throws Exception {
        try (TestServer server = new TestServer("--sleep", "1", "-v")) {
            try (Socket s = new Socket("127.0.0.1", server.port())) {
                s.getOutputStream().write((GET + "\r\n").getBytes(StandardCharsets.ISO_8859_1));
                server.log.await("Accepted$", Duration.ofSeconds(5));
            } // hung up before any answer
            LogSink.Entry done = server.log.await("\\[200\\]: GET /res\\.php\\?hello=world%21\n", Duration.ofSeconds(10));
            assertTrue(done.text().contains("[hello] => world!"), done.text());
            assertEquals(0, server.log.count("(?i)exception|broken pipe"), String.join("\n", server.log.texts()));
        }
    }

    @Test
    void twoCallsWithSleep1FinishTogether() throws Exception {
        try (TestServer server = new TestServer("--sleep", "1")) {
            long start = System.nanoTime();
            Send.sendSock("POST", server.url("/res.php"), Map.of("n", "1"), null);
            Send.sendSock("POST", server.url("/res.php"), Map.of("n", "2"), null);
            List<LogSink.Entry> done = server.log.await("\\[200\\]: POST", 2, Duration.ofSeconds(10));
            long last = Math.max(done.get(0).nanos(), done.get(1).nanos()) - start;
            // One after the other would take 2 s; together they take one --sleep.
            assertTrue(last < 1_800_000_000L, "both done after " + last / 1_000_000 + " ms");
        }
    }

    @Test
    void withOneWorkerCallsFinishOneSleepApartAsUnderPhpS() throws Exception {
        try (TestServer server = new TestServer("--sleep", "0.5", "--workers", "1")) {
            for (int i = 0; i < 3; i++) Send.sendSock("GET", server.url("/res.php"), Map.of("n", i), null);
            List<LogSink.Entry> done = server.log.await("\\[200\\]: GET", 3, Duration.ofSeconds(10));
            for (int i = 1; i < 3; i++) {
                long gap = done.get(i).nanos() - done.get(i - 1).nanos();
                assertTrue(gap >= 400_000_000L, "finished " + gap / 1_000_000 + " ms apart");
            }
        }
    }

    @Test
    void aFullBacklogTellsCallersToComeBackAndEveryAcceptedCallIsWorked() throws Exception {
        try (TestServer server = new TestServer("--sleep", "0.2", "--workers", "1", "--queue", "50");
             java.net.http.HttpClient client = java.net.http.HttpClient.newHttpClient()) {
            List<Integer> statuses = new java.util.ArrayList<>();
            for (int i = 0; i < 120; i++) {
                var r = Send.sendCURL(client, "POST", server.url("/res.php"), Map.of("n", i), java.time.Duration.ofSeconds(5), "Prefer", "respond-async");
                statuses.add(r.statusCode());
                if (r.statusCode() == 503) assertEquals("1", r.headers().firstValue("Retry-After").orElse(null));
            }
            long accepted = statuses.stream().filter(s -> s == 202).count();
            // One worker, 0.2 s a call: while 120 are fired (a few ms each), at most 50 wait at once.
            assertTrue(accepted >= 50 && accepted < 120, accepted + " accepted of 120");
            assertEquals(50, statuses.subList(0, 50).stream().filter(s -> s == 202).count(), "the first 50 are accepted");
            server.calls.await(d -> d.status() == 202 && d.note() == null, (int) accepted, Duration.ofSeconds(60));
            assertEquals(120 - accepted, server.calls.count(d -> d.status() == 503));
            System.out.printf("     --workers 1 --queue 50, 120 calls: %d accepted and worked, %d told to come back%n", accepted, 120 - accepted);
            // test --retries comes back as Retry-After says, and its calls are then accepted.
            Support.Run run = Support.run(test::start, "--url", server.url("/res.php").toString(), "--retries", "5");
            assertEquals(0, run.status(), run.out() + run.err());
        }
    }

    @Test
    void bothRoutesServeTheEndpointAndEverythingElseIs404() throws Exception {
        try (TestServer server = new TestServer("--sleep", "0")) {
            String ok = Support.raw(server.port(), GET.replace("/res.php", "/res") + "\r\n");
            assertEquals(200, Support.status(ok));
            assertTrue(ok.toLowerCase().contains("\r\ncontent-type: text/plain; charset=utf-8\r\n"), ok);
            for (String path : List.of("/nope", "/res.php/x", "/res.phpx", "/", "/test.java")) {
                String answer = Support.raw(server.port(), GET.replace("/res.php?hello=world%21", path) + "\r\n");
                assertEquals(404, Support.status(answer), path);
                assertTrue(answer.toLowerCase().contains("\r\ncontent-type: text/plain"), answer);
            }
            server.log.await("\\] 127\\.0\\.0\\.1:\\d+ \\[404\\]: GET /nope - No such file or directory$", Duration.ofSeconds(5));
            server.log.await("\\[200\\]: GET /res\\?hello=world%21$", Duration.ofSeconds(5));
        }
    }

    @Test
    void aBodyOver8MiBIsRefused413WithoutBeingRead() throws Exception {
        try (TestServer server = new TestServer("--sleep", "0");
             Socket s = new Socket("127.0.0.1", server.port())) {
            s.setSoTimeout(10_000);
            String head = "POST /res.php HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\n"
                + "Content-Length: " + (8 * 1024 * 1024 + 1) + "\r\n\r\n";
            s.getOutputStream().write(head.getBytes(StandardCharsets.ISO_8859_1));
            InputStream in = s.getInputStream();
            String answer = new String(in.readNBytes(12), StandardCharsets.ISO_8859_1);
            assertEquals("HTTP/1.1 413", answer);
            server.log.await("\\[413\\]: POST /res\\.php - Payload Too Large: the limit is 8388608 bytes$", Duration.ofSeconds(5));
            // Exactly 8 MiB is still read.
            String body = "a=" + "x".repeat(8 * 1024 * 1024 - 2);
            String ok = Support.raw(server.port(), "POST /res.php HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
                + "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: " + body.length() + "\r\n\r\n" + body);
            assertEquals(200, Support.status(ok));
        }
    }
}
