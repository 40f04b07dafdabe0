package tools;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * bench --versus-nginx: 202s a second from wrk (Debian's), 64 kept-alive connections on 2 threads, each call
 * "Prefer: respond-async": nginx answering `return 202` (the machine's limit for an HTTP answer), serve
 * (each call worked: --sleep 0) and serve --store (each call durable before its 202, then worked), in turn,
 * and three serves on one PostgreSQL (Debian's, a cluster of the bench's own; each serve sent a third of the
 * connections by a wrk of its own), rounds times, so that the machine's ups and downs fall on all alike.
 */
public final class Accepts {
    private Accepts() {}

    public record Figures(String name, double perSecond, double p50ms, double p99ms, long answered, String errors) {}

    static final int SECONDS = 8, WARM_SECONDS = 10, CONNECTIONS = 64;
    static final String NGINX = "nginx (return 202)", SERVE = "serve --sleep 0", STORE = "serve --sleep 0 --store (SQLite, FULL)",
        POSTGRES = "3 × serve --sleep 0 --store (one PostgreSQL)";

    /** @param serve the command that starts serve.java (java, its options, the script), to which the address and options are added */
    public static List<Figures> run(int rounds, Path dir, List<String> serve, java.io.PrintStream progress) throws Exception {
        String nginx = nginx();
        List<Figures> all = new ArrayList<>();
        if (!Postgres.installed()) progress.println("PostgreSQL: " + Postgres.NONE + ", its row is left out");
        try (Postgres postgres = Postgres.installed() ? new Postgres() : null) {
            for (int round = 0; round < rounds; round++) round(all, round, nginx, postgres, dir, serve, progress);
        }
        return all;
    }

    /** One round: each row's server started afresh, measured and stopped, one after another. */
    private static void round(List<Figures> all, int round, String nginx, Postgres postgres, Path dir, List<String> serve,
            java.io.PrintStream progress) throws Exception {
        if (nginx == null) {
            progress.println("nginx: not installed, its row is left out");
        } else {
            all.add(measure(progress, NGINX, port -> {
                Files.writeString(dir.resolve("nginx.conf"), nginxConf(dir).replace("{{PORT}}", String.valueOf(port)));
                boolean root = "root".equals(System.getProperty("user.name"));
                return new ProcessBuilder(nginx, "-p", dir.toString(), "-c", dir.resolve("nginx.conf").toString(),
                    "-g", "daemon off;" + (root ? " user root;" : ""));
            }));
        }
        all.add(measure(progress, SERVE, port -> serve(serve, port, "--sleep", "0")));
        Path store = dir.resolve("calls.db");
        all.add(measure(progress, STORE, port -> {
            for (String f : List.of("", "-wal", "-shm", ".lock")) Files.deleteIfExists(Path.of(store + f));
            return serve(serve, port, "--sleep", "0", "--store", store.toString(), "--queue", "1000000");
        }));
        if (postgres != null) all.add(three(progress, postgres, "round" + round, serve));
    }

    interface Server {
        ProcessBuilder at(int port) throws IOException;
    }

    private static ProcessBuilder serve(List<String> serve, int port, String... options) {
        List<String> command = new ArrayList<>(serve);
        command.add("127.0.0.1:" + port);
        command.addAll(List.of(options));
        return new ProcessBuilder(command);
    }

    /** nginx's own defaults but for where it writes: one worker a core, as Debian's nginx.conf says (auto). */
    private static String nginxConf(Path dir) {
        return """
            worker_processes auto;
            pid DIR/nginx.pid;
            error_log DIR/error.log warn;
            events { worker_connections 4096; }
            http {
                access_log off;
                client_body_temp_path DIR/body;
                proxy_temp_path DIR/proxy;
                fastcgi_temp_path DIR/fastcgi;
                uwsgi_temp_path DIR/uwsgi;
                scgi_temp_path DIR/scgi;
                server { listen 127.0.0.1:{{PORT}}; location / { return 202; } }
            }
            """.replace("DIR", dir.toString());
    }

    private static Figures measure(java.io.PrintStream progress, String name, Server server) throws Exception {
        int port = Versus.freePort();
        Process p = server.at(port).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        try {
            String url = "http://127.0.0.1:" + port + "/res.php?row=accepts";
            Versus.awaitListening(java.net.URI.create(url), p);
            progress.printf("%s: wrk, %d connections, %d s after %d to warm up%n", name, CONNECTIONS, SECONDS, WARM_SECONDS);
            wrk(url, WARM_SECONDS);
            return figures(name, wrk(url, SECONDS));
        } finally {
            p.destroy(); // SIGTERM: nginx and serve stop as they do for an operator
            if (!p.waitFor(60, TimeUnit.SECONDS)) p.destroyForcibly().waitFor();
        }
    }

    /**
     * Three serves on one database of postgres (made for this round), started one after another (the first makes the
     * table), then as many connections in all as the other rows, a third to each, from three wrk at once.
     */
    private static Figures three(java.io.PrintStream progress, Postgres postgres, String database, List<String> serve) throws Exception {
        postgres.create(database);
        List<Process> serves = new ArrayList<>();
        List<String> urls = new ArrayList<>();
        try {
            for (int i = 0; i < 3; i++) {
                int port = Versus.freePort();
                serves.add(serve(serve, port, "--sleep", "0", "--store", postgres.url(database), "--queue", "1000000")
                    .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start());
                urls.add("http://127.0.0.1:" + port + "/res.php?row=accepts");
                Versus.awaitListening(java.net.URI.create(urls.get(i)), serves.get(i));
            }
            progress.printf("%s: 3 wrk, %d connections in all, %d s after %d to warm up%n", POSTGRES, CONNECTIONS, SECONDS, WARM_SECONDS);
            wrkEach(urls, WARM_SECONDS);
            List<Figures> each = wrkEach(urls, SECONDS).stream().map(report -> figures(POSTGRES, report)).toList();
            // The rate and the count are the three's sum; p50 and p99 the slowest of the three's.
            List<String> errors = each.stream().map(Figures::errors).filter(e -> !e.equals("none")).toList();
            return new Figures(POSTGRES, each.stream().mapToDouble(Figures::perSecond).sum(), each.stream().mapToDouble(Figures::p50ms).max().orElseThrow(),
                each.stream().mapToDouble(Figures::p99ms).max().orElseThrow(), each.stream().mapToLong(Figures::answered).sum(),
                errors.isEmpty() ? "none" : String.join("; ", errors));
        } finally {
            for (Process p : serves) p.destroy();
            for (Process p : serves) if (!p.waitFor(60, TimeUnit.SECONDS)) p.destroyForcibly().waitFor();
        }
    }

    /** wrk's reports of runs against each url at once, the connections shared among them (one thread each). */
    private static List<String> wrkEach(List<String> urls, int seconds) throws Exception {
        List<Process> runs = new ArrayList<>();
        for (int i = 0; i < urls.size(); i++) {
            int connections = CONNECTIONS / urls.size() + (i < CONNECTIONS % urls.size() ? 1 : 0);
            runs.add(wrk(urls.get(i), seconds, 1, connections));
        }
        List<String> reports = new ArrayList<>();
        for (Process w : runs) reports.add(report(w));
        return reports;
    }

    /** wrk's report of a run against url. */
    private static String wrk(String url, int seconds) throws Exception {
        return report(wrk(url, seconds, 2, CONNECTIONS));
    }

    private static Process wrk(String url, int seconds, int threads, int connections) throws IOException {
        return new ProcessBuilder("wrk", "-t" + threads, "-c" + connections, "-d" + seconds + "s", "--latency", "-H", "Prefer: respond-async", url)
            .redirectErrorStream(true).start();
    }

    private static String report(Process w) throws Exception {
        String out = new String(w.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        if (w.waitFor() != 0) throw new IOException("wrk failed: " + out);
        return out;
    }

    /** The 202s a second of wrk's report, its p50 and p99, how many were answered, and what went wrong (answers not 2xx, socket errors). */
    static Figures figures(String name, String report) {
        double perSecond = Double.parseDouble(find(report, "Requests/sec:\\s+([\\d.]+)"));
        long answered = Long.parseLong(find(report, "(\\d+) requests in"));
        String not2xx = find(report, "Non-2xx or 3xx responses: (\\d+)"), socket = find(report, "Socket errors: ([^\\n]+)");
        String errors = (not2xx == null ? "" : not2xx + " not 2xx") + (socket == null ? "" : (not2xx == null ? "" : "; ") + "socket errors: " + socket);
        return new Figures(name, perSecond, millis(find(report, "\\s50%\\s+([\\d.]+\\w+)")), millis(find(report, "\\s99%\\s+([\\d.]+\\w+)")),
            answered, errors.isEmpty() ? "none" : errors);
    }

    private static String find(String text, String regex) {
        Matcher m = Pattern.compile(regex).matcher(text);
        return m.find() ? m.group(1) : null;
    }

    /** wrk's "812.00us", "1.23ms", "2.01s" in milliseconds. */
    static double millis(String time) {
        Matcher m = Pattern.compile("([\\d.]+)(us|ms|s)").matcher(time);
        if (!m.matches()) throw new IllegalArgumentException("not a wrk time: " + time);
        double v = Double.parseDouble(m.group(1));
        return switch (m.group(2)) {
            case "us" -> v / 1000;
            case "ms" -> v;
            default -> v * 1000;
        };
    }

    /** nginx on the PATH or where Debian puts it (/usr/sbin), or null. */
    private static String nginx() {
        for (String dir : (System.getenv().getOrDefault("PATH", "") + ":/usr/sbin").split(":")) {
            if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, "nginx"))) return Path.of(dir, "nginx").toString();
        }
        return null;
    }

    public static void print(List<Figures> all) {
        System.out.printf("| server, wrk: %d connections, %d s | 202s/s | p50 | p99 | answered | errors |%n", CONNECTIONS, SECONDS);
        System.out.println("|---|---|---|---|---|---|");
        for (Figures f : all) {
            System.out.printf("| %s | %,.0f | %.2f ms | %.2f ms | %d | %s |%n", f.name(), f.perSecond(), f.p50ms(), f.p99ms(), f.answered(), f.errors());
        }
        double nginx = median(all, NGINX), serve = median(all, SERVE), store = median(all, STORE);
        if (nginx > 0) System.out.printf("serve answers %.2f of nginx's 202s a second (medians)%n", serve / nginx);
        System.out.printf("serve --store answers %.2f of serve's 202s a second, each durable first (medians)%n", store / serve);
        double postgres = median(all, POSTGRES);
        if (postgres > 0) System.out.printf("three serves on one PostgreSQL answer %.2f of serve's 202s a second, each durable first (medians)%n", postgres / serve);
    }

    private static double median(List<Figures> all, String name) {
        double[] v = all.stream().filter(f -> f.name().equals(name))
            .mapToDouble(Figures::perSecond).sorted().toArray();
        return v.length == 0 ? 0 : v[v.length / 2];
    }
}
