import call.Done;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A 202 means done eventually: a failing work is tried again with backoff, a failed call is kept, listed
 * and run again, a call can wait for a time, be cancelled, and calls of a group are worked one at a time.
 * Each runs without a store and with one (SQLite), which keep these the same way.
 */
class RetryTest {
    private static final HttpClient CLIENT = HttpClient.newHttpClient();

    static HttpResponse<String> send(URI uri, String method, String... headers) throws Exception {
        HttpRequest.Builder r = HttpRequest.newBuilder(uri).method(method, HttpRequest.BodyPublishers.noBody());
        if (headers.length > 0) r.headers(headers);
        return CLIENT.send(r.build(), HttpResponse.BodyHandlers.ofString());
    }

    /** A call answered 202: its monitor's path. */
    static String call(URI uri, String... headers) throws Exception {
        List<String> all = new ArrayList<>(List.of("Prefer", "respond-async"));
        all.addAll(List.of(headers));
        HttpResponse<String> r = send(uri, "GET", all.toArray(String[]::new));
        assertEquals(202, r.statusCode(), r.body());
        return r.headers().firstValue("Location").orElseThrow();
    }

    static JsonObject monitor(TestServer server, String location) throws Exception {
        HttpResponse<String> r = send(server.url(location), "GET");
        assertEquals(200, r.statusCode(), r.body());
        return JsonParser.parseString(r.body()).getAsJsonObject();
    }

    static String id(String location) {
        return location.substring("/calls/".length());
    }

    /** Its end as the endpoint told it (the last, once run again). */
    static Done end(TestServer server, String location, int nth) throws Exception {
        return server.calls.await(d -> d.call().id().equals(id(location)), nth, Duration.ofSeconds(30)).get(nth - 1);
    }

    static Instant time(JsonObject o, String field) {
        return Instant.parse(o.get(field).getAsString());
    }

    /** The first line of a file a command writes, once it is there (at most timeout). */
    static String awaitLine(Path file, Duration timeout) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            if (Files.exists(file) && Files.readString(file).endsWith("\n")) return Files.readString(file).strip();
            Thread.sleep(10);
        }
        throw new AssertionError(file + " was not written within " + timeout);
    }

    /** Both ways a server keeps its calls: in memory, and in a store. */
    static List<List<String>> keepings(Path dir) {
        return List.of(List.of(), List.of("--store", dir.resolve("calls.db").toString()));
    }

    static TestServer server(List<String> keeping, String... args) throws Exception {
        List<String> all = new ArrayList<>(List.of(args));
        all.addAll(keeping);
        return new TestServer(all.toArray(String[]::new));
    }

    @Test
    void aCommandThatFailsTwiceIsDoneAtItsThirdAttemptEachWaitWithinItsBackoff(@TempDir Path dir) throws Exception {
        String script = "echo try $ASYNCCALL_ATTEMPT >&2; [ \"$ASYNCCALL_ATTEMPT\" -ge 3 ] || exit 1; echo done";
        for (List<String> keeping : keepings(dir)) {
            try (TestServer server = server(keeping, "--run", script, "--attempts", "5", "--backoff", "0.3,0.6")) {
                String location = call(server.url("/res.php"));
                Done done = end(server, location, 1);
                assertFalse(done.failed(), done.toString());
                JsonObject m = monitor(server, location);
                assertEquals("done", m.get("state").getAsString(), m.toString());
                assertEquals(3, m.get("attempts").getAsInt(), m.toString());
                JsonArray tries = m.getAsJsonArray("tries");
                assertEquals(3, tries.size(), m.toString());
                for (int i = 0; i < 3; i++) {
                    JsonObject t = tries.get(i).getAsJsonObject();
                    assertEquals(i + 1, t.get("attempt").getAsInt());
                    if (i < 2) assertEquals(1, t.get("exit").getAsInt()); else assertEquals(200, t.get("status").getAsInt());
                    if (i < 2) assertEquals("try " + (i + 1), t.get("stderr").getAsString());
                }
                for (int i = 0; i < 2; i++) {
                    // After the n-th failure the wait is within [0.3 s, min(0.6 s, 0.3 s · 2^n)]: the upper bound gets a second for a busy machine.
                    long waited = Duration.between(time(tries.get(i).getAsJsonObject(), "finished"), time(tries.get(i + 1).getAsJsonObject(), "started")).toMillis();
                    assertTrue(waited >= 290 && waited < 1600, "wait " + (i + 1) + ": " + waited + " ms " + keeping);
                }
                server.log.await("GET /res\\.php - attempt 2 of [0-9]+ failed \\(exit 1: try 2\\): tried again in 0\\.[3-6] s$", Duration.ofSeconds(5));
                server.log.await("\\[202\\]: GET /res\\.php - done, attempt 3 of [0-9]+$", Duration.ofSeconds(5));
            }
        }
    }

    @Test
    void aCallThatAlwaysFailsIsFailedAfterItsAttemptsListedAndRunAgainOnceFixed(@TempDir Path dir) throws Exception {
        Path fixed = dir.resolve("fixed");
        String script = "[ -e " + Support.quote(fixed.toString()) + " ] && { echo ok; exit 0; }; echo broken >&2; exit 1";
        for (List<String> keeping : keepings(dir)) {
            Files.deleteIfExists(fixed);
            try (TestServer server = server(keeping, "--run", script, "--attempts", "3", "--backoff", "0.05,0.1")) {
                String location = call(server.url("/res.php"), "Idempotency-Key", "k1");
                assertTrue(end(server, location, 1).failed());
                JsonObject m = monitor(server, location);
                assertEquals("failed", m.get("state").getAsString(), m.toString());
                assertEquals(3, m.get("attempts").getAsInt());
                server.log.await("\\[202\\]: GET /res\\.php - failed, attempt 3 of 3 \\(exit 1: broken\\)$", Duration.ofSeconds(5));
                JsonObject list = JsonParser.parseString(send(server.url("/calls?state=failed"), "GET").body()).getAsJsonObject();
                assertEquals(id(location), list.getAsJsonArray("calls").get(0).getAsJsonObject().get("id").getAsString(), list.toString());
                assertTrue(list.get("next").isJsonNull());
                Files.writeString(fixed, "");
                HttpResponse<String> again = send(server.url(location + "/retry"), "POST");
                assertEquals(202, again.statusCode(), again.body());
                assertEquals(location, again.headers().firstValue("Location").orElseThrow());
                assertFalse(end(server, location, 2).failed());
                m = monitor(server, location);
                assertEquals("done", m.get("state").getAsString(), m.toString());
                assertEquals(4, m.getAsJsonArray("tries").size(), "the first run's three attempts and this one's");
                assertEquals(409, send(server.url(location + "/retry"), "POST").statusCode(), "a done call does not run again");
                HttpResponse<String> repeat = send(server.url("/res.php"), "GET", "Prefer", "respond-async", "Idempotency-Key", "k1");
                assertEquals(202, repeat.statusCode());
                assertEquals(location, repeat.headers().firstValue("Location").orElseThrow(), "its key still answers with it");
            }
        }
    }

    @Test
    void allFailedCallsRunAgainInOneRequest(@TempDir Path dir) throws Exception {
        Path fixed = dir.resolve("fixed");
        String script = "[ -e " + Support.quote(fixed.toString()) + " ] || exit 1";
        for (List<String> keeping : keepings(dir)) {
            Files.deleteIfExists(fixed);
            try (TestServer server = server(keeping, "--run", script, "--attempts", "1")) {
                List<String> locations = new ArrayList<>();
                for (int i = 0; i < 3; i++) locations.add(call(server.url("/res.php?n=" + i)));
                for (String l : locations) assertTrue(end(server, l, 1).failed());
                Files.writeString(fixed, "");
                HttpResponse<String> r = send(server.url("/calls/retry?state=failed&since=2000-01-01T00:00:00Z"), "POST");
                assertEquals(202, r.statusCode(), r.body());
                assertEquals("{\"retried\":3}\n", r.body());
                for (String l : locations) assertFalse(end(server, l, 2).failed());
                assertEquals("{\"retried\":0}\n", send(server.url("/calls/retry"), "POST").body());
            }
        }
    }

    @Test
    void theWorkSaysWhatKindOfFailureItWasA4xxGivesUpA503WaitsItsRetryAfter(@TempDir Path dir) throws Exception {
        String script = "case \"$QUERY_STRING\" in gone) printf 'Status: 404 Not Found\\n\\n';;"
            + " *) if [ \"$ASYNCCALL_ATTEMPT\" = 1 ]; then printf 'Status: 503 Busy\\nRetry-After: 1\\n\\n'; else echo ok; fi;; esac";
        for (List<String> keeping : keepings(dir)) {
            try (TestServer server = server(keeping, "--run", script, "--attempts", "5", "--backoff", "0.05,0.1")) {
                String gone = call(server.url("/res.php?gone")), busy = call(server.url("/res.php?busy"));
                assertEquals(404, end(server, gone, 1).workStatus().getAsInt());
                JsonObject g = monitor(server, gone);
                assertEquals("failed", g.get("state").getAsString());
                assertEquals(1, g.get("attempts").getAsInt(), "a 4xx is not tried again");
                assertFalse(end(server, busy, 1).failed());
                JsonArray tries = monitor(server, busy).getAsJsonArray("tries");
                assertEquals(503, tries.get(0).getAsJsonObject().get("status").getAsInt(), tries.toString());
                long waited = Duration.between(time(tries.get(0).getAsJsonObject(), "finished"), time(tries.get(1).getAsJsonObject(), "started")).toMillis();
                assertTrue(waited >= 990, "Retry-After: 1 over a backoff of 0.1 s: " + waited + " ms");
            }
        }
    }

    @Test
    void aDelayedCallIsQueuedWithItsTimeAndWorkedNotBefore(@TempDir Path dir) throws Exception {
        for (List<String> keeping : keepings(dir)) {
            try (TestServer server = server(keeping, "--run", "echo ok")) {
                String delayed = call(server.url("/res.php"), "Asynccall-Delay", "1.5");
                JsonObject m = monitor(server, delayed);
                assertEquals("queued", m.get("state").getAsString(), m.toString());
                Instant accepted = time(m, "accepted"), next = time(m, "next");
                assertTrue(Math.abs(Duration.between(accepted.plusMillis(1500), next).toMillis()) < 200, m.toString());
                Instant at = Instant.now().plusSeconds(2).truncatedTo(java.time.temporal.ChronoUnit.SECONDS);
                String notBefore = call(server.url("/res.php"), "Asynccall-Not-Before",
                    java.time.format.DateTimeFormatter.RFC_1123_DATE_TIME.format(at.atZone(java.time.ZoneOffset.UTC)));
                end(server, delayed, 1);
                end(server, notBefore, 1);
                assertFalse(time(monitor(server, delayed).getAsJsonArray("tries").get(0).getAsJsonObject(), "started").isBefore(next));
                assertFalse(time(monitor(server, notBefore).getAsJsonArray("tries").get(0).getAsJsonObject(), "started").isBefore(at));
            }
        }
    }

    @Test
    void aCallIsCancelledWhileQueuedRetryingOrWorkingAndNeverWorkedAgain(@TempDir Path dir) throws Exception {
        Path pid = dir.resolve("pid");
        String script = "case \"$QUERY_STRING\" in fail) exit 1;; long) echo $$ > " + Support.quote(pid.toString()) + "; sleep 60.43;; *) echo ok;; esac";
        for (List<String> keeping : keepings(dir)) {
            Files.deleteIfExists(pid);
            try (TestServer server = server(keeping, "--run", script, "--attempts", "3", "--backoff", "60,60")) {
                String queued = call(server.url("/res.php?ok"), "Asynccall-Delay", "60");
                String retrying = call(server.url("/res.php?fail"));
                String working = call(server.url("/res.php?long"));
                String done = call(server.url("/res.php?ok"));
                end(server, done, 1);
                server.log.await("GET /res\\.php\\?fail - attempt 1 of [0-9]+ failed", Duration.ofSeconds(10));
                long group = Long.parseLong(awaitLine(pid, Duration.ofSeconds(10))); // the command has started

                for (String l : List.of(queued, retrying, working)) {
                    HttpResponse<String> r = send(server.url(l), "DELETE");
                    assertEquals(200, r.statusCode(), l + ": " + r.body());
                    assertEquals("cancelled", JsonParser.parseString(r.body()).getAsJsonObject().get("state").getAsString(), r.body());
                    assertEquals(200, send(server.url(l), "DELETE").statusCode(), "cancelling twice is fine");
                    assertTrue(end(server, l, 1).cancelled());
                }
                // Its whole process group ended: sh, and the sleep it waits for.
                ProcessHandle.of(group).ifPresent(p -> p.onExit().orTimeout(5, java.util.concurrent.TimeUnit.SECONDS).join());
                ProcessHandle.allProcesses().filter(p -> p.info().commandLine().orElse("").contains("sleep 60.43"))
                    .forEach(p -> p.onExit().orTimeout(5, java.util.concurrent.TimeUnit.SECONDS).join());
                assertEquals(1, monitor(server, retrying).get("attempts").getAsInt());
                assertEquals(409, send(server.url(done), "DELETE").statusCode(), "a done call is not cancelled");
                assertEquals(404, send(server.url("/calls/" + "0".repeat(32)), "DELETE").statusCode());
                // Cancelled is kept: it runs again on request.
                assertEquals(202, send(server.url(queued + "/retry"), "POST").statusCode());
                assertFalse(end(server, queued, 2).failed());
            }
        }
    }

    @Test
    void aCallWhoseCallerWaitsIsNotCancelledAndConcurrentCancelsAllAnswerCancelled(@TempDir Path dir) throws Exception {
        for (List<String> keeping : keepings(dir)) {
            try (TestServer server = server(keeping, "--run", "case \"$QUERY_STRING\" in wait) sleep 1.5;; esac; echo ok")) {
                Thread caller = Thread.ofVirtual().start(() -> {
                    try {
                        send(server.url("/res.php?wait"), "GET");
                    } catch (Exception e) {
                        throw new RuntimeException(e);
                    }
                });
                server.calls.awaitAccepted(1, Duration.ofSeconds(10));
                String waits = "/calls/" + server.calls.accepted().get(0).id();
                long t0 = System.nanoTime();
                assertEquals(409, send(server.url(waits), "DELETE").statusCode(), "its caller waits for its answer " + keeping);
                assertTrue(System.nanoTime() - t0 < 1_000_000_000L, "at once, not after a wait for an end");
                caller.join();
                assertFalse(end(server, waits, 1).failed(), "worked to its end as if no cancel came");
                String delayed = call(server.url("/res.php"), "Asynccall-Delay", "60");
                try (java.util.concurrent.ExecutorService cancels = java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor()) {
                    List<java.util.concurrent.Future<Integer>> answers = new ArrayList<>();
                    for (int i = 0; i < 10; i++) answers.add(cancels.submit(() -> send(server.url(delayed), "DELETE").statusCode()));
                    for (var a : answers) assertEquals(200, a.get(), keeping.toString());
                }
            }
        }
    }

    @Test
    void aCancelledCommandsChildrenHaveTheirSecondAfterTerm(@TempDir Path dir) throws Exception {
        Path cleaned = dir.resolve("cleaned"), started = dir.resolve("started");
        // sh runs the child (the "; true" keeps it from exec'ing it): TERM ends sh at once, the child traps it and cleans up.
        String child = "trap 'sleep 0.4; echo cleaned > " + Support.quote(cleaned.toString()) + "; exit 1' TERM; echo go > "
            + Support.quote(started.toString()) + "; while :; do sleep 0.1; done";
        try (TestServer server = new TestServer("--run", "sh -c " + Support.quote(child) + "; true")) {
            String location = call(server.url("/res.php"));
            awaitLine(started, Duration.ofSeconds(10));
            assertEquals(200, send(server.url(location), "DELETE").statusCode());
            assertEquals("cleaned", awaitLine(cleaned, Duration.ofSeconds(5)));
        }
    }

    @Test
    void aStopDoesNotWaitForCallsWaitingForTheirTimeWithoutAStore() throws Exception {
        try (TestServer server = new TestServer("--sleep", "0")) {
            call(server.url("/res.php"), "Asynccall-Delay", "3600");
            long t0 = System.nanoTime();
            assertEquals(1, server.server.stop(Duration.ofSeconds(30), "test"), "abandoned: it lived in memory only");
            assertTrue(System.nanoTime() - t0 < 10_000_000_000L, "not the whole grace");
            server.log.await("Stopped after .*: 1 call abandoned$", Duration.ofSeconds(5));
        }
    }

    @Test
    void aRunAgainWaitsForRoomInTheQueue(@TempDir Path dir) throws Exception {
        for (List<String> keeping : keepings(dir)) {
            try (TestServer server = server(keeping, "--run", "[ \"$QUERY_STRING\" = later ] || exit 1", "--attempts", "1", "--queue", "1")) {
                String failed = call(server.url("/res.php"));
                assertTrue(end(server, failed, 1).failed());
                awaitIdle(server); // its end is told before it leaves the count of calls working (a stop then logs it before stopping)
                call(server.url("/res.php?later"), "Asynccall-Delay", "60");
                if (!keeping.isEmpty()) server.calls.awaitAccepted(2, Duration.ofSeconds(5));
                awaitBacklog(server, keeping);
                HttpResponse<String> one = send(server.url(failed + "/retry"), "POST"), all = send(server.url("/calls/retry"), "POST");
                assertEquals(503, one.statusCode(), one.body() + keeping);
                assertEquals(503, all.statusCode(), all.body() + keeping);
                assertEquals("1", one.headers().firstValue("Retry-After").orElse(""));
            }
        }
    }

    /** With a store, --queue counts the calls waiting in it once a second: until it has counted the one waiting. */
    /** Waits until no call is counted working (its end was told: it leaves the count right after). */
    private static void awaitIdle(TestServer server) throws Exception {
        long deadline = System.nanoTime() + 5_000_000_000L;
        while (server.server.working() > 0) {
            if (System.nanoTime() > deadline) throw new AssertionError("a call stayed counted working");
            Thread.sleep(20);
        }
    }

    private static void awaitBacklog(TestServer server, List<String> keeping) throws Exception {
        if (keeping.isEmpty()) return;
        long deadline = System.nanoTime() + 5_000_000_000L;
        while (server.server.store.backlog() < 1) {
            if (System.nanoTime() > deadline) throw new AssertionError("the store never counted the call waiting");
            Thread.sleep(20);
        }
    }

    @Test
    void callsOfOneGroupAreWorkedOneAtATimeInArrivalOrder(@TempDir Path dir) throws Exception {
        Path lock = dir.resolve("lock"), order = dir.resolve("order"), overlaps = dir.resolve("overlaps");
        String script = "mkdir " + Support.quote(lock.toString()) + " 2>/dev/null || echo \"$QUERY_STRING\" >> " + Support.quote(overlaps.toString())
            + "; echo \"$QUERY_STRING\" >> " + Support.quote(order.toString()) + "; sleep 0.05; rmdir " + Support.quote(lock.toString());
        for (List<String> keeping : keepings(dir)) {
            Files.deleteIfExists(order);
            try (TestServer server = server(keeping, "--run", script, "--workers", "8")) {
                List<String> expected = new ArrayList<>();
                for (int i = 0; i < 20; i++) {
                    call(server.url("/res.php?n" + i), "Asynccall-Group", "mails-for-ann@example.com");
                    expected.add("n" + i);
                }
                server.calls.await(d -> true, 20, Duration.ofSeconds(60));
                assertEquals(expected, Files.readAllLines(order), keeping.toString());
                assertFalse(Files.exists(overlaps), "two calls of the group overlapped");
            }
        }
    }

    @Test
    void badPlansAndBadManagementRequestsAreClear4xx() throws Exception {
        try (TestServer server = new TestServer("--sleep", "0")) {
            String[][] bad = {{"Asynccall-Attempts", "0"}, {"Asynccall-Attempts", "many"}, {"Asynccall-Delay", "-1"}, {"Asynccall-Delay", "1e3"},
                {"Asynccall-Delay", "9999999"}, {"Asynccall-Not-Before", "tomorrow"}, {"Asynccall-Group", "a b"}, {"Asynccall-Group", "x".repeat(256)}};
            for (String[] h : bad) {
                HttpResponse<String> r = send(server.url("/res.php"), "GET", "Prefer", "respond-async", h[0], h[1]);
                assertEquals(400, r.statusCode(), h[0] + ": " + h[1]);
                assertTrue(r.body().contains(h[0]), r.body());
            }
            HttpResponse<String> both = send(server.url("/res.php"), "GET", "Prefer", "respond-async", "Asynccall-Delay", "1", "Asynccall-Not-Before",
                "Sat, 05 Dec 2026 10:00:00 GMT");
            assertEquals(400, both.statusCode());
            HttpResponse<String> waits = send(server.url("/res.php"), "GET", "Asynccall-Delay", "1");
            assertEquals(400, waits.statusCode(), "a caller that waits cannot put its call off");
            assertTrue(waits.body().contains("Prefer: respond-async"), waits.body());
            for (String q : List.of("state=nope", "limit=0", "limit=1001", "limit=x", "before=zz", "before=" + "0".repeat(32), "other=1", "state=done&state=failed")) {
                HttpResponse<String> r = send(server.url("/calls?" + q), "GET");
                assertEquals(400, r.statusCode(), q + ": " + r.body());
            }
            assertEquals(400, send(server.url("/calls/retry?state=done"), "POST").statusCode());
            assertEquals(400, send(server.url("/calls/retry?since=yesterday"), "POST").statusCode());
            assertEquals(405, send(server.url("/calls/retry"), "GET").statusCode());
            assertEquals(404, send(server.url("/calls/nope"), "DELETE").statusCode());
            assertEquals(404, send(server.url("/calls/" + "0".repeat(32) + "/retry"), "POST").statusCode());
        }
        Path token = Files.createTempFile("asynccall-token", "");
        Files.writeString(token, "t0ken");
        try (TestServer server = new TestServer("--sleep", "0", "--token-file", token.toString())) {
            assertEquals(401, send(server.url("/calls"), "GET").statusCode());
            assertEquals(401, send(server.url("/calls/retry"), "POST").statusCode());
            assertEquals(401, send(server.url("/calls/" + "0".repeat(32)), "DELETE").statusCode());
            assertEquals(200, send(server.url("/calls"), "GET", "Authorization", "Bearer t0ken").statusCode());
        } finally {
            Files.delete(token);
        }
    }

    @Test
    void theListIsNewestFirstAndPaged() throws Exception {
        try (TestServer server = new TestServer("--sleep", "0")) {
            List<String> ids = new ArrayList<>();
            for (int i = 0; i < 5; i++) ids.add(0, id(call(server.url("/res.php?n=" + i))));
            server.calls.await(d -> true, 5, Duration.ofSeconds(10));
            List<String> seen = new ArrayList<>();
            String next = "/calls?state=done&limit=2";
            while (next != null) {
                JsonObject page = JsonParser.parseString(send(server.url(next), "GET").body()).getAsJsonObject();
                page.getAsJsonArray("calls").forEach(c -> seen.add(c.getAsJsonObject().get("id").getAsString()));
                next = page.get("next").isJsonNull() ? null : page.get("next").getAsString();
            }
            assertEquals(ids, seen);
        }
    }

    @Test
    void routesRunTheirOwnCommandsAndResKeepsItsMeaning() throws Exception {
        try (TestServer server = new TestServer("--sleep", "0", "--route", "/mail", "echo mail", "--route", "/deploy/app", "echo deploy $ASYNCCALL_ATTEMPT")) {
            assertEquals("mail\n", send(server.url("/mail"), "GET").body());
            assertEquals("mail\n", send(server.url("/m%61il"), "GET").body(), "the path as the server reads it, decoded");
            assertEquals("deploy 1\n", send(server.url("/deploy/app"), "POST").body());
            assertTrue(send(server.url("/res.php?a=1"), "GET").body().startsWith("Array\n"));
            assertEquals(404, send(server.url("/mail/x"), "GET").statusCode());
            assertEquals(404, send(server.url("/deploy"), "GET").statusCode());
        }
        for (String[] bad : new String[][] {{"--route", "/calls", "true"}, {"--route", "mail", "true"}, {"--route", "/res.php", "true"},
                {"--route", "/a", "true", "--route", "/a", "false"}, {"--route", "/a"}, {"--backoff", "2"}, {"--backoff", "3,2"}, {"--attempts", "0"}}) {
            java.io.ByteArrayOutputStream err = new java.io.ByteArrayOutputStream();
            assertEquals(2, serve.start(new java.io.PrintStream(err, true), bad), String.join(" ", bad));
            assertTrue(err.toString().startsWith("Error: "), err.toString());
        }
    }

    @Test
    void aJavaFunctionKnowsItsAttemptAndMayGiveUp() throws Exception {
        serve.Options options = serve.Options.parse("127.0.0.1:0", "--backoff", "0.05,0.1");
        options.work = res.of(request -> {
            if (request.data().containsKey("bad")) throw new res.GiveUp("no such recipient");
            if (request.attempt() < 2) throw new IllegalStateException("the mail server is down");
            return "sent at attempt " + request.attempt();
        });
        LogSink log = new LogSink();
        Recorder calls = new Recorder();
        try (serve.Server server = serve.Server.start(options, log)) {
            server.listeners.add(calls);
            String ok = call(URI.create(server.url() + "/res.php")), bad = call(URI.create(server.url() + "/res.php?bad"));
            Done okEnd = calls.await(d -> d.call().id().equals(id(ok)), Duration.ofSeconds(10));
            assertEquals("sent at attempt 2", okEnd.answer());
            Done badEnd = calls.await(d -> d.call().id().equals(id(bad)), Duration.ofSeconds(10));
            assertEquals("gave up: no such recipient", badEnd.note());
            assertEquals(1, badEnd.call().attempt());
        }
    }
}
