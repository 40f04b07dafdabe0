import call.Done;

import com.sun.net.httpserver.HttpServer;
import org.junit.jupiter.api.Test;

import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.OptionalInt;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** examples/: real work behind the endpoint, each script run as a user runs it (./jbang examples/X.java). */
class ExamplesTest {

    @Test
    void webhookRelaysEachCallAsJsonAndServeTriesItAgainWithBackoffUntilItIsTaken() throws Exception {
        BlockingQueue<String> received = new LinkedBlockingQueue<>();
        AtomicInteger tries = new AtomicInteger();
        HttpServer hook = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        hook.createContext("/hook", exchange -> {
            try (exchange) {
                String body = new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
                boolean take = tries.incrementAndGet() >= 3; // the first two tries are refused: 503
                if (take) received.add(exchange.getRequestHeaders().getFirst("Content-Type") + " " + body);
                exchange.sendResponseHeaders(take ? 200 : 503, -1);
            }
        });
        hook.start();
        try (ServeProcess relay = new ServeProcess("./jbang examples/webhook.java", "", Map.of(),
                "127.0.0.1:0", "--backoff", "0.2,0.5", "--to", "http://127.0.0.1:" + hook.getAddress().getPort() + "/hook")) {
            String answer = Support.raw(relay.port, "POST /res.php?order=17 HTTP/1.1\r\nHost: x\r\nConnection: close\r\nPrefer: respond-async\r\n"
                + "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 30\r\n\r\nto=ann%40example.com&n%5B%5D=1");
            assertEquals(202, Support.status(answer), answer);
            String got = received.poll(30, TimeUnit.SECONDS);
            assertNotNull(got, "the webhook never came");
            assertEquals("application/json {\"method\":\"POST\",\"data\":{\"order\":\"17\",\"to\":\"ann@example.com\",\"n\":{\"0\":\"1\"}}}", got);
            Done done = relay.calls.await(d -> d.note() == null && d.workStatus().equals(OptionalInt.of(200)), Duration.ofSeconds(10));
            assertTrue(done.answer().matches("relayed to http://127\\.0\\.0\\.1:\\d+/hook: 200 at attempt 3\n"), done.answer());
            assertEquals(3, tries.get());
        } finally {
            hook.stop(0);
        }
    }

    @Test
    void outboxWritesEachCallToAFileAndRefusesACallWithoutAnAddress() throws Exception {
        Path outbox = Files.createTempFile("asynccall-outbox", ".txt");
        try (ServeProcess server = new ServeProcess("./jbang examples/outbox.java", "",
                Map.of("ASYNCCALL_OUTBOX", outbox.toString()), "127.0.0.1:0")) {
            String ok = Support.raw(server.port, "GET /res.php?to=ann%40example.com&subject=Welcome%20%C3%A9 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
            assertEquals(200, Support.status(ok), ok);
            assertEquals("queued for ann@example.com\n", Support.body(ok));
            assertEquals("ann@example.com\tWelcome é\n", Files.readString(outbox));
            String bad = Support.raw(server.port, "GET /res.php?subject=x HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
            assertEquals(500, Support.status(bad), bad);
            server.calls.await(d -> d.workStatus().equals(OptionalInt.of(500)) && d.note().contains("no valid to"), Duration.ofSeconds(5));
        } finally {
            Files.deleteIfExists(outbox);
        }
    }
}
