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
        bad(Support.run(test::start, "--url", "ftp://x/"), "invalid value given for --url: ftp://x/ (an http:// URL)");
        bad(Support.run(test::start, "--timeout", "0"), "invalid value given for --timeout: 0");
        bad(Support.run(test::start, "--timeout", "1s"), "invalid value given for --timeout: 1s");
        Support.Run help = Support.run(test::start, "-h");
        assertEquals(0, help.status());
        assertTrue(help.out().startsWith("Usage: test [--url URL] [--wait] [--timeout MS]"), help.out());
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
