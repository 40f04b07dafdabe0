import caller.Send;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.ConnectException;
import java.net.Socket;
import java.net.http.HttpClient;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** serve.java as a process: SIGTERM and SIGINT stop it gracefully; a second signal stops it at once. */
class StopTest {

    /** Fires n calls: half sendSock (the connection is held until the answer), half sendCURL answered 202. */
    private static void fire(ServeProcess server, int n) throws Exception {
        try (HttpClient client = HttpClient.newHttpClient()) {
            for (int i = 0; i < n; i++) {
                Map<String, String> data = Map.of("id", "call" + i);
                if (i % 2 == 0) {
                    Send.sendSock("POST", server.url("/res.php"), data, null);
                } else {
                    assertEquals(202, Send.sendCURL(client, "GET", server.url("/res.php"), data, Duration.ofSeconds(5),
                        "Prefer", "respond-async").statusCode());
                }
            }
        }
        server.calls.awaitAccepted(n, Duration.ofSeconds(20));
    }

    /** Waits until a new connection is refused: the listener is closed at the start of a stop. */
    private static void awaitRefused(int port) throws IOException {
        long deadline = System.nanoTime() + 5_000_000_000L;
        while (true) {
            try (Socket s = new Socket("127.0.0.1", port)) {
                assertTrue(System.nanoTime() < deadline, "still accepting connections 5 s after the signal");
            } catch (ConnectException refused) {
                return;
            }
            LockSupport.parkNanos(20_000_000L);
        }
    }

    @Test
    void sigtermLets50CallsInProgressFinishThenExits0() throws Exception {
        try (ServeProcess server = new ServeProcess("", "127.0.0.1:0", "--sleep", "2")) {
            fire(server, 50);
            long signalled = System.nanoTime();
            server.signal("TERM");
            server.log.await("Stopping \\(SIGTERM\\): no new calls; 50 calls still working, waiting up to 30\\.0 s", Duration.ofSeconds(5));
            awaitRefused(server.port);
            server.log.await("Stopped after [\\d.]+ s: every call finished$", Duration.ofSeconds(20));
            assertEquals(0, server.awaitExit(Duration.ofSeconds(10)));
            // Each call's work, once, with its data.
            assertEquals(50, server.calls.done().size());
            for (int i = 0; i < 50; i++) assertEquals(1, server.calls.count(Recorder.workedWith("            [id] => call" + i)), "call" + i);
            System.out.printf("     graceful stop: 50 calls finished, exit 0, %.1f s after SIGTERM%n", (System.nanoTime() - signalled) / 1e9);
        }
    }

    @Test
    void sighupNeverStopsServeNorLosesACall() throws Exception {
        try (ServeProcess server = new ServeProcess("", "127.0.0.1:0", "--sleep", "1")) {
            fire(server, 10);
            server.signal("HUP");
            server.log.await("SIGHUP: nothing to reload .*; serving on$", Duration.ofSeconds(10));
            assertTrue(server.process.isAlive(), "serve is still running");
            server.calls.await(d -> d.note() == null, 10, Duration.ofSeconds(20));
            assertEquals(200, Support.status(Support.raw(server.port, "GET /res.php?after=hup HTTP/1.0\r\n\r\n")));
        }
    }

    @Test
    void sigintStopsTheSameWayAndGraceBoundsTheWait() throws Exception {
        try (ServeProcess server = new ServeProcess("", "127.0.0.1:0", "--sleep", "30", "--grace", "1")) {
            fire(server, 4);
            server.signal("INT");
            server.log.await("Stopping \\(SIGINT\\): no new calls; 4 calls still working, waiting up to 1\\.0 s", Duration.ofSeconds(5));
            server.log.await("Stopped after [\\d.]+ s: 4 calls abandoned$", Duration.ofSeconds(10));
            assertTrue(server.process.waitFor(10, TimeUnit.SECONDS));
            assertEquals(1, server.process.exitValue());
        }
    }

    @Test
    void aSecondSignalStopsAtOnceAndSaysHowManyWereAbandoned() throws Exception {
        try (ServeProcess server = new ServeProcess("", "127.0.0.1:0", "--sleep", "30")) {
            fire(server, 6);
            server.signal("TERM");
            server.log.await("Stopping \\(SIGTERM\\)", Duration.ofSeconds(5));
            server.signal("INT");
            server.log.await("Stopping at once \\(a second signal, SIGINT\\): 6 calls abandoned$", Duration.ofSeconds(5));
            assertTrue(server.process.waitFor(10, TimeUnit.SECONDS));
            assertEquals(130, server.process.exitValue());
        }
    }
}
