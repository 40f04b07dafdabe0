package tools;

import caller.Send;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

/**
 * bench --versus-webhook: the same command per call (sleep 5, then a line in a file) behind
 * adnanh/webhook (Debian's package) and behind serve --run, the same client firing N calls at each at
 * once: calls answered a second, p50 and p99 time to the answer, peak RSS of the server with its
 * children, and how many commands ran to their end.
 */
public final class Versus {
    private Versus() {}

    public record Figures(String name, int answered, double perSecond, double p50ms, double p99ms, double peakRssMiB, long ran) {}

    /**
     * @param serve the command that starts serve.java (java, its options, the script), to which the address and --run are added
     * @param progress where to say what is being measured
     */
    public static List<Figures> run(int n, int rounds, Path dir, List<String> serve, java.io.PrintStream progress) throws Exception {
        Path script = dir.resolve("work.sh");
        Files.writeString(script, "#!/bin/sh\nsleep 5\necho done >> \"$1\"\n");
        script.toFile().setExecutable(true);
        List<Figures> all = new ArrayList<>();
        // adnanh/webhook: a hook whose command is the script; it answers before the command ends.
        Path ranWebhook = dir.resolve("webhook.ran"), hooks = dir.resolve("hooks.json");
        Files.writeString(hooks, "[{\"id\": \"work\", \"execute-command\": \"" + script + "\", \"pass-arguments-to-command\":"
            + " [{\"source\": \"string\", \"name\": \"" + ranWebhook + "\"}]}]\n");
        Path ranServe = dir.resolve("serve.ran");
        // In turn, webhook then serve, rounds times: the machine's ups and downs fall on both alike.
        for (int round = 0; round < rounds; round++) {
            int port = freePort();
            all.add(measure(progress, "adnanh/webhook 2.8 (hook: sleep 5)", n, ranWebhook, URI.create("http://127.0.0.1:" + port + "/hooks/work"),
                new ProcessBuilder("webhook", "-hooks", hooks.toString(), "-ip", "127.0.0.1", "-port", String.valueOf(port)), false));
            // serve --run: the same script; answered 202 at once with Prefer: respond-async.
            port = freePort();
            List<String> command = new ArrayList<>(serve);
            command.addAll(List.of("127.0.0.1:" + port, "--run", script + " " + ranServe));
            all.add(measure(progress, "serve --run (sleep 5)", n, ranServe, URI.create("http://127.0.0.1:" + port + "/res.php"),
                new ProcessBuilder(command), true));
        }
        return all;
    }

    private static Figures measure(java.io.PrintStream progress, String name, int n, Path ran, URI url, ProcessBuilder server, boolean respondAsync) throws Exception {
        Process p = server.redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        String[] headers = respondAsync ? new String[] {"Prefer", "respond-async"} : new String[0];
        try (HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(30)).build()) {
            awaitListening(url, p);
            warm(client, url, ran, headers);
            progress.printf("%s: %d calls at once%n", name, n);
            long[] peak = {0};
            Thread sampler = Thread.ofPlatform().daemon().start(() -> sample(p, peak));
            long start = System.nanoTime();
            long[] sorted = fireAll(client, url, n, headers);
            double seconds = (System.nanoTime() - start) / 1e9;
            // Every command that started ends 5 s later: wait for them, at most 30 s.
            for (long deadline = System.nanoTime() + 30_000_000_000L; lines(ran) < sorted.length && System.nanoTime() < deadline; ) {
                Thread.sleep(200);
            }
            Thread.sleep(6000); // and a little more, for commands started late
            sampler.interrupt();
            return new Figures(name, sorted.length, sorted.length / seconds, pct(sorted, 50), pct(sorted, 99), peak[0] / 1024.0, lines(ran));
        } finally {
            p.descendants().forEach(ProcessHandle::destroy);
            p.destroy();
            p.waitFor(10, TimeUnit.SECONDS);
        }
    }

    /** Warmed up as a server that has run a while would be: 20 calls, and their commands, first. */
    private static void warm(HttpClient client, URI url, Path ran, String[] headers) throws Exception {
        Files.deleteIfExists(ran); // a round before left its lines
        for (int i = 0; i < 20; i++) Send.sendCURL(client, "POST", url, Map.of("warm", i), Duration.ofSeconds(60), headers);
        for (long deadline = System.nanoTime() + 20_000_000_000L; lines(ran) < 20 && System.nanoTime() < deadline; ) Thread.sleep(100);
        Files.deleteIfExists(ran);
    }

    /** The peak RSS of the server and its children, sampled every 50 ms until interrupted. */
    private static void sample(Process p, long[] peak) {
        while (!Thread.currentThread().isInterrupted()) {
            peak[0] = Math.max(peak[0], rssKiB(p.toHandle()));
            try {
                Thread.sleep(50);
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    /** n calls at once, each on a virtual thread: the times to their answers (2xx), sorted; a call not answered is left out. */
    private static long[] fireAll(HttpClient client, URI url, int n, String[] headers) {
        try (ExecutorService callers = Executors.newVirtualThreadPerTaskExecutor()) {
            List<Future<Long>> calls = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                int id = i;
                calls.add(callers.submit(() -> {
                    long t = System.nanoTime();
                    HttpResponse<String> r = Send.sendCURL(client, "POST", url, Map.of("i", id), Duration.ofSeconds(60), headers);
                    return r != null && r.statusCode() / 100 == 2 ? System.nanoTime() - t : -1L;
                }));
            }
            List<Long> times = new ArrayList<>();
            for (Future<Long> f : calls) {
                try {
                    if (f.get() >= 0) times.add(f.get());
                } catch (Exception failed) {
                    // not answered: counted as such
                }
            }
            return times.stream().mapToLong(Long::longValue).sorted().toArray();
        }
    }

    private static double pct(long[] sorted, int p) {
        return sorted.length == 0 ? 0 : sorted[Math.min(sorted.length - 1, sorted.length * p / 100)] / 1e6;
    }

    private static long lines(Path file) throws IOException {
        return Files.exists(file) ? Files.readAllLines(file).size() : 0;
    }

    /** The resident memory of a process and all its children, in KiB. */
    static long rssKiB(ProcessHandle root) {
        long sum = 0;
        for (ProcessHandle h : (Iterable<ProcessHandle>) java.util.stream.Stream.concat(java.util.stream.Stream.of(root), root.descendants())::iterator) {
            try {
                for (String l : Files.readAllLines(Path.of("/proc/" + h.pid() + "/status"))) {
                    if (l.startsWith("VmRSS:")) sum += Long.parseLong(l.replaceAll("\\D", ""));
                }
            } catch (IOException | RuntimeException gone) {
                // it ended meanwhile
            }
        }
        return sum;
    }

    static int freePort() throws IOException {
        try (java.net.ServerSocket s = new java.net.ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    static void awaitListening(URI url, Process p) throws Exception {
        for (long deadline = System.nanoTime() + 60_000_000_000L; ; Thread.sleep(50)) {
            try (java.net.Socket s = new java.net.Socket(url.getHost(), url.getPort())) {
                return;
            } catch (IOException notYet) {
                if (!p.isAlive() || System.nanoTime() > deadline) throw new IOException("the server did not start: " + url);
            }
        }
    }

    public static void print(List<Figures> all, int n) {
        System.out.printf("| server, %,d calls at once | answered | answered/s | p50 to the answer | p99 | peak RSS with children | commands that ran |%n", n);
        System.out.println("|---|---|---|---|---|---|---|");
        for (Figures f : all) {
            System.out.printf("| %s | %d | %,.0f | %.1f ms | %.1f ms | %.0f MiB | %d of %d |%n", f.name(), f.answered(), f.perSecond(),
                f.p50ms(), f.p99ms(), f.peakRssMiB(), f.ran(), f.answered());
        }
    }
}
