import com.google.gson.JsonArray;
import com.google.gson.JsonParser;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** GET /metrics: known calls counted, read back through Debian's Prometheus, and the text passes promtool. */
class MetricsTest {
    private static final HttpClient HTTP = HttpClient.newHttpClient();
    private static final String TOKEN = "s3cret-metrics";

    private static HttpResponse<String> send(URI uri, String method, String... headers) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(uri).method(method, HttpRequest.BodyPublishers.noBody()).timeout(Duration.ofSeconds(10));
        if (headers.length > 0) b.headers(headers);
        return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void knownCallsAreCountedAndPrometheusReadsThemBack(@TempDir Path dir) throws Exception {
        Assumptions.assumeTrue(Files.isExecutable(Path.of("/usr/bin/prometheus")) && Files.isExecutable(Path.of("/usr/bin/promtool")),
            "Debian's prometheus is not installed");
        Path tokenFile = Files.writeString(dir.resolve("token"), TOKEN);
        // ?ok is done; anything else fails, is tried once more, and fails.
        try (TestServer server = new TestServer("--token-file", tokenFile.toString(), "--run", "test \"$QUERY_STRING\" = ok",
                "--attempts", "2", "--backoff", "0.01,0.01")) {
            String bearer = "Bearer " + TOKEN;
            for (String q : new String[] {"ok", "ok", "ok", "no"}) {
                assertEquals(202, send(server.url("/res.php?" + q), "POST", "Authorization", bearer, "Prefer", "respond-async").statusCode());
            }
            assertEquals(401, send(server.url("/res.php?ok"), "POST", "Prefer", "respond-async").statusCode());
            server.calls.await(d -> d.status() == 202, 4, Duration.ofSeconds(20));
            assertEquals(401, send(server.url("/metrics"), "GET").statusCode(), "the metrics need the token");

            HttpResponse<String> scraped = send(server.url("/metrics"), "GET", "Authorization", bearer);
            assertEquals(200, scraped.statusCode());
            String text = scraped.body();
            for (String line : new String[] {"asynccall_calls_accepted_total 4.0", "asynccall_calls_finished_total{state=\"done\"} 3.0",
                    "asynccall_calls_finished_total{state=\"failed\"} 1.0", "asynccall_calls_retried_total 1.0",
                    "asynccall_calls_refused_total{reason=\"no token\"} 1.0", "asynccall_work_seconds_count 5", "asynccall_wait_seconds_count 5",
                    "asynccall_calls_working 0.0"}) {
                assertTrue(text.contains("\n" + line + "\n"), line + " in\n" + text);
            }
            assertTrue(text.contains("\njvm_memory_used_bytes{area=\"heap\"}"), "the JVM's own");
            assertTrue(text.contains("\nasynccall_connections_open "), "connections open");
            promtoolChecks(text, dir);

            Map<String, String> expected = Map.of("asynccall_calls_accepted_total", "4", "asynccall_calls_finished_total{state=\"done\"}", "3",
                "asynccall_calls_finished_total{state=\"failed\"}", "1", "asynccall_calls_retried_total", "1",
                "asynccall_calls_refused_total{reason=\"no token\"}", "1", "asynccall_work_seconds_count", "5");
            try (Prometheus prometheus = Prometheus.start(dir, server.port(), tokenFile)) {
                for (Map.Entry<String, String> e : expected.entrySet()) assertEquals(e.getValue(), prometheus.await(e.getKey()), e.getKey());
            }
        }
    }

    @Test
    void eachLookAtTheMetricsIsOneLineOfTheLog() throws Exception {
        try (TestServer server = new TestServer()) {
            assertEquals(200, send(server.url("/metrics"), "GET").statusCode());
            assertEquals(200, send(server.url("/health"), "GET").statusCode());
            server.log.await("\\[200\\]: GET /health$", Duration.ofSeconds(5));
            long lines = server.log.entries().stream().filter(e -> e.text().contains("GET /metrics") || e.text().contains("GET /health")
                || e.text().endsWith("Accepted")).count();
            assertEquals(2, lines, "one line each, no Accepted: " + server.log.entries());
        }
    }

    /** promtool lints the text as Prometheus reads it (names, suffixes, help, types). */
    private static void promtoolChecks(String text, Path dir) throws Exception {
        Path file = Files.writeString(dir.resolve("metrics.txt"), text);
        Process p = new ProcessBuilder("promtool", "check", "metrics").redirectInput(file.toFile()).redirectErrorStream(true).start();
        String said = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(30, TimeUnit.SECONDS), "promtool ends");
        assertEquals(0, p.exitValue(), "promtool check metrics: " + said);
    }

    /** Debian's Prometheus on a free port, scraping one serve every 200 ms with its token; stopped on close. */
    private record Prometheus(Process process, int port) implements AutoCloseable {
        static Prometheus start(Path dir, int target, Path tokenFile) throws Exception {
            int port = Support.closedPort();
            Path config = Files.writeString(dir.resolve("prometheus.yml"), """
                global:
                  scrape_interval: 200ms
                scrape_configs:
                  - job_name: asynccall
                    authorization:
                      credentials_file: %s
                    static_configs:
                      - targets: ['127.0.0.1:%d']
                """.formatted(tokenFile, target));
            Process p = new ProcessBuilder("prometheus", "--config.file=" + config, "--storage.tsdb.path=" + dir.resolve("data"),
                "--web.listen-address=127.0.0.1:" + port).redirectErrorStream(true).redirectOutput(dir.resolve("prometheus.log").toFile()).start();
            return new Prometheus(p, port);
        }

        /** The value Prometheus holds for a series, once it has scraped it (within 30 s; the calls ended before it started). */
        String await(String series) throws Exception {
            URI query = URI.create("http://127.0.0.1:" + port + "/api/v1/query?query=" + URLEncoder.encode(series, StandardCharsets.UTF_8));
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            String last = null;
            while (System.nanoTime() < deadline) {
                try {
                    HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(query).build(), HttpResponse.BodyHandlers.ofString());
                    if (r.statusCode() != 200) { // 503 "Service Unavailable" (not JSON) while its storage opens
                        last = r.statusCode() + " " + r.body().strip();
                        Thread.sleep(100);
                        continue;
                    }
                    JsonArray result = JsonParser.parseString(r.body()).getAsJsonObject().getAsJsonObject("data").getAsJsonArray("result");
                    if (!result.isEmpty()) return result.get(0).getAsJsonObject().getAsJsonArray("value").get(1).getAsString();
                } catch (java.io.IOException notYet) {
                    last = notYet.toString(); // still starting
                }
                Thread.sleep(100); // Prometheus has no event to wait on: its API is polled
            }
            throw new AssertionError("Prometheus never had " + series + " (" + last + ")");
        }

        @Override
        public void close() throws Exception {
            process.destroy();
            if (!process.waitFor(10, TimeUnit.SECONDS)) process.destroyForcibly().waitFor();
        }
    }
}
