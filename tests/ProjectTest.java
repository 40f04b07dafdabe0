
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import org.junit.jupiter.api.Test;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The project as users meet it: the catalog aliases, and the scripts run with plain `java` (JDK 22+). */
class ProjectTest {
    private static final String JAVA = ProcessHandle.current().info().command().orElse("java");

    @Test
    void theCatalogHasTheFourAliasesWithDescriptions() throws Exception {
        JsonObject aliases = JsonParser.parseString(Files.readString(Support.ROOT.resolve("jbang-catalog.json")))
            .getAsJsonObject().getAsJsonObject("aliases");
        for (String alias : List.of("serve", "test", "res", "tests")) {
            JsonObject a = aliases.getAsJsonObject(alias);
            assertNotNull(a, alias);
            assertTrue(Files.exists(Support.ROOT.resolve(a.get("script-ref").getAsString())), alias);
            assertTrue(a.get("description").getAsString().length() > 20, alias);
        }
        Process p = new ProcessBuilder(Support.ROOT.resolve("jbang").toString(), "alias", "list")
            .directory(Support.ROOT.toFile()).redirectErrorStream(true).start();
        String listed = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), listed);
        for (String alias : List.of("serve", "test", "res", "tests")) {
            assertTrue(listed.contains(alias + "\n   " + aliases.getAsJsonObject(alias).get("description").getAsString()), listed);
        }
    }

    /** Lines a process prints, to wait on. */
    private static BlockingQueue<String> lines(Process p) {
        BlockingQueue<String> q = new LinkedBlockingQueue<>();
        Thread.ofVirtual().start(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                for (String l; (l = r.readLine()) != null; ) q.add(l);
            } catch (IOException ended) {
                // the process is gone
            }
        });
        return q;
    }

    private static String await(BlockingQueue<String> q, String regex, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        for (String l; (l = q.poll(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS)) != null; ) {
            if (l.matches(regex)) return l;
        }
        throw new AssertionError("no line matching " + regex + " within " + timeout);
    }

    @Test
    void theScriptsRunWithPlainJava() throws Exception {
        assertTrue(Runtime.version().feature() >= 22, "needs the JDK 22+ multi-file source launcher");
        // serve.java with the jars of its //DEPS on the class path (the metrics client), as README says; test.java with none.
        Process server = new ProcessBuilder("bash", "-c", "exec " + ServeProcess.LAUNCHER + " 127.0.0.1:0 --sleep 0")
            .directory(Support.ROOT.toFile()).redirectErrorStream(true).start();
        try {
            BlockingQueue<String> log = lines(server);
            String started = await(log, "\\[.*\\] asynccall Development Server \\(http://127\\.0\\.0\\.1:\\d+\\) started", Duration.ofSeconds(60));
            Matcher m = Pattern.compile("\\((http://[^)]+)\\)").matcher(started);
            assertTrue(m.find());
            String url = m.group(1) + "/res.php";
            Process caller = new ProcessBuilder(JAVA, "test.java", "--url", url)
                .directory(Support.ROOT.toFile()).redirectErrorStream(true).start();
            String out = new String(caller.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(caller.waitFor(60, TimeUnit.SECONDS));
            assertEquals(0, caller.exitValue(), out);
            assertTrue(out.contains("4 calls fired in"), out);
            List<String> done = List.of("[202]: GET /res.php?hello=world%21", "[202]: POST /res.php",
                "[200]: GET /res.php?hello=world%21", "[200]: POST /res.php");
            java.util.Set<String> seen = new java.util.HashSet<>();
            long deadline = System.nanoTime() + 10_000_000_000L;
            while (!seen.containsAll(done)) {
                String l = log.poll(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
                assertNotNull(l, "logged only " + seen);
                done.stream().filter(d -> l.endsWith(" " + d)).forEach(seen::add);
            }
        } finally {
            server.destroy();
            assertTrue(server.waitFor(10, TimeUnit.SECONDS));
        }
    }

    @Test
    void whatARunMakesInTheProjectIsIgnoredByGit() throws Exception {
        String ignored = run(Support.ROOT, "git", "check-ignore", "calls.db", "calls.db-wal", "calls.db-shm", "calls.db.lock", "outbox.txt", ".jbang/x");
        assertEquals(List.of("calls.db", "calls.db-wal", "calls.db-shm", "calls.db.lock", "outbox.txt", ".jbang/x"), ignored.lines().toList());
    }

    @Test
    void everyScriptWithAShebangLineIsExecutable() throws Exception {
        try (var files = Files.walk(Support.ROOT)) {
            List<Path> scripts = files.filter(p -> p.toString().endsWith(".java") && !p.toString().contains("/.jbang")).filter(p -> {
                try {
                    return Files.readString(p).startsWith("///usr/bin/env jbang");
                } catch (IOException e) {
                    return false;
                }
            }).toList();
            assertTrue(scripts.size() >= 7, scripts.toString());
            for (Path p : scripts) assertTrue(Files.isExecutable(p), p + " is not executable");
        }
    }

    /** The commands (./jbang X, jbang X) and flags (--x) a README names. */
    private static java.util.Set<String> commandsAndFlags(String file) throws IOException {
        String text = Files.readString(Support.ROOT.resolve(file));
        java.util.Set<String> found = new java.util.TreeSet<>();
        Matcher m = Pattern.compile("(?<![\\w-])(--[a-z][a-z-]*|(?:\\./)?jbang [a-z][\\w.@/-]*)").matcher(text);
        while (m.find()) found.add(m.group(1));
        return found;
    }

    @Test
    void theChineseReadmeNamesTheSameCommandsAndFlagsAndReadmeIsShort() throws Exception {
        java.util.Set<String> english = commandsAndFlags("README.md"), chinese = commandsAndFlags("README.zh-CN.md");
        assertTrue(english.contains("./jbang serve") && english.contains("--run"), english.toString());
        assertEquals(english, chinese);
        long size = Files.size(Support.ROOT.resolve("README.md"));
        assertTrue(size <= 10 * 1024, "README.md is " + size + " bytes: a newcomer reads 10 KB");
        for (String page : List.of("options", "hardening", "bench", "scale-out", "php", "testing")) {
            assertTrue(Files.exists(Support.ROOT.resolve("docs/" + page + ".md")), page);
        }
    }

    /** The caller's functions (caller/Send.java), and PHP's reading of a request and print_r (php/): each alone, the JDK only, Java 17. */
    @Test
    void theFunctionsMeantForCopyingCompileAloneOnJava17() throws Exception {
        Path dir = Files.createTempDirectory("asynccall-java17");
        try (var php = Files.list(Support.ROOT.resolve("php"))) {
            List<List<Path>> units = List.of(List.of(Support.ROOT.resolve("caller/Send.java")), php.toList());
            for (List<Path> unit : units) {
                List<String> args = new java.util.ArrayList<>(List.of("--release", "17", "-d", dir.resolve("classes").toString()));
                unit.forEach(f -> args.add(f.toString()));
                java.io.ByteArrayOutputStream errors = new java.io.ByteArrayOutputStream();
                int status = javax.tools.ToolProvider.getSystemJavaCompiler().run(null, null, errors, args.toArray(String[]::new));
                assertEquals(0, status, unit + ": " + errors.toString(StandardCharsets.UTF_8));
            }
        } finally {
            try (var files = Files.walk(dir)) {
                for (Path p : files.sorted(java.util.Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
            }
        }
    }

    /**
     * ./jbang keeps the command JBang printed for a script run and runs it again without JBang (here its
     * jar is even taken away), and sees an edit to a file the script pulls in with //SOURCES.
     */
    @Test
    void jbangRunsAKeptScriptWithoutJBangAndSeesAnEdit() throws Exception {
        Path clone = Files.createTempDirectory("asynccall-clone");
        try {
            run(Support.ROOT, "git", "clone", "-q", Support.ROOT.toString(), clone.toString());
            Path jar = Files.list(Support.ROOT.resolve(".jbang")).filter(p -> p.getFileName().toString().endsWith("-all.jar")).findFirst().orElseThrow();
            Files.createDirectories(clone.resolve(".jbang"));
            Files.copy(jar, clone.resolve(".jbang").resolve(jar.getFileName()));
            // An alias run from another folder before any run in the project: JBang is told where the catalog is.
            // (bench: an alias without class data sharing, so nothing is made in the background.)
            Path elsewhere = Files.createTempDirectory("asynccall-elsewhere");
            try {
                assertTrue(run(elsewhere, clone.resolve("jbang").toString(), "bench", "-h").startsWith("Usage: bench"));
            } finally {
                Files.delete(elsewhere);
            }
            // res.java as a file: no AOT cache is made in the background for it, so the clone can be deleted after.
            assertTrue(run(clone, "./jbang", "res.java", "a=1").contains("[a] => 1\n"));
            Path away = clone.resolve(".jbang").resolve("away.jar");
            Files.move(clone.resolve(".jbang").resolve(jar.getFileName()), away);
            assertTrue(run(clone, "./jbang", "res.java", "b=2").contains("[b] => 2\n"), "ran without JBang's jar");
            Files.move(away, clone.resolve(".jbang").resolve(jar.getFileName()));
            Path php = clone.resolve("php/Php.java");
            Files.writeString(php, Files.readString(php).replace("out.append(\"Array\\n\")", "out.append(\"Edited\\n\")"));
            String edited = run(clone, "./jbang", "res.java", "c=3");
            assertTrue(edited.startsWith("Edited\n"), "the edit is seen: " + edited);
        } finally {
            try (var files = Files.walk(clone)) {
                for (Path p : files.sorted(java.util.Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
            }
        }
    }

    private static String run(Path dir, String... command) throws Exception {
        Process p = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(120, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), String.join(" ", command) + ": " + out);
        return out.replaceAll("(?m)^\\[jbang\\].*\n", "");
    }
}
