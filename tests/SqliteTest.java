import call.Done;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A SQLite store as its operator sees it: read with sqlite3 while serve runs, its states by name, an older table's named on open. */
class SqliteTest {
    /** sqlite3 (Debian's sqlite3) on FILE with these arguments: its output; it must exit 0. */
    static String sqlite3(Path file, String... sql) throws Exception {
        Assumptions.assumeTrue(java.nio.file.Files.isExecutable(Path.of("/usr/bin/sqlite3")), "Debian's sqlite3 is not installed");
        java.util.List<String> command = new java.util.ArrayList<>(java.util.List.of("/usr/bin/sqlite3", "-readonly", file.toString()));
        if (sql.length > 0 && sql[0].equals("-write")) command.remove("-readonly");
        for (String s : sql) if (!s.equals("-write")) command.add(s);
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(30, java.util.concurrent.TimeUnit.SECONDS), "sqlite3 hung");
        assertEquals(0, p.exitValue(), out);
        return out.strip();
    }

    @Test
    void anOperatorReadsTheStoreWithSqlite3WhileServeRuns(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("calls.db");
        try (TestServer server = new TestServer("--store", file.toString(), "--attempts", "1",
                "--run", "case \"$QUERY_STRING\" in fail) exit 3;; esac; echo ok")) {
            for (String query : new String[] {"a", "b", "fail"}) {
                assertEquals(202, StoreTest.get(server.url("/res.php?" + query), "Prefer", "respond-async").statusCode());
            }
            server.calls.await(d -> d.status() == 202, 3, Duration.ofSeconds(30));
            assertEquals("done|2\nfailed|1", sqlite3(file, "SELECT state, count(*) FROM asynccall_calls GROUP BY state ORDER BY state"));
            assertEquals(202, StoreTest.get(server.url("/res.php?after"), "Prefer", "respond-async").statusCode(), "serve goes on");
            Done after = server.calls.await(d -> d.call().uri().toString().endsWith("?after"), Duration.ofSeconds(30));
            assertFalse(after.failed(), after.toString());
        }
    }

    /** Another name for the file cannot make a second serve on it: a symbolic link finds the same lock, a hard link is refused. */
    @Test
    void anotherNameForTheFileIsNoWayToASecondServe(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("calls.db"), symbolic = dir.resolve("symbolic.db"), hard = dir.resolve("hard.db");
        try (TestServer first = new TestServer("--store", file.toString())) {
            java.nio.file.Files.createSymbolicLink(symbolic, file);
            Support.Run second = Support.serveCommand("127.0.0.1:0", "--store", symbolic.toString());
            assertEquals(1, second.status(), second.err());
            assertTrue(second.err().contains("is in use by another serve"), second.err());
        }
        java.nio.file.Files.createLink(hard, file);
        Support.Run linked = Support.serveCommand("127.0.0.1:0", "--store", file.toString());
        assertEquals(1, linked.status(), linked.err());
        assertTrue(linked.err().contains("has another name (a hard link)"), linked.err());
    }

    /** A table made before states had names (state 0/1/2, failed 0/1/2) is given them as serve opens it: nothing is lost. */
    @Test
    void aTableOfNumberedStatesIsGivenNamesOnOpen(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("calls.db");
        sqlite3(file, "-write", "CREATE TABLE asynccall_calls (seq INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, idem_key TEXT UNIQUE,"
            + " fingerprint BLOB, state INTEGER NOT NULL, owner TEXT, lease_until BIGINT, accepted_ms BIGINT NOT NULL, started_ms BIGINT,"
            + " finished_ms BIGINT, request BLOB, body BLOB, status INTEGER NOT NULL, work_status INTEGER, exit_code INTEGER, answer BLOB,"
            + " answer_bytes BIGINT, note TEXT, failed INTEGER);"
            + " CREATE INDEX asynccall_calls_unfinished ON asynccall_calls (state, seq) WHERE state < 2;"
            + " CREATE INDEX asynccall_calls_finished ON asynccall_calls (finished_ms) WHERE state = 2;"
            + " INSERT INTO asynccall_calls (id, state, accepted_ms, finished_ms, status, failed) VALUES"
            + " ('done1', 2, 1, 2, 202, 0), ('failed1', 2, 3, 4, 202, 1), ('cancelled1', 2, 5, 6, 202, 2);");
        long now = System.currentTimeMillis();
        sqlite3(file, "-write", "UPDATE asynccall_calls SET accepted_ms = " + now + ", finished_ms = " + now);
        try (TestServer server = new TestServer("--store", file.toString())) {
            server.log.await("The store's states are named now \\(queued, working, done, failed, cancelled\\): 3 calls kept$", Duration.ofSeconds(10));
            for (String state : new String[] {"done", "failed", "cancelled"}) {
                String list = StoreTest.get(server.url("/calls?state=" + state)).body();
                assertTrue(list.contains("\"id\":\"" + state + "1\""), state + ": " + list);
            }
            assertEquals("cancelled1|cancelled\ndone1|done\nfailed1|failed", sqlite3(file, "SELECT id, state FROM asynccall_calls ORDER BY id"));
            String schema = sqlite3(file, ".schema asynccall_calls");
            assertTrue(schema.contains("state TEXT NOT NULL") && !schema.contains("failed INTEGER") && !schema.contains("state < 2"), schema);
        }
    }
}
