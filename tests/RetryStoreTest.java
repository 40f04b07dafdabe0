import call.Done;
import tools.Postgres;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * With a store, retries, delays and groups live in the database: a SIGKILL during a delay or a backoff loses
 * nothing, and endpoints sharing PostgreSQL work every call to done or failed, none twice after it is done.
 */
class RetryStoreTest {
    static JsonObject json(URI uri) throws Exception {
        HttpResponse<String> r = RetryTest.send(uri, "GET");
        assertEquals(200, r.statusCode(), r.body());
        return JsonParser.parseString(r.body()).getAsJsonObject();
    }

    @Test
    void aDelayedCallAndOneInItsBackoffOutliveASigkill(@TempDir Path dir) throws Exception {
        String store = dir.resolve("calls.db").toString();
        String script = "[ \"$QUERY_STRING\" = flaky ] && [ \"$ASYNCCALL_ATTEMPT\" = 1 ] && exit 1; echo \"$QUERY_STRING $ASYNCCALL_ATTEMPT\"";
        String[] args = {"127.0.0.1:0", "--store", store, "--run", script, "--backoff", "3,3"};
        String later, flaky;
        Instant sent;
        try (ServeProcess first = new ServeProcess("", args)) {
            sent = Instant.now(); // the delay counts from the request's arrival, before its commit
            later = RetryTest.call(first.url("/res.php?later"), "Asynccall-Delay", "3");
            flaky = RetryTest.call(first.url("/res.php?flaky"));
            first.log.await("GET /res\\.php\\?flaky - attempt 1 of [0-9]+ failed \\(exit 1\\): tried again in [23]\\.\\d s$", Duration.ofSeconds(10));
            first.signal("KILL");
            first.awaitExit(Duration.ofSeconds(10));
        }
        try (ServeProcess again = new ServeProcess("", args)) {
            List<Done> ends = again.calls.await(d -> true, 2, Duration.ofSeconds(30));
            Set<String> answers = new HashSet<>();
            for (Done d : ends) answers.add(d.answer());
            assertEquals(Set.of("later 1\n", "flaky 2\n"), answers, "each worked once more, at the attempt it was at");
            JsonObject l = json(again.url(later)), f = json(again.url(flaky));
            assertEquals("done", l.get("state").getAsString());
            Instant due = sent.plusSeconds(3);
            assertFalse(Instant.parse(l.getAsJsonArray("tries").get(0).getAsJsonObject().get("started").getAsString()).isBefore(due), l.toString());
            assertEquals(2, f.get("attempts").getAsInt(), f.toString());
        }
    }

    @Test
    @org.junit.jupiter.api.condition.EnabledIf(value = "StoreTest#postgres", disabledReason = Postgres.NONE)
    void aThousandCallsFailingAtRandomOnThreeEndpointsOneKilledAllEndDoneOrFailedNoneWorkedAfterDone(@TempDir Path dir) throws Exception {
        Path attempts = dir.resolve("attempts"), order = dir.resolve("order"), overlaps = dir.resolve("overlaps"), lock = dir.resolve("lock");
        // Each attempt writes its call, start (ms) and number; 77 of 256 (30 %) fail. The group's calls check that none overlaps.
        String script = "case \"$QUERY_STRING\" in"
            + " g*) mkdir " + Support.quote(lock.toString()) + " 2>/dev/null || echo \"$QUERY_STRING\" >> " + Support.quote(overlaps.toString())
            + "; echo \"$QUERY_STRING\" >> " + Support.quote(order.toString()) + "; sleep 0.05; rmdir " + Support.quote(lock.toString()) + ";;"
            + " *) echo \"$ASYNCCALL_ID $(date +%s%3N) $ASYNCCALL_ATTEMPT\" >> " + Support.quote(attempts.toString())
            + "; [ $(od -An -N1 -tu1 /dev/urandom) -lt 77 ] && exit 1; echo ok;; esac";
        int n = 1000;
        try (Postgres postgres = new Postgres()) {
            String[] args = {"127.0.0.1:0", "--store", postgres.url(), "--run", script, "--attempts", "5", "--backoff", "0.05,0.2",
                "--lease", "2", "--workers", "16"};
            List<ServeProcess> endpoints = new ArrayList<>();
            try {
                for (int i = 0; i < 3; i++) endpoints.add(new ServeProcess("", args));
                // A delayed call is held to its time by every endpoint of the queue.
                Instant sent = Instant.now(); // the delay counts from the request's arrival, before its commit
                String delayed = RetryTest.id(RetryTest.call(endpoints.get(0).url("/res.php?later"), "Asynccall-Delay", "3"));
                List<String> ids = fire(endpoints, n);
                ServeProcess killed = endpoints.remove(2);
                killed.signal("KILL");
                killed.awaitExit(Duration.ofSeconds(10));
                killed.close();
                // A group of 20 calls sent in turn to the two left: worked one at a time, in the order sent.
                List<String> expected = new ArrayList<>(), all = new ArrayList<>(ids);
                all.add(delayed);
                for (int i = 0; i < 20; i++) {
                    all.add(RetryTest.id(RetryTest.call(endpoints.get(i % 2).url("/res.php?g" + i), "Asynccall-Group", "deploy")));
                    expected.add("g" + i);
                }
                Map<String, JsonObject> ended = awaitEnded(endpoints.get(0), all, Duration.ofSeconds(180));
                Map<String, Long> lastStart = new HashMap<>();
                int tries = 0;
                for (String line : Files.readAllLines(attempts)) {
                    String[] f = line.split(" ");
                    lastStart.merge(f[0], Long.parseLong(f[1]), Math::max);
                    tries++;
                }
                int failed = 0;
                for (String id : ids) {
                    JsonObject c = ended.get(id);
                    long finished = Instant.parse(c.get("finished").getAsString()).toEpochMilli();
                    assertTrue(lastStart.get(id) <= finished, "an attempt of " + id + " started after it ended: " + c);
                    if (c.get("state").getAsString().equals("failed")) {
                        failed++;
                        assertEquals(5, c.get("attempts").getAsInt(), c.toString());
                    }
                }
                JsonObject later = ended.get(delayed);
                Instant due = sent.plusSeconds(3);
                assertFalse(Instant.parse(later.getAsJsonArray("tries").get(0).getAsJsonObject().get("started").getAsString()).isBefore(due), later.toString());
                assertEquals(expected, Files.readAllLines(order));
                assertFalse(Files.exists(overlaps), "two calls of the group overlapped");
                System.out.println("     " + n + " calls, 30 % of attempts failing, one of three endpoints SIGKILLed: " + (n - failed) + " done, "
                    + failed + " failed after 5 attempts, " + tries + " attempts in all");
            } finally {
                for (ServeProcess e : endpoints) e.close();
            }
        }
    }

    /** Fires n calls round the endpoints, 32 at a time; returns their ids. */
    static List<String> fire(List<ServeProcess> endpoints, int n) throws Exception {
        try (ExecutorService callers = Executors.newFixedThreadPool(32)) {
            List<Future<String>> answers = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                URI url = endpoints.get(i % endpoints.size()).url("/res.php?c" + i);
                answers.add(callers.submit(() -> RetryTest.id(RetryTest.call(url))));
            }
            List<String> ids = new ArrayList<>();
            for (Future<String> a : answers) ids.add(a.get(60, TimeUnit.SECONDS));
            return ids;
        }
    }

    /** Waits until every call named is done or failed (the store's list says so; read every 0.5 s), at most timeout; returns them by id. */
    static Map<String, JsonObject> awaitEnded(ServeProcess endpoint, List<String> ids, Duration timeout) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            Map<String, JsonObject> ended = new HashMap<>();
            for (String state : List.of("done", "failed")) {
                for (String next = "/calls?state=" + state + "&limit=1000"; next != null; ) {
                    JsonObject page = json(endpoint.url(next));
                    for (JsonElement c : page.getAsJsonArray("calls")) ended.put(c.getAsJsonObject().get("id").getAsString(), c.getAsJsonObject());
                    next = page.get("next").isJsonNull() ? null : page.get("next").getAsString();
                }
            }
            long missing = ids.stream().filter(id -> !ended.containsKey(id)).count();
            if (missing == 0) return ended;
            if (System.nanoTime() > deadline) throw new AssertionError("every call ends done or failed: " + missing + " did not within " + timeout);
            Thread.sleep(500);
        }
    }
}
