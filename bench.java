///usr/bin/env jbang "$0" "$@" ; exit $?
//JAVA 21+
//DEPS com.google.code.gson:gson:2.15.0
//DEPS org.xerial:sqlite-jdbc:3.54.1.0
//DEPS org.postgresql:postgresql:42.7.14
//DEPS io.prometheus:prometheus-metrics-core:1.10.0
//DEPS io.prometheus:prometheus-metrics-exporter-httpserver:1.10.0
//DEPS io.prometheus:prometheus-metrics-instrumentation-jvm:1.10.0
//SOURCES caller/*.java cli/*.java text/*.java tools/*.java

import caller.Send;
import cli.Args;
import com.google.gson.GsonBuilder;
import tools.Accepts;
import tools.Versus;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * How fast a fire is, side by side with the article, in one run: starts serve.java in a process of its
 * own on port 0, measures the caller's side here and counts delivery from the server's own events.
 */
public class bench {
    static final String JAVA = ProcessHandle.current().info().command().orElse("java");
    static final PrintStream progress = System.err;

    public static void main(String... args) throws Exception {
        int n = 10_000, runs = 5;
        boolean runsGiven = false;
        boolean versus = false, accepts = false;
        Path json = null;
        try {
            for (Args words = new Args(args); words.hasNext(); ) {
                String option = words.next();
                switch (option) {
                    case "-h", "--help" -> {
                        System.out.print(USAGE);
                        return;
                    }
                    case "--n" -> n = (int) words.number(option, 10, 1_000_000);
                    case "--runs" -> {
                        runs = (int) words.number(option, 1, 100);
                        runsGiven = true;
                    }
                    case "--versus-webhook" -> versus = true;
                    case "--versus-nginx" -> accepts = true;
                    case "--json" -> json = Path.of(words.value(option));
                    default -> throw Args.unknown(option);
                }
            }
        } catch (IllegalArgumentException e) {
            System.err.println("Error: " + e.getMessage());
            System.err.print(USAGE);
            System.exit(2);
        }
        if (!Files.exists(Path.of("serve.java")) || !Files.exists(Path.of("tests/php/test.php"))) {
            System.err.println("Error: run bench from the project folder (where serve.java is)");
            System.exit(1);
        }
        if (versus && accepts) {
            System.err.println("Error: --versus-webhook and --versus-nginx are runs of their own: give one");
            System.exit(2);
        }
        if (versus) {
            Path dir = Files.createTempDirectory("asynccall-versus");
            Versus.print(Versus.run(n, runsGiven ? runs : 1, dir, serveCommand(SERVE_HEAP), progress), n);
            System.exit(0);
        }
        if (accepts) {
            Path dir = Files.createTempDirectory("asynccall-accepts");
            Accepts.print(Accepts.run(runsGiven ? runs : 3, dir, serveCommand(SERVE_HEAP), progress));
            System.exit(0);
        }
        Map<String, Object> figures = new LinkedHashMap<>();
        List<String[]> table = new ArrayList<>();
        run(n, runs, figures, table);
        print(table);
        if (json != null) {
            Files.writeString(json, new GsonBuilder().setPrettyPrinting().serializeNulls().create().toJson(figures) + "\n");
            progress.println("figures written to " + json);
        }
        System.exit(0);
    }

    static void run(int n, int runs, Map<String, Object> f, List<String[]> table) throws Exception {
        // The clients stay open through the throughput row, as a caller's would.
        try (Server server = new Server("--sleep", "0"); HttpClient client = HttpClient.newHttpClient(); HttpClient blog = HttpClient.newHttpClient()) {
            latencies(server, client, blog, n, f, table);
            throughput(server, n, f, table);
        }
        inFlight(n, f, table);
        stored(n, f, table);
        retried(n, f, table);
        wholeProcesses(runs, f, table);
        f.put("jdk", Runtime.version().toString());
        f.put("cores", Runtime.getRuntime().availableProcessors());
        f.put("date", LocalDate.now().toString());
    }

    /** The time a fire takes, each way, after some to warm up; delivery counted from the server's events. */
    private static void latencies(Server server, HttpClient client, HttpClient blog, int n, Map<String, Object> f, List<String[]> table)
            throws Exception {
        int warmup = Math.max(50, n / 10);
        URI url = server.url;
        progress.printf("server %s; %d calls a row after %d to warm up%n", url, n, warmup);
        long[] sock = fire("sock", n, warmup, i ->
            Send.sendSock("GET", url, Map.of("row", "sock", "i", i), null));
        long[] curl = fire("curl", n, warmup, i ->
            Send.sendCURL(client, "GET", url, Map.of("row", "curl", "i", i), Duration.ofSeconds(5), "Prefer", "respond-async"));
        long[] async = fire("async", n, warmup, i ->
            blog.sendAsync(HttpRequest.newBuilder(URI.create(url + "?row=async&i=" + i)).build(), HttpResponse.BodyHandlers.discarding()));
        int sockDone = server.await("sock", n + warmup), curlDone = server.await("curl", n + warmup), asyncDone = server.await("async", n + warmup);
        table.add(latency("sendSock (fire and forget)", sock, sockDone - warmup, n));
        table.add(latency("sendCURL (Prefer: respond-async, 202)", curl, curlDone - warmup, n));
        table.add(latency("HttpClient.sendAsync, answer ignored", async, asyncDone - warmup, n));
        f.put("sock_p50_us", us(percentile(sock, 50)));
        f.put("sock_p99_us", us(percentile(sock, 99)));
        f.put("curl_p50_us", us(percentile(curl, 50)));
        f.put("curl_p99_us", us(percentile(curl, 99)));
        f.put("async_p50_us", us(percentile(async, 50)));
    }

    private static void throughput(Server server, int n, Map<String, Object> f, List<String[]> table) throws Exception {
        progress.printf("throughput: %d sendSock calls from 4 threads%n", n);
        double perSecond = fireFast(server, n, (u, i) -> Send.sendSock("GET", u, Map.of("row", "tput", "i", i), null));
        int delivered = server.await("tput", n);
        f.put("fired", n);
        f.put("delivered", delivered);
        f.put("fires_per_s", Math.round(perSecond));
        table.add(new String[] {"throughput: sendSock from 4 threads", String.format("%,.0f fires/s", perSecond), "", "",
            delivered + " of " + n});
    }

    /**
     * Held in flight: the work of n calls sleeping at once. With Prefer: respond-async the connections
     * are given back at once; sendSock's stay open until each answer, with the JDK server's buffers.
     */
    private static void inFlight(int n, Map<String, Object> f, List<String[]> table) throws Exception {
        try (HttpClient client = HttpClient.newHttpClient()) {
            double rss = inFlight(n, "held", (url, i) -> Send.sendCURL(client, "GET", url, Map.of("row", "held", "i", i),
                Duration.ofSeconds(10), "Prefer", "respond-async"), SERVE_HEAP);
            f.put("inflight", n);
            f.put("inflight_rss_mib", Math.round(rss));
            table.add(new String[] {"in flight at once: sendCURL, 202", n + " calls", "", "", String.format("peak RSS %.0f MiB", rss)});
        }
        // Each call whose connection stays open holds about 35 KiB of the JDK server's buffers while it
        // works: serve's default heap (320 MiB) holds about 8,000 of them, so this row gives it 1 GiB.
        double sockRss = inFlight(n, "heldsock", (url, i) -> Send.sendSock("GET", url, Map.of("row", "heldsock", "i", i), null), "-Xmx1g");
        f.put("inflight_sock_rss_mib", Math.round(sockRss));
        table.add(new String[] {"in flight at once: sendSock, connections open", n + " calls", "", "", String.format("peak RSS %.0f MiB (-Xmx1g)", sockRss)});
    }

    /**
     * serve --store on SQLite (a file in a temporary folder, every commit on disk): the time to a 202
     * that is durable, for one caller and for 64 at once (group commit), and the memory of 10 × n calls
     * waiting in the store (one worker, working for an hour).
     */
    static void stored(int n, Map<String, Object> f, List<String[]> table) throws Exception {
        Path dir = Files.createTempDirectory("asynccall-bench-store");
        try (Server server = new Server(SERVE_HEAP, List.of("--sleep", "0", "--store", dir.resolve("calls.db").toString(), "--queue", "1000000"));
             HttpClient client = HttpClient.newHttpClient()) {
            int warmup = Math.max(50, n / 10);
            long[] one = fire("store", n, warmup, i ->
                Send.sendCURL(client, "GET", server.url, Map.of("row", "store", "i", i), Duration.ofSeconds(5), "Prefer", "respond-async"));
            int done = server.await("store", n + warmup);
            table.add(latency("--store: sendCURL, durable 202, one caller", one, done - warmup, n));
            f.put("store_p50_us", us(percentile(one, 50)));
            f.put("store_p99_us", us(percentile(one, 99)));
            progress.printf("store, 64 callers: %d calls%n", n);
            long start = System.nanoTime();
            long[] many = durably(server.url, "stored", n);
            double perSecond = n / ((System.nanoTime() - start) / 1e9);
            int stored = server.await("stored", n);
            table.add(new String[] {"--store: durable 202s, 64 kept-alive connections", String.format("%,.0f 202s/s", perSecond),
                fmt(percentile(many, 99)), fmt(many[n - 1]), stored + " of " + n + String.format(" (p50 %s)", fmt(percentile(many, 50)))});
            f.put("store_202_per_s", Math.round(perSecond));
            f.put("store_64_p50_us", us(percentile(many, 50)));
            f.put("store_delivered", stored);
        }
        int waiting = 10 * n;
        progress.printf("store: %d calls waiting%n", waiting);
        try (Server held = new Server(SERVE_HEAP, List.of("--sleep", "3600", "--workers", "1", "--store", dir.resolve("waiting.db").toString(),
                "--queue", "10000000"))) {
            durably(held.url, "waiting", waiting);
            double rss = held.peakRssMiB();
            table.add(new String[] {"--store: calls waiting in the store", waiting + " calls", "", "", String.format("peak RSS %.0f MiB", rss)});
            f.put("store_waiting", waiting);
            f.put("store_waiting_rss_mib", Math.round(rss));
        }
        try (var files = Files.list(dir)) {
            for (Path p : files.toList()) Files.delete(p);
        }
        Files.delete(dir);
    }

    /**
     * What a retry costs: n / 10 calls whose command exits 0 at once, then as many whose command fails its first
     * attempt and is tried again (--backoff 0.001,0.001, so that the wait is not what is measured), each worked to its
     * end; calls done a second, each way.
     */
    static void retried(int n, Map<String, Object> f, List<String[]> table) throws Exception {
        int calls = Math.max(100, n / 10);
        double once = doneRate(calls, "true"), again = doneRate(calls, "[ \"$ASYNCCALL_ATTEMPT\" -ge 2 ]");
        table.add(new String[] {"--run, --workers 8: calls done, each at once", String.format("%,.0f calls/s", once), "", "", calls + " of " + calls});
        table.add(new String[] {"--run, --workers 8: calls done, each failing once, retried", String.format("%,.0f calls/s", again), "", "",
            String.format("%d of %d; %.2f× the time", calls, calls, once / again)});
        f.put("run_done_per_s", Math.round(once));
        f.put("run_retried_done_per_s", Math.round(again));
    }

    /** Calls done a second by serve --run CMD, from the first 202 to the last end. */
    private static double doneRate(int calls, String command) throws Exception {
        progress.printf("--run %s: %d calls worked to their end%n", command, calls);
        try (Server server = new Server(SERVE_HEAP, List.of("--run", command, "--backoff", "0.001,0.001", "--workers", "8"))) {
            long start = System.nanoTime();
            durably(server.url, "run", calls);
            if (server.await("run", calls) < calls) throw new IllegalStateException("only " + server.count("run") + " of " + calls + " ended");
            return calls / ((System.nanoTime() - start) / 1e9);
        }
    }

    /**
     * n calls (Prefer: respond-async) from 64 callers at once, each on a kept-alive connection of its
     * own (raw HTTP/1.1, so that the client's cost is not what is measured), each answered 202; the
     * times to the 202, sorted.
     */
    static long[] durably(URI url, String row, int n) throws Exception {
        long[] nanos = new long[n];
        AtomicInteger next = new AtomicInteger();
        try (ExecutorService callers = Executors.newVirtualThreadPerTaskExecutor()) {
            List<Future<Object>> all = new ArrayList<>();
            for (int t = 0; t < 64; t++) {
                all.add(callers.submit(() -> {
                    try (java.net.Socket socket = new java.net.Socket(url.getHost(), url.getPort())) {
                        socket.setSoTimeout(10_000);
                        var out = socket.getOutputStream();
                        var in = new java.io.BufferedInputStream(socket.getInputStream());
                        for (int i; (i = next.getAndIncrement()) < n; ) {
                            long t0 = System.nanoTime();
                            out.write(("GET " + url.getRawPath() + "?row=" + row + "&i=" + i + " HTTP/1.1\r\nHost: " + url.getHost()
                                + "\r\nPrefer: respond-async\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
                            String head = head(in);
                            if (!head.startsWith("HTTP/1.1 202 ")) throw new IllegalStateException("not a 202: " + head);
                            Matcher length = Pattern.compile("(?i)\r\ncontent-length: *(\\d+)").matcher(head);
                            if (length.find()) in.skipNBytes(Long.parseLong(length.group(1)));
                            nanos[i] = System.nanoTime() - t0;
                        }
                    }
                    return null;
                }));
            }
            for (Future<Object> a : all) a.get();
        }
        Arrays.sort(nanos);
        return nanos;
    }

    /** An answer's status line and headers, up to the empty line. */
    private static String head(java.io.InputStream in) throws IOException {
        StringBuilder head = new StringBuilder();
        while (!(head.length() >= 4 && head.substring(head.length() - 4).equals("\r\n\r\n"))) {
            int b = in.read();
            if (b < 0) throw new IOException("the server closed the connection: " + head);
            head.append((char) b);
        }
        return head.toString();
    }

    interface Call {
        Object fire(int i) throws Exception;
    }

    /** Fires warmup + n calls one after the other; returns the n measured fire times in nanoseconds. */
    static long[] fire(String row, int n, int warmup, Call call) throws Exception {
        progress.printf("%s: %d calls%n", row, n);
        long[] nanos = new long[n];
        for (int i = 0; i < warmup + n; i++) {
            long t = System.nanoTime();
            call.fire(i);
            if (i >= warmup) nanos[i - warmup] = System.nanoTime() - t;
        }
        Arrays.sort(nanos);
        return nanos;
    }

    interface Target {
        Object fire(URI url, int i) throws Exception;
    }

    /** Fires n calls from 4 threads as fast as they go; returns fires per second. */
    static double fireFast(Server server, int n, Target call) throws Exception {
        AtomicInteger next = new AtomicInteger();
        long start = System.nanoTime();
        try (ExecutorService senders = Executors.newFixedThreadPool(4)) {
            List<Future<Object>> all = new ArrayList<>();
            for (int t = 0; t < 4; t++) {
                all.add(senders.submit(() -> {
                    for (int i; (i = next.getAndIncrement()) < n; ) call.fire(server.url, i);
                    return null;
                }));
            }
            for (Future<Object> f : all) f.get();
        }
        return n / ((System.nanoTime() - start) / 1e9);
    }

    /** n calls working at once in a server of their own (--sleep 120): its peak RSS in MiB once all arrived. */
    static double inFlight(int n, String row, Target call, String heap) throws Exception {
        progress.printf("in flight (%s): %d calls sleeping at once%n", row, n);
        try (Server held = new Server(heap, List.of("--sleep", "120"))) {
            fireFast(held, n, call);
            held.awaitAccepted(n);
            if (held.count("done") > 0) throw new IllegalStateException("calls finished before all were in flight");
            return held.peakRssMiB();
        }
    }

    static String[] latency(String what, long[] nanos, int delivered, int n) {
        return new String[] {what, fmt(percentile(nanos, 50)), fmt(percentile(nanos, 99)), fmt(nanos[nanos.length - 1]),
            delivered + " of " + n};
    }

    static long percentile(long[] sorted, int p) {
        return sorted[Math.max(0, (int) Math.ceil(sorted.length * p / 100.0) - 1)];
    }

    static double us(long nanos) {
        return Math.round(nanos / 100.0) / 10.0;
    }

    static String fmt(long nanos) {
        return nanos < 1_000_000 ? String.format("%.0f µs", nanos / 1e3) : String.format("%.2f ms", nanos / 1e6);
    }

    static double round(double v) {
        return Math.round(v * 100) / 100.0;
    }

    interface Wall {
        double seconds() throws Exception;
    }

    /**
     * The whole test process, each command run in turn (A B C A B C ...) so that the machine's ups and
     * downs fall on all of them alike: ./jbang test and java test.java against serve.java, and the
     * article's php test.php against php -S; the median and the spread (min to max) of each.
     */
    static void wholeProcesses(int runs, Map<String, Object> f, List<String[]> table) throws Exception {
        try (Server server = new Server("--sleep", "0"); Php php = Php.start()) {
            String url = server.url.toString();
            Map<String, Wall> commands = new LinkedHashMap<>();
            commands.put("./jbang test", () -> wall(List.of("./jbang", "test", "--url", url)));
            commands.put("java test.java", () -> wall(List.of(JAVA, "test.java", "--url", url)));
            if (php != null) commands.put("php test.php (the article)", () -> wall(List.of("php", "tests/php/test.php", php.url)));
            for (int warm = 0; warm < 3; warm++) for (Wall w : commands.values()) w.seconds(); // builds, caches, the AOT cache
            Map<String, double[]> times = new LinkedHashMap<>();
            commands.keySet().forEach(k -> times.put(k, new double[runs]));
            for (int i = 0; i < runs; i++) {
                for (Map.Entry<String, Wall> c : commands.entrySet()) {
                    times.get(c.getKey())[i] = c.getValue().seconds();
                    progress.printf("%s: %.3f s%n", c.getKey(), times.get(c.getKey())[i]);
                }
            }
            for (Map.Entry<String, double[]> t : times.entrySet()) {
                double[] s = t.getValue().clone();
                Arrays.sort(s);
                t.setValue(new double[] {s[runs / 2], s[0], s[runs - 1]});
            }
            double[] jbang = times.get("./jbang test"), java = times.get("java test.java"), article = times.get("php test.php (the article)");
            f.put("test_wall_s", round3(jbang[0]));
            f.put("test_wall_spread_s", List.of(round3(jbang[1]), round3(jbang[2])));
            f.put("java_test_wall_s", round3(java[0]));
            f.put("php_test_wall_s", article == null ? null : round3(article[0]));
            f.put("ratio_vs_php", article == null ? null : round(jbang[0] / article[0]));
            for (Map.Entry<String, double[]> t : times.entrySet()) {
                double[] m = t.getValue();
                String note = "median of " + runs + " alternated, " + String.format("%.3f to %.3f s", m[1], m[2])
                    + (t.getValue() == article ? String.format("; ./jbang test takes %.2f of it", jbang[0] / m[0]) : "");
                table.add(new String[] {"whole process: " + t.getKey(), String.format("%.3f s", m[0]), "", "", note});
            }
        }
    }

    static double round3(double v) {
        return Math.round(v * 1000) / 1000.0;
    }

    /** Runs a command to its end; its wall time in seconds. */
    static double wall(List<String> command) throws Exception {
        long t = System.nanoTime();
        Process p = new ProcessBuilder(command).redirectOutput(ProcessBuilder.Redirect.DISCARD)
            .redirectError(ProcessBuilder.Redirect.DISCARD).start();
        if (!p.waitFor(120, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new IllegalStateException(String.join(" ", command) + " failed");
        }
        return (System.nanoTime() - t) / 1e9;
    }

    /** php -S serving the article's res.php (tests/php), for its test.php; null without PHP and its curl. */
    record Php(Process server, String url) implements AutoCloseable {
        static Php start() throws Exception {
            try {
                if (new ProcessBuilder("php", "-r", "exit(function_exists('curl_init') ? 0 : 1);").start().waitFor() != 0) return null;
            } catch (IOException noPhp) {
                progress.println("php: not installed, its row is left out");
                return null;
            }
            int port;
            try (java.net.ServerSocket s = new java.net.ServerSocket(0)) {
                port = s.getLocalPort();
            }
            ProcessBuilder pb = new ProcessBuilder("php", "-S", "127.0.0.1:" + port, "-t", "tests/php")
                .redirectOutput(ProcessBuilder.Redirect.DISCARD).redirectErrorStream(true);
            pb.environment().put("RES_SLEEP", "5");
            Process server = pb.start();
            for (long deadline = System.nanoTime() + 10_000_000_000L; ; ) {
                try (java.net.Socket probe = new java.net.Socket("127.0.0.1", port)) {
                    break;
                } catch (IOException notYet) {
                    if (System.nanoTime() > deadline) {
                        server.destroyForcibly();
                        throw notYet;
                    }
                    Thread.onSpinWait();
                }
            }
            return new Php(server, "http://127.0.0.1:" + port + "/res.php");
        }

        @Override
        public void close() {
            server.destroyForcibly();
        }
    }

    static void print(List<String[]> table) {
        String[] head = {"row", "p50", "p99", "max", "delivered (server's count)"};
        int[] w = new int[head.length];
        for (String[] r : table) for (int i = 0; i < r.length; i++) w[i] = Math.max(w[i], Math.max(head[i].length(), r[i].length()));
        StringBuilder out = new StringBuilder();
        for (String[] r : java.util.stream.Stream.concat(java.util.stream.Stream.<String[]>of(head), table.stream()).toList()) {
            StringBuilder line = new StringBuilder("|");
            for (int i = 0; i < r.length; i++) line.append(' ').append(String.format("%-" + w[i] + "s", r[i])).append(" |");
            out.append(line).append('\n');
            if (r == head) {
                StringBuilder rule = new StringBuilder("|");
                for (int x : w) rule.append("-".repeat(x + 2)).append('|');
                out.append(rule).append('\n');
            }
        }
        System.out.print(out);
        System.out.printf("JDK %s, %d cores, %s%n", Runtime.version(), Runtime.getRuntime().availableProcessors(), LocalDate.now());
    }

    /** The metrics client serve needs and the drivers for serve --store (this script's //DEPS, as serve.java's). */
    static final String DRIVERS = String.join(java.io.File.pathSeparator, Arrays.stream(System.getProperty("java.class.path")
        .split(java.io.File.pathSeparator)).filter(jar -> jar.matches(".*/(sqlite-jdbc|postgresql|prometheus-metrics-[a-z-]+)-[^/]*\\.jar")).toList());

    /** serve.java's heap, as its //JAVA_OPTIONS give it. */
    static final String SERVE_HEAP = "-Xmx320m";

    /** The command that starts serve.java as JBang runs it (its options, with this heap), to which an address and options are added. */
    static List<String> serveCommand(String heap) throws IOException {
        List<String> command = new ArrayList<>(List.of(JAVA, heap));
        command.addAll(serveOptions());
        command.addAll(List.of("-cp", DRIVERS, "serve.java"));
        return command;
    }

    /** serve.java's //JAVA_OPTIONS but its heap, so that the servers measured run as JBang runs them. */
    static List<String> serveOptions() throws IOException {
        String options = Files.readAllLines(Path.of("serve.java")).stream().filter(l -> l.startsWith("//JAVA_OPTIONS "))
            .findFirst().orElse("//JAVA_OPTIONS ").substring("//JAVA_OPTIONS ".length()).strip();
        return Arrays.stream(options.split("\\s+")).filter(o -> !o.startsWith("-Xmx")).toList();
    }

    /** serve.java in its own process, its calls counted by row (the "row" field of each call's query) from its events. */
    static final class Server implements AutoCloseable {
        private static final Pattern ROW = Pattern.compile("[?&]row=(\\w+)");
        final Process process;
        final URI url;
        private final Map<String, AtomicInteger> counts = new ConcurrentHashMap<>();

        Server(String... args) throws Exception {
            this(SERVE_HEAP, List.of(args));
        }

        Server(String heap, List<String> args) throws Exception {
            List<String> command = new ArrayList<>(serveCommand(heap));
            command.addAll(List.of("127.0.0.1:0", "--events", "-"));
            command.addAll(args);
            process = new ProcessBuilder(command).start();
            BufferedReader log = new BufferedReader(new InputStreamReader(process.getErrorStream(), StandardCharsets.UTF_8));
            String first = log.readLine();
            Matcher m = Pattern.compile("\\((http://[^)]+)\\) started").matcher(first == null ? "" : first);
            if (!m.find()) throw new IllegalStateException("serve.java did not start: " + first);
            url = URI.create(m.group(1) + "/res.php");
            Thread.ofPlatform().daemon().start(() -> {
                try {
                    while (log.readLine() != null) { } // the log is not what is counted
                } catch (IOException ended) {
                    // the server is gone
                }
            });
            BufferedReader events = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
            Thread.ofPlatform().daemon().start(() -> {
                try {
                    for (String l; (l = events.readLine()) != null; ) {
                        // Only the ends are parsed: the counting shares the machine with the server it measures.
                        if (l.startsWith("{\"event\":\"accepted\"")) add("accepted");
                        if (!l.startsWith("{\"event\":\"done\"")) continue;
                        var e = com.google.gson.JsonParser.parseString(l).getAsJsonObject();
                        add("done");
                        Matcher row = ROW.matcher(e.get("uri").getAsString());
                        if (row.find()) add(row.group(1));
                    }
                } catch (IOException ended) {
                    // the server is gone
                }
            });
        }

        private synchronized void add(String row) {
            counts.computeIfAbsent(row, k -> new AtomicInteger()).incrementAndGet();
            notifyAll();
        }

        synchronized int count(String row) {
            AtomicInteger c = counts.get(row);
            return c == null ? 0 : c.get();
        }

        /** Waits until the server has done n calls of the row (at most 60 s); returns its count. */
        synchronized int await(String row, int n) throws InterruptedException {
            long deadline = System.nanoTime() + 60_000_000_000L;
            for (long left; count(row) < n && (left = deadline - System.nanoTime()) > 0; ) wait(left / 1_000_000 + 1);
            return count(row);
        }

        void awaitAccepted(int n) throws InterruptedException {
            if (await("accepted", n) < n) throw new IllegalStateException("only " + count("accepted") + " of " + n + " arrived");
        }

        double peakRssMiB() throws IOException {
            for (String l : Files.readAllLines(Path.of("/proc/" + process.pid() + "/status"))) {
                if (l.startsWith("VmHWM:")) return Long.parseLong(l.replaceAll("\\D", "")) / 1024.0;
            }
            throw new IOException("no VmHWM");
        }

        @Override
        public void close() throws InterruptedException {
            process.destroyForcibly();
            process.waitFor();
        }
    }

    static final String USAGE = """
        Usage: bench [--n N] [--runs R] [--json FILE] [--versus-webhook | --versus-nginx] [-h]
        Measures fire latency, throughput, calls held in flight and whole-process time, beside the article.
        Starts its own servers (serve.java, and php -S when PHP is installed); progress goes to stderr.
          --n N          calls per row (default 10000)
          --versus-webhook  only this: N calls at once (say --n 2000) whose work is "sleep 5", behind
                         adnanh/webhook (apt-get install webhook) and behind serve --run, side by side
                         (with --runs R: R rounds, webhook and serve in turn; default 1)
          --versus-nginx only this: 202s a second from wrk (apt-get install wrk), 64 connections for 8 s,
                         to nginx's "return 202" (when installed), serve --sleep 0, serve --sleep 0
                         --store and three such serves on one PostgreSQL (when installed), in turn
                         (with --runs R: R rounds; default 3)
          --runs R       runs of each whole-process command, the median is kept (default 5)
          --json FILE    also write the figures as JSON
          -h, --help     this help
        """;
}
