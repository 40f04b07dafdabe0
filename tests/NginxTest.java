import call.Done;
import caller.Send;
import tools.Postgres;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIf;

import java.io.IOException;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Beyond one machine: three serve.java endpoints behind nginx with deploy/nginx.conf (its own nginx
 * process, loopback ports, a temporary folder): every call worked on exactly once, counted from the
 * endpoints' own logs; one endpoint killed halfway; and what nginx's defaults lose.
 */
class NginxTest {
    static final String NO_NGINX = "nginx is not installed (apt-get install nginx-light)";
    /** A call worked on: 200 or 202, with its answer. */
    static final java.util.function.Predicate<Done> DONE = d -> (d.status() == 200 || d.status() == 202) && d.note() == null;

    /** nginx: on the PATH, else where Debian puts it (/usr/sbin, which a user's PATH often lacks); null when neither. */
    static final String NGINX = nginxBinary(System.getenv().getOrDefault("PATH", ""));

    static String nginxBinary(String path) {
        for (String dir : (path + java.io.File.pathSeparator + "/usr/sbin").split(java.io.File.pathSeparator)) {
            if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, "nginx"))) return Path.of(dir, "nginx").toString();
        }
        return null;
    }

    static boolean nginx() {
        return NGINX != null;
    }

    @Test
    void nginxIsFoundWhereDebianPutsItWhenThePathLacksIt() {
        Assumptions.assumeTrue(Files.isExecutable(Path.of("/usr/sbin/nginx")), "Debian's nginx is not installed");
        assertEquals("/usr/sbin/nginx", nginxBinary("/usr/local/bin:/usr/bin:/bin"));
    }

    /** nginx run from deploy/nginx.conf filled in; with defaults, the lines marked [fire-and-forget] left out. */
    static final class Nginx implements AutoCloseable {
        final Path dir = Files.createTempDirectory("asynccall-nginx");
        final int port = Support.closedPort();
        final Process process;

        Nginx(List<Integer> endpoints, boolean defaults) throws Exception {
            String conf = Files.readString(Support.ROOT.resolve("deploy/nginx.conf"))
                .replace("{{PREFIX}}", dir.toString()).replace("{{LISTEN}}", "127.0.0.1:" + port)
                .replace("{{ENDPOINTS}}", endpoints.stream().map(p -> "server 127.0.0.1:" + p + " max_fails=1 fail_timeout=10s;")
                    .collect(Collectors.joining("\n        ")));
            if (defaults) conf = conf.lines().filter(l -> !l.contains("[fire-and-forget]")).collect(Collectors.joining("\n"));
            Files.writeString(dir.resolve("nginx.conf"), conf);
            boolean root = "root".equals(System.getProperty("user.name"));
            process = new ProcessBuilder(NGINX, "-p", dir.toString(), "-c", dir.resolve("nginx.conf").toString(),
                "-g", "daemon off;" + (root ? " user root;" : "")).redirectErrorStream(true)
                .redirectOutput(dir.resolve("stdout.log").toFile()).start();
            for (long deadline = System.nanoTime() + 20_000_000_000L; ; ) {
                try (Socket probe = new Socket("127.0.0.1", port)) {
                    break;
                } catch (IOException notYet) {
                    assertTrue(process.isAlive(), "nginx did not start: " + Files.readString(dir.resolve("stdout.log")));
                    assertTrue(System.nanoTime() < deadline, "nginx is not listening after 20 s");
                    LockSupport.parkNanos(20_000_000L);
                }
            }
        }

        URI url() {
            return URI.create("http://127.0.0.1:" + port + "/res.php");
        }

        /** Requests nginx has finished with, passed on or not (its access log, one line each). */
        long finished() throws IOException {
            Path log = dir.resolve("access.log");
            return Files.exists(log) ? Files.readAllLines(log).size() : 0;
        }

        @Override
        public void close() throws Exception {
            process.destroy();
            process.waitFor(10, TimeUnit.SECONDS);
            process.destroyForcibly();
            try (var files = Files.walk(dir)) {
                for (Path p : files.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
            }
        }
    }

    private static List<ServeProcess> endpoints(int n) throws Exception {
        List<ServeProcess> all = new ArrayList<>();
        for (int i = 0; i < n; i++) all.add(new ServeProcess("", "127.0.0.1:0", "--sleep", "0"));
        return all;
    }

    private static void close(List<ServeProcess> endpoints) throws InterruptedException {
        for (ServeProcess e : endpoints) e.close();
    }

    private static Recorder[] recorders(List<ServeProcess> endpoints) {
        return endpoints.stream().map(e -> e.calls).toArray(Recorder[]::new);
    }

    /**
     * Fires calls from..to-1 through url from 4 threads: sendSock GET and POST, sendCURL GET and POST with
     * respond-async (which must come back 202 through nginx), or sendSock only.
     */
    private static void fire(URI url, int from, int to, boolean sockOnly) throws Exception {
        AtomicInteger next = new AtomicInteger(from);
        try (HttpClient client = HttpClient.newHttpClient(); ExecutorService senders = Executors.newFixedThreadPool(4)) {
            List<Future<Object>> all = new ArrayList<>();
            for (int t = 0; t < 4; t++) {
                all.add(senders.submit(() -> {
                    for (int i; (i = next.getAndIncrement()) < to; ) {
                        Map<String, String> data = Map.of("id", "x" + i);
                        String method = i % 2 == 0 ? "GET" : "POST";
                        if (sockOnly || i % 4 < 2) {
                            Send.sendSock(method, url, data, null);
                        } else {
                            HttpResponse<String> r = Send.sendCURL(client, method, url, data, Duration.ofSeconds(10), "Prefer", "respond-async");
                            assertEquals(202, r.statusCode(), r.body());
                            assertEquals("respond-async", r.headers().firstValue("Preference-Applied").orElse(null));
                        }
                    }
                    return null;
                }));
            }
            for (Future<Object> f : all) f.get();
        }
    }

    /** How many times each id was worked on, per endpoint, as the endpoints themselves report it. */
    private static List<Map<String, Integer>> workedOn(List<ServeProcess> endpoints) {
        Pattern id = Pattern.compile("\\[id\\] => (x\\d+)\n");
        List<Map<String, Integer>> each = new ArrayList<>();
        for (ServeProcess e : endpoints) {
            Map<String, Integer> ids = new HashMap<>();
            for (Done d : e.calls.done()) {
                Matcher m = id.matcher(d.answer() == null ? "" : d.answer());
                if (DONE.test(d) && m.find()) ids.merge(m.group(1), 1, Integer::sum);
            }
            each.add(ids);
        }
        return each;
    }

    private static Map<String, Integer> total(List<Map<String, Integer>> each) {
        Map<String, Integer> all = new HashMap<>();
        each.forEach(m -> m.forEach((k, v) -> all.merge(k, v, Integer::sum)));
        return all;
    }

    @Test
    @EnabledIf(value = "nginx", disabledReason = NO_NGINX)
    void twoThousandCallsThroughNginxAreEachWorkedOnOnceAndEveryEndpointGetsAShare() throws Exception {
        List<ServeProcess> endpoints = endpoints(3);
        try (Nginx nginx = new Nginx(endpoints.stream().map(e -> e.port).toList(), false)) {
            fire(nginx.url(), 0, 2000, false);
            Recorder.awaitSum(DONE, 2000, Duration.ofSeconds(60), recorders(endpoints));
            List<Map<String, Integer>> each = workedOn(endpoints);
            Map<String, Integer> all = total(each);
            for (int i = 0; i < 2000; i++) assertEquals(1, all.getOrDefault("x" + i, 0), "x" + i);
            for (Map<String, Integer> share : each) assertTrue(share.size() > 300, "an endpoint got only " + share.size());
            System.out.printf("     nginx: 2000 calls over 3 endpoints (%d, %d, %d), each worked on once%n",
                each.get(0).size(), each.get(1).size(), each.get(2).size());
        } finally {
            close(endpoints);
        }
    }

    /**
     * What a real client does: curl sends its GETs without Content-Length, and nginx passes them on over
     * kept-alive connections, with POSTs between them. Every one is answered (no 502) and worked once.
     */
    @Test
    @EnabledIf(value = "nginx", disabledReason = NO_NGINX)
    void aThousandGetsAndPostsFromCurlOverKeptAliveConnectionsAreEachAnsweredAndWorkedOnce() throws Exception {
        int n = 1000;
        List<ServeProcess> endpoints = endpoints(3);
        try (Nginx nginx = new Nginx(endpoints.stream().map(e -> e.port).toList(), false)) {
            StringBuilder config = new StringBuilder();
            for (int i = 0; i < n; i++) {
                if (i > 0) config.append("next\n");
                config.append("output = \"/dev/null\"\nwrite-out = \"%{http_code}\\n\"\n");
                if (i % 2 == 0) config.append("url = \"").append(nginx.url()).append("?id=x").append(i).append("\"\n");
                else config.append("data = \"id=x").append(i).append("\"\nurl = \"").append(nginx.url()).append("\"\n");
            }
            Path file = nginx.dir.resolve("curl.config");
            Files.writeString(file, config);
            Process curl = new ProcessBuilder("curl", "-s", "-K", file.toString()).redirectErrorStream(true).start();
            List<String> codes = new String(curl.getInputStream().readAllBytes()).lines().toList();
            assertTrue(curl.waitFor(120, TimeUnit.SECONDS));
            assertEquals(n, codes.size(), "one answer each");
            assertEquals(Map.of("200", (long) n), codes.stream().collect(Collectors.groupingBy(c -> c, Collectors.counting())));
            Recorder.awaitSum(DONE, n, Duration.ofSeconds(30), recorders(endpoints));
            Map<String, Integer> all = total(workedOn(endpoints));
            for (int i = 0; i < n; i++) assertEquals(1, all.getOrDefault("x" + i, 0), "x" + i);
            System.out.printf("     nginx + curl: %d GETs and POSTs over kept-alive connections, 0 errors, each worked on once%n", n);
        } finally {
            close(endpoints);
        }
    }

    @Test
    @EnabledIf(value = "nginx", disabledReason = NO_NGINX)
    void anEndpointKilledHalfwayLosesNothing() throws Exception {
        List<ServeProcess> endpoints = endpoints(3);
        try (Nginx nginx = new Nginx(endpoints.stream().map(e -> e.port).toList(), false)) {
            fire(nginx.url(), 0, 300, false);
            Recorder.awaitSum(DONE, 300, Duration.ofSeconds(30), recorders(endpoints));
            endpoints.get(2).process.destroyForcibly().waitFor(); // killed (SIGKILL), not stopped
            long before = endpoints.get(2).calls.count(DONE);
            fire(nginx.url(), 300, 600, false);
            Recorder.awaitSum(DONE, 600, Duration.ofSeconds(30), recorders(endpoints));
            Map<String, Integer> all = total(workedOn(endpoints));
            for (int i = 0; i < 600; i++) assertEquals(1, all.getOrDefault("x" + i, 0), "x" + i);
            assertEquals(before, endpoints.get(2).calls.count(DONE), "nothing reached the killed endpoint");
        } finally {
            close(endpoints);
        }
    }

    static boolean nginxAndPostgres() {
        return nginx() && Postgres.installed();
    }

    /**
     * Several endpoints, one queue: three endpoints on one PostgreSQL behind nginx, one SIGKILLed while it
     * holds calls. Every call accepted is worked (those it held are taken over when their lease runs out),
     * calls it accepted are worked by the others, a key sent again through any endpoint is answered with
     * its first call's monitor and not worked again, and every monitor is readable through nginx.
     */
    @Test
    @EnabledIf(value = "nginxAndPostgres", disabledReason = NO_NGINX + ", or " + Postgres.NONE)
    void threeEndpointsOnOnePostgresqlLoseNothingWhenOneIsKilledWhileItHoldsCalls() throws Exception {
        int n = 300, workers = 4;
        try (Postgres postgres = new Postgres()) {
            List<ServeProcess> endpoints = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                endpoints.add(new ServeProcess("", "127.0.0.1:0", "--store", postgres.url(), "--sleep", "0.3",
                    "--workers", String.valueOf(workers), "--lease", "3"));
            }
            try (Nginx nginx = new Nginx(endpoints.stream().map(e -> e.port).toList(), false);
                 HttpClient client = HttpClient.newHttpClient(); ExecutorService callers = Executors.newFixedThreadPool(8)) {
                List<Future<HttpResponse<String>>> firsts = new ArrayList<>();
                for (int i = 0; i < n; i++) {
                    Map<String, String> data = Map.of("id", "x" + i);
                    firsts.add(callers.submit(() -> Send.sendCURL(client, "POST", nginx.url(), data, Duration.ofSeconds(10),
                        "Prefer", "respond-async", "Idempotency-Key", "key-" + data.get("id"))));
                }
                Map<String, String> monitors = new HashMap<>();
                for (int i = 0; i < n; i++) {
                    HttpResponse<String> r = firsts.get(i).get(60, TimeUnit.SECONDS);
                    assertEquals(202, r.statusCode(), r.body());
                    monitors.put("x" + i, r.headers().firstValue("Location").orElseThrow());
                }
                ServeProcess killed = endpoints.get(0);
                killed.signal("KILL"); // while it holds calls: `workers` of them, each working for 0.3 s
                killed.awaitExit(Duration.ofSeconds(20));
                long acceptedByKilled = killed.calls.accepted().size();
                // The same keys again, through nginx to the endpoints left: answered, not worked again.
                for (int i = 0; i < n; i += 10) {
                    HttpResponse<String> again = Send.sendCURL(client, "POST", nginx.url(), Map.of("id", "x" + i), Duration.ofSeconds(10),
                        "Prefer", "respond-async", "Idempotency-Key", "key-x" + i);
                    assertEquals(202, again.statusCode(), again.body());
                    assertEquals(monitors.get("x" + i), again.headers().firstValue("Location").orElseThrow(), "x" + i + "'s first call");
                }
                List<ServeProcess> alive = endpoints.subList(1, 3);
                Recorder.awaitSum(DONE, n - killed.calls.count(DONE), Duration.ofSeconds(120), recorders(alive));
                Map<String, Integer> all = total(workedOn(endpoints));
                for (int i = 0; i < n; i++) assertTrue(all.getOrDefault("x" + i, 0) >= 1, "x" + i + " worked");
                long twice = all.values().stream().filter(c -> c > 1).count();
                assertTrue(twice <= workers, "only calls the killed endpoint was working on are worked again: " + twice);
                Set<String> acceptedThere = killed.calls.accepted().stream().map(c -> c.id()).collect(Collectors.toSet());
                long takenOver = alive.stream().flatMap(e -> e.calls.done().stream()).filter(d -> acceptedThere.contains(d.call().id())).count();
                assertTrue(acceptedByKilled > 0 && takenOver > 0, "the others worked calls the killed one accepted: " + takenOver);
                for (String monitor : List.of(monitors.get("x0"), monitors.get("x" + (n / 2)), monitors.get("x" + (n - 1)))) {
                    HttpResponse<String> state = client.send(java.net.http.HttpRequest.newBuilder(nginx.url().resolve(monitor)).build(),
                        HttpResponse.BodyHandlers.ofString());
                    assertEquals(200, state.statusCode(), monitor);
                    assertTrue(state.body().contains("\"state\":\"done\""), state.body());
                }
                System.out.printf("     PostgreSQL: %d calls over 3 endpoints, one killed holding calls: all worked (%d twice), %d of its %d taken over%n",
                    n, twice, takenOver, acceptedByKilled);
            } finally {
                close(endpoints);
            }
        }
    }

    @Test
    @EnabledIf(value = "nginx", disabledReason = NO_NGINX)
    void withNginxsDefaultsSendSockCallsAreLostAndWithTheConfigNone() throws Exception {
        int n = 1000;
        double[] lost = new double[2];
        String said = "";
        for (boolean defaults : new boolean[] {true, false}) {
            List<ServeProcess> endpoints = endpoints(3);
            try (Nginx nginx = new Nginx(endpoints.stream().map(e -> e.port).toList(), defaults)) {
                fire(nginx.url(), 0, n, true);
                // nginx logs every request it is done with, passed on or given up: wait for all n.
                for (long deadline = System.nanoTime() + 60_000_000_000L; nginx.finished() < n; LockSupport.parkNanos(50_000_000L)) {
                    assertTrue(System.nanoTime() < deadline, "nginx finished only " + nginx.finished() + " of " + n);
                }
                // Answered by an endpoint (200, 202): worked there. 499: given up by nginx; 502, 504: no endpoint answered.
                List<String> lines = Files.readAllLines(nginx.dir.resolve("access.log"));
                Map<String, Long> statuses = lines.stream().collect(Collectors.groupingBy(l -> l.replaceAll(".*\" (\\d{3}) .*", "$1"),
                    java.util.TreeMap::new, Collectors.counting()));
                long answered = statuses.getOrDefault("200", 0L) + statuses.getOrDefault("202", 0L);
                try {
                    Recorder.awaitSum(DONE, answered, Duration.ofSeconds(30), recorders(endpoints));
                } catch (AssertionError e) {
                    throw new AssertionError(e.getMessage() + "; nginx's statuses " + statuses + (defaults ? " (its defaults)" : ""), e);
                }
                Map<String, Integer> all = total(workedOn(endpoints));
                assertTrue(all.values().stream().allMatch(c -> c == 1), "none twice");
                lost[defaults ? 0 : 1] = n - all.size();
                if (!defaults && all.size() < n) {
                    // What nginx says of the calls it did not pass on, for whoever reads the failure below.
                    Path errors = nginx.dir.resolve("error.log");
                    said = "nginx's statuses " + statuses + "; its error.log: "
                        + (Files.exists(errors) ? String.join("\n", Files.readAllLines(errors).stream().limit(20).toList()) : "none");
                }
            } finally {
                close(endpoints);
            }
        }
        System.out.printf("     nginx's defaults lost %.0f of %d sendSock calls (%.1f %%); deploy/nginx.conf lost %.0f%n",
            lost[0], n, 100 * lost[0] / n, lost[1]);
        assertEquals(0, lost[1], "deploy/nginx.conf loses none; " + said);
    }
}
