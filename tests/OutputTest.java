import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** GET /calls/ID/output: a --run command's stdout and stderr followed as written, told apart, and readable after its end. */
class OutputTest {
    record Event(String name, String data) {}

    /** Follows an event stream on a thread of its own: each event, as it comes, into the queue. */
    static final class Follower implements AutoCloseable {
        final BlockingQueue<Event> events = new LinkedBlockingQueue<>();
        private final HttpClient client = HttpClient.newHttpClient();
        final int status;

        Follower(URI uri) throws Exception {
            HttpResponse<Stream<String>> r = client.send(HttpRequest.newBuilder(uri).build(), HttpResponse.BodyHandlers.ofLines());
            status = r.statusCode();
            Thread.ofVirtual().start(() -> {
                String name = "message";
                StringBuilder data = null;
                try {
                    for (String line : (Iterable<String>) r.body()::iterator) {
                        if (line.startsWith("event: ")) name = line.substring(7);
                        else if (line.startsWith("data: ")) data = (data == null ? new StringBuilder() : data.append('\n')).append(line.substring(6));
                        else if (line.isEmpty() && data != null) {
                            events.add(new Event(name, data.toString()));
                            name = "message";
                            data = null;
                        }
                    }
                } catch (java.io.UncheckedIOException closed) {
                    // the test is done with it
                }
            });
        }

        Event next() throws InterruptedException {
            Event e = events.poll(30, TimeUnit.SECONDS);
            assertNotNull(e, "no event within 30 s");
            return e;
        }

        /** The events up to and with "end". */
        List<Event> rest() throws InterruptedException {
            List<Event> all = new java.util.ArrayList<>();
            do all.add(next()); while (!all.getLast().name().equals("end"));
            return all;
        }

        @Override
        public void close() {
            client.shutdownNow();
        }
    }

    @Test
    void aRunningCommandsOutputIsFollowedAsWrittenAndReadableAfterItsEnd(@TempDir Path dir) throws Exception {
        Path gate = dir.resolve("gate");
        String script = "echo first; echo 'why: é' >&2; while [ ! -e " + Support.quote(gate.toString()) + " ]; do sleep 0.05; done; echo second";
        for (List<String> keeping : RetryTest.keepings(dir)) {
            Files.deleteIfExists(gate);
            try (TestServer server = RetryTest.server(keeping, "--run", script)) {
                String location = RetryTest.call(server.url("/res.php"));
                try (Follower live = new Follower(server.url(location + "/output"))) {
                    assertEquals(200, live.status);
                    assertEquals(new Event("attempt", "1"), live.next());
                    // Both come while the command waits at its gate: followed as written, not at the end.
                    List<Event> before = List.of(live.next(), live.next());
                    assertTrue(before.contains(new Event("stdout", "first\n")), before.toString());
                    assertTrue(before.contains(new Event("stderr", "why: é\n")), before.toString());
                    Files.writeString(gate, "");
                    List<Event> after = live.rest();
                    assertEquals(new Event("stdout", "second\n"), after.get(0), after.toString());
                    assertTrue(after.getLast().data().contains("\"state\":\"done\""), after.toString());
                }
                try (Follower late = new Follower(server.url(location + "/output"))) {
                    List<Event> all = late.rest();
                    assertEquals(List.of(new Event("attempt", "1"), new Event("stdout", "first\nsecond\n"), new Event("stderr", "why: é\n")),
                        all.subList(0, 3), "after its end, what it wrote: " + all);
                }
            }
        }
    }

    @Test
    void eachAttemptIsToldAndTheRouteRefusesWhatItDoesNotServe(@TempDir Path dir) throws Exception {
        try (TestServer server = new TestServer("--run", "echo \"try $ASYNCCALL_ATTEMPT\"; [ $ASYNCCALL_ATTEMPT -ge 2 ]", "--backoff", "0.05,0.1")) {
            String location = RetryTest.call(server.url("/res.php"));
            RetryTest.end(server, location, 1);
            try (Follower f = new Follower(server.url(location + "/output"))) {
                // After the end, the last attempt's output is held; each attempt is told as it starts.
                List<Event> all = f.rest();
                assertEquals(List.of(new Event("attempt", "2"), new Event("stdout", "try 2\n")), all.subList(0, 2), all.toString());
            }
            assertEquals(404, RetryTest.send(server.url("/calls/" + "0".repeat(32) + "/output"), "GET").statusCode());
            assertEquals(405, RetryTest.send(server.url(location + "/output"), "POST").statusCode());
        }
    }
}
