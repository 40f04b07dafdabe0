import caller.Send;
import org.junit.jupiter.api.Test;

import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.time.Duration;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** caller/Send.java, the functions users copy, on their own: what a caller of withRetries is told when it gives up. */
class SendTest {
    @Test
    void withRetriesGivesUpWithAConnectExceptionThatSaysHowManyTries() throws Exception {
        URI nobody = URI.create("http://127.0.0.1:" + Support.closedPort() + "/res.php");
        try (HttpClient client = HttpClient.newHttpClient()) {
            ConnectException e = assertThrows(ConnectException.class, () ->
                Send.withRetries(2, false, () -> Send.sendCURL(client, "GET", nobody, Map.of(), Duration.ofSeconds(1))));
            assertTrue(String.valueOf(e.getMessage()).contains("3 tries"), String.valueOf(e.getMessage()));
        }
    }
}
