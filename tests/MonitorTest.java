import call.Done;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.OptionalInt;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Every 202 names its call's monitor: queued, working, done or failed, as JSON, with the token when there is one. */
class MonitorTest {
    private static String get(TestServer server, String target, String... headers) throws Exception {
        return Support.raw(server.port(), "GET " + target + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n" + String.join("", headers) + "\r\n");
    }

    private static String monitor(String accepted) {
        Matcher m = Pattern.compile("(?i)\r\nlocation: (/calls/[0-9a-f]{32})\r\n").matcher(accepted);
        assertTrue(m.find(), accepted);
        return m.group(1);
    }

    @Test
    void anIdBeginsWithItsCallsArrivalSoThatIdsSortByTime() throws Exception {
        try (TestServer server = new TestServer("--sleep", "0")) {
            long before = System.currentTimeMillis();
            String first = monitor(get(server, "/res.php?n=1", "Prefer: respond-async\r\n")).substring("/calls/".length());
            String second = monitor(get(server, "/res.php?n=2", "Prefer: respond-async\r\n")).substring("/calls/".length());
            long after = System.currentTimeMillis();
            long arrived = Long.parseLong(first.substring(0, 12), 16);
            assertTrue(arrived >= before && arrived <= after, first + " at " + before + ".." + after);
            assertTrue(first.substring(0, 12).compareTo(second.substring(0, 12)) <= 0, first + " then " + second);
            assertNotEquals(first.substring(12), second.substring(12));
        }
    }

    @Test
    void aCallGoesFromQueuedToWorkingToDoneAndItsMonitorSaysSo() throws Exception {
        try (TestServer server = new TestServer("--sleep", "1", "--workers", "1")) {
            String first = monitor(get(server, "/res.php?n=1", "Prefer: respond-async\r\n"));
            String second = monitor(get(server, "/res.php?n=2", "Prefer: respond-async\r\n"));
            server.calls.awaitAccepted(2, Duration.ofSeconds(5));
            String queued = get(server, second);
            assertEquals(200, Support.status(queued), queued);
            assertTrue(queued.toLowerCase(Locale.ROOT).contains("\r\ncontent-type: application/json\r\n"), queued);
            assertTrue(queued.toLowerCase(Locale.ROOT).contains("\r\nretry-after: 1\r\n"), queued);
            assertTrue(Support.body(queued).contains("\"state\":\"queued\"") || Support.body(queued).contains("\"state\":\"working\""), queued);
            server.calls.await(d -> d.call().uri().toString().endsWith("n=2"), Duration.ofSeconds(10));
            String done = get(server, second);
            String body = Support.body(done);
            assertTrue(body.matches("\\{\"id\":\"[0-9a-f]{32}\",\"method\":\"GET\",\"uri\":\"/res\\.php\\?n=2\",\"key\":null,\"state\":\"done\",\"accepted\":\"[^\"]+Z\",\"started\":\"[^\"]+Z\",\"finished\":\"[^\"]+Z\","
                + "\"status\":200,\"answer\":\"Array\\\\n\\(\\\\n    \\[method\\] => GET\\\\n.*\",\"answer_bytes\":\\d+,"
                + "\"attempts\":1,\"next\":null,\"group\":null,\"tries\":\\[\\{\"attempt\":1,\"started\":\"[^\"]+Z\",\"finished\":\"[^\"]+Z\",\"status\":200}]}\n"), body);
            assertTrue(body.contains("[n] => 2\\n"), body);
            assertTrue(!done.toLowerCase(Locale.ROOT).contains("retry-after"), done);
            assertEquals(200, Support.status(get(server, first)));
            assertEquals(404, Support.status(get(server, "/calls/0123456789abcdef0123456789abcdef")));
            assertEquals(404, Support.status(get(server, "/calls/../res.php")));
        }
    }

    @Test
    void aFailedCommandsMonitorSaysFailedWithItsExitAndWithATokenTheMonitorNeedsIt() throws Exception {
        try (TestServer server = new TestServer("--run", "echo nope >&2; exit 4", "--attempts", "1")) {
            String location = monitor(get(server, "/res.php", "Prefer: respond-async\r\n"));
            server.calls.await(d -> d.exit().equals(OptionalInt.of(4)), Duration.ofSeconds(10));
            String body = Support.body(get(server, location));
            assertTrue(body.contains("\"state\":\"failed\"") && body.contains("\"status\":500,\"exit\":4,") && body.contains("\"note\":\"exit 4: nope\""), body);
        }
        java.nio.file.Path token = java.nio.file.Files.createTempFile("asynccall-token", "");
        java.nio.file.Files.writeString(token, "t0ken");
        try (TestServer server = new TestServer("--sleep", "0", "--token-file", token.toString())) {
            String location = monitor(get(server, "/res.php", "Prefer: respond-async\r\n", "Authorization: Bearer t0ken\r\n"));
            server.calls.await(d -> d.note() == null, Duration.ofSeconds(5));
            assertEquals(401, Support.status(get(server, location)));
            assertEquals(200, Support.status(get(server, location, "Authorization: Bearer t0ken\r\n")));
        } finally {
            java.nio.file.Files.deleteIfExists(token);
        }
    }

    @Test
    void aFinishedCallIsKeptForKeepSeconds() throws Exception {
        try (TestServer server = new TestServer("--sleep", "0", "--keep", "0.2")) {
            String location = monitor(get(server, "/res.php?k=1", "Prefer: respond-async\r\n"));
            Done done = server.calls.await(d -> d.note() == null, Duration.ofSeconds(5));
            long finished = server.calls.when(done);
            // Polled until forgotten: a finished call stays 0.2 s, then its monitor is 404.
            while (Support.status(get(server, location)) == 200) {
                assertTrue(System.nanoTime() - finished < 5_000_000_000L, "still kept after 5 s");
                java.util.concurrent.locks.LockSupport.parkNanos(20_000_000L);
            }
            assertTrue(System.nanoTime() - finished >= 150_000_000L, "forgotten too early");
        }
    }

    @Test
    void aMonitorIsReadWithHeadTooItsHeadersWithoutABody() throws Exception {
        try (TestServer server = new TestServer("--sleep", "0")) {
            String location = monitor(get(server, "/res.php?h=1", "Prefer: respond-async\r\n"));
            server.calls.await(d -> d.note() == null, Duration.ofSeconds(5));
            String head = Support.raw(server.port(), "HEAD " + location + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
            assertEquals(200, Support.status(head), head);
            assertTrue(head.toLowerCase(Locale.ROOT).contains("\r\ncontent-type: application/json\r\n"), head);
            assertEquals("", Support.body(head));
            String none = Support.raw(server.port(), "HEAD /calls/" + "0".repeat(32) + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
            assertEquals(404, Support.status(none), none);
            assertEquals("", Support.body(none));
        }
    }
}
