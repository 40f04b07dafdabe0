import org.junit.jupiter.api.Test;

import java.net.Socket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A fault survived: out of file descriptors, the server logs the refusals, lives, and serves again. */
class FaultTest {

    @Test
    void withAt256OpenFilesAThousandConnectionsAtOnceAreLoggedAndSurvived() throws Exception {
        try (Support.ServerProcess server = new Support.ServerProcess("ulimit -n 256;", "127.0.0.1:0", "--sleep", "0")) {
            List<Socket> sockets = new ArrayList<>();
            try {
                for (int i = 0; i < 1000; i++) sockets.add(new Socket("127.0.0.1", server.port));
                server.log.await("Cannot accept connections: Too many open files \\(\\d+ failed accepts so far; waiting connections stay queued\\)$",
                    Duration.ofSeconds(10));
            } finally {
                for (Socket s : sockets) s.close();
            }
            String answer = Support.raw(server.port, "GET /res.php?after=fault HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                + "Prefer: respond-async\r\n\r\n");
            assertEquals(202, Support.status(answer), answer);
            server.log.await("Accepting connections again, after \\d+ failed accepts$", Duration.ofSeconds(10));
            server.log.await("\\[202\\]: GET /res\\.php\\?after=fault$", Duration.ofSeconds(10));
            assertTrue(server.process.isAlive());
        }
    }
}
