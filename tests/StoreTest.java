import call.Done;
import tools.Postgres;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.OptionalInt;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * serve --store: a 202 is a promise. Calls accepted survive a SIGKILL and a stop, Idempotency-Keys and
 * monitors survive a restart, and the store is refused clearly when it cannot be used.
 */
class StoreTest {
    static final int CALLS = 500;

    /** Fires n calls (Prefer: respond-async) with ids from 0, and returns the monitor path of each (its 202's Location). */
    static List<String> fire(URI url, int n, String prefix) throws Exception {
        try (HttpClient client = HttpClient.newHttpClient(); ExecutorService callers = Executors.newFixedThreadPool(32)) {
            List<Future<HttpResponse<String>>> answers = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                HttpRequest r = HttpRequest.newBuilder(URI.create(url + "?id=" + prefix + i)).header("Prefer", "respond-async").build();
                answers.add(callers.submit(() -> client.send(r, HttpResponse.BodyHandlers.ofString())));
            }
            List<String> monitors = new ArrayList<>();
            for (Future<HttpResponse<String>> a : answers) {
                HttpResponse<String> answer = a.get(60, TimeUnit.SECONDS);
                assertEquals(202, answer.statusCode(), answer.body());
                monitors.add(answer.headers().firstValue("Location").orElseThrow());
            }
            return monitors;
        }
    }

    static HttpResponse<String> get(URI uri, String... headers) throws Exception {
        try (HttpClient client = HttpClient.newHttpClient()) {
            HttpRequest.Builder r = HttpRequest.newBuilder(uri);
            if (headers.length > 0) r.headers(headers);
            return client.send(r.build(), HttpResponse.BodyHandlers.ofString());
        }
    }

    @Test
    void fiveHundredCallsAcceptedThenSigkillAreAllWorkedAfterARestart(@TempDir Path dir) throws Exception {
        String store = dir.resolve("calls.db").toString();
        List<String> monitors;
        // 10 workers on calls of a minute each: at the kill, 10 calls are being worked on and 490 wait.
        try (ServeProcess first = new ServeProcess("", "127.0.0.1:0", "--store", store, "--sleep", "60", "--workers", "10")) {
            monitors = fire(first.url("/res.php"), CALLS, "c");
            first.log.await("Store: " + java.util.regex.Pattern.quote(store) + ", 0 calls waiting", Duration.ofSeconds(5));
            first.signal("KILL");
            assertEquals(137, first.awaitExit(Duration.ofSeconds(20)));
            assertEquals(0, first.calls.done().size(), "none was finished before the kill");
        }
        try (ServeProcess again = new ServeProcess("", "127.0.0.1:0", "--store", store, "--sleep", "0")) {
            again.log.await("10 calls worked on when the last serve ended: queued again \\(at-least-once\\)$", Duration.ofSeconds(5));
            again.log.await("Store: .*, 500 calls waiting", Duration.ofSeconds(5));
            List<Done> done = again.calls.await(d -> d.status() == 202 && d.note() == null, CALLS, Duration.ofSeconds(60));
            Set<String> worked = new HashSet<>();
            for (Done d : done) {
                String id = d.call().uri().getQuery().substring("id=".length());
                assertTrue(d.answer().contains("[id] => " + id + "\n"), d.answer());
                worked.add(id);
            }
            assertEquals(CALLS, worked.size(), "each of the 500 worked");
            String monitor = get(again.url(monitors.get(CALLS - 1))).body();
            assertTrue(monitor.contains("\"state\":\"done\"") && monitor.contains("[id] => c" + (CALLS - 1)), monitor);
            again.log.await("\\[202\\]: GET /res\\.php\\?id=c499$", Duration.ofSeconds(5));
        }
    }

    @Test
    void aStopWithAShortGraceLeavesUnfinishedCallsInTheStoreForTheNextStart(@TempDir Path dir) throws Exception {
        String store = dir.resolve("calls.db").toString();
        try (ServeProcess first = new ServeProcess("", "127.0.0.1:0", "--store", store, "--sleep", "30", "--workers", "5", "--grace", "1")) {
            fire(first.url("/res.php"), 50, "s");
            first.signal("TERM");
            assertEquals(0, first.awaitExit(Duration.ofSeconds(30)), "nothing abandoned");
            first.log.await("50 calls left in the store for the next start$", Duration.ofSeconds(1));
            assertEquals(0, first.calls.done().size());
        }
        try (ServeProcess again = new ServeProcess("", "127.0.0.1:0", "--store", store, "--sleep", "0")) {
            again.log.await("Store: .*, 50 calls waiting", Duration.ofSeconds(5));
            again.calls.await(d -> d.status() == 202 && d.note() == null, 50, Duration.ofSeconds(30));
            assertEquals(0, again.calls.count(d -> d.note() != null));
        }
    }

    @Test
    void aKeyWorkedBeforeARestartIsAnsweredNotWorkedAfterItAndLivesAsLongAsItsCall(@TempDir Path dir) throws Exception {
        String store = dir.resolve("calls.db").toString();
        String[] async = {"Prefer", "respond-async", "Idempotency-Key", "order-1"};
        String location;
        try (TestServer server = new TestServer("--store", store, "--sleep", "0", "--keep", "5")) {
            HttpResponse<String> first = get(server.url("/res.php?id=1"), async);
            assertEquals(202, first.statusCode());
            location = first.headers().firstValue("Location").orElseThrow();
            server.calls.await(Recorder.workedWith("            [id] => 1"), Duration.ofSeconds(10));
            // A call whose caller waits: worked at once, and stored as well.
            HttpResponse<String> waited = get(server.url("/res.php?id=2"), "Idempotency-Key", "order-2");
            assertEquals(200, waited.statusCode());
            assertTrue(waited.body().contains("[id] => 2\n"), waited.body());
        }
        try (TestServer server = new TestServer("--store", store, "--sleep", "0", "--keep", "5")) {
            HttpResponse<String> repeat = get(server.url("/res.php?id=1"), async);
            assertEquals(202, repeat.statusCode());
            assertEquals(location, repeat.headers().firstValue("Location").orElseThrow(), "the first call's monitor");
            assertEquals(200, get(server.url("/res.php?id=2"), "Idempotency-Key", "order-2").statusCode());
            assertEquals(422, get(server.url("/res.php?id=3"), "Idempotency-Key", "order-2").statusCode());
            String monitor = get(server.url(location)).body();
            assertTrue(monitor.contains("\"state\":\"done\"") && monitor.contains("[id] => 1\\n"), monitor);
            assertEquals(2, server.calls.count(d -> d.note() != null && d.note().startsWith("repeat of Idempotency-Key")));
            assertEquals(0, server.calls.count(d -> d.note() == null), "nothing worked again");
            // --keep 5: once the call is older than that, it goes, its key with it, and the same key is a new call.
            long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
            HttpResponse<String> again;
            do {
                assertTrue(System.nanoTime() < deadline, "the key outlived --keep");
                Thread.sleep(200);
                again = get(server.url("/res.php?id=1"), async);
            } while (location.equals(again.headers().firstValue("Location").orElse(location)));
            assertEquals(202, again.statusCode());
            assertEquals(404, get(server.url(location)).statusCode(), "the first call is gone with its key");
            server.calls.await(Recorder.workedWith("            [id] => 1"), Duration.ofSeconds(10));
        }
    }

    @Test
    void aStopCuttingCommandsGivesTheirCallsBackToTheStoreAndTheNextStartWorksThem(@TempDir Path dir) throws Exception {
        String store = dir.resolve("calls.db").toString();
        try (ServeProcess first = new ServeProcess("", "127.0.0.1:0", "--store", store, "--run", "sleep 30",
                "--workers", "2", "--grace", "1")) {
            fire(first.url("/res.php"), 5, "r");
            first.signal("TERM");
            assertEquals(0, first.awaitExit(Duration.ofSeconds(30)));
            first.log.await("Stopped after .*: 5 calls left in the store for the next start$", Duration.ofSeconds(1));
            assertEquals(0, first.calls.done().size(), "the two commands cut are not ends");
        }
        try (ServeProcess again = new ServeProcess("", "127.0.0.1:0", "--store", store, "--run",
                "printf 'Content-Type: text/plain\\n\\n%s\\n' \"$QUERY_STRING\"")) {
            List<Done> done = again.calls.await(d -> d.note() == null && d.exit().equals(OptionalInt.of(0)), 5, Duration.ofSeconds(30));
            Set<String> ids = new HashSet<>();
            for (Done d : done) ids.add(d.answer().strip());
            assertEquals(Set.of("id=r0", "id=r1", "id=r2", "id=r3", "id=r4"), ids);
        }
    }

    @Test
    void aBacklogOfLargeBodiesIsTakenAFewAtATimeWithinTheHeap(@TempDir Path dir) throws Exception {
        String store = dir.resolve("calls.db").toString();
        int n = 48;
        byte[] body = new byte[8 * 1024 * 1024 - 1]; // 384 MiB in all, against serve's 320 MiB heap
        java.util.Arrays.fill(body, (byte) 'x');
        try (ServeProcess first = new ServeProcess("", "127.0.0.1:0", "--store", store, "--workers", "1", "--sleep", "3600");
             HttpClient client = HttpClient.newHttpClient()) {
            for (int i = 0; i < n; i++) {
                HttpRequest r = HttpRequest.newBuilder(first.url("/res.php?id=b" + i)).header("Prefer", "respond-async")
                    .header("Content-Type", "application/octet-stream").POST(HttpRequest.BodyPublishers.ofByteArray(body)).build();
                assertEquals(202, client.send(r, HttpResponse.BodyHandlers.ofString()).statusCode());
            }
            first.signal("KILL");
            first.awaitExit(Duration.ofSeconds(20));
        }
        // No bound on workers: the store hands them only what fits in a quarter of the heap at a time.
        try (ServeProcess again = new ServeProcess("", "127.0.0.1:0", "--store", store, "--sleep", "0.2")) {
            again.calls.await(d -> d.note() == null, n, Duration.ofSeconds(120));
            assertEquals(202, get(again.url("/res.php?after=1"), "Prefer", "respond-async").statusCode(), "it still serves");
            assertTrue(again.log.entries().stream().noneMatch(e -> e.text().contains("OutOfMemoryError")), "no OutOfMemoryError");
        }
    }

    @Test
    void withAStoreQueueBoundsTheCallsWaitingAndTheRestAreToldToComeBack(@TempDir Path dir) throws Exception {
        try (ServeProcess server = new ServeProcess("", "127.0.0.1:0", "--store", dir.resolve("calls.db").toString(),
                "--workers", "1", "--sleep", "60", "--queue", "50");
             HttpClient client = HttpClient.newHttpClient(); ExecutorService callers = Executors.newVirtualThreadPerTaskExecutor()) {
            List<Future<HttpResponse<String>>> answers = new ArrayList<>();
            for (int i = 0; i < 120; i++) {
                HttpRequest r = HttpRequest.newBuilder(server.url("/res.php?id=q" + i)).header("Prefer", "respond-async").build();
                answers.add(callers.submit(() -> client.send(r, HttpResponse.BodyHandlers.ofString())));
            }
            int accepted = 0;
            for (Future<HttpResponse<String>> a : answers) {
                HttpResponse<String> answer = a.get(60, TimeUnit.SECONDS);
                if (answer.statusCode() == 202) accepted++;
                else assertEquals("1", answer.headers().firstValue("Retry-After").orElse(null), answer.statusCode() + " " + answer.body());
            }
            assertTrue(accepted <= 50 && accepted >= 40, accepted + " accepted");
        }
    }

    static boolean postgres() {
        return Postgres.installed();
    }

    @Test
    @org.junit.jupiter.api.condition.EnabledIf(value = "postgres", disabledReason = Postgres.NONE)
    void whileItsDatabaseIsDownCallsAreToldToComeBackAndTheStoreGoesOnWhenItIsBack() throws Exception {
        try (Postgres postgres = new Postgres();
             ServeProcess server = new ServeProcess("", "127.0.0.1:0", "--store", postgres.url(), "--sleep", "0")) {
            String[] async = {"Prefer", "respond-async"};
            assertEquals(202, get(server.url("/res.php?id=before"), async).statusCode());
            server.calls.await(Recorder.workedWith("            [id] => before"), Duration.ofSeconds(10));
            postgres.stop();
            HttpResponse<String> down = get(server.url("/res.php?id=down"), async);
            assertEquals(503, down.statusCode(), down.body());
            assertEquals("1", down.headers().firstValue("Retry-After").orElse(null));
            assertTrue(down.body().startsWith("Service Unavailable: the call could not be stored ("), down.body());
            server.log.await("\\[503\\]: GET /res\\.php\\?id=down - Service Unavailable: the call could not be stored", Duration.ofSeconds(5));
            postgres.start();
            // The store connects again on its next try (at most 5 s apart): until then, still 503.
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            int status;
            while ((status = get(server.url("/res.php?id=back"), async).statusCode()) != 202) {
                assertEquals(503, status);
                assertTrue(System.nanoTime() < deadline, "the store did not come back");
                Thread.sleep(200);
            }
            server.calls.await(Recorder.workedWith("            [id] => back"), Duration.ofSeconds(10));
            server.log.await("The store is connected again$", Duration.ofSeconds(1));
            assertEquals(0, server.calls.count(Recorder.workedWith("            [id] => down")), "a call told 503 is not worked");
        }
    }

    /**
     * PostgreSQL hung longer than a caller waits: every call told 503 stays unstored. The first call's transaction
     * hangs until the driver's socket timeout (30 s); those behind it are given up before the store takes them up.
     */
    @Test
    @org.junit.jupiter.api.condition.EnabledIf(value = "postgres", disabledReason = Postgres.NONE)
    void callsToldThatTheyCouldNotBeStoredWhileTheDatabaseHungAreNeverWorked() throws Exception {
        try (Postgres postgres = new Postgres();
             ServeProcess server = new ServeProcess("", "127.0.0.1:0", "--store", postgres.url(), "--sleep", "0", "--workers", "1")) {
            String[] async = {"Prefer", "respond-async"};
            assertEquals(202, get(server.url("/res.php?id=before"), async).statusCode());
            server.calls.await(Recorder.workedWith("            [id] => before"), Duration.ofSeconds(10));
            postgres.signal("STOP");
            List<java.util.concurrent.CompletableFuture<HttpResponse<String>>> hung = new ArrayList<>();
            try {
                for (int i = 0; i < 3; i++) {
                    String target = "/res.php?id=hung" + i;
                    hung.add(java.util.concurrent.CompletableFuture.supplyAsync(() -> {
                        try {
                            return get(server.url(target), async);
                        } catch (Exception e) {
                            throw new java.util.concurrent.CompletionException(e);
                        }
                    }));
                    server.log.await("Accepted$", i + 2, Duration.ofSeconds(5)); // one after another
                }
                for (var answer : hung) assertEquals(503, answer.get(120, java.util.concurrent.TimeUnit.SECONDS).statusCode());
            } finally {
                postgres.signal("CONT");
            }
            // Once the store is back, a new call is stored after anything the hung ones left behind, and with one
            // worker, worked after them.
            long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            while (get(server.url("/res.php?id=after"), async).statusCode() != 202) {
                assertTrue(System.nanoTime() < deadline, "the store did not come back");
                Thread.sleep(200);
            }
            server.calls.await(Recorder.workedWith("            [id] => after"), Duration.ofSeconds(20));
            for (int i = 0; i < 3; i++) {
                assertEquals(0, server.calls.count(Recorder.workedWith("            [id] => hung" + i)), "hung" + i + " was told 503 and worked");
            }
        }
    }

    static boolean root() {
        return "root".equals(System.getProperty("user.name"));
    }

    /**
     * A SQLite store on a small disk (a tmpfs of 64 MiB) that fills up: under 16 MiB free new calls are refused and the
     * queue drains; a restart on a disk with nothing free comes up, reads, refuses, and works what it holds once freed.
     */
    @Test
    @org.junit.jupiter.api.condition.EnabledIf(value = "root", disabledReason = "mounting a small disk needs root")
    void aFullDiskRefusesNewCallsWhileTheQueueDrainsAndARestartOnItComesUp(@TempDir Path dir) throws Exception {
        Path disk = dir.resolve("disk"), filler = disk.resolve("filler");
        Files.createDirectory(disk);
        run("mount", "-t", "tmpfs", "-o", "size=64m", "tmpfs", disk.toString());
        try {
            String store = disk.resolve("calls.db").toString();
            try (ServeProcess server = new ServeProcess("", "127.0.0.1:0", "--store", store, "--workers", "1", "--sleep", "0.3")) {
                fire(server.url("/res.php"), 20, "q");
                fill(filler, Files.getFileStore(disk).getUsableSpace() - (8 << 20));
                server.log.await("New calls are refused \\(503\\) while the store's disk has [0-9.]+ MiB free, under the 16\\.0 MiB kept", Duration.ofSeconds(5));
                HttpResponse<String> refused = get(server.url("/res.php?id=refused"), "Prefer", "respond-async");
                assertEquals(503, refused.statusCode(), refused.body());
                for (int i = 0; i < 20; i++) server.calls.await(Recorder.workedWith("            [id] => q" + i), Duration.ofSeconds(30));
                Files.delete(filler);
                server.log.await("The store's disk has room again \\([0-9.]+ MiB free\\): new calls are taken$", Duration.ofSeconds(5));
                assertEquals(202, get(server.url("/res.php?id=room"), "Prefer", "respond-async").statusCode());
                server.calls.await(Recorder.workedWith("            [id] => room"), Duration.ofSeconds(10));
            }
            List<String> monitors;
            try (ServeProcess killed = new ServeProcess("", "127.0.0.1:0", "--store", store, "--workers", "2", "--sleep", "60")) {
                monitors = fire(killed.url("/res.php"), 3, "k"); // two taken as they are stored, one queued
                killed.signal("KILL");
                killed.awaitExit(Duration.ofSeconds(20));
            }
            fill(filler, Long.MAX_VALUE);
            try (ServeProcess again = new ServeProcess("", "127.0.0.1:0", "--store", store, "--sleep", "0")) {
                again.log.await("New calls are refused \\(503\\) while the store's disk has 0\\.0 MiB free", Duration.ofSeconds(5));
                assertEquals(503, get(again.url("/res.php?id=full"), "Prefer", "respond-async").statusCode());
                HttpResponse<String> monitor = get(again.url(monitors.get(0)));
                assertEquals(200, monitor.statusCode(), monitor.body());
                Files.delete(filler);
                for (int i = 0; i < 3; i++) again.calls.await(Recorder.workedWith("            [id] => k" + i), Duration.ofSeconds(30));
                again.log.await("2 calls worked on when the last serve ended: queued again \\(at-least-once\\)$", Duration.ofSeconds(1));
            }
        } finally {
            run("umount", "-l", disk.toString());
        }
    }

    /** The store's files made immutable for a while (an I/O error on every write): 503 meanwhile, and back without a restart. */
    @Test
    @org.junit.jupiter.api.condition.EnabledIf(value = "root", disabledReason = "chattr +i needs root")
    void aStoreThatFailsItsWritesForAWhileComesBackWithoutARestart(@TempDir Path dir) throws Exception {
        Path db = dir.resolve("calls.db"), wal = dir.resolve("calls.db-wal");
        try (ServeProcess server = new ServeProcess("", "127.0.0.1:0", "--store", db.toString(), "--sleep", "0")) {
            fire(server.url("/res.php"), 5, "b");
            org.junit.jupiter.api.Assumptions.assumeTrue(new ProcessBuilder("chattr", "+i", db.toString(), wal.toString()).start().waitFor() == 0,
                "chattr +i is not supported here (the file system or the tool)");
            try {
                HttpResponse<String> down = get(server.url("/res.php?id=down"), "Prefer", "respond-async");
                assertEquals(503, down.statusCode(), down.body());
            } finally {
                run("chattr", "-i", db.toString(), wal.toString());
            }
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (get(server.url("/res.php?id=back"), "Prefer", "respond-async").statusCode() != 202) {
                assertTrue(System.nanoTime() < deadline, "the store did not come back:\n" + String.join("\n", server.log.texts()));
                Thread.sleep(200);
            }
            server.calls.await(Recorder.workedWith("            [id] => back"), Duration.ofSeconds(10));
            assertEquals(0, server.calls.count(Recorder.workedWith("            [id] => down")), "a call told 503 is not worked");
        }
    }

    /** Writes zeros (a tmpfs holds them: no hole) until size bytes or the disk is full. */
    private static void fill(Path file, long size) throws Exception {
        byte[] chunk = new byte[1 << 20];
        try (java.io.OutputStream out = Files.newOutputStream(file)) {
            for (long written = 0; written < size; written += chunk.length) out.write(chunk, 0, (int) Math.min(chunk.length, size - written));
        } catch (java.io.IOException full) {
            // no space left: as full as it gets
        }
    }

    private static void run(String... command) throws Exception {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        assertEquals(0, p.waitFor(), String.join(" ", command) + ": " + out);
    }

    /** An endpoint paused past its lease: the one that takes its call over says so, and so does it when it wakes, and stops its work. */
    @Test
    @org.junit.jupiter.api.condition.EnabledIf(value = "postgres", disabledReason = Postgres.NONE)
    void aTakeOverIsLoggedOnBothSides() throws Exception {
        try (Postgres postgres = new Postgres();
             ServeProcess paused = new ServeProcess("", "127.0.0.1:0", "--store", postgres.url(), "--lease", "1", "--sleep", "15")) {
            // Taken by the first endpoint as it is stored (a worker is free), and worked 15 s: it is still working when paused.
            assertEquals(202, get(paused.url("/res.php?id=taken"), "Prefer", "respond-async").statusCode());
            try (ServeProcess other = new ServeProcess("", "127.0.0.1:0", "--store", postgres.url(), "--lease", "1", "--sleep", "0")) {
                paused.signal("STOP");
                try {
                    other.log.await("Took over 1 call whose endpoint stopped renewing its lease .*", Duration.ofSeconds(20));
                } finally {
                    paused.signal("CONT");
                }
                other.calls.await(Recorder.workedWith("            [id] => taken"), Duration.ofSeconds(20));
                paused.log.await("The call [0-9a-f]{32} was taken over by another endpoint while this one worked it .*: its work here is stopped$",
                    Duration.ofSeconds(30));
            }
        }
    }

    /** Another token would read this deployment's calls, another --keep delete them: such an endpoint is refused. */
    @Test
    @org.junit.jupiter.api.condition.EnabledIf(value = "postgres", disabledReason = Postgres.NONE)
    void endpointsOnOneQueueMustAgreeOnTheTokenAndKeep(@TempDir Path dir) throws Exception {
        Path a = Files.writeString(dir.resolve("a"), "token-a"), b = Files.writeString(dir.resolve("b"), "token-b");
        try (Postgres postgres = new Postgres();
             TestServer first = new TestServer("--sleep", "0", "--store", postgres.url(), "--token-file", a.toString())) {
            for (List<String> other : List.of(List.of("--token-file", b.toString()), List.of("--token-file", a.toString(), "--keep", "60"))) {
                List<String> args = new ArrayList<>(List.of("127.0.0.1:0", "--sleep", "0", "--store", postgres.url()));
                args.addAll(other);
                Support.Run refused = Support.serveCommand(args.toArray(String[]::new));
                assertEquals(1, refused.status(), other.toString());
                assertTrue(refused.err().contains("endpoints with another token or another --keep serve this queue already"), refused.err());
            }
            try (TestServer second = new TestServer("--sleep", "0", "--store", postgres.url(), "--token-file", a.toString())) {
                second.log.await("The store's queue is served by 1 other endpoint with the same token and --keep$", Duration.ofSeconds(5));
            }
        }
    }

    @Test
    @org.junit.jupiter.api.condition.EnabledIf(value = "postgres", disabledReason = Postgres.NONE)
    void aFailureNoteWithANulByteIsStoredAndBlocksNothing() throws Exception {
        try (Postgres postgres = new Postgres();
             ServeProcess server = new ServeProcess("", "127.0.0.1:0", "--store", postgres.url(), "--run",
                 "printf 'oops\\000zz' >&2; exit 3", "--attempts", "1")) {
            for (int i = 0; i < 3; i++) {
                assertEquals(202, get(server.url("/res.php?id=" + i), "Prefer", "respond-async").statusCode());
                server.calls.await(d -> d.exit().equals(OptionalInt.of(3)), i + 1, Duration.ofSeconds(20));
            }
            assertTrue(server.log.entries().stream().noneMatch(e -> e.text().contains("The store failed")), "the store never failed");
        }
    }

    @Test
    void aStoreThatCannotBeUsedIsAClearErrorAtStart(@TempDir Path dir) throws Exception {
        Path store = dir.resolve("calls.db");
        // Without the driver on the class path (plain java, given only the metrics client serve needs): what to do instead.
        String metricsClient = java.util.Arrays.stream(System.getProperty("java.class.path").split(java.io.File.pathSeparator))
            .filter(jar -> jar.contains("prometheus")).collect(java.util.stream.Collectors.joining(java.io.File.pathSeparator));
        String java = ProcessHandle.current().info().command().orElse("java");
        Process plain = new ProcessBuilder(java, "-cp", metricsClient, "serve.java", "127.0.0.1:0", "--store", store.toString())
            .directory(Support.ROOT.toFile()).redirectErrorStream(true).start();
        String said = new String(plain.getInputStream().readAllBytes());
        assertEquals(1, plain.waitFor());
        assertTrue(said.startsWith("Error: no JDBC driver for sqlite on the class path: run serve with JBang"), said);
        // A SQLite file serves one endpoint: a second serve on it is refused.
        try (TestServer first = new TestServer("--store", store.toString())) {
            Support.Run second = Support.serveCommand("127.0.0.1:0", "--store", store.toString());
            assertEquals(1, second.status());
            assertTrue(second.err().startsWith("Error: the store " + store + " is in use by another serve"), second.err());
            assertEquals(202, get(first.url("/res.php"), "Prefer", "respond-async").statusCode(), "the first goes on");
        }
        Support.Run bad = Support.serveCommand("127.0.0.1:0", "--store", "jdbc:mysql://x/y");
        assertEquals(1, bad.status());
        assertTrue(bad.err().startsWith("Error: --store takes jdbc:sqlite:FILE, a file name, or jdbc:postgresql://"), bad.err());
        assertNotEquals(0, Support.serveCommand("127.0.0.1:0", "--store", store.toString(), "--lease", "0.5").status());
        for (String memory : List.of("jdbc:sqlite::memory:", "jdbc:sqlite:", "")) {
            Support.Run inMemory = Support.serveCommand("127.0.0.1:0", "--store", memory);
            assertEquals(1, inMemory.status(), memory);
            assertTrue(inMemory.err().startsWith("Error: --store needs a file that outlives the process"), inMemory.err());
        }
        Support.Run password = Support.serveCommand("127.0.0.1:0", "--store", "jdbc:postgresql://127.0.0.1:" + Support.closedPort()
            + "/x?user=u&password=S3cret");
        assertEquals(1, password.status());
        assertTrue(password.err().contains("password=***") && !password.err().contains("S3cret"), password.err());
        assertTrue(Files.exists(store));
    }

    /** Calls answered 202 into a file that is gone would be lost at the next start: once it is gone, they are refused. */
    @Test
    void aStoreFileDeletedWhileServingIsNoticedAndNewCallsAreRefused(@TempDir Path dir) throws Exception {
        Path store = dir.resolve("calls.db");
        try (TestServer server = new TestServer("--sleep", "0", "--store", store.toString())) {
            fire(server.url("/res.php"), 5, "before");
            for (String suffix : List.of("", "-wal", "-shm")) Files.deleteIfExists(dir.resolve("calls.db" + suffix));
            server.log.await("New calls are refused \\(503\\) from now on: the store's file " + java.util.regex.Pattern.quote(store.toString())
                + " was deleted or replaced while serve ran: restart serve with the file in place$", Duration.ofSeconds(10));
            HttpResponse<String> refused = get(server.url("/res.php?after=delete"), "Prefer", "respond-async");
            assertEquals(503, refused.statusCode(), refused.body());
            assertTrue(refused.body().contains("was deleted or replaced while serve ran"), refused.body());
        }
    }

    /** A URL that turns SQLite's locking off would let a reader beside serve (sqlite3) see the file half-written. */
    @Test
    void aSqliteUrlThatTurnsLockingOffIsRefused(@TempDir Path dir) {
        for (String options : List.of("vfs=unix-none", "nolock=1", "mode=rwc&vfs=unix-dotfile")) {
            Support.Run run = Support.serveCommand("127.0.0.1:0", "--store", "jdbc:sqlite:file:" + dir.resolve("calls.db") + "?" + options);
            assertEquals(1, run.status(), options);
            assertTrue(run.err().contains("turns SQLite's locking off"), run.err());
        }
        assertTrue(!Files.exists(dir.resolve("calls.db")), "nothing was made");
    }

    /** A damaged file is refused at start, saying what to do, instead of taking calls it cannot keep. */
    @Test
    void aStoreFileCutWhileServingIsNoticedAndOneCutToNothingIsToldAtStart(@TempDir Path dir) throws Exception {
        Path store = dir.resolve("calls.db");
        try (TestServer server = new TestServer("--sleep", "3600", "--workers", "1", "--store", store.toString())) {
            fire(server.url("/res.php"), 200, "c"); // in the file itself once the stop's checkpoint has moved them there
        }
        try (TestServer server = new TestServer("--sleep", "3600", "--workers", "1", "--store", store.toString())) {
            server.log.await("Store: .*, 200 calls waiting.*", Duration.ofSeconds(5));
            try (java.nio.channels.FileChannel file = java.nio.channels.FileChannel.open(store, java.nio.file.StandardOpenOption.WRITE)) {
                file.truncate(Files.size(store) / 2);
            }
            // Its size is looked at once a second; a turn reading a cut page may find it damaged first.
            server.log.await("New calls are refused \\(503\\) from now on: the store's file .* (shrank from \\d+ to \\d+ bytes while serve ran"
                + "|is damaged \\(\\[SQLITE_CORRUPT\\])", Duration.ofSeconds(5));
            assertEquals(503, get(server.url("/res.php?id=after"), "Prefer", "respond-async").statusCode());
        }
        Files.delete(store);
        Files.deleteIfExists(dir.resolve("calls.db-wal"));
        Files.createFile(store);
        try (TestServer server = new TestServer("--sleep", "0", "--store", store.toString())) {
            server.log.await("Warning: the store's file .* is empty \\(0 bytes\\): it starts as a new store; if it held calls .*", Duration.ofSeconds(5));
        }
    }

    @Test
    void aDamagedStoreIsRefusedAtStart(@TempDir Path dir) throws Exception {
        Path store = dir.resolve("calls.db");
        try (TestServer server = new TestServer("--sleep", "3600", "--workers", "1", "--store", store.toString())) {
            fire(server.url("/res.php"), 200, "d");
        }
        long size = Files.size(store);
        try (java.nio.channels.FileChannel file = java.nio.channels.FileChannel.open(store, java.nio.file.StandardOpenOption.WRITE)) {
            file.truncate(size / 2);
        }
        Support.Run run = Support.serveCommand("127.0.0.1:0", "--store", store.toString());
        assertEquals(1, run.status(), run.err());
        assertTrue(run.err().startsWith("Error: cannot open the store " + store + ": "), run.err());
        assertTrue(run.err().contains(": the file is damaged ("), run.err());
    }
}
