import caller.Send;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.net.http.HttpClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Only trusted callers when it matters: a shared token, sent by test.java, and no open non-loopback server. */
class TrustTest {
    static Path tokenFile;
    static TestServer server;

    @BeforeAll
    static void start() throws Exception {
        tokenFile = Files.createTempFile("asynccall-token", ".txt");
        Files.writeString(tokenFile, "s3cret-Token_42\n");
        server = new TestServer("--sleep", "0", "--token-file", tokenFile.toString());
    }

    @AfterAll
    static void stop() throws Exception {
        server.close();
        Files.deleteIfExists(tokenFile);
    }

    private static String get(String query, String authorization) throws Exception {
        return Support.raw(server.port(), "GET /res.php?" + query + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
            + (authorization == null ? "" : "Authorization: " + authorization + "\r\n") + "\r\n");
    }

    @Test
    void aCallWithoutTheRightTokenIs401AndLogged() throws Exception {
        for (String[] c : new String[][] {{"none", null}, {"wrong", "Bearer s3cret-Token_41"}, {"longer", "Bearer s3cret-Token_42x"},
                {"basic", "Basic czNjcmV0LVRva2VuXzQy"}, {"empty", "Bearer "}}) {
            String answer = get("t=" + c[0], c[1]);
            assertEquals(401, Support.status(answer), answer);
            assertTrue(answer.toLowerCase().contains("\r\nwww-authenticate: bearer\r\n"), answer);
            server.log.await("\\[401\\]: GET /res\\.php\\?t=" + c[0] + " - Unauthorized", Duration.ofSeconds(5));
        }
        assertEquals(0, server.log.count("\\[200\\]: GET /res\\.php\\?t="), "nothing was worked on");
    }

    @Test
    void aCallWithTheTokenIsServedAndTheFunctionsTakeItAsAHeader() throws Exception {
        assertEquals(200, Support.status(get("t=right", "Bearer s3cret-Token_42")));
        Send.sendSock("POST", server.url("/res.php"), Map.of("t", "sock"), null, "Authorization", "Bearer s3cret-Token_42");
        try (HttpClient client = HttpClient.newHttpClient()) {
            assertEquals(202, Send.sendCURL(client, "GET", server.url("/res.php"), Map.of("t", "curl"), Duration.ofSeconds(5),
                "Prefer", "respond-async", "Authorization", "Bearer s3cret-Token_42").statusCode());
        }
        server.log.await("\\[200\\]: POST /res\\.php$", Duration.ofSeconds(5));
        server.log.await("\\[202\\]: GET /res\\.php\\?t=curl$", Duration.ofSeconds(5));
    }

    @Test
    void thePageNeedsTheTokenToo() throws Exception {
        for (String path : new String[] {"/test.php", "/events?page=0123456789abcdef"}) {
            String answer = Support.raw(server.port(), "GET " + path + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
            assertEquals(401, Support.status(answer), answer);
        }
        String page = Support.raw(server.port(), "GET /test.php HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
            + "Authorization: Bearer s3cret-Token_42\r\n\r\n");
        assertEquals(200, Support.status(page), page);
        server.log.await("\\[20[02]\\]: (GET|POST) /res\\.php", 4, Duration.ofSeconds(5));
    }

    @Test
    void testJavaSendsTheTokenFromTheSameOption() {
        Support.Run with = Support.run(test::start, "--url", server.url("/res.php").toString(), "--token-file", tokenFile.toString());
        assertEquals(0, with.status(), with.out() + with.err());
        assertEquals(2, with.out().lines().filter(l -> l.endsWith("202 Accepted")).count(), with.out());
        Support.Run without = Support.run(test::start, "--url", server.url("/res.php").toString());
        assertEquals(1, without.status());
        assertTrue(without.err().contains("answered 401 Unauthorized"), without.err());
        Support.Run missing = Support.run(test::start, "--token-file", "/nonexistent/token");
        assertEquals(2, missing.status());
        assertTrue(missing.err().startsWith("Error: cannot read --token-file /nonexistent/token: "), missing.err());
    }

    @Test
    void aNonLoopbackAddressNeedsATokenOrInsecure() throws Exception {
        Support.Run open = Support.serveCommand("0.0.0.0:0");
        assertEquals(2, open.status());
        assertTrue(open.err().startsWith("Error: 0.0.0.0 is not a loopback address: give a token (--token-file FILE"
            + " or ASYNCCALL_TOKEN) so that only trusted callers can call, or --insecure to serve anyone\n"), open.err());
        assertDoesNotThrow(() -> serve.Options.parse("0.0.0.0:0", "--insecure").checkAddress());
        assertDoesNotThrow(() -> serve.Options.parse("0.0.0.0:0", "--token-file", tokenFile.toString()).checkAddress());
        assertDoesNotThrow(() -> serve.Options.parse("[::1]:0").checkAddress());
        Files.writeString(tokenFile.resolveSibling("bad-token"), "has space\n");
        try {
            assertThrows(IllegalArgumentException.class,
                () -> serve.Options.parse("--token-file", tokenFile.resolveSibling("bad-token").toString()));
        } finally {
            Files.delete(tokenFile.resolveSibling("bad-token"));
        }
        assertEquals(2, Support.serveCommand("--token-file", "/nonexistent/token").status());
    }
}
