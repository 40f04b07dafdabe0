import org.junit.jupiter.api.Test;

import java.net.Socket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A fault survived: more connections than file descriptors, and the server never runs out of them. */
class FaultTest {

    @Test
    void withAt256OpenFilesAThousandConnectionsAtOnceAreCappedAndTheServerServesOnceTheyAreGone() throws Exception {
        try (ServeProcess server = new ServeProcess("ulimit -n 256;", "127.0.0.1:0", "--sleep", "0")) {
            List<Socket> sockets = new ArrayList<>();
            try {
                for (int i = 0; i < 1000; i++) sockets.add(new Socket("127.0.0.1", server.port));
                // Past its cap (half the descriptors here) the server closes a new connection at once: a read sees the end.
                Socket last = sockets.get(sockets.size() - 1);
                last.setSoTimeout(10_000);
                assertEquals(-1, last.getInputStream().read(), "a connection past the cap is closed at once");
            } finally {
                for (Socket s : sockets) s.close();
            }
            // The server sees the 1,000 closes a little later; no event says when: polled, with a deadline.
            String answer = null;
            for (long deadline = System.nanoTime() + 10_000_000_000L; answer == null; java.util.concurrent.locks.LockSupport.parkNanos(20_000_000L)) {
                try {
                    String a = Support.raw(server.port, "GET /res.php?after=fault HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                        + "Prefer: respond-async\r\n\r\n");
                    if (!a.isEmpty()) answer = a; // empty: closed at once, still at the cap
                    else assertTrue(System.nanoTime() < deadline, "not served 10 s after the connections were closed");
                } catch (java.io.IOException stillAtTheCap) {
                    assertTrue(System.nanoTime() < deadline, "not served 10 s after the connections were closed: " + stillAtTheCap);
                }
            }
            assertEquals(202, Support.status(answer), answer);
            server.calls.await(Recorder.ended(202, "GET", "/res\\.php\\?after=fault"), Duration.ofSeconds(10));
            assertEquals(0, server.log.count("Too many open files"), String.join("\n", server.log.texts()));
            assertTrue(server.process.isAlive());
        }
    }
}
