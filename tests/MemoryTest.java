import call.Done;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A call holds what it received, not its answer: 100 forms of 1,001 variables nested 63 deep (196 KB
 * each, a 51 MB print_r each) accepted at once and worked together keep serve under 512 MiB, an
 * ordinary call is served beside them, and -v logs 64 KiB of each answer and says how much it left out.
 */
class MemoryTest {
    static final int CALLS = 100;

    static String form() {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < 1001; i++) b.append(i == 0 ? "" : "&").append('v').append(i).append("[x]".repeat(63)).append("=1");
        return b.toString();
    }

    @Test
    void aHundredCallsWithHugeAnswersInFlightStayUnder512MiB() throws Exception {
        String body = form();
        String request = "POST /res.php HTTP/1.1\r\nHost: x\r\nConnection: close\r\nPrefer: respond-async\r\n"
            + "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: " + body.length() + "\r\n\r\n" + body;
        try (ServeProcess server = new ServeProcess("", "127.0.0.1:0", "--sleep", "5", "-v");
             ExecutorService callers = Executors.newFixedThreadPool(8)) {
            List<Future<String>> answers = new ArrayList<>();
            for (int i = 0; i < CALLS; i++) answers.add(callers.submit(() -> Support.raw(server.port, request)));
            for (Future<String> a : answers) assertEquals(202, Support.status(a.get()));
            // An ordinary call beside them, served as usual (--sleep 5 for it too).
            long start = System.nanoTime();
            String ordinary = Support.raw(server.port, "GET /res.php?ordinary=1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
            assertEquals(200, Support.status(ordinary), ordinary);
            assertTrue(Support.body(ordinary).contains("[ordinary] => 1\n"), ordinary);
            assertTrue((System.nanoTime() - start) / 1_000_000 < 20_000, "the ordinary call was held up");
            List<Done> done = server.calls.await(d -> d.status() == 202 && d.note() == null, CALLS, Duration.ofSeconds(120));
            for (Done d : done) {
                assertEquals(51_357_269, d.answerBytes(), "print_r's whole length, as PHP's");
                assertEquals(Done.ANSWER_KEPT, d.answer().length());
            }
            double rss = server.peakRssMiB();
            server.log.await("\\.\\.\\. \\(51291733 more bytes of this answer are not logged\\)$", CALLS, Duration.ofSeconds(10));
            assertTrue(rss < 512, "peak RSS " + rss + " MiB");
            System.out.printf("     %d calls with 51 MB answers in flight: peak RSS %.0f MiB (serve.java's %s)%n", CALLS, rss,
                ServeProcess.JAVA_OPTIONS);
        }
    }
}
