import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** bench.java runs (small) and writes every figure; its targets are the benchmark's, not tests. */
class BenchTest {

    @Test
    void aSmallBenchWritesEveryKeyWithSaneValues() throws Exception {
        Path json = Files.createTempFile("asynccall-bench", ".json");
        try {
            Process p = new ProcessBuilder(Support.ROOT.resolve("jbang").toString(), "bench", "--n", "50", "--runs", "1",
                "--json", json.toString()).directory(Support.ROOT.toFile()).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(p.waitFor(300, TimeUnit.SECONDS), out);
            assertEquals(0, p.exitValue(), out);
            assertTrue(out.contains("| sendSock (fire and forget)") && out.contains("| whole process: ./jbang test"), out);
            JsonObject f = JsonParser.parseString(Files.readString(json)).getAsJsonObject();
            for (String key : List.of("sock_p50_us", "sock_p99_us", "curl_p50_us", "curl_p99_us", "async_p50_us",
                    "fires_per_s", "inflight_rss_mib", "store_p50_us", "store_p99_us", "store_202_per_s", "store_64_p50_us",
                    "store_waiting_rss_mib", "test_wall_s", "java_test_wall_s")) {
                assertTrue(f.get(key).getAsDouble() > 0, key + " in " + f);
            }
            assertTrue(f.get("sock_p50_us").getAsDouble() <= f.get("sock_p99_us").getAsDouble(), f.toString());
            assertTrue(f.get("curl_p50_us").getAsDouble() <= f.get("curl_p99_us").getAsDouble(), f.toString());
            assertEquals(50, f.get("fired").getAsInt());
            assertEquals(50, f.get("delivered").getAsInt(), "the server's own count");
            assertEquals(50, f.get("inflight").getAsInt());
            assertEquals(50, f.get("store_delivered").getAsInt(), "every stored call worked, by the server's count");
            assertEquals(500, f.get("store_waiting").getAsInt());
            assertTrue(f.get("test_wall_s").getAsDouble() < 60, f.toString());
            if (PhpPeerTest.php()) {
                assertTrue(f.get("php_test_wall_s").getAsDouble() > 0, f.toString());
                assertEquals(f.get("test_wall_s").getAsDouble() / f.get("php_test_wall_s").getAsDouble(), f.get("ratio_vs_php").getAsDouble(), 0.02);
            } else {
                assertTrue(f.get("php_test_wall_s").isJsonNull() && f.get("ratio_vs_php").isJsonNull(), f.toString());
            }
            assertEquals(Runtime.version().feature(), Runtime.Version.parse(f.get("jdk").getAsString()).feature());
            assertEquals(Runtime.getRuntime().availableProcessors(), f.get("cores").getAsInt());
            assertTrue(f.get("date").getAsString().matches("\\d{4}-\\d{2}-\\d{2}"), f.toString());
        } finally {
            Files.deleteIfExists(json);
        }
    }

    @Test
    void theRunsBesidePeersAreOneAtATime() throws Exception {
        Process p = new ProcessBuilder(Support.ROOT.resolve("jbang").toString(), "bench", "--versus-webhook", "--versus-nginx")
            .directory(Support.ROOT.toFile()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), out);
        assertEquals(2, p.exitValue(), out);
        assertTrue(out.contains("Error: --versus-webhook and --versus-nginx are runs of their own: give one"), out);
    }
}
