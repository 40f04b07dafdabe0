import caller.Send;

import org.junit.jupiter.api.Test;

import java.net.http.HttpClient;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A restart loses nothing: retries while the endpoint is away, and an Idempotency-Key is worked on once. */
class IdempotencyTest {
    private static String call(TestServer server, String key, String body, boolean respondAsync) throws Exception {
        return Support.raw(server.port(), "POST /res.php HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
            + "Content-Type: application/x-www-form-urlencoded\r\nIdempotency-Key: " + key + "\r\n"
            + (respondAsync ? "Prefer: respond-async\r\n" : "") + "Content-Length: " + body.length() + "\r\n\r\n" + body);
    }

    @Test
    void theSameKeyTwiceIsWorkedOnOnceAndTheRepeatGetsTheFirstStatus() throws Exception {
        String key = UUID.randomUUID().toString(), async = UUID.randomUUID().toString();
        Recorder calls;
        try (TestServer server = new TestServer("--sleep", "0.5")) {
            calls = server.calls;
            assertEquals(200, Support.status(call(server, key, "id=1", false)));
            String repeat = call(server, key, "id=1", false);
            assertEquals(200, Support.status(repeat), repeat);
            String first = call(server, async, "id=2", true), again = call(server, async, "id=2", true);
            assertEquals(202, Support.status(first));
            assertEquals(202, Support.status(again));
            // The repeat names the first call's monitor: a caller that lost the first answer can follow it.
            String location = first.replaceAll("(?is).*\r\nlocation: (/calls/[0-9a-f]{32})\r\n.*", "$1");
            assertTrue(location.startsWith("/calls/") && again.contains(location), first + again);
            server.log.await("\\[200\\]: POST /res\\.php - repeat of Idempotency-Key " + key + ", answered 200 the first time: not worked on again$",
                Duration.ofSeconds(5));
            server.log.await("\\[202\\]: POST /res\\.php - repeat of Idempotency-Key " + async, Duration.ofSeconds(5));
            calls.await(d -> async.equals(d.call().key()) && d.note() == null, Duration.ofSeconds(5));
        } // closing ends the server: every end it had is recorded by now
        assertEquals(1, calls.count(d -> key.equals(d.call().key()) && d.note() == null), "worked on once");
        assertEquals(1, calls.count(d -> key.equals(d.call().key()) && d.note() != null && d.note().startsWith("repeat of")));
        assertEquals(1, calls.count(d -> async.equals(d.call().key()) && d.note() == null && d.answer().contains("[id] => 2\n")), "worked on once");
        assertEquals(4, calls.done().size());
    }

    /** Two keys in one request: which one would a retry match? Neither is guessed: 400, and nothing is worked. */
    @Test
    void twoKeysInOneRequestAre400() throws Exception {
        try (TestServer server = new TestServer("--sleep", "0")) {
            String answer = call(server, "k1\r\nIdempotency-Key: k2", "a=1", true);
            assertEquals(400, Support.status(answer), answer);
            assertTrue(Support.body(answer).startsWith("Bad Request: one Idempotency-Key at most, not 2"), answer);
            server.calls.await(d -> d.status() == 400 && d.note().contains("Idempotency-Key"), Duration.ofSeconds(5));
            assertEquals(0, server.calls.count(d -> d.status() != 400), "nothing worked");
        }
    }

    @Test
    void aRepeatWhileTheFirstIsWorkingIs409AndAKeyReusedForAnotherRequestIs422() throws Exception {
        String key = "order-17";
        Recorder calls;
        try (TestServer server = new TestServer("--sleep", "3")) {
            calls = server.calls;
            try (ExecutorService callers = Executors.newVirtualThreadPerTaskExecutor()) {
                // Two at once: whichever claims the key first is worked on, the other is told 409.
                Future<String> a = callers.submit(() -> call(server, key, "id=17", false));
                Future<String> b = callers.submit(() -> call(server, key, "id=17", false));
                calls.await(d -> d.status() == 409, Duration.ofSeconds(5));
                server.log.await("\\[409\\]: POST /res\\.php - Conflict: the first call with this Idempotency-Key is still being worked on$", Duration.ofSeconds(5));
                assertEquals(422, Support.status(call(server, key, "id=18", false)));
                server.log.await("\\[422\\]: POST /res\\.php - Unprocessable Content: this Idempotency-Key was used for a different request$", Duration.ofSeconds(5));
                List<Integer> statuses = new ArrayList<>(List.of(Support.status(a.get(10, TimeUnit.SECONDS)), Support.status(b.get(10, TimeUnit.SECONDS))));
                statuses.sort(null);
                assertEquals(List.of(200, 409), statuses);
            }
            assertEquals(400, Support.status(call(server, "has space", "id=1", false)));
        }
        assertEquals(1, calls.count(d -> d.status() == 200 && d.note() == null), "worked on once");
    }

    @Test
    void callsFiredWhileTheEndpointRestartsAreAllWorkedOnOnceAfterItIsBack() throws Exception {
        int port;
        try (ServeProcess first = new ServeProcess("", "127.0.0.1:0", "--sleep", "0")) {
            port = first.port;
            first.signal("TERM");
            assertTrue(first.process.waitFor(20, TimeUnit.SECONDS));
        }
        java.net.URI url = java.net.URI.create("http://127.0.0.1:" + port + "/res.php");
        List<Future<Object>> fired = new ArrayList<>();
        Future<Support.Run> fourCalls;
        try (HttpClient client = HttpClient.newHttpClient(); ExecutorService callers = Executors.newVirtualThreadPerTaskExecutor()) {
            for (int i = 0; i < 20; i++) {
                Map<String, String> data = Map.of("id", "r" + i);
                String[] key = {"Idempotency-Key", UUID.randomUUID().toString()};
                boolean sock = i % 2 == 0;
                fired.add(callers.submit(() -> Send.withRetries(20, true, () -> sock
                    ? Send.sendSock("POST", url, data, null, key)
                    : Send.sendCURL(client, "POST", url, data, Duration.ofSeconds(5), "Prefer", "respond-async", key[0], key[1]))));
            }
            fourCalls = callers.submit(() -> Support.run(test::start, "--url", url.toString(), "--retries", "20"));
            try (ServeProcess again = new ServeProcess("", "127.0.0.1:" + port, "--sleep", "0")) {
                for (Future<Object> f : fired) f.get(60, TimeUnit.SECONDS);
                Support.Run run = fourCalls.get(60, TimeUnit.SECONDS);
                assertEquals(0, run.status(), run.out() + run.err());
                again.calls.await(d -> d.note() == null && d.answer().contains("[id] => r"), 20, Duration.ofSeconds(20));
                again.calls.await(Recorder.workedWith("            [hello] => world!"), 4, Duration.ofSeconds(20));
                again.signal("TERM"); // every end is reported before the process exits
                assertEquals(0, again.awaitExit(Duration.ofSeconds(20)));
                for (int i = 0; i < 20; i++) {
                    assertEquals(1, again.calls.count(Recorder.workedWith("            [id] => r" + i)), "r" + i + " once");
                }
            }
        }
    }
}
