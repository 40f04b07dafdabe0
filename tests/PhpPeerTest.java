import caller.Send;
import php.Php;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIf;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * PHP as a real peer, run at test time: the article's kind of test.php calls serve.java, test.java calls
 * php -S serving the article's kind of res.php, and 600 generated inputs go through PHP's
 * http_build_query, parse_str and print_r in one PHP process, to agree byte for byte with ours.
 */
class PhpPeerTest {
    static final String NO_PHP = "php with its curl extension is not installed (apt-get install php-cli php-curl)";

    static boolean php() {
        try {
            Process p = new ProcessBuilder("php", "-r", "exit(function_exists('curl_init') ? 0 : 1);").start();
            return p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0;
        } catch (IOException | InterruptedException e) {
            return false;
        }
    }

    private static final Map<String, String> HELLO = Map.of("hello", "world!");

    /** Stops php -S and its workers (PHP_CLI_SERVER_WORKERS forks them; they outlive their parent otherwise). */
    static void stop(Process php) throws InterruptedException {
        List<ProcessHandle> workers = php.descendants().toList();
        php.destroy();
        workers.forEach(ProcessHandle::destroy);
        php.waitFor(10, TimeUnit.SECONDS);
        for (ProcessHandle w : workers) w.onExit().orTimeout(10, TimeUnit.SECONDS).exceptionally(stillThere -> null).join();
    }

    /** php -S on 127.0.0.1:port with these variables and arguments, its log read into log; returned once it has started. */
    static Process phpS(int port, Map<String, String> env, LogSink log, String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of("php", "-S", "127.0.0.1:" + port));
        command.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(command).directory(Support.ROOT.toFile()).redirectErrorStream(true);
        pb.environment().putAll(env);
        Process php = pb.start();
        Thread.ofVirtual().start(() -> {
            try (BufferedReader in = new BufferedReader(new InputStreamReader(php.getInputStream(), StandardCharsets.UTF_8))) {
                for (String l; (l = in.readLine()) != null; ) log.addLine(l);
            } catch (IOException ended) {
                // php -S is gone
            }
        });
        try {
            log.await("Development Server \\(http://127\\.0\\.0\\.1:" + port + "\\) started", Duration.ofSeconds(20));
        } catch (AssertionError notStarted) {
            stop(php);
            throw notStarted;
        }
        return php;
    }

    @Test
    @EnabledIf(value = "php", disabledReason = NO_PHP)
    void phpCallsUsLikeTheArticleAndAllFourCallsArriveWithTheirData() throws Exception {
        try (TestServer server = new TestServer("--sleep", "0", "-v")) {
            Process php = new ProcessBuilder("php", "tests/php/test.php", server.url("/res.php").toString())
                .directory(Support.ROOT.toFile()).redirectErrorStream(true).start();
            String out = new String(php.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(php.waitFor(30, TimeUnit.SECONDS));
            assertEquals(0, php.exitValue(), out);
            assertEquals(2, server.log.await("\\[200\\]: GET /res\\.php\\?hello=world%21\n.*\\[method\\] => GET\n.*\\[hello\\] => world!\n", 2, Duration.ofSeconds(10)).size());
            assertEquals(2, server.log.await("\\[200\\]: POST /res\\.php\n.*\\[method\\] => POST\n.*\\[hello\\] => world!\n", 2, Duration.ofSeconds(10)).size());
            assertEquals(4, server.log.count("\\[\\d{3}\\]: "), String.join("\n", server.log.texts()));
        }
    }

    /**
     * docs/php.md's res.php, which answers Prefer: respond-async with 202 at once, under php -S with four
     * workers: the article's test.php, asking for it, returns in milliseconds instead of 2 s, and the
     * work of all four calls is done after.
     */
    @Test
    @EnabledIf(value = "php", disabledReason = NO_PHP)
    void phpsOwnResPhpHonouringPreferMakesTheArticlesTestPhpReturnInMilliseconds() throws Exception {
        int port = Support.closedPort();
        LogSink log = new LogSink();
        Process php = phpS(port, Map.of("PHP_CLI_SERVER_WORKERS", "4"), log, "tests/php/res-async.php");
        try {
            long start = System.nanoTime();
            Process caller = new ProcessBuilder("php", "tests/php/test.php", "http://127.0.0.1:" + port + "/res.php", "prefer")
                .directory(Support.ROOT.toFile()).redirectErrorStream(true).start();
            String out = new String(caller.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(caller.waitFor(30, TimeUnit.SECONDS));
            long ms = (System.nanoTime() - start) / 1_000_000;
            assertEquals(0, caller.exitValue(), out);
            assertTrue(ms < 1000, "test.php took " + ms + " ms; the article's takes 2 s"); // the shape: well under one curl timeout
            // The work, after: each of the four connections is closed when its 5 s are over, and the two
            // curl calls, answered 202 at once, log their print_r (error_log): nobody else reads it.
            log.await(" Closing$", 4, Duration.ofSeconds(20));
            assertEquals(2, log.count("\\[method\\] => (GET|POST)\n.*\\[hello\\] => world!"), String.join("\n", log.texts()));
            System.out.printf("     the article's test.php against PHP's own res.php honouring Prefer: %d ms%n", ms);
        } finally {
            stop(php);
        }
    }

    @Test
    @EnabledIf(value = "php", disabledReason = NO_PHP)
    void weCallPhpAndItsResPhpAnswersByteForByteWhatResJavaAnswers() throws Exception {
        Path answers = Files.createTempFile("asynccall-php-answers", ".txt");
        int port = Support.closedPort();
        LogSink log = new LogSink();
        Process php = phpS(port, Map.of("RES_SLEEP", "0", "RES_LOG", answers.toString()), log, "-d", "request_order=GP", "-t", "tests/php");
        try {
            Support.Run run = Support.run(test::start, "--url", "http://127.0.0.1:" + port + "/res.php");
            assertEquals(0, run.status(), run.out() + run.err());
            log.await("\\[200\\]: (GET|POST) /res\\.php", 4, Duration.ofSeconds(20));
            assertEquals(2, log.count("\\[200\\]: GET /res\\.php\\?hello=world%21$"));
            assertEquals(2, log.count("\\[200\\]: POST /res\\.php$"));
            byte[] form = "hello=world%21".getBytes(StandardCharsets.US_ASCII);
            String get = Php.printR(res.data("GET", "hello=world%21", null, new byte[0], w -> {}));
            String post = Php.printR(res.data("POST", null, "application/x-www-form-urlencoded", form, w -> {}));
            // php -S works on one call at a time, in the order they came: curl GET, curl POST, sock GET, sock POST.
            assertEquals(get + post + get + post, new String(Files.readAllBytes(answers), StandardCharsets.ISO_8859_1));
        } finally {
            stop(php);
            Files.deleteIfExists(answers);
        }
    }

    @Test
    @EnabledIf(value = "php", disabledReason = NO_PHP)
    void sixHundredGeneratedInputsAgreeWithPhpByteForByte() throws Exception {
        long seed = Long.parseLong(System.getenv().getOrDefault("ASYNCCALL_SEED", "20261125"));
        Random random = new Random(seed);
        List<Map<String, Object>> inputs = new ArrayList<>();
        for (int i = 0; i < 600; i++) inputs.add(map(random, 0));
        Gson gson = new GsonBuilder().serializeNulls().disableHtmlEscaping().create();

        Process php = new ProcessBuilder("php", "tests/php/oracle.php").directory(Support.ROOT.toFile()).start();
        List<String> lines;
        try (Writer w = new OutputStreamWriter(php.getOutputStream(), StandardCharsets.UTF_8)) {
            for (Map<String, Object> input : inputs) w.write(gson.toJson(input) + "\n");
        }
        try (BufferedReader r = new BufferedReader(new InputStreamReader(php.getInputStream(), StandardCharsets.US_ASCII))) {
            lines = r.lines().toList();
        }
        assertTrue(php.waitFor(60, TimeUnit.SECONDS));
        assertEquals(0, php.exitValue(), new String(php.getErrorStream().readAllBytes(), StandardCharsets.UTF_8));
        assertEquals(inputs.size(), lines.size());

        List<String> disagreements = new ArrayList<>();
        for (int i = 0; i < inputs.size(); i++) {
            String[] php64 = lines.get(i).split("\t", -1);
            byte[] phpQuery = Base64.getDecoder().decode(php64[0]), phpPrinted = Base64.getDecoder().decode(php64[1]);
            String query = Send.httpBuildQuery(inputs.get(i));
            byte[] printed = Php.printR(Php.parseQuery(query, w -> {})).getBytes(StandardCharsets.ISO_8859_1);
            if (!Arrays.equals(phpQuery, query.getBytes(StandardCharsets.US_ASCII)) || !Arrays.equals(phpPrinted, printed)) {
                disagreements.add("seed " + seed + ", input " + i + ": " + gson.toJson(inputs.get(i))
                    + "\n  PHP http_build_query: " + new String(phpQuery, StandardCharsets.ISO_8859_1)
                    + "\n  ours:                 " + query
                    + "\n  PHP print_r:\n" + new String(phpPrinted, StandardCharsets.UTF_8)
                    + "\n  ours:\n" + new String(printed, StandardCharsets.UTF_8));
            }
        }
        assertTrue(disagreements.isEmpty(), disagreements.size() + " of " + inputs.size() + " disagree; the first:\n"
            + String.join("\n", disagreements.subList(0, Math.min(3, disagreements.size()))));
        System.out.println("     " + inputs.size() + " generated inputs (seed " + seed + ") agree with PHP " + phpVersion());
    }

    private static String phpVersion() throws Exception {
        Process p = new ProcessBuilder("php", "-r", "echo PHP_VERSION;").start();
        return new String(p.getInputStream().readAllBytes(), StandardCharsets.US_ASCII);
    }

    // ---- the generator: nested maps and lists, UTF-8, reserved and control characters, odd keys ----

    private static final String[] KEYS = {"a", "b", "hello", "user", "", " ", " lead", "trail ", "a b", "c.d", "a[b]", "[x]",
        "x[", "y]", "[]", "a[]", "0", "5", "-3", "007", "1.5", "9223372036854775807", "é", "ключ", "名前", "😀", "%41", "+",
        "&", "=", "?", "#", "~*!'()", "\t", "\u0001k", "k\u007f", "GLOBALS"};
    private static final String[] PIECES = {"a", "Z", "9", " ", "  ", "-", "_", ".", "~", "*", "!", "'", "(", ")", ";", ":",
        "@", "&", "=", "+", "$", ",", "/", "?", "#", "[", "]", "%", "%41", "%zz", "\"", "<", ">", "\\", "^", "`", "{", "|", "}",
        "\n", "\r\n", "\t", "\u0000", "\u0001", "\u001b[31m", "\u007f", "é", "ü", "ß", "中文", "😀", "\u00a0", "\u2028"};

    private static Map<String, Object> map(Random r, int depth) {
        Map<String, Object> m = new LinkedHashMap<>();
        int n = 1 + r.nextInt(depth == 0 ? 5 : 4);
        for (int i = 0; i < n; i++) m.put(r.nextInt(3) == 0 ? string(r) : KEYS[r.nextInt(KEYS.length)], value(r, depth + 1));
        return m;
    }

    private static Object value(Random r, int depth) {
        switch (r.nextInt(depth >= 4 ? 7 : 10)) {
            case 0, 1, 2, 3: return string(r);
            case 4: return (long) (r.nextGaussian() * 1e6);
            case 5: return switch (r.nextInt(4)) {
                case 0 -> r.nextDouble();
                case 1 -> (r.nextDouble() - 0.5) * Math.pow(10, r.nextInt(40) - 20);
                case 2 -> (double) r.nextInt(100);
                default -> new double[] {0.1, 0.0001, 0.00001, 1e14, 1e15, -0.0, 123456789.123456789}[r.nextInt(7)];
            };
            case 6: return r.nextBoolean() ? r.nextBoolean() : null;
            case 7, 8: return map(r, depth);
            default: {
                List<Object> l = new ArrayList<>();
                for (int i = r.nextInt(4); i > 0; i--) l.add(value(r, depth + 1));
                return l;
            }
        }
    }

    private static String string(Random r) {
        StringBuilder s = new StringBuilder();
        for (int i = r.nextInt(6); i > 0; i--) s.append(PIECES[r.nextInt(PIECES.length)]);
        return s.toString();
    }
}
