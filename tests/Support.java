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

    /** Notified whenever any log gets an entry: for waiting on several logs at once. */
    private static final Object ANY = new Object();

    /** Waits until the logs together have at least n entries matching regex; fails after the timeout. */
    static long awaitSum(String regex, long n, Duration timeout, LogSink... logs) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        synchronized (ANY) {
            while (true) {
                long sum = 0;
                for (LogSink l : logs) sum += l.count(regex);
                if (sum >= n) return sum;
                long left = deadline - System.nanoTime();
                if (left <= 0) throw new AssertionError("waited " + timeout.toMillis() + " ms for " + n + " entries matching " + regex + ", found " + sum);
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
            synchronized (ANY) {
                ANY.notifyAll();
            }
        }

        /** One line of a log read from a process: an indented one continues the entry before it. */
        synchronized void addLine(String line) {
            if (line.startsWith("    ") && !entries.isEmpty()) {
                Entry last = entries.remove(entries.size() - 1);
                entries.add(new Entry(last.nanos(), last.text() + "\n" + line));
                notifyAll();
                synchronized (ANY) {
                    ANY.notifyAll();
                }
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

    /** serve.java started in this JVM on 127.0.0.1:0 with the given options, its log captured. */
    static final class Server implements AutoCloseable {
        final serve.Server server;
        final LogSink log = new LogSink();

        Server(String... args) throws IOException {
            List<String> all = new ArrayList<>(List.of("127.0.0.1:0"));
            all.addAll(List.of(args));
            server = serve.Server.start(serve.Options.parse(all.toArray(String[]::new)), log);
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

    /** serve.java run with plain `java` in a process of its own, its log (stderr) captured as it comes. */
    static final class ServerProcess implements AutoCloseable {
        private static final String JAVA = ProcessHandle.current().info().command().orElse("java");
        final Process process;
        final LogSink log = new LogSink();
        final int port;

        /** Starts it; prefix is a shell command the server runs under (e.g. "ulimit -n 256;"), or "". */
        ServerProcess(String prefix, String... args) throws Exception {
            String command = prefix + " exec " + quote(JAVA) + " serve.java " + String.join(" ", List.of(args).stream().map(Support::quote).toList());
            process = new ProcessBuilder("bash", "-c", command).directory(ROOT.toFile()).redirectErrorStream(true).start();
            Thread.ofVirtual().start(() -> {
                try (BufferedReader in = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                    for (String line; (line = in.readLine()) != null; ) log.addLine(line);
                } catch (IOException ended) {
                    // the process is gone
                }
            });
            String started = log.await("asynccall Development Server \\(http://[^)]*:\\d+\\) started", Duration.ofSeconds(60)).text();
            port = Integer.parseInt(started.replaceAll(".*:(\\d+)\\) started.*", "$1"));
        }

        URI url(String path) {
            return URI.create("http://127.0.0.1:" + port + path);
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
