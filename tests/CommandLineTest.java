import org.junit.jupiter.api.Test;

import java.net.ServerSocket;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The three commands' options: help, bad flags (exit 2 and a clear message), and `res` without a server. */
class CommandLineTest {

    private static void bad(Support.Run run, String message) {
        assertEquals(2, run.status(), run.err());
        assertTrue(run.err().startsWith("Error: " + message + "\nUsage: "), run.err());
    }

    @Test
    void testRejectsBadArguments() {
        bad(Support.run(test::start, "--nope"), "unknown option: --nope");
        bad(Support.run(test::start, "--url"), "no value given for --url");
        bad(Support.run(test::start, "--url", "ftp://x/"), "invalid value given for --url: ftp://x/ (an http:// or https:// URL, port 1 to 65535)");
        bad(Support.run(test::start, "--url", "http://127.0.0.1:99999/res.php"), "invalid value given for --url: http://127.0.0.1:99999/res.php (an http:// or https:// URL, port 1 to 65535)");
        Support.Run secret = Support.run(test::start, "--url", "http://ann:s3cret@127.0.0.1:99999/res.php");
        assertTrue(secret.err().startsWith("Error: invalid value given for --url: http://ann:***@127.0.0.1:99999/res.php"), secret.err());
        assertTrue(!secret.err().contains("s3cret"), secret.err());
        bad(Support.run(test::start, "--timeout", "0"), "invalid value given for --timeout: 0");
        bad(Support.run(test::start, "--timeout", "1s"), "invalid value given for --timeout: 1s");
        Support.Run help = Support.run(test::start, "-h");
        assertEquals(0, help.status());
        assertTrue(help.out().startsWith("Usage: test [--url URL] [--wait | --follow] [--timeout MS]"), help.out());
    }

    @Test
    void testSaysWhatHappenedInOneLineAndNeverShowsAPasswordOrAServersEscapes() throws Exception {
        int port = Support.closedPort();
        Support.Run refused = Support.run(test::start, "--url", "http://ann:s3cret@127.0.0.1:" + port + "/res.php");
        assertEquals(1, refused.status());
        assertTrue(refused.out().contains("http://ann:***@127.0.0.1:" + port + "/res.php") && !(refused.out() + refused.err()).contains("s3cret"), refused.out());
        Support.Run unknown = Support.run(test::start, "--url", "http://no-such-host.invalid/res.php");
        assertEquals(1, unknown.status());
        assertTrue(unknown.err().contains("Error: Unknown host: no-such-host.invalid"), unknown.err());
        // A server that answers garbage, then one whose answer holds a terminal escape sequence.
        for (String answer : new String[] {"garbage\r\n\r\n", "HTTP/1.1 200 OK\r\nContent-Length: 9\r\nConnection: close\r\n\r\n\u001b[2Jhi\u202e!"}) {
            try (java.net.ServerSocket server = new java.net.ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress())) {
                Thread.ofVirtual().start(() -> {
                    while (!server.isClosed()) {
                        try (java.net.Socket s = server.accept()) {
                            s.getInputStream().read(new byte[4096]);
                            s.getOutputStream().write(answer.getBytes(java.nio.charset.StandardCharsets.UTF_8));
                        } catch (java.io.IOException closed) {
                            return;
                        }
                    }
                });
                String url = "http://127.0.0.1:" + server.getLocalPort() + "/res.php";
                Support.Run run = Support.run(test::start, answer.startsWith("garbage") ? new String[] {"--url", url} : new String[] {"--url", url, "--wait", "--timeout", "5000"});
                assertTrue((run.out() + run.err()).chars().noneMatch(c -> c == 0x1b || c == 0x202e), run.out() + run.err());
                if (answer.startsWith("garbage")) {
                    assertEquals(1, run.status());
                    assertEquals(2, run.out().lines().filter(l -> l.contains(" sent, but ")).count(), run.out());
                } else {
                    assertTrue(run.out().contains("\\x1B[2Jhi\\u{202E}!"), run.out());
                }
            }
        }
    }

    @Test
    void resTakesOneQueryAndSaysSoWhenGivenTwo() {
        Support.Run two = Support.run(res::start, "a=1", "b=2");
        assertEquals(2, two.status());
        assertTrue(two.err().startsWith("Error: one QUERY only, not b=2 too: join them with & ('a=1&b=2')\nUsage: res"), two.err());
    }

    @Test
    void serveRejectsBadArguments() {
        for (String[] args : new String[][] {{"--nope"}, {"--sleep"}, {"--sleep", "-1"}, {"--sleep", "abc"}, {"--sleep", "NaN"},
                {"--workers", "0"}, {"--workers", "x"}, {"127.0.0.1"}, {"127.0.0.1:99999"}, {":8080"}}) {
            Support.Run run = Support.serveCommand(args);
            assertEquals(2, run.status(), String.join(" ", args) + ": " + run.err());
            assertTrue(run.err().startsWith("Error: ") && run.err().contains("\nUsage: serve"), run.err());
        }
        assertTrue(Support.serveCommand("--sleep", "-1").err().startsWith("Error: invalid value given for --sleep: -1\n"));
        assertTrue(Support.serveCommand("--frobnicate").err().startsWith("Error: unknown option: --frobnicate\n"));
        assertTrue(Support.serveCommand("--workers").err().startsWith("Error: no value given for --workers\n"));
    }

    @Test
    void serveSaysWhenItCannotListen() throws Exception {
        try (ServerSocket taken = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            Support.Run run = Support.serveCommand("127.0.0.1:" + taken.getLocalPort());
            assertEquals(1, run.status());
            assertTrue(run.err().startsWith("Error: cannot listen on 127.0.0.1:" + taken.getLocalPort() + ": "), run.err());
        }
    }

    @Test
    void resPrintsWhatTheEndpointWouldAnswerWithoutAServer() {
        Support.Run get = Support.run(res::start, "a[]=1&b.c=2");
        assertEquals(0, get.status(), get.err());
        assertEquals("Array\n(\n    [method] => GET\n    [data] => Array\n        (\n            [a] => Array\n"
            + "                (\n                    [0] => 1\n                )\n\n            [b_c] => 2\n        )\n\n)\n", get.out());

        Support.Run post = Support.run(res::start, "--method", "POST", "--body", "x=1&y[]=2", "?q=0");
        assertEquals(0, post.status(), post.err());
        assertTrue(post.out().contains("[method] => POST\n    [data] => Array\n        (\n            [q] => 0\n            [x] => 1\n"), post.out());

        Support.Run json = Support.run(res::start, "--method", "POST", "--body", "x=1", "--content-type", "application/json");
        assertTrue(json.out().contains("[data] => Array\n        (\n        )\n"), json.out());

        bad(Support.run(res::start, "--nope"), "unknown option: --nope");
        bad(Support.run(res::start, "--body"), "no value given for --body");
    }
}
