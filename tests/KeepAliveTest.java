import org.junit.jupiter.api.Test;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every request on a kept-alive connection is answered, sent one after another or pipelined, whatever
 * came before it: a GET without Content-Length (as curl, browsers and nginx send it), a HEAD, a 404, a
 * 202, a POST. Only an answer that says "Connection: close" may end the connection.
 */
class KeepAliveTest {
    private static final String HOST = "Host: 127.0.0.1\r\n";
    private static final List<String> REQUESTS = List.of(
        "GET /res.php?a=1 HTTP/1.1\r\n" + HOST + "\r\n",
        "HEAD /res.php?h=1 HTTP/1.1\r\n" + HOST + "\r\n",
        "GET /nope HTTP/1.1\r\n" + HOST + "\r\n",
        "GET /res.php?b=2 HTTP/1.1\r\n" + HOST + "Prefer: respond-async\r\n\r\n",
        "POST /res.php HTTP/1.1\r\n" + HOST + "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 3\r\n\r\nc=3",
        "POST /res.php?e=0 HTTP/1.1\r\n" + HOST + "Content-Length: 0\r\n\r\n",
        "GET /test.php HTTP/1.1\r\n" + HOST + "\r\n",
        "GET /res.php?last=1 HTTP/1.1\r\n" + HOST + "\r\n");
    private static final List<Integer> STATUSES = List.of(200, 200, 404, 202, 200, 200, 200, 200);

    /** One answer read off a connection: its status, headers (lowercased names) and body. */
    record Answer(int status, String head, String body) {
        boolean closes() {
            return head.toLowerCase(Locale.ROOT).contains("\r\nconnection: close\r\n");
        }
    }

    static Answer read(InputStream in, boolean head) throws IOException {
        ByteArrayOutputStream h = new ByteArrayOutputStream();
        for (int c, n = 0; n < 4; ) {
            if ((c = in.read()) < 0) throw new IOException("the connection ended before an answer; so far: " + h);
            h.write(c);
            n = (c == '\r' || c == '\n') ? n + 1 : 0;
        }
        String text = h.toString(StandardCharsets.ISO_8859_1);
        long length = 0;
        for (String line : text.split("\r\n")) {
            if (line.toLowerCase(Locale.ROOT).startsWith("content-length:")) length = Long.parseLong(line.substring(15).trim());
            if (line.toLowerCase(Locale.ROOT).startsWith("transfer-encoding:")) throw new IOException("a chunked answer: " + text);
        }
        byte[] body = head ? new byte[0] : in.readNBytes((int) length);
        return new Answer(Integer.parseInt(text.substring(9, 12)), text, new String(body, StandardCharsets.ISO_8859_1));
    }

    private static void check(List<Answer> answers) {
        assertEquals(STATUSES, answers.stream().map(Answer::status).toList());
        for (Answer a : answers) assertFalse(a.closes(), a.head());
    }

    @Test
    void oneAfterAnotherOnOneConnectionEveryRequestIsAnswered() throws Exception {
        try (TestServer server = new TestServer("--sleep", "0");
             Socket s = new Socket("127.0.0.1", server.port())) {
            s.setSoTimeout(10_000);
            InputStream in = new BufferedInputStream(s.getInputStream());
            List<Answer> answers = new ArrayList<>();
            for (String request : REQUESTS) {
                s.getOutputStream().write(request.getBytes(StandardCharsets.ISO_8859_1));
                answers.add(read(in, request.startsWith("HEAD")));
            }
            check(answers);
        }
    }

    @Test
    void pipelinedOnOneConnectionEveryRequestIsAnswered() throws Exception {
        try (TestServer server = new TestServer("--sleep", "0");
             Socket s = new Socket("127.0.0.1", server.port())) {
            s.setSoTimeout(10_000);
            s.getOutputStream().write(String.join("", REQUESTS).getBytes(StandardCharsets.ISO_8859_1));
            InputStream in = new BufferedInputStream(s.getInputStream());
            List<Answer> answers = new ArrayList<>();
            for (String request : REQUESTS) answers.add(read(in, request.startsWith("HEAD")));
            check(answers);
        }
    }

    @Test
    void aRefusalWhoseBodyWasNotReadSaysConnectionClose() throws Exception {
        try (TestServer server = new TestServer("--sleep", "0");
             Socket s = new Socket("127.0.0.1", server.port())) {
            s.setSoTimeout(10_000);
            s.getOutputStream().write(("POST /nope HTTP/1.1\r\n" + HOST + "Content-Length: 3\r\n\r\nabc").getBytes(StandardCharsets.ISO_8859_1));
            Answer notFound = read(new BufferedInputStream(s.getInputStream()), false);
            assertEquals(404, notFound.status());
            assertEquals(true, notFound.closes(), notFound.head());
        }
    }

    /**
     * However many connections are kept alive at once, none is closed as it falls idle: a proxy that keeps
     * 300 open to one endpoint (nginx's keepalive under a burst) and sends its next call on any of them has
     * it answered. (The JDK's default closes each one past 200 as its answer ends; nginx, sending a POST on
     * it meanwhile, answers 502 and the call is lost.) A process, so that serve's settings are its own.
     */
    @Test
    void threeHundredConnectionsKeptAliveAtOnceAreEachAnsweredAgain() throws Exception {
        List<Socket> sockets = new ArrayList<>();
        try (ServeProcess server = new ServeProcess("", "127.0.0.1:0", "--sleep", "0")) {
            for (int i = 0; i < 300; i++) {
                Socket s = new Socket("127.0.0.1", server.port);
                sockets.add(s);
                s.setSoTimeout(10_000);
                s.getOutputStream().write(("GET /res.php?first=" + i + " HTTP/1.1\r\n" + HOST + "\r\n").getBytes(StandardCharsets.ISO_8859_1));
                assertEquals(200, read(new BufferedInputStream(s.getInputStream()), false).status());
            }
            for (int i = 0; i < sockets.size(); i++) {
                Socket s = sockets.get(i);
                String body = "again=" + i;
                s.getOutputStream().write(("POST /res.php HTTP/1.1\r\n" + HOST + "Content-Type: application/x-www-form-urlencoded\r\n"
                    + "Content-Length: " + body.length() + "\r\n\r\n" + body).getBytes(StandardCharsets.ISO_8859_1));
                Answer again;
                try {
                    again = read(new BufferedInputStream(s.getInputStream()), false);
                } catch (IOException e) {
                    throw new AssertionError("connection " + (i + 1) + " of 300 was closed while kept alive: " + e, e);
                }
                assertEquals(200, again.status(), "connection " + (i + 1));
                assertTrue(again.body().contains("[again] => " + i + "\n"), again.body());
            }
        } finally {
            for (Socket s : sockets) s.close();
        }
    }
}
