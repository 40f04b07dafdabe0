import call.Done;
import caller.Send;

import org.junit.jupiter.api.Test;

import java.net.http.HttpClient;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Nothing fired is lost: N fire-and-forget calls (sendSock and sendCURL, GET and POST, each with a unique
 * id) from this process to serve.java in another, each worked on exactly once and logged with its exact
 * data; and N calls held in flight at once. N is 2,000 here; ASYNCCALL_LOAD_N=10000 gives README's figures.
 */
class LoadTest {
    static final int N = Integer.parseInt(System.getenv().getOrDefault("ASYNCCALL_LOAD_N", "2000"));
    static final String NOTE = "é ü & = + % ~ 中";
    /** NOTE as the endpoint's byte strings hold it: its UTF-8 bytes, one char each. */
    static final String NOTE_BYTES = new String(NOTE.getBytes(java.nio.charset.StandardCharsets.UTF_8), java.nio.charset.StandardCharsets.ISO_8859_1);
    static final int SENDERS = 4;

    /** Fires call i: sendSock GET, sendSock POST, sendCURL GET, sendCURL POST in turn. */
    private static void fire(HttpClient client, ServeProcess server, int i) throws Exception {
        Map<String, String> data = Map.of("id", "c" + i, "note", NOTE);
        String method = i % 2 == 0 ? "GET" : "POST";
        if (i % 4 < 2) {
            Send.sendSock(method, server.url("/res.php"), data, null);
        } else {
            var answer = Send.sendCURL(client, method, server.url("/res.php"), data, Duration.ofSeconds(5), "Prefer", "respond-async");
            assertEquals(202, answer.statusCode());
        }
    }

    /** Fires calls 0..n-1 from a few threads as fast as they go; returns the fires per second. */
    private static double fireAll(ServeProcess server, int n) throws Exception {
        AtomicInteger next = new AtomicInteger();
        long start = System.nanoTime();
        try (HttpClient client = HttpClient.newHttpClient(); ExecutorService senders = Executors.newFixedThreadPool(SENDERS)) {
            List<Future<Object>> done = new java.util.ArrayList<>();
            for (int t = 0; t < SENDERS; t++) {
                done.add(senders.submit(() -> {
                    for (int i; (i = next.getAndIncrement()) < n; ) fire(client, server, i);
                    return null;
                }));
            }
            for (Future<Object> f : done) f.get();
        }
        return n / ((System.nanoTime() - start) / 1e9);
    }

    @Test
    void everyCallIsWorkedOnExactlyOnceWithItsExactData() throws Exception {
        try (ServeProcess server = new ServeProcess("", "127.0.0.1:0", "--sleep", "0")) {
            double perSecond = fireAll(server, N);
            server.calls.await(d -> d.note() == null, N, Duration.ofSeconds(120));
            double rss = server.peakRssMiB();
            server.signal("TERM");
            assertEquals(0, server.awaitExit(Duration.ofSeconds(30))); // and every end it had is read
            Map<String, Integer> seen = new HashMap<>();
            Pattern id = Pattern.compile("\\[id\\] => (c\\d+)\n");
            for (Done d : server.calls.done()) {
                assertTrue(d.note() == null && (d.status() == 200 || d.status() == 202), d.toString());
                Matcher m = id.matcher(d.answer());
                assertTrue(m.find(), d.answer());
                assertTrue(d.answer().contains("[note] => " + NOTE_BYTES + "\n"), d.answer());
                seen.merge(m.group(1), 1, Integer::sum);
            }
            assertEquals(N, server.calls.done().size(), "no call worked on twice");
            for (int i = 0; i < N; i++) assertEquals(1, seen.getOrDefault("c" + i, 0), "c" + i);
            System.out.printf("     %d calls fired at %.0f/s: %d worked on once each, 0 lost, 0 twice; server peak RSS %.0f MiB%n",
                N, perSecond, seen.size(), rss);
        }
    }

    @Test
    void allCallsAreHeldInFlightAtOnceAndAllFinish() throws Exception {
        int sleep = Math.max(10, N / 400);
        try (ServeProcess server = new ServeProcess("", "127.0.0.1:0", "--sleep", String.valueOf(sleep))) {
            long start = System.nanoTime();
            fireAll(server, N);
            server.calls.awaitAccepted(N, Duration.ofSeconds(sleep));
            double fired = (System.nanoTime() - start) / 1e9;
            assertEquals(0, server.calls.done().size(), "all " + N + " were in flight before any finished");
            double rssInFlight = server.peakRssMiB();
            server.calls.await(d -> d.note() == null, N, Duration.ofSeconds(sleep + 60));
            System.out.printf("     %d calls in flight at once (fired in %.1f s, each working %d s): all finished; server peak RSS %.0f MiB%n",
                N, fired, sleep, Math.max(rssInFlight, server.peakRssMiB()));
        }
    }
}
