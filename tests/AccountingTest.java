import call.Call;
import call.Done;
import call.Listener;

import org.junit.jupiter.api.Test;

import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The count of calls working cannot break: not by a header a caller chooses, not by a listener that
 * fails, not by a request that is never finished; so a graceful stop waits for real work only.
 */
class AccountingTest {

    @Test
    void aListenerThatThrowsIsReportedAndNeitherTheCallNorTheCountIsBroken() throws Exception {
        try (TestServer server = new TestServer("--sleep", "0")) {
            server.server.listeners.add(new Listener() {
                @Override
                public void accepted(Call call) {
                    throw new IllegalStateException("broken on arrival");
                }

                @Override
                public void done(Done done) {
                    throw new IllegalStateException("broken at the end");
                }
            });
            for (String prefer : new String[] {"", "Prefer: respond-async\r\n"}) {
                String answer = Support.raw(server.port(), "GET /res.php?n=1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n" + prefer + "\r\n");
                assertEquals(prefer.isEmpty() ? 200 : 202, Support.status(answer), answer);
            }
            server.calls.await(d -> d.note() == null, 2, Duration.ofSeconds(5));
            server.log.await("A listener failed \\(AccountingTest\\$1\\): java\\.lang\\.IllegalStateException: broken at the end$", Duration.ofSeconds(5));
            assertEquals(0, server.server.endpoint.awaitIdle(System.nanoTime() + 5_000_000_000L), "no call left counted");
        }
    }

    @Test
    void aPageLikeIdempotencyKeyAndAHalfSentRequestDoNotHoldAGracefulStop() throws Exception {
        try (ServeProcess server = new ServeProcess("", "127.0.0.1:0", "--sleep", "0", "--grace", "20");
             Socket half = new Socket("127.0.0.1", server.port)) {
            for (String key : new String[] {"page-x", "page-", "page-0123456789abcdef-curl-get"}) {
                String answer = Support.raw(server.port, "POST /res.php HTTP/1.1\r\nHost: x\r\nConnection: close\r\nIdempotency-Key: " + key
                    + "\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 3\r\n\r\na=1");
                assertEquals(200, Support.status(answer), answer);
            }
            server.calls.await(d -> d.note() == null, 3, Duration.ofSeconds(5));
            half.getOutputStream().write(("POST /res.php?half=1 HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\na=1").getBytes(StandardCharsets.ISO_8859_1));
            server.log.await("Accepted$", 4, Duration.ofSeconds(5));
            long signalled = System.nanoTime();
            server.signal("TERM");
            server.log.await("Stopping \\(SIGTERM\\): no new calls; no call is working$", Duration.ofSeconds(5));
            assertEquals(0, server.awaitExit(Duration.ofSeconds(15)));
            long ms = (System.nanoTime() - signalled) / 1_000_000;
            assertTrue(ms < 10_000, "the stop took " + ms + " ms of its 20 s grace");
            assertEquals(1, server.log.count("Stopped after [\\d.]+ s$"), String.join("\n", server.log.texts()));
        }
    }
}
