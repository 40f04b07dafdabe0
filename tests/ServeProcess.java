

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * serve.java run with plain `java` in a process of its own: its log (stderr) captured as it comes,
 * and its events (--events -, on stdout) recorded.
 */
final class ServeProcess implements AutoCloseable {
    private static final String JAVA = ProcessHandle.current().info().command().orElse("java");
    /** serve.java's //JAVA_OPTIONS, so that the server runs here as JBang runs it. */
    static final String JAVA_OPTIONS = javaOptions();
    final Process process;
    final LogSink log = new LogSink();
    final Recorder calls = new Recorder();
    final int port;
    private final String scheme;
    private final List<Thread> readers = new ArrayList<>();

    /** Starts it; prefix is a shell command the server runs under (e.g. "ulimit -n 256;"), or "". */
    ServeProcess(String prefix, String... args) throws Exception {
        this(LAUNCHER, prefix, Map.of(), args);
    }

    /**
     * The jars of serve.java's //DEPS (the JDBC drivers, the metrics client), from this JVM's class path (JBang puts
     * them there): the command line that runs serve.java as JBang would.
     */
    static final String LAUNCHER = Support.quote(JAVA) + " -cp " + Support.quote(String.join(java.io.File.pathSeparator,
        java.util.Arrays.stream(System.getProperty("java.class.path").split(java.io.File.pathSeparator))
            .filter(jar -> jar.matches(".*/(sqlite-jdbc|postgresql|prometheus-metrics-[a-z-]+)-[^/]*\\.jar")).toList())) + " " + JAVA_OPTIONS + " serve.java";

    /** Starts launcher (e.g. "./jbang examples/outbox.java"), a script that runs serve, with these variables. */
    ServeProcess(String launcher, String prefix, Map<String, String> env, String... args) throws Exception {
        // SIGINT and SIGTERM as a terminal gives them, whatever the suite was started from (a background
        // job ignores SIGINT, and the JVM then installs no handler for it).
        String command = prefix + " exec env --default-signal=INT,TERM,HUP " + launcher + " --events - "
            + String.join(" ", List.of(args).stream().map(Support::quote).toList());
        ProcessBuilder builder = new ProcessBuilder("bash", "-c", command).directory(Support.ROOT.toFile());
        builder.environment().putAll(env);
        process = builder.start();
        readers.add(read(process.getErrorStream(), log::addLine));
        readers.add(read(process.getInputStream(), calls::addJson));
        String started = log.await("asynccall Development Server \\(https?://[^)]*:\\d+\\) started", Duration.ofSeconds(60)).text();
        port = Integer.parseInt(started.replaceAll(".*:(\\d+)\\) started.*", "$1"));
        scheme = started.contains("(https://") ? "https" : "http";
    }

    private static String javaOptions() {
        try {
            return Files.readAllLines(Support.ROOT.resolve("serve.java")).stream().filter(l -> l.startsWith("//JAVA_OPTIONS "))
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
        return URI.create(scheme + "://127.0.0.1:" + port + path);
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
