import call.Done;
import server.Command;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIf;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.OptionalInt;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * serve --run CMD: a command per call, as CGI/1.1 runs a script, and every bad command gets a defined
 * answer: one that fails, cannot start, writes megabytes, never ends, forks and exits; and the
 * article's own res.php run unchanged by php-cgi answers as the built-in endpoint does.
 */
class RunTest {
    static Path dir;

    @BeforeAll
    static void folder() throws Exception {
        dir = Files.createTempDirectory("asynccall-run");
    }

    @AfterAll
    static void clean() throws Exception {
        try (var files = Files.walk(dir)) {
            for (Path p : files.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
        }
    }

    private static String post(String target, String headers, String body) {
        return "POST " + target + " HTTP/1.1\r\nHost: example.test:8080\r\nConnection: close\r\n" + headers
            + "Content-Length: " + body.length() + "\r\n\r\n" + body;
    }

    @Test
    void theCommandGetsTheRequestAsCgiVariablesAndItsBodyOnStdinAndNothingFromItInItsCommandLine() throws Exception {
        String script = "printf '%s|' \"$GATEWAY_INTERFACE\" \"$REQUEST_METHOD\" \"$QUERY_STRING\" \"$CONTENT_TYPE\" \"$CONTENT_LENGTH\""
            + " \"$SERVER_NAME\" \"$SERVER_PROTOCOL\" \"$SCRIPT_NAME\" \"$REMOTE_ADDR\" \"$HTTP_X_NOTE\" \"${HTTP_AUTHORIZATION-none}\""
            + " \"${HTTP_PROXY-none}\" \"${HTTP_PROXY_AUTHORIZATION-none}\" \"${ASYNCCALL_TOKEN-none}\" \"$ASYNCCALL_ID\"; echo; cat";
        Path pwned = dir.resolve("pwned");
        try (TestServer server = new TestServer("--run", script)) {
            String q = "a=%24(touch%20" + pwned + ")&b=%60touch%20" + pwned + "%60;touch%20" + pwned;
            String answer = Support.raw(server.port(), post("/res.php?" + q, "Content-Type: application/x-www-form-urlencoded\r\n"
                + "X-Note: $(touch " + pwned + ")\r\nAuthorization: Bearer secret\r\nProxy: http://evil\r\nProxy-Authorization: Basic c2VjcmV0\r\n",
                "x=1&y=%202"));
            assertEquals(200, Support.status(answer), answer);
            Done done = server.calls.await(d -> d.note() == null, Duration.ofSeconds(10));
            String[] seen = Support.body(answer).split("\n", 2)[0].split("\\|", -1);
            assertEquals(List.of("CGI/1.1", "POST", q, "application/x-www-form-urlencoded", "10", "example.test", "HTTP/1.1", "/res.php",
                "127.0.0.1", "$(touch " + pwned + ")", "none", "none", "none", "none", done.call().id(), ""), List.of(seen));
            assertEquals("x=1&y=%202", Support.body(answer).split("\n", 2)[1], "the body on stdin");
            assertFalse(Files.exists(pwned), "nothing from the request ran");
            assertEquals(OptionalInt.of(0), done.exit());
        }
    }

    @Test
    void aCommandOfPlainWordsStartsWithoutShAndAnyCommandLeadsASessionOfItsOwn() throws Exception {
        // pid, process group, session, parent: from /proc, as the command sees itself.
        String body = "set -- $(cat /proc/$$/stat); echo \"$1 $5 $6 $4 $ASYNCCALL_ATTEMPT\"\n";
        Path alone = Files.writeString(dir.resolve("alone.sh"), "#!/bin/sh\n" + body), bare = Files.writeString(dir.resolve("bare.sh"), body);
        alone.toFile().setExecutable(true);
        bare.toFile().setExecutable(true); // no #!: it cannot start alone, and sh -c runs it
        long serve = ProcessHandle.current().pid(); // TestServer runs serve in this JVM
        for (Path script : List.of(alone, bare)) {
            try (TestServer server = new TestServer("--run", script + " an-argument")) {
                String answer = Support.raw(server.port(), "GET /res.php HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
                assertEquals(200, Support.status(answer), answer);
                String[] seen = Support.body(answer).strip().split(" ");
                assertEquals(seen[1], seen[2], "its process group leads its session: " + answer);
                assertEquals("1", seen[4]);
                if (script == alone) { // the leader itself, serve's child: through sh -c it would be sh's
                    assertEquals(seen[0], seen[1], answer);
                    assertEquals(String.valueOf(serve), seen[3], answer);
                } else { // sh -c leads, and runs the script in a child
                    assertEquals(seen[1], seen[3], answer);
                }
            }
        }
    }

    @Test
    void theRequestsBytesReachTheCommandAsTheyCameAndAHeaderWithAnUnderscoreDoesNot() throws Exception {
        // The JDK hands environment variables to the OS in the locale's encoding: UTF-8 carries every byte string.
        org.junit.jupiter.api.Assumptions.assumeTrue("UTF-8".equals(System.getProperty("sun.jnu.encoding")),
            "the locale is not UTF-8 (LANG=C.UTF-8 makes it so): serve warns about it at start");
        try (TestServer server = new TestServer("--run", "printf '%s|%s|%s' \"$QUERY_STRING\" \"$HTTP_X_UTF\" \"${HTTP_X_FOO-none}\"")) {
            String answer = Support.raw(server.port(), "GET /res.php?q=%C3%A9 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                + "X-Utf: \u00c3\u00a9\r\nX_Foo: spoofed\r\n\r\n");
            assertEquals("q=%C3%A9|\u00c3\u00a9|none", Support.body(answer), "the header's two bytes (é in UTF-8), once, and no X_Foo as X-Foo");
        }
    }

    @Test
    void aCommandsRepeatedHeadersAllGoAndAnInvalidStatusIsA502() throws Exception {
        String script = "if [ \"$QUERY_STRING\" = bad ]; then printf 'Status: 100 Continue\\r\\n\\r\\nx'; exit; fi;"
            + " printf 'Content-Type: text/plain\\r\\nSet-Cookie: a=1\\r\\nSet-Cookie: b=2\\r\\n\\r\\nok'";
        try (TestServer server = new TestServer("--run", script)) {
            String ok = Support.raw(server.port(), "GET /res.php HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
            assertTrue(ok.toLowerCase().contains("\r\nset-cookie: a=1\r\n") && ok.toLowerCase().contains("\r\nset-cookie: b=2\r\n"), ok);
            String bad = Support.raw(server.port(), "GET /res.php?bad HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
            assertEquals(502, Support.status(bad), bad);
            server.calls.await(d -> "an invalid Status: 100 Continue".equals(d.note()), Duration.ofSeconds(5));
        }
    }

    @Test
    void aCgiResponseSetsTheStatusAndHeadersAndAFailingCommandIsA500WithItsStderrInTheLog() throws Exception {
        String script = "if [ \"$QUERY_STRING\" = fail ]; then echo partial; echo 'line one' >&2; echo 'it broke' >&2; exit 3; fi;"
            + " printf 'Status: 201 Created\\r\\nContent-Type: application/json\\r\\nX-Mine: 1\\r\\n\\r\\n{\"ok\":true}'";
        try (TestServer server = new TestServer("--run", script)) {
            String ok = Support.raw(server.port(), "GET /res.php HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
            assertEquals(201, Support.status(ok), ok);
            assertTrue(ok.toLowerCase().contains("\r\ncontent-type: application/json\r\n") && ok.toLowerCase().contains("\r\nx-mine: 1\r\n"), ok);
            assertEquals("{\"ok\":true}", Support.body(ok));
            String failed = Support.raw(server.port(), "GET /res.php?fail HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
            assertEquals(500, Support.status(failed), failed);
            assertEquals("Internal Server Error: the work failed\n", Support.body(failed));
            Done done = server.calls.await(d -> d.exit().equals(OptionalInt.of(3)), Duration.ofSeconds(10));
            assertEquals("exit 3: line one\nit broke", done.note());
            server.log.await("\\[500\\]: GET /res\\.php\\?fail - exit 3: line one\n    it broke$", Duration.ofSeconds(5));
        }
    }

    @Test
    void aCommandThatCannotStartWritesMegabytesOrForksAndExitsGetsADefinedAnswer() throws Exception {
        try (TestServer server = new TestServer("--run", "/no/such/command")) {
            String answer = Support.raw(server.port(), "GET /res.php HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
            assertEquals(500, Support.status(answer), answer);
            Done done = server.calls.await(d -> d.exit().equals(OptionalInt.of(127)), Duration.ofSeconds(10));
            assertTrue(done.note().startsWith("exit 127: ") && done.note().contains("/no/such/command"), done.note());
        }
        try (TestServer server = new TestServer("--run", "head -c 5000000 /dev/zero | tr '\\0' a")) {
            String answer = Support.raw(server.port(), "GET /res.php HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
            assertEquals(200, Support.status(answer));
            assertEquals("a".repeat(Command.STDOUT_LIMIT), Support.body(answer));
            server.log.await("the command wrote 5000000 bytes: its answer is the first 1048576$", Duration.ofSeconds(10));
        }
        try (TestServer server = new TestServer("--run", "sleep 7.31 & echo forked")) {
            long start = System.nanoTime();
            String answer = Support.raw(server.port(), "GET /res.php HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
            assertEquals("forked\n", Support.body(answer));
            assertTrue((System.nanoTime() - start) / 1_000_000 < 5000, "answered without waiting for the child it left");
        } finally {
            // A child left behind by a command that has exited is the command's own (as with nohup): the test ends it.
            ProcessHandle.allProcesses().filter(p -> p.info().commandLine().orElse("").contains("sleep 7.31")).forEach(ProcessHandle::destroy);
        }
    }

    @Test
    void aCommandThatNeverEndsIsEndedWithItsChildrenAtTheWorkTimeout() throws Exception {
        try (TestServer server = new TestServer("--run", "sleep 60.17 | cat; sleep 60.19; wait", "--work-timeout", "1")) {
            long start = System.nanoTime();
            String answer = Support.raw(server.port(), "GET /res.php HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
            assertEquals(504, Support.status(answer), answer);
            long ms = (System.nanoTime() - start) / 1_000_000;
            assertTrue(ms >= 900 && ms < 10_000, "ended after " + ms + " ms");
            Done done = server.calls.await(d -> d.status() == 504, Duration.ofSeconds(5));
            assertEquals("ended after --work-timeout 1.0 s", done.note());
            awaitGone("sleep 60.17");
            // The whole group was ended at once: the script's next step never started.
            assertEquals(0, running("sleep 60.19"), "the step after the one ended ran");
        }
        // A stop ends the commands still running, and their children.
        try (TestServer server = new TestServer("--run", "sleep 60.23 & sleep 60.23; wait")) {
            assertEquals(202, Support.status(Support.raw(server.port(), "GET /res.php HTTP/1.1\r\nHost: x\r\nConnection: close\r\nPrefer: respond-async\r\n\r\n")));
            for (long deadline = System.nanoTime() + 10_000_000_000L; running("sleep 60.23") < 2; java.util.concurrent.locks.LockSupport.parkNanos(20_000_000L)) {
                assertTrue(System.nanoTime() < deadline, "the command did not start");
            }
        }
        awaitGone("sleep 60.23");
    }

    @Test
    void aCommandEndedAtItsTimeoutHasItsSecondAfterTermAndItsLastStderrLinesSurviveACut() throws Exception {
        try (TestServer server = new TestServer("--run", "trap 'sleep 0.3; echo graceful >&2; exit 3' TERM; sleep 60.31 & wait", "--work-timeout", "1")) {
            assertEquals(504, Support.status(Support.raw(server.port(), "GET /res.php HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")));
            server.calls.await(d -> "ended after --work-timeout 1.0 s: graceful".equals(d.note()), Duration.ofSeconds(10));
        }
        // 2 MB of stderr, then its last line, then half a second: the bound cuts the file after the line was written.
        try (TestServer server = new TestServer("--run", "head -c 2000000 /dev/zero | tr '\\0' x >&2; echo >&2; echo last line >&2; sleep 0.5; exit 1")) {
            assertEquals(500, Support.status(Support.raw(server.port(), "GET /res.php HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")));
            Done done = server.calls.await(d -> d.exit().equals(OptionalInt.of(1)), Duration.ofSeconds(10));
            assertTrue(done.note().endsWith("\nlast line"), done.note().substring(Math.max(0, done.note().length() - 100)));
        }
    }

    @Test
    void aCommandWritingFarMoreThanItsAnswerHoldsAboutAMegabyteOfDiskWhileItRuns() throws Exception {
        // 32 MiB in 64 writes 50 ms apart; at the end the command reads how much disk its stdout file takes.
        Path blocks = dir.resolve("blocks");
        String script = "for i in $(seq 64); do head -c 524288 /dev/zero; sleep 0.05; done; b=$(stat -L -c %b /proc/$$/fd/1); echo \"$b\" > " + blocks;
        try (TestServer server = new TestServer("--run", script)) {
            String answer = Support.raw(server.port(), "GET /res.php HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
            assertEquals(200, Support.status(answer), answer);
            assertEquals(Command.STDOUT_LIMIT, Support.body(answer).length());
            long kib = Long.parseLong(Files.readString(blocks).strip()) / 2; // stat's blocks are 512 bytes
            assertTrue(kib < 8 * 1024, "its stdout took " + kib + " KiB of disk (32 MiB written)");
            server.log.await("the command wrote 33554432 bytes: its answer is the first 1048576$", Duration.ofSeconds(5));
        }
    }

    @Test
    void aKilledServesCommandsDieWithItAndItsFilesGoAtTheNextStart(@org.junit.jupiter.api.io.TempDir Path tmp) throws Exception {
        Path child = tmp.resolve("child");
        String prefix = "export JAVA_TOOL_OPTIONS=-Djava.io.tmpdir=" + tmp + ";";
        // Started as nohup starts it (SIGHUP ignored): no signal of serve's is needed for its commands to end with it.
        try (ServeProcess first = new ServeProcess("env --ignore-signal=HUP " + ServeProcess.LAUNCHER, prefix, java.util.Map.of(),
                "127.0.0.1:0", "--run", "sleep 60.29 & echo $! > " + child + "; wait")) {
            Support.raw(first.port, "GET /res.php HTTP/1.1\r\nHost: x\r\nConnection: close\r\nPrefer: respond-async\r\n\r\n");
            for (long deadline = System.nanoTime() + 10_000_000_000L; !Files.exists(child) || Files.readString(child).isBlank();
                    java.util.concurrent.locks.LockSupport.parkNanos(20_000_000L)) {
                assertTrue(System.nanoTime() < deadline, "the command did not start");
            }
            long pid = Long.parseLong(Files.readString(child).strip());
            first.signal("KILL");
            assertEquals(137, first.awaitExit(Duration.ofSeconds(20)));
            // The kernel closes serve's pipe to its watcher, which kills the groups of the commands running.
            // A zombie (an init that does not reap) has no command line: it has ended.
            for (long deadline = System.nanoTime() + 5_000_000_000L; ProcessHandle.of(pid).flatMap(p -> p.info().commandLine()).isPresent();
                    java.util.concurrent.locks.LockSupport.parkNanos(20_000_000L)) {
                assertTrue(System.nanoTime() < deadline, "the command's child outlived the killed serve");
            }
        }
        assertEquals(2, leftovers(tmp), "the killed serve's folder and lock");
        try (ServeProcess again = new ServeProcess(prefix, "127.0.0.1:0", "--run", "true")) {
            again.log.await("Removed the files of the commands of 1 serve that ended without stopping \\(killed\\), from " + tmp + "$", Duration.ofSeconds(5));
            assertEquals(2, leftovers(tmp), "the new serve's own folder and lock only");
        }
    }

    @Test
    void aCommandGetsOfServesEnvironmentWhatItNeedsToRunAndWhatTheOperatorListsNotItsSecrets() throws Exception {
        String script = "printf '%s|%s|%s|%s|%s' \"${PGPASSWORD-none}\" \"${ASYNCCALL_TOKEN-none}\" \"${MINE-none}\" \"${OTHER-none}\" \"$PATH\"";
        try (ServeProcess server = new ServeProcess("export PGPASSWORD=pw ASYNCCALL_TOKEN=t MINE=kept OTHER=left;", "127.0.0.1:0",
                "--run", script, "--pass-env", "MINE")) {
            String answer = Support.raw(server.port, "GET /res.php HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer t\r\nConnection: close\r\n\r\n");
            assertEquals("none|none|kept|none|" + System.getenv("PATH"), Support.body(answer), answer);
        }
    }

    private static long leftovers(Path tmp) throws java.io.IOException {
        try (var files = Files.list(tmp)) {
            return files.filter(p -> p.getFileName().toString().startsWith("asynccall-run-")).count();
        }
    }

    private static long running(String command) {
        return ProcessHandle.allProcesses().filter(p -> p.info().commandLine().orElse("").contains(command)).count();
    }

    /** Processes end a little after their signal: polled, with a deadline. */
    private static void awaitGone(String command) {
        for (long deadline = System.nanoTime() + 5_000_000_000L; running(command) > 0; java.util.concurrent.locks.LockSupport.parkNanos(50_000_000L)) {
            assertTrue(System.nanoTime() < deadline, running(command) + " still running: " + command);
        }
    }

    @Test
    void aLargeBodyReachesACommandThatReadsItAndOneThatDoesNot() throws Exception {
        String big = "a=" + "x".repeat(3 * 1024 * 1024);
        try (TestServer reads = new TestServer("--run", "wc -c")) {
            String answer = Support.raw(reads.port(), post("/res.php", "", big));
            assertEquals(String.valueOf(big.length()), Support.body(answer).trim());
        }
        try (TestServer ignores = new TestServer("--run", "echo ignored")) {
            assertEquals("ignored\n", Support.body(Support.raw(ignores.port(), post("/res.php", "", big))));
        }
    }

    static boolean phpCgi() {
        try {
            return new ProcessBuilder("php-cgi", "-v").start().waitFor(10, TimeUnit.SECONDS);
        } catch (Exception e) {
            return false;
        }
    }

    /** The article's res.php, as it is, with the sleep taken out. */
    static final String ARTICLE_RES_PHP = """
        <?php
        $data = [];
        $data['method'] = $_SERVER['REQUEST_METHOD'];
        $data['data'] = $_REQUEST;

        print_r($data);
        """;

    @Test
    @EnabledIf(value = "phpCgi", disabledReason = "php-cgi is not installed (apt-get install php-cgi)")
    void theArticlesResPhpUnderPhpCgiAnswersAsTheBuiltInEndpoint() throws Exception {
        Path php = dir.resolve("res.php");
        Files.writeString(php, ARTICLE_RES_PHP);
        String multipart = "--B\r\nContent-Disposition: form-data; name=\"a[]\"\r\n\r\n1\r\n--B\r\nContent-Disposition: form-data; name=\"b.c\"\r\n\r\nz z\r\n"
            + "--B\r\nContent-Disposition: form-data; name=\"f\"; filename=\"f.txt\"\r\nContent-Type: text/plain\r\n\r\nfile\r\n--B--\r\n";
        List<String> requests = List.of(
            "GET /res.php?hello=world%21&a[x][]=1&a[x][]=2 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
            post("/res.php?q=1", "Content-Type: application/x-www-form-urlencoded\r\n", "hello=world%21&q=2&n.m=3"),
            post("/res.php", "Content-Type: multipart/form-data; boundary=B\r\n", multipart));
        try (TestServer builtIn = new TestServer("--sleep", "0");
             TestServer cgi = new TestServer("--run", "SCRIPT_FILENAME=" + Support.quote(php.toString()) + " exec php-cgi")) {
            for (String request : requests) {
                String ours = Support.raw(builtIn.port(), request), theirs = Support.raw(cgi.port(), request);
                assertEquals(200, Support.status(theirs), theirs);
                assertEquals(Support.body(ours), Support.body(theirs), request);
                assertTrue(theirs.toLowerCase().contains("\r\ncontent-type: text/html; charset=utf-8\r\n"), "PHP's own header: " + theirs);
            }
        }
    }
}
