import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every bad input gets a defined answer (a status and/or a log line), and the next normal call is
 * served. One test per case; README's "Bad input" table lists the same answers.
 */
class BadInputTest {
    static TestServer server;
    static int normal;

    @BeforeAll
    static void start() throws Exception {
        server = new TestServer("--sleep", "0", "-v");
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    /** A normal call right after: answered 202 at once, and its work done and logged. */
    private static void thenANormalCallIsServed() throws Exception {
        String id = "normal" + (++normal);
        String answer = Support.raw(server.port(), "GET /res.php?after=" + id + " HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            + "Connection: close\r\nPrefer: respond-async\r\n\r\n");
        assertEquals(202, Support.status(answer), answer);
        server.calls.await(Recorder.ended(202, "GET", "/res\\.php\\?after=" + id), Duration.ofSeconds(5));
        server.log.await("\\[202\\]: GET /res\\.php\\?after=" + id + "\n", Duration.ofSeconds(5));
        assertNoRawControlCharacters();
    }

    private static void assertNoRawControlCharacters() {
        for (String entry : server.log.texts()) {
            assertFalse(entry.chars().anyMatch(c -> c != '\n' && Character.isISOControl(c)), entry);
        }
    }

    private static String post(String type, String body) {
        return "POST /res.php HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Type: " + type
            + "\r\nContent-Length: " + body.length() + "\r\n\r\n" + body;
    }

    @Test
    void aMalformedRequestLineIs400AndLogged() throws Exception {
        String answer = Support.raw(server.port(), "GET\r\nHost: x\r\n\r\n");
        assertEquals(400, Support.status(answer), answer);
        server.log.await("Invalid request \\(.*\\[400 +Bad Request\\]", Duration.ofSeconds(5));
        thenANormalCallIsServed();
    }

    @Test
    void aLowercaseOrUnknownMethodIs501() throws Exception {
        for (String method : List.of("post", "FOO")) {
            String answer = Support.raw(server.port(), method + " /res.php?m=1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
            assertEquals(501, Support.status(answer), answer);
            server.log.await("\\[501\\]: " + method + " /res\\.php\\?m=1 - Not Implemented: the method " + method, Duration.ofSeconds(5));
        }
        thenANormalCallIsServed();
    }

    @Test
    void invalidPercentEscapesAre400InTheRequestLineAndKeptAsPhpDoesInABody() throws Exception {
        String answer = Support.raw(server.port(), "GET /res.php?b=%41%2 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        assertEquals(400, Support.status(answer), answer);
        server.log.await("Invalid request \\(GET /res\\.php\\?b=%41%2 HTTP/1\\.1 \\[400 +Bad Request\\] \\(URISyntaxException thrown\\)\\)", Duration.ofSeconds(5));
        String body = Support.body(Support.raw(server.port(), post("application/x-www-form-urlencoded", "b=%41%2&c=%zz")));
        assertTrue(body.contains("[b] => A%2\n") && body.contains("[c] => %zz\n"), body);
        thenANormalCallIsServed();
    }

    @Test
    void invalidUtf8AndNulBytesAreKeptInTheAnswerAndEscapedInTheLog() throws Exception {
        String answer = Support.raw(server.port(), post("application/x-www-form-urlencoded", "k%FF%00cut=v%00%FF%1B%5B2J&n=%0A%5BWed%5D"));
        assertEquals(200, Support.status(answer), answer);
        String body = Support.body(answer);
        assertTrue(body.contains("[k\u00ff] => v\u0000\u00ff\u001b[2J\n"), body); // PHP's bytes: the name ends at NUL
        String logged = server.log.await("\\[200\\]: POST /res\\.php\n.*\\[n\\]", Duration.ofSeconds(5)).text();
        assertTrue(logged.contains("[k\\xFF] => v\\x00\\xFF\\x1B[2J"), logged);
        assertTrue(logged.lines().skip(1).noneMatch(l -> l.startsWith("[")), "a line break in a value cannot start a log line: " + logged);
        thenANormalCallIsServed();
    }

    @Test
    void aRequestLineEndingWithLfAloneIs400OnAConnectionsFirstRequestOrALaterOne() throws Exception {
        String answer = Support.raw(server.port(), "GET /res.php?lf=1 HTTP/1.1\nHost: x\n\n");
        assertEquals(400, Support.status(answer), answer);
        assertTrue(answer.contains("\r\nConnection: close\r\n"), answer);
        assertEquals("Bad Request: the request line ends with LF alone; HTTP/1.1 needs CRLF\n", Support.body(answer));
        server.log.await("Invalid request \\(a request line ending with LF alone, not CRLF\\): answered 400 and closed$", Duration.ofSeconds(5));
        String twice = Support.raw(server.port(), "GET /res.php?lf=2 HTTP/1.1\r\nHost: x\r\n\r\nGET /res.php?lf=3 HTTP/1.1\nHost: x\n\n");
        assertTrue(twice.startsWith("HTTP/1.1 200 ") && twice.contains("[lf] => 2") && twice.contains("\nHTTP/1.1 400 Bad Request\r\n"), twice);
        thenANormalCallIsServed();
    }

    @Test
    void headerLinesEndingWithLfAloneAreReadAsTheJdkReadsThemEvenWhenTheyComeSlowly() throws Exception {
        try (Socket s = new Socket("127.0.0.1", server.port())) {
            s.setSoTimeout(10_000);
            // A slow sender: each pause is longer than the server waits before it looks at a request still coming.
            for (String part : List.of("GET /res.php?slowlf=1 HTTP/1.1\r\nHost: x\r\n", "X-A: 1\n", "Connection: close\n\n")) {
                s.getOutputStream().write(part.getBytes(StandardCharsets.ISO_8859_1));
                s.getOutputStream().flush();
                Thread.sleep(600);
            }
            String answer = new String(s.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
            assertEquals(200, Support.status(answer), answer);
        }
        thenANormalCallIsServed();
    }

    @Test
    void aBodyOver8MiBIs413WithoutBeingRead() throws Exception {
        try (Socket s = new Socket("127.0.0.1", server.port())) {
            s.setSoTimeout(10_000);
            s.getOutputStream().write(("POST /res.php HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n"
                + "Content-Length: " + (8 * 1024 * 1024 + 1) + "\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
            InputStream in = s.getInputStream();
            assertEquals("HTTP/1.1 413", new String(in.readNBytes(12), StandardCharsets.ISO_8859_1));
            in.readAllBytes(); // and the server closes the connection: it does not wait for the 8 MiB
        }
        server.log.await("\\[413\\]: POST /res\\.php - Payload Too Large: the limit is 8388608 bytes$", Duration.ofSeconds(5));
        String exactly8MiB = "a=" + "x".repeat(8 * 1024 * 1024 - 2);
        assertEquals(200, Support.status(Support.raw(server.port(), post("application/x-www-form-urlencoded", exactly8MiB))));
        thenANormalCallIsServed();
    }

    @Test
    void aBodyShorterThanItsContentLengthThenAHangUpIs400InTheLog() throws Exception {
        try (Socket s = new Socket("127.0.0.1", server.port())) {
            s.getOutputStream().write(("POST /res.php?short=1 HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n"
                + "Content-Length: 100\r\n\r\na=1").getBytes(StandardCharsets.ISO_8859_1));
            server.log.await("Accepted$", Duration.ofSeconds(5));
        }
        server.log.await("\\[400\\]: POST /res\\.php\\?short=1 - Bad Request: the body ended before its Content-Length", Duration.ofSeconds(5));
        thenANormalCallIsServed();
    }

    @Test
    void conflictingContentLengthsAre400AndLogged() throws Exception {
        String answer = Support.raw(server.port(), "POST /res.php HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\na=1");
        assertEquals(400, Support.status(answer), answer);
        server.log.await("Invalid request \\(POST /res\\.php HTTP/1\\.1 \\[400 +Bad Request\\] \\(Conflicting", Duration.ofSeconds(5));
        thenANormalCallIsServed();
    }

    @Test
    void aContentLengthOtherThanDigitsIs400() throws Exception {
        for (String length : List.of("+0", "+3", "0x3", "3 3")) {
            String answer = Support.raw(server.port(), "POST /res.php?length=" + length.replace(' ', '_') + " HTTP/1.1\r\nHost: x\r\n"
                + "Content-Length: " + length + "\r\n\r\na=1");
            assertEquals(400, Support.status(answer), length + ": " + answer);
        }
        server.log.await("\\[400\\]: POST /res\\.php\\?length=\\+0 - Bad Request: a Content-Length is digits only$", Duration.ofSeconds(5));
        thenANormalCallIsServed();
    }

    /** The JDK's reader of chunks takes no space before an extension nor trailers: the refusal says so, not "ended before its Content-Length". */
    @Test
    void aChunkExtensionOrATrailerIsRefusedForWhatItIs() throws Exception {
        for (String chunks : List.of("3 ;x=1\r\na=1\r\n0\r\n\r\n", "3\r\na=1\r\n0\r\nX-Trailer: 1\r\n\r\n")) {
            String answer = Support.raw(server.port(), "POST /res.php?chunks HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                + "Content-Type: application/x-www-form-urlencoded\r\nTransfer-Encoding: chunked\r\n\r\n" + chunks);
            assertEquals(400, Support.status(answer), answer);
            assertTrue(Support.body(answer).startsWith("Bad Request: the chunked body could not be read"), answer);
        }
        thenANormalCallIsServed();
    }

    @Test
    void aChunkedBodyIsReadAndAnOversizedOneIs413() throws Exception {
        String chunked = "POST /res.php HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: application/x-www-form-urlencoded\r\n"
            + "Transfer-Encoding: chunked\r\n\r\n4\r\na=1&\r\n3\r\nb=2\r\n0\r\n\r\n";
        String body = Support.body(Support.raw(server.port(), chunked));
        assertTrue(body.contains("[a] => 1\n") && body.contains("[b] => 2\n"), body);
        try (Socket s = new Socket("127.0.0.1", server.port())) {
            s.setSoTimeout(10_000);
            s.getOutputStream().write(("POST /res.php?chunked=big HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n")
                .getBytes(StandardCharsets.ISO_8859_1));
            byte[] chunk = ("100000\r\n" + "x".repeat(0x100000) + "\r\n").getBytes(StandardCharsets.ISO_8859_1);
            try {
                for (int i = 0; i < 9; i++) s.getOutputStream().write(chunk);
            } catch (IOException closedByServer) {
                // the server answered 413 after 8 MiB and closed: expected
            }
            assertEquals("HTTP/1.1 413", new String(s.getInputStream().readNBytes(12), StandardCharsets.ISO_8859_1));
        }
        server.log.await("\\[413\\]: POST /res\\.php\\?chunked=big - Payload Too Large", Duration.ofSeconds(5));
        thenANormalCallIsServed();
    }

    @Test
    void twoThousandVariablesKeep1000AndLogOneWarning() throws Exception {
        StringBuilder q = new StringBuilder("many=1");
        for (int i = 1; i < 2000; i++) q.append("&v").append(i).append('=').append(i);
        String body = Support.body(Support.raw(server.port(), "GET /res.php?" + q + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
        assertEquals(1000, body.lines().filter(l -> l.startsWith("            [")).count());
        assertTrue(body.contains("[v999] => 999\n") && !body.contains("[v1000]"), "the first 1000 are kept");
        server.log.await("Warning: Input variables exceeded 1000\\. To increase the limit change max_input_vars in php\\.ini\\.$", Duration.ofSeconds(5));
        assertEquals(1, server.log.count("Input variables exceeded"));
        thenANormalCallIsServed();
    }

    @Test
    void bracketsNested100DeepDropTheVariableAndLogAWarning() throws Exception {
        String deep = "deep" + "[x]".repeat(100) + "=1&kept=2";
        String body = Support.body(Support.raw(server.port(), post("application/x-www-form-urlencoded", deep)));
        assertTrue(body.contains("[kept] => 2\n") && !body.contains("[deep]"), body);
        server.log.await("Warning: Input variable nesting level exceeded 64\\.", Duration.ofSeconds(5));
        thenANormalCallIsServed();
    }

    @Test
    void threeHundredHeadersAre431() throws Exception {
        StringBuilder h = new StringBuilder();
        for (int i = 0; i < 300; i++) h.append("X-H").append(i).append(": v\r\n");
        String answer = Support.raw(server.port(), "GET /res.php?headers=300 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n" + h + "\r\n");
        assertEquals(431, Support.status(answer), answer);
        server.log.await("\\[431\\]: GET /res\\.php\\?headers=300 - Request Header Fields Too Large", Duration.ofSeconds(5));
        thenANormalCallIsServed();
    }

    @Test
    void aOneMiBHeaderIs431() throws Exception {
        String answer = Support.raw(server.port(), "GET /res.php?header=1MiB HTTP/1.1\r\nHost: x\r\nConnection: close\r\nX-Big: "
            + "a".repeat(1024 * 1024) + "\r\n\r\n");
        assertEquals(431, Support.status(answer), answer);
        server.log.await("\\[431\\]: GET /res\\.php\\?header=1MiB - Request Header Fields Too Large", Duration.ofSeconds(5));
        thenANormalCallIsServed();
    }

    @Test
    void binaryGarbageIs400AndLogged() throws Exception {
        StringBuilder garbage = new StringBuilder();
        for (int i = 0; i < 1024; i++) garbage.append((char) ((i * 7919) & 0xff));
        String answer = Support.raw(server.port(), garbage + "\r\n\r\n");
        assertEquals(400, Support.status(answer), answer);
        server.log.await("Invalid request \\(.*\\[400 +Bad Request\\]", Duration.ofSeconds(5));
        thenANormalCallIsServed();
    }

    @Test
    void http11WithoutHostOrWithTwoIs400AndAnUnknownVersionIs505() throws Exception {
        String none = Support.raw(server.port(), "GET /res.php?host=none HTTP/1.1\r\nConnection: close\r\n\r\n");
        assertEquals(400, Support.status(none), none);
        String two = Support.raw(server.port(), "GET /res.php?host=two HTTP/1.1\r\nHost: a\r\nHost: b\r\nConnection: close\r\n\r\n");
        assertEquals(400, Support.status(two), two);
        server.log.await("\\[400\\]: GET /res\\.php\\?host=two - Bad Request: an HTTP/1\\.1 request has exactly one Host header$", Duration.ofSeconds(5));
        String future = Support.raw(server.port(), "GET /res.php?v=9 HTTP/9.9\r\nHost: x\r\nConnection: close\r\n\r\n");
        assertEquals(505, Support.status(future), future);
        server.log.await("\\[505\\]: GET /res\\.php\\?v=9 - HTTP Version Not Supported", Duration.ofSeconds(5));
        String old = Support.raw(server.port(), "GET /res.php?v=10 HTTP/1.0\r\n\r\n");
        assertEquals(200, Support.status(old), old);
        assertEquals(0, server.calls.count(d -> d.call().uri().toString().contains("host=")), "never reached the endpoint");
        thenANormalCallIsServed();
    }

    @Test
    void charactersThatMoveOrHideTextAreEscapedInTheLog() throws Exception {
        String answer = Support.raw(server.port(), post("application/x-www-form-urlencoded", "a=%E2%80%AEb%E2%80%A8c%EF%BB%BFd%E2%81%A6e%EF%BF%B9f"));
        assertEquals(200, Support.status(answer), answer);
        String logged = server.log.await("\\[200\\]: POST /res\\.php\n.*\\[a\\] => ", Duration.ofSeconds(5)).text();
        assertTrue(logged.contains("[a] => \\u{202E}b\\u{2028}c\\u{FEFF}d\\u{2066}e\\u{FFF9}f"), logged);
        thenANormalCallIsServed();
    }

    @Test
    void aRequestPastTheJdksOwnLimitIsLoggedAndOneWithTwoThousandHeadersIs431() throws Exception {
        try (Socket s = new Socket("127.0.0.1", server.port())) {
            s.setSoTimeout(20_000);
            try {
                s.getOutputStream().write(("GET /res.php?" + "a".repeat(4 * 1024 * 1024) + " HTTP/1.1\r\nHost: x\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
            } catch (IOException closedByServer) {
                // the server closed the connection while the line was still coming: expected
            }
        }
        server.log.await("Invalid request \\(request line and headers over 1114112 bytes: closed without an answer\\)$", Duration.ofSeconds(10));
        StringBuilder h = new StringBuilder();
        for (int i = 0; i < 2000; i++) h.append("X-").append(i).append(": v\r\n");
        String answer = Support.raw(server.port(), "GET /res.php?headers=2000 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n" + h + "\r\n");
        assertEquals(431, Support.status(answer), answer);
        thenANormalCallIsServed();
    }

    @Test
    void aNonFormContentTypeLeavesPostEmpty() throws Exception {
        String body = Support.body(Support.raw(server.port(), post("application/json", "{\"a\":1}").replace("POST /res.php", "POST /res.php?q=1")));
        assertEquals("Array\n(\n    [method] => POST\n    [data] => Array\n        (\n            [q] => 1\n        )\n\n)\n", body);
        thenANormalCallIsServed();
    }

    @Test
    void aThousandIdleConnectionsDoNotDelayANormalCall() throws Exception {
        List<Socket> idle = new ArrayList<>();
        try {
            for (int i = 0; i < 1000; i++) idle.add(new Socket("127.0.0.1", server.port()));
            long start = System.nanoTime();
            thenANormalCallIsServed();
            long ms = (System.nanoTime() - start) / 1_000_000;
            assertTrue(ms < 2000, "a normal call took " + ms + " ms beside 1000 idle connections");
        } finally {
            for (Socket s : idle) s.close();
        }
    }

    @Test
    void halfARequestThenAStallIsClosedAtTheRequestTimeoutAndLogged() throws Exception {
        // The suite's servers time out requests after 3 s (tests/main.java); the default is 30 s.
        try (Socket s = new Socket("127.0.0.1", server.port())) {
            s.setSoTimeout(15_000);
            s.getOutputStream().write("GET /res.php?half=1 HTTP/1.1\r\nHost: x\r\nX-Half".getBytes(StandardCharsets.ISO_8859_1));
            long start = System.nanoTime();
            assertEquals(-1, s.getInputStream().read(), "closed without an answer");
            long ms = (System.nanoTime() - start) / 1_000_000;
            assertTrue(ms >= 2500 && ms < 10_000, "closed after " + ms + " ms");
            server.log.await("Invalid request \\(no complete request within the request timeout: 127\\.0\\.0\\.1:" + s.getLocalPort() + " closed\\)", Duration.ofSeconds(5));
        }
        thenANormalCallIsServed();
    }
}
