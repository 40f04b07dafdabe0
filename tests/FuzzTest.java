import php.Php;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.condition.EnabledIf;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A differential fuzzer: seeded raw requests (bytes over a socket, so that no client tidies them) go to
 * php -S serving the article's res.php (without its sleep) and to serve.java; both must answer 200 with
 * the same body, byte for byte. The requests mix query strings, url-encoded and multipart bodies,
 * Content-Types, other headers and methods, rich in what PHP reads specially. A divergence is shrunk
 * (delta debugging over the request's pieces, then its bytes) to a minimal request, which the failure
 * shows. FUZZ_SEED and FUZZ_CASES (or -Dfuzz.seed, -Dfuzz.cases) pick another run, e.g. a long one:
 * FUZZ_CASES=20000 FUZZ_SEED=7 ./jbang tests Fuzz. Requests where we answer differently on purpose
 * (README's table of differences) are not generated; they are pinned one by one below, PHP's answer and
 * ours.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@EnabledIf(value = "php", disabledReason = "php-cli is not installed (apt-get install php-cli)")
class FuzzTest {
    static final long SEED = setting("fuzz.seed", "FUZZ_SEED", 20261126);
    static final int CASES = (int) setting("fuzz.cases", "FUZZ_CASES", 2000);

    Process php;
    int phpPort;
    serve.Server ours;

    static boolean php() {
        try {
            Process p = new ProcessBuilder("php", "-r", "exit(0);").start();
            return p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0;
        } catch (IOException | InterruptedException e) {
            return false;
        }
    }

    private static long setting(String property, String variable, long otherwise) {
        String v = System.getProperty(property, System.getenv(variable));
        return v == null || v.isBlank() ? otherwise : Long.parseLong(v.trim());
    }

    @BeforeAll
    void start() throws Exception {
        phpPort = Support.closedPort();
        // The settings res.php is read with, given so that no php.ini changes them (display_errors off: warnings go to the log).
        php = PhpPeerTest.phpS(phpPort, Map.of("RES_SLEEP", "0", "PHP_CLI_SERVER_WORKERS", "2"), new LogSink(),
            "-d", "request_order=GP", "-d", "variables_order=GPCS", "-d", "max_input_vars=1000", "-d", "max_input_nesting_level=64",
            "-d", "post_max_size=8M", "-d", "upload_max_filesize=2M", "-d", "max_file_uploads=20", "-d", "file_uploads=1",
            "-d", "max_multipart_body_parts=-1", "-d", "enable_post_data_reading=1", "-d", "display_errors=0", "-t", "tests/php");
        // Neither a log nor a recorder of calls, and answers kept 1 s for the monitors: a long run holds nothing per request.
        ours = serve.Server.start(serve.Options.parse("127.0.0.1:0", "--sleep", "0", "--keep", "1"), OutputStream.nullOutputStream());
    }

    @AfterAll
    void stop() throws Exception {
        if (ours != null) ours.close();
        if (php != null) PhpPeerTest.stop(php);
    }

    // ---- the differential run ----

    @Test
    void generatedRequestsAreAnsweredByteForByteAsPhpAnswersThem() throws Exception {
        long start = System.nanoTime();
        Random random = new Random(SEED);
        Tally tally = new Tally();
        try (ExecutorService pool = Executors.newFixedThreadPool(4)) {
            for (int first = 0; first < CASES; first += 500) { // in batches: a long run holds one batch at a time
                List<Request> requests = new ArrayList<>();
                for (int i = first; i < Math.min(CASES, first + 500); i++) requests.add(new Generator(random).request());
                List<Future<Answers>> answers = new ArrayList<>();
                for (Request r : requests) answers.add(pool.submit(() -> answers(r)));
                for (int j = 0; j < requests.size(); j++) tally.add(first + j, requests.get(j), answers.get(j).get());
            }
        }
        String run = CASES + " raw requests (FUZZ_SEED=" + SEED + " FUZZ_CASES=" + CASES + "): " + tally.divergent + " body divergences, "
            + tally.unanswered + " not answered 200 by both";
        System.out.printf("     %s, %.1f s%n", run, (System.nanoTime() - start) / 1e9);
        assertTrue(tally.failures.isEmpty(), run + "; the first:\n" + String.join("\n\n", tally.failures));
    }

    /** What the run found: the counts, and the first three cases told in full (a divergence shrunk first). */
    private final class Tally {
        final List<String> failures = new ArrayList<>();
        int divergent, unanswered;

        void add(int index, Request r, Answers a) throws IOException {
            if (a.php.status != 200 || a.ours.status != 200) {
                unanswered++; // the generator keeps to requests both answer: a bug of the generator or of ours
                if (failures.size() < 3) failures.add("case " + index + ": not answered 200 by both (PHP " + a.php.status + ", ours "
                    + a.ours.status + "): " + shorter(escape(r.bytes())) + "\n  ours: " + shorter(escape(a.ours.body)));
            } else if (!a.php.body.equals(a.ours.body)) {
                divergent++;
                if (failures.size() < 3) failures.add("case " + index + " (" + r.bytes().length() + " bytes), shrunk:\n"
                    + report(shrink(r, FuzzTest.this::diverges)));
            }
        }
    }

    /** php -S's parser skips every '?' that starts the query, and what follows a '#': the JDK's URI does not skip the first. */
    @Test
    void requestTargetsAreReadAsPhpSReadsThem() throws Exception {
        for (String target : List.of("/res.php??a=1", "/res.php???a=1&?b=2", "/res.php?a=1?b=2", "/res.php?a=1#x", "/res.php#x?a=1",
                                     "/res.php?", "/res.php??", "/res.php?#a=1")) {
            String request = "GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
            Answer php = send(phpPort, request), ours = send(this.ours.port(), request);
            assertEquals(200, php.status, target);
            assertEquals(php, ours, target);
        }
    }

    // ---- README's table of differences: each row, PHP's answer and ours ----

    /** A request, PHP's status (0: closed without an answer) and a line of its body, then ours. */
    private void pin(String request, int phpStatus, String phpLine, int ourStatus, String ourLine) throws IOException {
        Answer php = send(phpPort, request), ours = send(this.ours.port(), request);
        assertEquals(phpStatus, Math.max(0, php.status), "PHP: " + escape(request) + " " + escape(php.body));
        assertTrue(php.body.contains(phpLine), "PHP: " + escape(request) + " " + escape(php.body));
        assertEquals(ourStatus, ours.status, "ours: " + escape(request) + " " + escape(ours.body));
        assertTrue(ours.body.contains(ourLine), "ours: " + escape(request) + " " + escape(ours.body));
    }

    private static String get(String target) {
        return "GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
    }

    private static String post(String type, String body) {
        return "POST /res.php HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: " + type + "\r\nContent-Length: " + body.length()
            + "\r\nConnection: close\r\n\r\n" + body;
    }

    @Test
    void routesOtherThanTheEndpointsAre404AndResIsOneOfThem() throws Exception {
        for (String target : List.of("/res.php/x?a=1", "//res.php?a=1", "/./res.php?a=1")) pin(get(target), 200, "[a] => 1\n", 404, "404");
        pin(get("/res?a=1"), 404, "Not Found", 200, "[a] => 1\n");
    }

    @Test
    void methodsOtherThanTheSevenAre501() throws Exception {
        for (String method : List.of("TRACE", "CONNECT", "PROPFIND", "M-SEARCH")) {
            pin(method + " /res.php?a=1 HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n", 200, "[method] => " + method, 501, "Not Implemented");
        }
        pin("post /res.php?a=1 HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n", 0, "", 501, "Not Implemented");
    }

    @Test
    void aBodyOverPostMaxSizeIs413WithoutBeingRead() throws Exception {
        String head = "POST /res.php?q=1 HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\n"
            + "Content-Length: " + (Php.POST_MAX_SIZE + 1) + "\r\nConnection: close\r\n\r\n";
        Answer php = send(phpPort, head + "a=" + "x".repeat(Php.POST_MAX_SIZE - 1)); // PHP reads it all, then leaves $_POST empty
        assertEquals(200, php.status);
        assertTrue(php.body.contains("[q] => 1\n") && !php.body.contains("[a]"), php.body);
        Answer answer = send(ours.port(), head); // answered from the Content-Length alone
        assertEquals(413, answer.status, answer.body);
    }

    /** The JDK's server parses the target as a java.net.URI and answers 400 itself to what a URI may not hold raw. */
    @Test
    void whatTheJdksServerRefusesInTheTargetIs400() throws Exception {
        for (String raw : List.of("\"", "<", ">", "\\", "^", "`", "{", "|", "}", "%4", "%zz", "%41%2", "x#y#z")) {
            pin(get("/res.php?a=" + raw), 200, "[a] => " + (raw.equals("%41%2") ? "A%2" : raw.equals("x#y#z") ? "x" : raw) + "\n", 400, "");
        }
        for (char c : new char[] {0x01, 0x7f, 0x80, 0xa0}) pin(get("/res.php?a=" + c), 0, "", 400, "");
        for (char c : new char[] {0xa1, 0xe9, 0xff}) pin(get("/res.php?a=" + c), 0, "", 200, "[a] => " + c + "\n");
    }

    /** The JDK's server reads the target up to the first space (the version after the last); PHP closes the connection. */
    @Test
    void aRawSpaceInTheTargetCutsItWherePhpAnswersNothing() throws Exception {
        pin(get("/res.php?a=1 b"), 0, "", 200, "[a] => 1\n");
        pin(get("/res.php?a b=1"), 0, "", 200, "[a] => \n");
    }

    /**
     * The JDK's server trims every byte up to space from both ends of a header value and turns tabs into
     * spaces before a handler sees it: PHP keeps them, so a trailing space or tab is part of the boundary,
     * and a tab or control byte next to the type leaves $_POST empty.
     */
    @Test
    void aContentTypeIsReadAsTheJdkLeavesIt() throws Exception {
        String form = "application/x-www-form-urlencoded";
        for (String type : List.of(form + "\t", form + "\u0001", "\t" + form, "\u0001" + form, form + "\t;charset=UTF-8")) {
            pin(post(type, "a=1"), 200, "[data] => Array\n        (\n        )\n", 200, "[a] => 1\n");
        }
        String multipart = "--B\r\nContent-Disposition: form-data; name=a\r\n\r\nv\r\n--B--";
        for (String type : List.of("multipart/form-data; boundary=B ", "multipart/form-data; boundary=B\t")) {
            pin(post(type, multipart), 200, "[data] => Array\n        (\n        )\n", 200, "[a] => v\n");
        }
        pin(post(form + " ", "a=1"), 200, "[a] => 1\n", 200, "[a] => 1\n"); // a space after the type: PHP cuts there too
    }

    /** A tab inside a header value is a space to the JDK's server: a boundary with one is another boundary. */
    @Test
    void aTabInsideTheContentTypeIsASpace() throws Exception {
        String type = "multipart/form-data; boundary=A\tB";
        for (String boundary : List.of("A\tB", "A B")) {
            String body = "--" + boundary + "\r\nContent-Disposition: form-data; name=a\r\n\r\nv\r\n--" + boundary + "--\r\n";
            boolean tab = boundary.contains("\t");
            pin(post(type, body), 200, tab ? "[a] => v\n" : "[data] => Array\n        (\n        )\n", 200, tab ? "[data] => Array\n        (\n        )\n" : "[a] => v\n");
        }
    }

    /**
     * Framing: a folded header line continues the header before it for the JDK, as RFC 9112 reads obs-fold, and
     * php -S glues it to the next header's name (here the Content-Type, so $_POST is empty); a request line
     * ending with LF alone is 400 here (the JDK reads on for a CRLF); past 100 headers or 64 KiB of them, 431
     * here, where php -S reads them, and past its own 80 KiB answers nothing.
     */
    @Test
    void foldedHeadersLineEndsAndHeadSizesAreFramedAsTheJdkFramesThem() throws Exception {
        String form = "POST /res.php HTTP/1.1\r\nHost: 127.0.0.1\r\nX-A: 1\r\n folded\r\nContent-Type: application/x-www-form-urlencoded"
            + "\r\nContent-Length: 3\r\nConnection: close\r\n\r\na=1";
        pin(form, 200, "[data] => Array\n        (\n        )\n", 200, "[a] => 1\n");
        pin("GET /res.php?a=1 HTTP/1.1\nHost: 127.0.0.1\nConnection: close\n\n", 200, "[a] => 1\n", 400, "LF alone");
        StringBuilder many = new StringBuilder(), large = new StringBuilder(), past = new StringBuilder();
        for (int i = 0; i < 101; i++) many.append("X-H").append(i).append(": v\r\n");
        for (int i = 0; i < 11; i++) large.append("X-H").append(i).append(": ").append("v".repeat(7000)).append("\r\n"); // 77 KiB
        for (int i = 0; i < 10; i++) past.append("X-H").append(i).append(": ").append("v".repeat(9000)).append("\r\n"); // 88 KiB
        for (StringBuilder headers : List.of(many, large)) {
            pin("GET /res.php?a=1 HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n" + headers + "\r\n", 200, "[a] => 1\n", 431, "Too Large");
        }
        pin("GET /res.php?a=1 HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n" + past + "\r\n", 0, "", 431, "Too Large");
    }

    /** Both answer 200 and their bodies differ: what a shrunk request must keep doing. */
    private boolean diverges(Request r) {
        try {
            Answers a = answers(r);
            return a.php.status == 200 && a.ours.status == 200 && !a.php.body.equals(a.ours.body);
        } catch (IOException e) {
            return false;
        }
    }

    private String report(Request r) throws IOException {
        Answers a = answers(r);
        return "  request: " + escape(r.bytes()) + "\n  PHP:  " + escape(a.php.body) + "\n  ours: " + escape(a.ours.body);
    }

    record Answer(int status, String body) {}

    record Answers(Answer php, Answer ours) {}

    private Answers answers(Request r) throws IOException {
        String bytes = r.bytes();
        return new Answers(send(phpPort, bytes), send(ours.port(), bytes));
    }

    /** One request on a connection of its own, the whole answer read (the server closes: Connection: close). */
    static Answer send(int port, String request) throws IOException {
        try (Socket s = new Socket("127.0.0.1", port)) {
            s.setSoTimeout(20_000);
            OutputStream out = s.getOutputStream();
            out.write(request.getBytes(StandardCharsets.ISO_8859_1));
            out.flush();
            InputStream in = s.getInputStream();
            String answer;
            try {
                answer = new String(in.readAllBytes(), StandardCharsets.ISO_8859_1);
            } catch (SocketTimeoutException stalled) {
                throw new IOException("no whole answer from port " + port + " within 20 s to " + escape(request));
            } catch (IOException reset) {
                return new Answer(-1, reset.toString()); // e.g. closed with part of the request unread
            }
            if (!answer.startsWith("HTTP/1.")) return new Answer(0, answer); // closed without an answer
            int end = answer.indexOf("\r\n\r\n");
            return new Answer(Integer.parseInt(answer.substring(9, 12)), end < 0 ? "" : answer.substring(end + 4));
        }
    }

    // ---- the requests ----

    /** A request as pieces, so that shrinking can drop them: the method, the query's pieces, other headers, the body's pieces. */
    record Request(String method, String path, List<String> query, String contentType, List<String> headers, List<String> body) {
        String bytes() {
            String q = String.join("", query), b = String.join("", body);
            StringBuilder s = new StringBuilder(method).append(' ').append(path).append(q).append(" HTTP/1.1\r\nHost: 127.0.0.1\r\n");
            if (contentType != null) s.append("Content-Type: ").append(contentType).append("\r\n");
            for (String h : headers) s.append(h).append("\r\n");
            if (!b.isEmpty() || method.equals("POST")) s.append("Content-Length: ").append(b.length()).append("\r\n");
            return s.append("Connection: close\r\n\r\n").append(b).toString();
        }

        Request with(List<String> query, List<String> headers, List<String> body) {
            return new Request(method, path, query, contentType, headers, body);
        }
    }

    /**
     * Delta debugging (ddmin, complements only) over each list of pieces in turn, then over the single
     * bytes of a short query and body, keeping a change only while the request still diverges; at most
     * 3,000 tries, so that a shrink ends in seconds.
     */
    static Request shrink(Request request, Predicate<Request> diverges) {
        int[] tries = {0};
        Predicate<Request> fails = candidate -> ++tries[0] <= 3000 && diverges.test(candidate);
        Request[] r = {request};
        r[0] = r[0].with(ddmin(r[0].query(), q -> fails.test(r[0].with(q, r[0].headers(), r[0].body()))), r[0].headers(), r[0].body());
        r[0] = r[0].with(r[0].query(), ddmin(r[0].headers(), h -> fails.test(r[0].with(r[0].query(), h, r[0].body()))), r[0].body());
        r[0] = r[0].with(r[0].query(), r[0].headers(), ddmin(r[0].body(), b -> fails.test(r[0].with(r[0].query(), r[0].headers(), b))));
        if (String.join("", r[0].query()).length() <= 400) {
            r[0] = r[0].with(ddmin(bytes(r[0].query()), q -> fails.test(r[0].with(q, r[0].headers(), r[0].body()))), r[0].headers(), r[0].body());
        }
        if (String.join("", r[0].body()).length() <= 400) {
            r[0] = r[0].with(r[0].query(), r[0].headers(), ddmin(bytes(r[0].body()), b -> fails.test(r[0].with(r[0].query(), r[0].headers(), b))));
        }
        return r[0];
    }

    /** The pieces' bytes, one piece each. */
    private static List<String> bytes(List<String> pieces) {
        List<String> out = new ArrayList<>();
        for (char c : String.join("", pieces).toCharArray()) out.add(String.valueOf(c));
        return out;
    }

    static <T> List<T> ddmin(List<T> items, Predicate<List<T>> fails) {
        if (!items.isEmpty() && fails.test(List.of())) return List.of();
        int n = 2;
        while (items.size() >= 2) {
            int chunk = (items.size() + n - 1) / n;
            boolean reduced = false;
            for (int from = 0; from < items.size() && !reduced; from += chunk) {
                List<T> complement = new ArrayList<>(items.subList(0, from));
                complement.addAll(items.subList(Math.min(items.size(), from + chunk), items.size()));
                if (fails.test(complement)) {
                    items = complement;
                    n = Math.max(n - 1, 2);
                    reduced = true;
                }
            }
            if (!reduced) {
                if (n >= items.size()) break;
                n = Math.min(items.size(), n * 2);
            }
        }
        return items;
    }

    private static String shorter(String s) {
        return s.length() <= 2000 ? s : s.substring(0, 2000) + "… (" + s.length() + " chars)";
    }

    /** A request's bytes as a Java string literal would show them. */
    static String escape(String s) {
        StringBuilder out = new StringBuilder("\"");
        for (char c : s.toCharArray()) {
            switch (c) {
                case '\r' -> out.append("\\r");
                case '\n' -> out.append("\\n");
                case '\t' -> out.append("\\t");
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                default -> out.append(c >= 0x20 && c < 0x7f ? String.valueOf(c) : String.format("\\x%02x", (int) c));
            }
        }
        return out.append('"').toString();
    }

    /**
     * Makes one request from the random source. Strings are bytes (one char each, ISO-8859-1). The
     * request target keeps to what the JDK's server and php -S both take (escapes for the rest); the
     * Content-Type has no tab, control byte or space at its ends (the JDK rewrites those, README).
     */
    static final class Generator {
        private static final String[] NAMES = {"a", "b", "x", "hello", "0", "5", "-1", "007", "9223372036854775808", "", " ", "  lead",
            "a b", "a.b", "c+d", "é", "\u00ff", "a\u0000b", "GLOBALS", "_", "MAX_FILE_SIZE", "[", "]", "a]", "%41", "a%5Bb%5D"};
        private static final String[] INDEXES = {"", "", "x", "0", "1", "-1", " ", "\t", " x", "x ", "a.b", "[", "é", "\u0000", "''", "\"q\""};
        private static final String[] PIECES = {"a", "Z", "9", " ", "+", ".", "[", "]", "[]", "%", "%2", "%41", "%zz", "%00", "%5B", "%5D",
            "%2E", "%20", "%26", "%3D", "%C3%A9", "&", "=", ";", "\"", "'", "\\", "\r", "\n", "\r\n", "\u0000", "\u0001", "\t", "\u007f",
            "é", "\u0080", "\u00a0", "\u00ff", "-", "--", "~", "#", "?", "/", ":", ",", "@", "!", "$", "(", ")", "*"};
        // Bytes a query may hold raw for both servers (the JDK refuses "<>\^`{|} and space; php -S refuses controls and bytes past 0x7f).
        private static final String QUERY_RAW = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~!$'()*,;:@/?[]";
        private static final String[] BOUNDARIES = {"B", "b", "----WebKitFormBoundary7MA4YWxkTrZu0gW", "x-y", "--", "=", "a'b", "é",
            "x y", "1"};

        private final Random r;

        Generator(Random r) {
            this.r = r;
        }

        private boolean chance(int percent) {
            return r.nextInt(100) < percent;
        }

        private String pick(String... from) {
            return from[r.nextInt(from.length)];
        }

        Request request() {
            String method = chance(55) ? "POST" : pick("GET", "GET", "PUT", "PATCH", "DELETE", "OPTIONS", "HEAD");
            List<String> query = chance(70) ? query() : List.of();
            List<String> headers = new ArrayList<>();
            if (chance(20)) headers.add("Cookie: " + pairs(3, false).replace("\r", "").replace("\n", "").replace("\u0000", ""));
            if (chance(15)) headers.add(pick("X-Data", "Accept", "User-Agent", "Referer") + ": " + text(6).replaceAll("[\r\n\u0000]", ""));
            if (chance(5)) headers.add("Content-Type: " + pick("text/plain", "application/x-www-form-urlencoded")); // a second one
            int kind = r.nextInt(10);
            if (kind < 4) {
                String boundary = boundary();
                return new Request(method, "/res.php", query, multipartType(boundary), headers, multipart(boundary));
            }
            if (kind < 8) return new Request(method, "/res.php", query, formType(), headers, formBody());
            String type = chance(30) ? null : pick("text/plain", "application/json", "multipart/mixed; boundary=B",
                "application/x-www-form-urlencodedx", "multipart/form-data", "multipart/form-datax; boundary=B", "form-data");
            return new Request(method, "/res.php", query, type, headers, chance(50) ? List.of() : List.of(pairs(4, true)));
        }

        /** A name as PHP reads it: a base, then maybe indexes, deep ones or unclosed ones, maybe something after. */
        String name() {
            StringBuilder n = new StringBuilder(pick(NAMES));
            int levels = chance(3) ? 60 + r.nextInt(10) : chance(40) ? 1 + r.nextInt(3) : 0;
            for (int i = 0; i < levels; i++) n.append('[').append(pick(INDEXES)).append(chance(4) ? "" : "]");
            if (chance(10)) n.append(pick("x", "]", "[", " ", ".", "[x"));
            return n.toString();
        }

        String text(int max) {
            StringBuilder t = new StringBuilder();
            for (int i = r.nextInt(max + 1); i > 0; i--) t.append(pick(PIECES));
            return t.toString();
        }

        /** name=value pairs joined by '&', with empty pieces, names without '=', and now and then a thousand of them. */
        String pairs(int max, boolean raw) {
            int n = chance(2) ? 995 + r.nextInt(15) : r.nextInt(max + 1);
            StringBuilder s = new StringBuilder();
            for (int i = 0; i < n; i++) {
                if (i > 0) s.append(chance(5) ? "&&" : "&");
                String name = name(), value = text(4);
                s.append(raw ? name : encode(name));
                if (!chance(10)) s.append('=').append(raw ? value : encode(value));
            }
            return s.toString();
        }

        /** For the query: bytes both servers take raw stay, '%' stays when it starts a valid escape, the rest is escaped. */
        private String encode(String s) {
            StringBuilder out = new StringBuilder();
            for (int i = 0; i < s.length(); i++) {
                char c = s.charAt(i);
                boolean escape = c == '%' && i + 2 < s.length() && hex(s.charAt(i + 1)) && hex(s.charAt(i + 2));
                if (QUERY_RAW.indexOf(c) >= 0 || c == '+' || escape) out.append(c);
                else out.append(String.format("%%%02X", (int) c));
            }
            return out.toString();
        }

        private static boolean hex(char c) {
            return Character.digit(c, 16) >= 0 && c < 128;
        }

        List<String> query() {
            List<String> q = new ArrayList<>();
            q.add(pick("?", "?", "?", "??", "?&"));
            for (String piece : pairs(5, false).split("(?<=&)")) q.add(piece);
            if (chance(5)) q.add("#" + pick("x", "a=1", "[]"));
            return q;
        }

        String formType() {
            String type = pick("application/x-www-form-urlencoded", "Application/X-WWW-Form-Urlencoded", "APPLICATION/X-WWW-FORM-URLENCODED");
            return type + pick("", "", "; charset=UTF-8", ";charset=utf-8", " ;x", ",x", " x", "; a=\"b;c\"");
        }

        List<String> formBody() {
            List<String> pieces = new ArrayList<>();
            for (String piece : pairs(6, true).split("(?<=&)")) pieces.add(piece);
            if (chance(10)) pieces.add(text(3));
            return pieces;
        }

        String boundary() {
            return chance(2) ? "b".repeat(5100 + r.nextInt(30)) : pick(BOUNDARIES); // PHP reads up to 5,116 bytes
        }

        /** The Content-Type of a multipart body: its boundary as it is, quoted, misspelt, or missing now and then. */
        String multipartType(String boundary) {
            String type = pick("multipart/form-data", "multipart/form-data", "Multipart/Form-Data");
            String b = switch (r.nextInt(12)) {
                case 0 -> "; boundary=\"" + boundary + "\"";
                case 1 -> "; boundary=\"" + boundary + "\"; charset=utf-8";
                case 2 -> "; BOUNDARY=" + boundary;
                case 3 -> "; boundary=" + boundary + ";x=y";
                case 4 -> "; boundary=" + boundary + ",x";
                case 5 -> "; charset=utf-8; boundary=" + boundary;
                case 6 -> pick("", "; boundary=", "; boundary=\"" + boundary, "; boundary" + boundary, ";boundary=" + boundary + "x");
                case 7 -> "; Boundary=" + boundary;
                default -> "; boundary=" + boundary;
            };
            return type + b;
        }

        private String eol() {
            return chance(25) ? "\n" : chance(2) ? "\r\r\n" : "\r\n";
        }

        /** A multipart body as lines and values: PHP's corners of rfc1867.c, each now and then. */
        List<String> multipart(String boundary) {
            List<String> out = new ArrayList<>();
            String delimiter = "--" + boundary;
            if (chance(10)) out.add(pick("preamble", delimiter + "x", "", delimiter.substring(1)) + eol());
            int parts = chance(1) ? 1000 + r.nextInt(40) : r.nextInt(5);
            for (int i = 0; i < parts; i++) {
                out.add(delimiter + (chance(5) ? pick(" ", "x", "\t", "--", "\u0000x") : "") + eol());
                if (!chance(5)) out.add(disposition() + eol());
                if (chance(10)) out.add(pick("Content-Type: text/plain", "X: y", "no colon here", " folded", "Content-Type : x/y", disposition())
                    + eol());
                out.add(eol());
                out.add(value(boundary));
                if (!chance(5)) out.add(eol());
            }
            if (!chance(15)) out.add(delimiter + "--" + (chance(50) ? eol() : ""));
            if (chance(5)) out.add(delimiter + eol() + disposition() + eol() + eol() + "after" + eol() + delimiter + "--");
            return out;
        }

        private String value(String boundary) {
            if (chance(3)) return "v".repeat(5000 + r.nextInt(300)) + (chance(50) ? "\r" : "") + text(3);
            String v = text(6);
            if (chance(5)) v += pick("\r\n--" + boundary + "x", "\n--" + boundary, "\r\n-", "\r", "\r\n--" + boundary.substring(0, 1),
                "\r\n--" + boundary + "--");
            return v;
        }

        /** Content-Disposition as browsers send it, or with PHP's corners: quotes, escapes, spacing, folding, files. */
        String disposition() {
            String key = pick("Content-Disposition", "Content-Disposition", "content-disposition", "CONTENT-DISPOSITION",
                "Content-Disposition ", "Content-Dispositionx");
            StringBuilder d = new StringBuilder(key).append(':').append(pick(" ", " ", "", "  ", "\t"));
            d.append(pick("form-data", "form-data", "attachment", "", "FORM-DATA"));
            String name = name();
            String param = switch (r.nextInt(14)) {
                case 0 -> "; name=" + name;
                case 1 -> "; name='" + name + "'";
                case 2 -> "; NAME=\"" + name + "\"";
                case 3 -> "; name =\"" + name + "\"";
                case 4 -> ";name=\"" + name + "\"";
                case 5 -> "; name=\"" + name + "\"" + pick("junk", " junk", ";", ";;");
                case 6 -> "; name=\"" + name.replace("\"", "\\\"") + pick("\\\"", "\\\\", ";x", "\\") + "\"";
                case 7 -> "; name=\"" + name;
                case 8 -> pick("; foo=bar", "", "; name", "; =x");
                default -> "; name=\"" + name + "\"";
            };
            d.append(param);
            if (chance(15)) d.append(pick("; filename=\"f.txt\"", "; filename=\"\"", "; filename=f", "; FILENAME=\"a\\\\b\"",
                "; filename=''"));
            if (chance(5)) d.append(pick("; x=\"a;b\"", "; charset=utf-8", "; name=\"second\""));
            String s = d.toString();
            if (chance(5)) {
                int cut = s.lastIndexOf(';');
                if (cut > 0) s = s.substring(0, cut) + eol() + pick(" ", "\t", "") + s.substring(cut);
            }
            return s;
        }
    }
}
