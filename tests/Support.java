import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;

import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.InputStreamReader;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import java.util.regex.Pattern;

/** What the tests share: servers on port 0 with their log, raw HTTP, commands run in-process, PHP's vectors. */
final class Support {
    private Support() {}

    /** The project folder: the nearest folder up from here with jbang-catalog.json. */
    static final Path ROOT = root();

    private static Path root() {
        for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
            if (Files.exists(p.resolve("jbang-catalog.json")) && Files.exists(p.resolve("serve.java"))) return p;
        }
        throw new IllegalStateException("run the tests from the project folder (where jbang-catalog.json is)");
    }

    /** Notified whenever any recorder gets an end: for waiting on several servers at once. */
    private static final Object ANY = new Object();

    /** Waits until the recorders together have at least n ends that match; fails after the timeout. */
    static long awaitSum(Predicate<res.Done> which, long n, Duration timeout, Recorder... recorders) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        synchronized (ANY) {
            while (true) {
                long sum = 0;
                for (Recorder r : recorders) sum += r.count(which);
                if (sum >= n) return sum;
                long left = deadline - System.nanoTime();
                if (left <= 0) throw new AssertionError("waited " + timeout.toMillis() + " ms for " + n + " calls to end as expected, found " + sum);
                ANY.wait(Math.max(1, left / 1_000_000));
            }
        }
    }

    /** A log that tests can wait on: every write of the server's log is one entry, with when it came. */
    static final class LogSink extends OutputStream {
        record Entry(long nanos, String text) {}

        private final List<Entry> entries = new ArrayList<>();
        private final ByteArrayOutputStream pending = new ByteArrayOutputStream();

        @Override
        public synchronized void write(int b) {
            if (b == '\n') {
                add(pending.toString(StandardCharsets.UTF_8));
                pending.reset();
            } else {
                pending.write(b);
            }
        }

        @Override
        public synchronized void write(byte[] b, int off, int len) {
            String text = new String(b, off, len, StandardCharsets.UTF_8);
            add(text.endsWith("\n") ? text.substring(0, text.length() - 1) : text);
        }

        private void add(String text) {
            entries.add(new Entry(System.nanoTime(), text));
            notifyAll();
        }

        /** One line of a log read from a process: an indented one continues the entry before it. */
        synchronized List<Entry> entries() {
            return List.copyOf(entries);
        }

        synchronized void addLine(String line) {
            if (line.startsWith("    ") && !entries.isEmpty()) {
                Entry last = entries.remove(entries.size() - 1);
                entries.add(new Entry(last.nanos(), last.text() + "\n" + line));
                notifyAll();
            } else {
                add(line);
            }
        }

        /** Waits until at least n entries match, and returns the first n; fails after the timeout. */
        synchronized List<Entry> await(String regex, int n, Duration timeout) throws InterruptedException {
            Pattern p = Pattern.compile(regex, Pattern.DOTALL);
            long deadline = System.nanoTime() + timeout.toNanos();
            while (true) {
                List<Entry> found = entries.stream().filter(e -> p.matcher(e.text).find()).limit(n).toList();
                if (found.size() >= n) return found;
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    throw new AssertionError("waited " + timeout.toMillis() + " ms for " + n + " log entries matching "
                        + regex + ", found " + found.size() + "; the log:\n" + String.join("\n", texts()));
                }
                wait(Math.max(1, left / 1_000_000));
            }
        }

        Entry await(String regex, Duration timeout) throws InterruptedException {
            return await(regex, 1, timeout).get(0);
        }

        synchronized List<String> texts() {
            return entries.stream().map(Entry::text).toList();
        }

        synchronized long count(String regex) {
            Pattern p = Pattern.compile(regex, Pattern.DOTALL);
            return entries.stream().filter(e -> p.matcher(e.text).find()).count();
        }
    }

    /**
     * The calls a server under test has seen, fed by the server itself (a listener in this JVM, or the
     * JSON lines of --events from a process), for tests to wait on with a timeout, as OkHttp's
     * MockWebServer takeRequest does: never a regex over a log another thread is still writing.
     */
    static final class Recorder implements res.Listener {
        private final List<res.Call> accepted = new ArrayList<>();
        private final List<res.Done> done = new ArrayList<>();
        private final Map<res.Done, Long> when = new java.util.IdentityHashMap<>();

        @Override
        public synchronized void accepted(res.Call call) {
            accepted.add(call);
            notifyAll();
        }

        @Override
        public void done(res.Done end) {
            synchronized (this) {
                done.add(end);
                when.put(end, System.nanoTime());
                notifyAll();
            }
            // Outside this recorder's lock: awaitSum holds ANY while it counts each recorder.
            synchronized (ANY) {
                ANY.notifyAll();
            }
        }

        /** Waits until n ends match, and returns the first n; fails after the timeout, saying what came. */
        synchronized List<res.Done> await(Predicate<res.Done> which, int n, Duration timeout) throws InterruptedException {
            long deadline = System.nanoTime() + timeout.toNanos();
            while (true) {
                List<res.Done> found = done.stream().filter(which).limit(n).toList();
                if (found.size() >= n) return found;
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    throw new AssertionError("waited " + timeout.toMillis() + " ms for " + n + " calls to end as expected, "
                        + found.size() + " did; the ends seen: " + done.stream().map(Recorder::describe).toList());
                }
                wait(Math.max(1, left / 1_000_000));
            }
        }

        res.Done await(Predicate<res.Done> which, Duration timeout) throws InterruptedException {
            return await(which, 1, timeout).get(0);
        }

        /** Waits until n calls have arrived. */
        synchronized void awaitAccepted(int n, Duration timeout) throws InterruptedException {
            long deadline = System.nanoTime() + timeout.toNanos();
            for (long left; accepted.size() < n; ) {
                if ((left = deadline - System.nanoTime()) <= 0) throw new AssertionError("waited " + timeout.toMillis() + " ms for " + n + " calls to arrive, " + accepted.size() + " did");
                wait(Math.max(1, left / 1_000_000));
            }
        }

        /** When the end was recorded (System.nanoTime). */
        synchronized long when(res.Done end) {
            return when.get(end);
        }

        synchronized long count(Predicate<res.Done> which) {
            return done.stream().filter(which).count();
        }

        synchronized List<res.Done> done() {
            return List.copyOf(done);
        }

        synchronized List<res.Call> accepted() {
            return List.copyOf(accepted);
        }

        private static String describe(res.Done d) {
            return d.status() + " " + d.call().method() + " " + d.call().uri() + (d.note() == null ? "" : " - " + d.note());
        }

        /** One JSON line of serve --events. */
        void addJson(String line) {
            JsonObject e = JsonParser.parseString(line).getAsJsonObject();
            String from = e.get("from").getAsString();
            int colon = from.lastIndexOf(':');
            res.Call call = new res.Call(e.get("id").getAsString(), e.get("method").getAsString(), URI.create(e.get("uri").getAsString()),
                new java.net.InetSocketAddress(from.substring(0, colon).replaceAll("[\\[\\]]", ""), Integer.parseInt(from.substring(colon + 1))),
                e.has("key") ? e.get("key").getAsString() : null);
            switch (e.get("event").getAsString()) {
                case "accepted" -> accepted(call);
                case "done" -> done(new res.Done(call, e.get("status").getAsInt(), e.get("work_status").getAsInt(),
                    e.has("exit") ? e.get("exit").getAsInt() : -1, e.has("answer") ? latin1(e.get("answer").getAsString()) : null,
                    e.has("answer_bytes") ? e.get("answer_bytes").getAsLong() : 0, e.has("note") ? e.get("note").getAsString() : null));
                default -> { }
            }
        }

        /** Text back to the endpoint's byte strings (one char per byte). */
        private static String latin1(String text) {
            return new String(text.getBytes(StandardCharsets.UTF_8), StandardCharsets.ISO_8859_1);
        }
    }

    /** An end: a call with this status, method and URI (a regex), e.g. ended(202, "GET", "/res\\.php\\?a=1"). */
    static Predicate<res.Done> ended(int status, String method, String uri) {
        Pattern p = Pattern.compile(uri);
        return d -> d.status() == status && d.call().method().equals(method) && p.matcher(d.call().uri().toString()).matches();
    }

    /** An end worked on (200 or 202, no note) whose answer has this line, e.g. "[id] => c1". */
    static Predicate<res.Done> workedWith(String line) {
        return d -> d.note() == null && d.answer() != null && d.answer().contains(line + "\n");
    }

    /** serve.java started in this JVM on 127.0.0.1:0 with the given options, its log captured. */
    static final class Server implements AutoCloseable {
        final serve.Server server;
        final LogSink log = new LogSink();
        final Recorder calls = new Recorder();

        Server(String... args) throws IOException {
            List<String> all = new ArrayList<>(List.of("127.0.0.1:0"));
            all.addAll(List.of(args));
            server = serve.Server.start(serve.Options.parse(all.toArray(String[]::new)), log);
            server.listeners.add(calls); // after the log: an end recorded here is already logged
        }

        int port() {
            return server.port();
        }

        URI url(String path) {
            return URI.create(server.url() + path);
        }

        @Override
        public void close() {
            server.close();
        }
    }

    /**
     * serve.java run with plain `java` in a process of its own: its log (stderr) captured as it comes,
     * and its events (--events -, on stdout) recorded.
     */
    static final class ServerProcess implements AutoCloseable {
        private static final String JAVA = ProcessHandle.current().info().command().orElse("java");
        /** serve.java's //JAVA_OPTIONS, so that the server runs here as JBang runs it. */
        static final String JAVA_OPTIONS = javaOptions();
        final Process process;
        final LogSink log = new LogSink();
        final Recorder calls = new Recorder();
        final int port;
        private final List<Thread> readers = new ArrayList<>();

        /** Starts it; prefix is a shell command the server runs under (e.g. "ulimit -n 256;"), or "". */
        ServerProcess(String prefix, String... args) throws Exception {
            this(quote(JAVA) + " " + (List.of(args).contains("--store") ? "-cp " + quote(DRIVERS) + " " : "") + JAVA_OPTIONS + " serve.java",
                prefix, Map.of(), args);
        }

        /** The JDBC drivers of serve.java's //DEPS, from this JVM's class path (JBang puts them there): what --store needs. */
        static final String DRIVERS = String.join(java.io.File.pathSeparator, java.util.Arrays.stream(System.getProperty("java.class.path")
            .split(java.io.File.pathSeparator)).filter(jar -> jar.matches(".*/(sqlite-jdbc|postgresql)-[^/]*\\.jar")).toList());

        /** Starts launcher (e.g. "./jbang examples/outbox.java"), a script that runs serve, with these variables. */
        ServerProcess(String launcher, String prefix, Map<String, String> env, String... args) throws Exception {
            // SIGINT and SIGTERM as a terminal gives them, whatever the suite was started from (a background
            // job ignores SIGINT, and the JVM then installs no handler for it).
            String command = prefix + " exec env --default-signal=INT,TERM " + launcher + " --events - "
                + String.join(" ", List.of(args).stream().map(Support::quote).toList());
            ProcessBuilder builder = new ProcessBuilder("bash", "-c", command).directory(ROOT.toFile());
            builder.environment().putAll(env);
            process = builder.start();
            readers.add(read(process.getErrorStream(), log::addLine));
            readers.add(read(process.getInputStream(), calls::addJson));
            String started = log.await("asynccall Development Server \\(http://[^)]*:\\d+\\) started", Duration.ofSeconds(60)).text();
            port = Integer.parseInt(started.replaceAll(".*:(\\d+)\\) started.*", "$1"));
        }

        private static String javaOptions() {
            try {
                return Files.readAllLines(ROOT.resolve("serve.java")).stream().filter(l -> l.startsWith("//JAVA_OPTIONS "))
                    .map(l -> l.substring("//JAVA_OPTIONS ".length()).strip()).findFirst().orElse("");
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }

        private static Thread read(java.io.InputStream from, java.util.function.Consumer<String> to) {
            return Thread.ofVirtual().start(() -> {
                try (BufferedReader in = new BufferedReader(new InputStreamReader(from, StandardCharsets.UTF_8))) {
                    for (String line; (line = in.readLine()) != null; ) to.accept(line);
                } catch (IOException ended) {
                    // the process is gone
                }
            });
        }

        URI url(String path) {
            return URI.create("http://127.0.0.1:" + port + path);
        }

        /** Waits for the process to exit and for all it wrote to be read; returns its exit status. */
        int awaitExit(Duration timeout) throws InterruptedException {
            if (!process.waitFor(timeout.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS)) {
                throw new AssertionError("still running after " + timeout.toMillis() + " ms");
            }
            for (Thread reader : readers) reader.join(timeout.toMillis());
            return process.exitValue();
        }

        void signal(String name) throws Exception {
            new ProcessBuilder("kill", "-" + name, String.valueOf(process.pid())).inheritIO().start().waitFor();
        }

        /** The process's peak resident memory so far (VmHWM), in MiB. */
        double peakRssMiB() throws IOException {
            for (String l : Files.readAllLines(Path.of("/proc/" + process.pid() + "/status"))) {
                if (l.startsWith("VmHWM:")) return Long.parseLong(l.replaceAll("\\D", "")) / 1024.0;
            }
            throw new IOException("no VmHWM for " + process.pid());
        }

        @Override
        public void close() throws InterruptedException {
            process.destroyForcibly();
            process.waitFor();
        }
    }

    /**
     * PostgreSQL from Debian's package (its newest /usr/lib/postgresql/N/bin), a cluster of its own in a
     * temporary folder on a free port, started for a test and stopped (and deleted) after it. Run as the
     * package's postgres user when this is root, as initdb must not run as root.
     */
    static final class Postgres implements AutoCloseable {
        static final String NONE = "PostgreSQL is not installed (apt-get install postgresql)";
        final Path dir;
        final int port;
        private final Path bin;

        /** Whether Debian's PostgreSQL is installed. */
        static boolean installed() {
            return binaries() != null;
        }

        private static Path binaries() {
            try (var versions = Files.list(Path.of("/usr/lib/postgresql"))) {
                return versions.map(v -> v.resolve("bin")).filter(b -> Files.isExecutable(b.resolve("initdb")))
                    .max(java.util.Comparator.comparing(b -> Integer.parseInt(b.getParent().getFileName().toString().replaceAll("\\D", "0"))))
                    .orElse(null);
            } catch (IOException none) {
                return null;
            }
        }

        Postgres() throws Exception {
            bin = binaries();
            dir = Files.createTempDirectory("asynccall-pg");
            port = closedPort();
            if (root()) run("chown", "-R", "postgres:postgres", dir.toString());
            run(asPostgres(bin.resolve("initdb").toString(), "-D", dir.resolve("data").toString(), "-U", "postgres",
                "--auth=trust", "-E", "UTF8", "--no-sync"));
            start();
        }

        /** Starts the server (again), on the same port and data. */
        void start() throws Exception {
            run(asPostgres(bin.resolve("pg_ctl").toString(), "-D", dir.resolve("data").toString(), "-l", dir.resolve("log").toString(),
                "-w", "-t", "60", "-o", "-p " + port + " -k " + dir + " -c listen_addresses=127.0.0.1 -c max_connections=50", "start"));
        }

        /** Stops the server as its administrator would (fast: sessions are ended). */
        void stop() throws Exception {
            run(asPostgres(bin.resolve("pg_ctl").toString(), "-D", dir.resolve("data").toString(), "-m", "fast", "-w", "stop"));
        }

        /** The store URL of its database. */
        String url() {
            return "jdbc:postgresql://127.0.0.1:" + port + "/postgres?user=postgres";
        }

        private static boolean root() {
            return "root".equals(System.getProperty("user.name"));
        }

        private static String[] asPostgres(String... command) {
            List<String> all = new ArrayList<>(root() ? List.of("runuser", "-u", "postgres", "--") : List.of());
            all.addAll(List.of(command));
            return all.toArray(String[]::new);
        }

        private static void run(String... command) throws Exception {
            Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(120, java.util.concurrent.TimeUnit.SECONDS) || p.exitValue() != 0) {
                throw new IOException(String.join(" ", command) + " failed: " + out);
            }
        }

        @Override
        public void close() throws Exception {
            try {
                if (Files.exists(dir.resolve("data/postmaster.pid"))) {
                    run(asPostgres(bin.resolve("pg_ctl").toString(), "-D", dir.resolve("data").toString(), "-m", "immediate", "-w", "stop"));
                }
            } finally {
                try (var files = Files.walk(dir)) {
                    for (Path p : files.sorted(java.util.Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
                }
            }
        }
    }

    static String quote(String s) {
        return "'" + s.replace("'", "'\\''") + "'";
    }

    /** Sends raw bytes (one char per byte) and reads the whole answer, the connection closed by the server. */
    static String raw(int port, String request) throws IOException {
        try (Socket s = new Socket("127.0.0.1", port)) {
            s.setSoTimeout(20_000);
            s.getOutputStream().write(request.getBytes(StandardCharsets.ISO_8859_1));
            return new String(s.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
        }
    }

    static String body(String answer) {
        return answer.substring(answer.indexOf("\r\n\r\n") + 4);
    }

    static int status(String answer) {
        return Integer.parseInt(answer.substring(9, 12));
    }

    /** A port where nothing listens: taken, then given back. */
    static int closedPort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    /** What a command printed and returned, run in this JVM through its start(out, err, args). */
    record Run(int status, String out, String err, long millis) {}

    interface Command {
        int start(PrintWriter out, PrintWriter err, String... args);
    }

    static Run run(Command command, String... args) {
        StringWriter out = new StringWriter(), err = new StringWriter();
        long t = System.nanoTime();
        int status = command.start(new PrintWriter(out, true), new PrintWriter(err, true), args);
        return new Run(status, out.toString(), err.toString(), (System.nanoTime() - t) / 1_000_000);
    }

    static Run serveCommand(String... args) {
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        long t = System.nanoTime();
        int status = serve.start(new PrintStream(err, true, StandardCharsets.UTF_8), args);
        return new Run(status, "", err.toString(StandardCharsets.UTF_8), (System.nanoTime() - t) / 1_000_000);
    }

    /** tests/vectors.json, made by running PHP (tests/php/make-vectors.php). */
    static JsonObject vectors() throws IOException {
        return JsonParser.parseString(Files.readString(ROOT.resolve("tests/vectors.json"))).getAsJsonObject();
    }

    /** JSON as the Java values a caller would pass: maps, lists, Long or Double, String, Boolean, null. */
    static Object java(JsonElement e) {
        if (e.isJsonNull()) return null;
        if (e.isJsonObject()) {
            Map<String, Object> m = new LinkedHashMap<>();
            for (Map.Entry<String, JsonElement> kv : e.getAsJsonObject().entrySet()) m.put(kv.getKey(), java(kv.getValue()));
            return m;
        }
        if (e.isJsonArray()) {
            List<Object> l = new ArrayList<>();
            for (JsonElement x : (JsonArray) e) l.add(java(x));
            return l;
        }
        var p = e.getAsJsonPrimitive();
        if (p.isBoolean()) return p.getAsBoolean();
        if (p.isString()) return p.getAsString();
        String n = p.getAsNumber().toString();
        return n.matches("-?[0-9]+") ? (Object) Long.parseLong(n) : (Object) Double.parseDouble(n);
    }

    static String str(JsonObject o, String key) {
        return o.get(key).getAsString();
    }
}
