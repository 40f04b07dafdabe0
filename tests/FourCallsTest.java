import call.Done;

import com.sun.net.httpserver.HttpServer;
import org.junit.jupiter.api.Test;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** test.java's four calls: fired and confirmed at once, delivered with their exact data, and the failures. */
class FourCallsTest {
    /** print_r of the GET call as the -v log shows it: indented under its status line. */
    private static final String PRINTED = "Array\n(\n    [method] => METHOD\n    [data] => Array\n        (\n            [hello] => world!\n        )\n\n)\n";
    private static final String PRINTED_GET = "\n    Array\n    (\n        [method] => GET\n        [data] => Array\n"
        + "            (\n                [hello] => world!\n            )\n    \n    )";

    @Test
    void theFourCallsReturnAtOnceAndAreAllWorkedOnWithTheirData() throws Exception {
        try (TestServer server = new TestServer("--sleep", "5", "-v")) {
            long fired = System.nanoTime();
            Support.Run run = Support.run(test::start, "--url", server.url("/res.php").toString());
            assertEquals(0, run.status(), run.err());
            // Generous bound that proves the shape: the endpoint works 5 s, the caller is back long before.
            assertTrue(run.millis() < 1000, "four calls took " + run.millis() + " ms");
            List<String> lines = run.out().lines().toList();
            assertEquals(5, lines.size(), run.out());
            assertTrue(lines.get(0).matches("sendCURL GET +http://127\\.0\\.0\\.1:\\d+/res\\.php\\?hello=world%21 +[\\d.]+ ms +202 Accepted"), lines.get(0));
            assertTrue(lines.get(1).matches("sendCURL POST +http://127\\.0\\.0\\.1:\\d+/res\\.php +[\\d.]+ ms +202 Accepted"), lines.get(1));
            assertTrue(lines.get(2).matches("sendSock GET +\\S+\\?hello=world%21 +[\\d.]+ ms +sent 14 bytes"), lines.get(2));
            assertTrue(lines.get(3).matches("sendSock POST +\\S+/res\\.php +[\\d.]+ ms +sent 14 bytes"), lines.get(3));
            assertTrue(lines.get(4).matches("4 calls fired in [\\d.]+ ms"), lines.get(4));

            // The work: each call ended once, about 5 s later, with its method and data.
            List<Done> done = server.calls.await(d -> true, 4, Duration.ofSeconds(15));
            for (Done d : done) {
                assertTrue(server.calls.when(d) - fired > 4_000_000_000L, "done before the work was done: " + d);
                assertEquals(PRINTED.replace("METHOD", d.call().method()), d.answer());
            }
            for (String method : List.of("GET", "POST")) {
                for (int status : List.of(200, 202)) {
                    assertEquals(1, done.stream().filter(d -> d.call().method().equals(method) && d.status() == status).count(), method + " " + status);
                }
            }
            // And the log says so as php -S would: one Accepted each, one line each when done, the answer under it (-v).
            assertEquals(1, server.log.count("\\[202\\]: GET /res\\.php\\?hello=world%21" + Pattern.quote(PRINTED_GET) + "$"));
            assertEquals(1, server.log.count("\\[200\\]: GET /res\\.php\\?hello=world%21" + Pattern.quote(PRINTED_GET) + "$"));
            assertEquals(2, server.log.count("\\[20[02]\\]: POST /res\\.php\n.*\\[method\\] => POST"));
            assertEquals(4, server.log.count("^\\[\\w{3} \\w{3} [ \\d]\\d \\d\\d:\\d\\d:\\d\\d \\d{4}\\] 127\\.0\\.0\\.1:\\d+ Accepted$"));
        }
    }

    @Test
    void waitPrintsTheFourAnswersAsTheArticlesCommentedOutCodeWould() throws Exception {
        try (TestServer server = new TestServer("--sleep", "1")) {
            Support.Run run = Support.run(test::start, "--wait", "--url", server.url("/res.php").toString());
            assertEquals(0, run.status(), run.err());
            String out = run.out();
            for (String method : List.of("GET", "POST")) {
                assertTrue(out.contains("CURL Response (" + method + "):\nArray\n(\n    [method] => " + method
                    + "\n    [data] => Array\n        (\n            [hello] => world!\n        )\n\n)\n"), out);
                Matcher sock = Pattern.compile("Sock Response \\(" + method + "\\):\nHTTP/1\\.1 200 OK\r\n.*?\r\n\r\nArray\n\\(\n    \\[method\\] => "
                    + method + "\n", Pattern.DOTALL).matcher(out);
                assertTrue(sock.find(), out);
            }
            // All four at once: about one --sleep, not four.
            assertTrue(run.millis() >= 1000 && run.millis() < 3500, "took " + run.millis() + " ms");
        }
    }

    @Test
    void followPrintsEachAnswerAsItsCallFinishesFromTheMonitorsWithoutHoldingConnections() throws Exception {
        try (TestServer server = new TestServer("--sleep", "1.5")) {
            Support.Run run = Support.run(test::start, "--follow", "--url", server.url("/res.php").toString());
            assertEquals(0, run.status(), run.out() + run.err());
            List<String> lines = run.out().lines().toList();
            for (int i = 0; i < 4; i++) assertTrue(lines.get(i).matches("send(CURL|Sock) (GET |POST) +\\S+ +202 Accepted, monitor /calls/[0-9a-f]{32}"), lines.get(i));
            for (String call : List.of("CURL Response (GET)", "CURL Response (POST)", "Sock Response (GET)", "Sock Response (POST)")) {
                String method = call.contains("GET") ? "GET" : "POST";
                assertTrue(run.out().contains(call + ", done after ") && run.out().contains(PRINTED.replace("METHOD", method)), run.out());
            }
            assertTrue(lines.get(lines.size() - 1).matches("4 answers in \\d+ ms"), run.out());
            assertTrue(run.millis() >= 1500 && run.millis() < 6000, "took " + run.millis() + " ms");
            // Four calls, each answered 202 at once: no connection was held for the work.
            assertEquals(4, server.calls.count(d -> d.status() == 202 && d.note() == null));
        }
        // Against a server that names no monitor (it ignores Prefer), a clear error.
        Support.Run none = Support.run(test::start, "--follow", "--timeout", "2000", "--url", "http://127.0.0.1:" + Support.closedPort() + "/res.php");
        assertEquals(1, none.status());
    }

    /** With a --run command, --follow also prints each line it writes, told by stream, before the answers. */
    @Test
    void followPrintsWhatACommandWritesLineByLine() throws Exception {
        try (TestServer server = new TestServer("--run", "echo \"working on $REQUEST_METHOD\"; echo 'half way' >&2; sleep 0.5; echo done")) {
            Support.Run run = Support.run(test::start, "--follow", "--url", server.url("/res.php").toString());
            assertEquals(0, run.status(), run.out() + run.err());
            List<String> lines = run.out().lines().toList();
            for (String method : List.of("GET ", "POST")) {
                for (String f : List.of("sendCURL", "sendSock")) {
                    int working = lines.indexOf(f + " " + method + " stdout| working on " + method.strip());
                    int done = lines.indexOf(f + " " + method + " stdout| done");
                    assertTrue(working >= 0 && done > working && lines.contains(f + " " + method + " stderr| half way"), run.out());
                }
            }
        }
    }

    @Test
    void againstAServerThatIgnoresPreferTheCurlCallsWaitTheirTimeoutLikeTheArticle() throws Exception {
        CountDownLatch testOver = new CountDownLatch(1);
        HttpServer slow = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        slow.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
        slow.createContext("/", call -> {
            try {
                testOver.await(30, TimeUnit.SECONDS); // works long, answers late, like php -S
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            call.close();
        });
        slow.start();
        try {
            String url = "http://127.0.0.1:" + slow.getAddress().getPort() + "/res.php";
            Support.Run run = Support.run(test::start, "--url", url, "--timeout", "300");
            assertEquals(0, run.status(), run.err());
            List<String> lines = run.out().lines().toList();
            for (int i = 0; i < 2; i++) {
                Matcher m = Pattern.compile(" ([\\d.]+) ms +sent, no answer within 300 ms$").matcher(lines.get(i));
                assertTrue(m.find(), lines.get(i));
                assertTrue(Double.parseDouble(m.group(1)) >= 300, lines.get(i));
            }
            assertTrue(lines.get(2).endsWith("sent 14 bytes") && lines.get(3).endsWith("sent 14 bytes"), run.out());
        } finally {
            testOver.countDown();
            slow.stop(0);
        }
    }

    @Test
    void waitEndsWithinItsTimeoutAgainstAServerThatNeverAnswersOrTricklesForever() throws Exception {
        for (boolean trickle : new boolean[] {false, true}) {
            try (java.net.ServerSocket server = new java.net.ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress())) {
                CountDownLatch over = new CountDownLatch(1);
                Thread.ofVirtual().start(() -> {
                    while (!server.isClosed()) {
                        try {
                            java.net.Socket s = server.accept();
                            Thread.ofVirtual().start(() -> {
                                try (s) {
                                    if (!trickle) {
                                        over.await();
                                        return;
                                    }
                                    s.getOutputStream().write("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n".getBytes());
                                    while (!over.await(50, TimeUnit.MILLISECONDS)) s.getOutputStream().write("1\r\nx\r\n".getBytes());
                                } catch (Exception gone) {
                                    // the caller left
                                }
                            });
                        } catch (java.io.IOException closed) {
                            return;
                        }
                    }
                });
                try {
                    Support.Run run = Support.run(test::start, "--wait", "--timeout", "1500", "--url", "http://127.0.0.1:" + server.getLocalPort() + "/res.php");
                    assertEquals(1, run.status(), run.out());
                    assertTrue(run.err().contains("Error: no whole answer from http://127.0.0.1:" + server.getLocalPort() + "/res.php within 1500 ms (--timeout)"), run.err());
                    assertTrue(run.millis() < 5000, (trickle ? "trickling: " : "silent: ") + "took " + run.millis() + " ms");
                } finally {
                    over.countDown();
                }
            }
        }
    }

    @Test
    void withTheServerDownItSaysConnectionRefusedAndExits1AtOnce() throws Exception {
        int port = Support.closedPort();
        Support.Run run = Support.run(test::start, "--url", "http://127.0.0.1:" + port + "/res.php");
        assertEquals(1, run.status());
        assertTrue(run.err().contains("Error: Connection refused: 127.0.0.1:" + port), run.err());
        assertEquals(4, run.out().lines().filter(l -> l.endsWith("not sent: Connection refused: 127.0.0.1:" + port)).count(), run.out());
        assertTrue(run.millis() < 3000, "took " + run.millis() + " ms");

        Support.Run waiting = Support.run(test::start, "--wait", "--url", "http://127.0.0.1:" + port + "/res.php");
        assertEquals(1, waiting.status());
        assertTrue(waiting.err().contains("Error: Connection refused: 127.0.0.1:" + port), waiting.err());
    }
}
