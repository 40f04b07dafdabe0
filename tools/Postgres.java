package tools;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * PostgreSQL from Debian's package (its newest /usr/lib/postgresql/N/bin), a cluster of its own in a
 * temporary folder on a free port, started for a test or a bench row and stopped (and deleted) after it. Run
 * as the package's postgres user when this is root, as initdb must not run as root.
 */
public final class Postgres implements AutoCloseable {
    public static final String NONE = "PostgreSQL is not installed (apt-get install postgresql)";
    public final Path dir;
    public final int port;
    private final Path bin;

    /** Whether Debian's PostgreSQL is installed. */
    public static boolean installed() {
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

    public Postgres() throws Exception {
        bin = binaries();
        dir = Files.createTempDirectory("asynccall-pg");
        try (java.net.ServerSocket free = new java.net.ServerSocket(0)) {
            port = free.getLocalPort();
        }
        if (root()) run("chown", "-R", "postgres:postgres", dir.toString());
        run(asPostgres(bin.resolve("initdb").toString(), "-D", dir.resolve("data").toString(), "-U", "postgres",
            "--auth=trust", "-E", "UTF8", "--no-sync"));
        start();
    }

    /** Starts the server (again), on the same port and data. */
    public void start() throws Exception {
        run(asPostgres(bin.resolve("pg_ctl").toString(), "-D", dir.resolve("data").toString(), "-l", dir.resolve("log").toString(),
            "-w", "-t", "60", "-o", "-p " + port + " -k " + dir + " -c listen_addresses=127.0.0.1 -c max_connections=50", "start"));
    }

    /** Stops the server as its administrator would (fast: sessions are ended). */
    public void stop() throws Exception {
        run(asPostgres(bin.resolve("pg_ctl").toString(), "-D", dir.resolve("data").toString(), "-m", "fast", "-w", "stop"));
    }

    /** Signals the server and every process it started (its sessions): STOP hangs it as a stalled machine would, CONT resumes it. */
    public void signal(String name) throws Exception {
        String postmaster = Files.readAllLines(dir.resolve("data/postmaster.pid")).get(0).strip();
        run("sh", "-c", "kill -s " + name + " " + postmaster + "; pkill -" + name + " -P " + postmaster + "; true");
    }

    /** The store URL of its database. */
    public String url() {
        return url("postgres");
    }

    /** The store URL of one of its databases. */
    public String url(String database) {
        return "jdbc:postgresql://127.0.0.1:" + port + "/" + database + "?user=postgres";
    }

    /** Makes a database (an empty one for each bench round). */
    public void create(String database) throws Exception {
        run(asPostgres(bin.resolve("createdb").toString(), "-h", dir.toString(), "-p", String.valueOf(port), "-U", "postgres", database));
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
