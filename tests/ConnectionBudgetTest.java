import caller.Send;
import server.ConnectionBudget;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.http.HttpClient;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * More connections of one kind than serve's heap or descriptors hold (idle kept-alive, silent, or sending their
 * request slowly), then 10,000 fire-and-forget calls: serve keeps within its heap, every call it read is
 * worked, an ordinary call is answered 202, and the connections it closed for others are counted.
 */
class ConnectionBudgetTest {
    static final int BURST = 10_000;

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"idle", "silent", "slow"})
    void moreConnectionsThanTheBudgetBesideABurstLeaveServeServing(String kind) throws Exception {
        long heap = Long.parseLong(ServeProcess.JAVA_OPTIONS.replaceAll(".*-Xmx(\\d+)m.*", "$1")) << 20;
        int budget = ConnectionBudget.budget(heap, false);
        // Silent connections cost the heap little: what they run out of is descriptors, 4,096 here.
        int held = kind.equals("silent") ? 4096 + 1000 : budget + 1000;
        String reason = Map.of("idle", "idle connection", "silent", "silent connection", "slow", "slow request").get(kind);
        try (ServeProcess server = new ServeProcess(kind.equals("silent") ? "ulimit -n 4096;" : "", "127.0.0.1:0", "--sleep", "0")) {
            List<Socket> sockets = new ArrayList<>();
            try {
                for (int i = 0; i < held; i++) sockets.add(open(kind, server.port));
                int lost = burst(server);
                assertEquals(202, ordinaryCall(server));
                assertTrue(server.process.isAlive());
                double rss = server.peakRssMiB();
                server.signal("TERM");
                assertEquals(0, server.awaitExit(Duration.ofSeconds(60)), String.join("\n", server.log.texts()));
                assertEquals(0, server.log.count("OutOfMemoryError"), String.join("\n", server.log.texts()));
                // Every call read was worked: an accepted call has its end, and each ended worked (200, or 202 for respond-async).
                int accepted = server.calls.accepted().size();
                String ends = server.calls.done().stream().collect(java.util.stream.Collectors.groupingBy(
                    d -> d.status() + " " + d.note(), java.util.stream.Collectors.counting())).toString();
                assertEquals(accepted, server.calls.done().size(), ends);
                assertEquals(accepted, server.calls.count(d -> (d.status() == 200 || d.status() == 202) && d.note() == null), ends);
                int closed = server.calls.refused(reason);
                // Idle and slow ones past the budget are closed for others; silent ones past the descriptor limit are
                // closed unread by the JDK (uncounted: it says nothing), and near it the oldest are closed for others.
                assertTrue(closed >= (kind.equals("silent") ? 1 : 1000), "closed " + closed + " " + reason + "s");
                assertTrue(accepted - 1 + lost <= BURST, accepted + " + " + lost);
                System.out.printf("     %s: %d held beside %d calls: %d worked, %d not sent; %d closed for others; peak RSS %.0f MiB%n",
                    kind, held, BURST, accepted - 1, lost, closed, rss);
            } finally {
                for (Socket s : sockets) s.close();
            }
        }
    }

    /**
     * More requests than the budget whose callers wait for the work (20 s, holding their turns): those past it wait,
     * and after 10 s their heads are read and answered 503 with Retry-After, before the JDK's request timer (30 s)
     * would close them unanswered. A small heap (32 MiB) makes the budget small.
     */
    @org.junit.jupiter.api.Test
    void requestsThatWaitTooLongForATurnAreAnswered503() throws Exception {
        int budget = ConnectionBudget.budget(32L << 20, false), over = 30;
        String launcher = ServeProcess.LAUNCHER.replace(" serve.java", " -Xmx32m serve.java");
        try (ServeProcess server = new ServeProcess(launcher, "", Map.of(), "127.0.0.1:0", "--sleep", "20");
             ExecutorService callers = Executors.newVirtualThreadPerTaskExecutor()) {
            List<Future<String>> answers = new ArrayList<>();
            for (int i = 0; i < budget + over; i++) {
                String request = "GET /res.php?n=" + i + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
                answers.add(callers.submit(() -> {
                    try (Socket s = new Socket("127.0.0.1", server.port)) {
                        s.setSoTimeout(60_000); // the answers come after the 20 s of work (Support.raw waits 20 s at most)
                        s.getOutputStream().write(request.getBytes(StandardCharsets.ISO_8859_1));
                        return new String(s.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
                    }
                }));
            }
            Map<Integer, Integer> statuses = new java.util.TreeMap<>();
            for (Future<String> a : answers) {
                String answer = a.get(60, java.util.concurrent.TimeUnit.SECONDS);
                statuses.merge(answer.startsWith("HTTP/1.1 ") ? Support.status(answer) : 0, 1, Integer::sum);
                if (answer.startsWith("HTTP/1.1 503")) assertTrue(answer.toLowerCase(java.util.Locale.ROOT).contains("\r\nretry-after: 5\r\n"), answer);
            }
            assertEquals(Map.of(200, budget, 503, over), statuses);
            server.log.await("Requests answered 503 in the last second after waiting 10 s for a turn: \\d+ \\(" + budget + " requests are read at once",
                Duration.ofSeconds(5));
            long deadline = System.nanoTime() + 5_000_000_000L;
            while (server.calls.refused("no turn") < over) {
                assertTrue(System.nanoTime() < deadline, "refusals counted in the events: " + server.calls.refused("no turn"));
                Thread.sleep(50); // the count comes with the next second's report
            }
        }
    }

    /**
     * An ordinary call's status. At the descriptor limit a new connection may be closed unread until the oldest
     * silent ones are closed: a caller then tries again, as here, within a deadline.
     */
    private static int ordinaryCall(ServeProcess server) throws Exception {
        long deadline = System.nanoTime() + 30_000_000_000L;
        try (HttpClient client = HttpClient.newHttpClient()) {
            while (true) {
                try {
                    return Send.sendCURL(client, "GET", server.url("/res.php?ordinary=1"), Map.of(), Duration.ofSeconds(30),
                        "Prefer", "respond-async").statusCode();
                } catch (java.io.IOException closedAtTheLimit) {
                    if (System.nanoTime() > deadline) throw closedAtTheLimit;
                }
            }
        }
    }

    /** A connection of a kind: idle after one answered request, silent, or slow (half its request head sent). */
    private static Socket open(String kind, int port) throws Exception {
        Socket s = new Socket("127.0.0.1", port);
        OutputStream out = s.getOutputStream();
        switch (kind) {
            case "idle" -> {
                out.write("GET /nope HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                readAnswer(s);
            }
            case "slow" -> out.write("POST /res.php HTTP/1.1\r\nHost: x\r\n".getBytes(StandardCharsets.US_ASCII));
            default -> { }
        }
        return s;
    }

    /** Reads one answer with a Content-Length (or up to the close, when the server closed it past its budget). */
    private static void readAnswer(Socket s) throws Exception {
        s.setSoTimeout(10_000);
        InputStream in = s.getInputStream();
        StringBuilder head = new StringBuilder();
        while (head.indexOf("\r\n\r\n") < 0) {
            int b = in.read();
            if (b < 0) return;
            head.append((char) b);
        }
        int length = Integer.parseInt(head.toString().replaceAll("(?is).*content-length: *(\\d+).*", "$1"));
        in.readNBytes(length);
    }

    /** BURST sendSock calls from 4 threads; returns how many could not be sent. */
    private static int burst(ServeProcess server) throws Exception {
        AtomicInteger next = new AtomicInteger(), failed = new AtomicInteger();
        try (ExecutorService senders = Executors.newFixedThreadPool(4)) {
            List<Future<?>> done = new ArrayList<>();
            for (int t = 0; t < 4; t++) {
                done.add(senders.submit(() -> {
                    for (int i; (i = next.getAndIncrement()) < BURST; ) {
                        try {
                            Send.sendSock("GET", server.url("/res.php"), Map.of("id", "b" + i), null);
                        } catch (java.io.IOException closedAtOnce) {
                            failed.incrementAndGet();
                        }
                    }
                }));
            }
            for (Future<?> f : done) f.get();
        }
        return failed.get();
    }
}
