///usr/bin/env jbang "$0" "$@" ; exit $?
//JAVA 21+
//SOURCES caller/*.java cli/*.java text/*.java tls/*.java

import static caller.FourCalls.CALLS;
import static caller.FourCalls.HELLO;
import static caller.FourCalls.describe;
import static caller.FourCalls.status;
import static caller.Send.notSent;
import static caller.Send.sendCURL;
import static caller.Send.sendSock;

import caller.FourCalls;
import caller.FourCalls.Call;
import caller.FourCalls.Clients;
import cli.Args;
import cli.Token;
import text.Json;
import text.Shown;
import tls.Tls;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The caller, test.php ported: fires the article's four calls at the endpoint and does not wait for
 * the work. The two functions it fires them with, sendCURL and sendSock, are in caller/Send.java:
 * JDK only, Java 17+, the file to copy into a project of yours.
 */
public class test {
    static final String DEFAULT_URL = "http://127.0.0.1:8080/res.php";

    public static void main(String... args) {
        PrintWriter out = new PrintWriter(System.out, true, StandardCharsets.UTF_8);
        PrintWriter err = new PrintWriter(System.err, true, StandardCharsets.UTF_8);
        System.exit(start(out, err, args));
    }

    /** Runs the command: 0 when all four calls were delivered, 1 when any was not, 2 for bad arguments. */
    static int start(PrintWriter out, PrintWriter err, String... args) {
        Options options;
        try {
            options = Options.parse(args);
        } catch (IllegalArgumentException e) {
            err.println("Error: " + e.getMessage());
            err.print(USAGE);
            err.flush();
            return 2;
        }
        if (options.help) {
            out.print(USAGE);
            out.flush();
            return 0;
        }
        HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(30)).sslContext(options.tls).build();
        Clients clients = new Clients(client, options.tls.getSocketFactory());
        try {
            if (options.follow) return follow(out, err, clients, options);
            return options.waitForAnswers ? waitForAnswers(out, err, clients, options) : fire(out, err, clients, options);
        } finally {
            try {
                // JDK 21+: else exiting waits about 300 ms for the client's threads (called so that Java 17 runs this too).
                HttpClient.class.getMethod("shutdownNow").invoke(client);
            } catch (ReflectiveOperationException java17) {
                // nothing to shut down quickly
            }
        }
    }

    /** test.php: sendCURL GET, sendCURL POST, sendSock GET, sendSock POST, one line each, none waiting for the work. */
    private static int fire(PrintWriter out, PrintWriter err, Clients clients, Options options) {
        String failure = null;
        long all = System.nanoTime();
        for (Call call : CALLS) {
            long start = System.nanoTime();
            String outcome;
            try {
                FourCalls.Outcome fired = FourCalls.fire(clients, call, options.url, HELLO, options.timeout, options.retries,
                    options.headers("Idempotency-Key", UUID.randomUUID().toString()));
                outcome = fired.text();
                if (!fired.delivered()) failure = Shown.url(options.url) + " answered " + outcome;
            } catch (IOException e) {
                String why = describe(e, options.url);
                outcome = (notSent(e) ? "not sent: " : "sent, but ") + why;
                failure = why + (options.retries > 0 ? " (after " + options.retries + " retries)" : "");
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return 1;
            }
            out.printf(Locale.ROOT, "%-8s %-4s %-45s %8.1f ms  %s%n", call.function(), call.method(),
                call.target(options.url, HELLO), (System.nanoTime() - start) / 1e6, Shown.printable(outcome));
        }
        out.printf(Locale.ROOT, "%d calls fired in %.1f ms%n", CALLS.size(), (System.nanoTime() - all) / 1e6);
        if (failure == null) return 0;
        err.println("Error: " + Shown.printable(failure));
        return 1;
    }

    /**
     * --wait: the article's commented-out code. All four at once, without Prefer, answers printed in
     * order; the whole wait is bounded by --timeout, and each answer by Send.ANSWER_LIMIT.
     */
    private static int waitForAnswers(PrintWriter out, PrintWriter err, Clients clients, Options o) {
        long start = System.nanoTime(), deadline = start + o.timeout.toNanos();
        ExecutorService pool = Executors.newCachedThreadPool(); // four threads, and Java 17 has no virtual ones
        try {
            List<Future<String>> answers = new ArrayList<>();
            for (Call call : CALLS) answers.add(pool.submit(answerOf(clients, call, o)));
            for (int i = 0; i < CALLS.size(); i++) {
                String answer;
                try {
                    answer = answers.get(i).get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
                } catch (TimeoutException late) {
                    answers.forEach(f -> f.cancel(true));
                    err.println("Error: no whole answer from " + Shown.url(o.url) + " within " + o.timeout.toMillis() + " ms (--timeout)");
                    return 1;
                }
                out.print(shortName(CALLS.get(i)) + " Response (" + CALLS.get(i).method() + "):\n" + Shown.printable(answer) + "\n");
            }
        } catch (ExecutionException e) {
            err.println("Error: " + Shown.printable(describe(e.getCause(), o.url)));
            return 1;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return 1;
        } finally {
            pool.shutdownNow();
        }
        out.printf(Locale.ROOT, "%d answers in %.0f ms%n", CALLS.size(), (System.nanoTime() - start) / 1e6);
        return 0;
    }

    /** One call of --wait: its whole answer (sendCURL's body, sendSock's raw answer). */
    private static Callable<String> answerOf(Clients clients, Call call, Options o) {
        String[] headers = o.headers();
        if (call.curl()) {
            return () -> {
                HttpResponse<String> r = sendCURL(clients.client(), call.method(), o.url, HELLO, o.timeout, headers);
                if (r == null) throw new HttpTimeoutException("no whole answer within " + o.timeout.toMillis() + " ms");
                return r.body();
            };
        }
        return () -> {
            ByteArrayOutputStream answer = new ByteArrayOutputStream();
            sendSock(clients.tls(), call.method(), o.url, HELLO, answer, headers);
            return answer.toString(StandardCharsets.UTF_8);
        };
    }

    private static String shortName(Call call) {
        return call.curl() ? "CURL" : "Sock";
    }

    /**
     * --follow: the four calls fired with "Prefer: respond-async" (each answered 202 at once, naming its
     * monitor), then each answer printed as its call finishes, read from the monitors (GET /calls/ID,
     * as often as their Retry-After says): the article's --wait without holding four connections open.
     */
    private static int follow(PrintWriter out, PrintWriter err, Clients clients, Options o) {
        long start = System.nanoTime();
        try {
            Map<Call, URI> monitors = new LinkedHashMap<>();
            for (Call call : CALLS) {
                URI monitor = monitorOf(err, clients, call, o);
                if (monitor == null) return 1;
                monitors.put(call, monitor);
                out.printf(Locale.ROOT, "%-8s %-4s %-45s  202 Accepted, monitor %s%n", call.function(), call.method(),
                    call.target(o.url, HELLO), monitor.getRawPath());
            }
            out.flush();
            List<Thread> outputs = new ArrayList<>();
            monitors.forEach((call, monitor) -> outputs.add(Thread.ofVirtual().start(() -> printOutput(out, clients, o, call, monitor))));
            int status = awaitAnswers(out, err, clients, o, monitors, start);
            for (Thread t : outputs) t.join(2000); // the last lines a command wrote, before the summary's
            return status;
        } catch (IOException e) {
            err.println("Error: " + Shown.printable(describe(e, o.url)));
            return 1;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return 1;
        }
    }

    /**
     * Prints what a call's command writes as it writes it ("sendCURL GET  stdout| line"), read from GET /calls/ID/output
     * (server-sent events), until the call ends; an endpoint without it, or work that is not a command, prints nothing.
     */
    private static void printOutput(PrintWriter out, Clients clients, Options o, Call call, URI monitor) {
        try {
            java.net.http.HttpRequest.Builder r = java.net.http.HttpRequest.newBuilder(URI.create(monitor + "/output")).timeout(o.timeout);
            if (o.headers().length > 0) r.headers(o.headers());
            HttpResponse<java.util.stream.Stream<String>> a = clients.client().send(r.build(), HttpResponse.BodyHandlers.ofLines());
            if (a.statusCode() != 200) return;
            String event = "";
            StringBuilder data = null;
            for (String line : (Iterable<String>) a.body()::iterator) {
                if (line.startsWith("event: ")) {
                    event = line.substring(7);
                } else if (line.startsWith("data: ")) {
                    data = (data == null ? new StringBuilder() : data.append('\n')).append(line.substring(6));
                } else if (line.isEmpty() && data != null) {
                    if (event.equals("end")) return;
                    if (event.equals("stdout") || event.equals("stderr")) {
                        String text = data.toString();
                        for (String l : (text.endsWith("\n") ? text.substring(0, text.length() - 1) : text).split("\n", -1)) {
                            out.printf(Locale.ROOT, "%-8s %-4s %s| %s%n", call.function(), call.method(), event, Shown.printable(l));
                        }
                        out.flush();
                    }
                    data = null;
                }
            }
        } catch (IOException | RuntimeException e) {
            // the monitors say how each call ended
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Reads the monitors, each as often as it says, printing each answer as its call finishes, until all have or --timeout. */
    private static int awaitAnswers(PrintWriter out, PrintWriter err, Clients clients, Options o, Map<Call, URI> monitors, long start)
            throws IOException, InterruptedException {
        long deadline = start + o.timeout.toNanos();
        int failed = 0;
        while (!monitors.isEmpty()) {
            long next = Long.MAX_VALUE;
            for (var it = monitors.entrySet().iterator(); it.hasNext(); ) {
                var m = it.next();
                Followed f = read(clients, m.getValue(), o);
                if (f.state() == null) {
                    err.println("Error: the monitor " + m.getValue().getRawPath() + " answered " + f.answered());
                    return 1;
                }
                if (!f.finished()) {
                    next = Math.min(next, f.next());
                    continue;
                }
                if (f.state().equals("failed")) failed++;
                print(out, m.getKey(), f, start);
                it.remove();
            }
            if (monitors.isEmpty()) break;
            if (System.nanoTime() >= deadline) {
                err.println("Error: " + Shown.plural(monitors.size(), "call") + " not finished within " + o.timeout.toMillis() + " ms (--timeout)");
                return 1;
            }
            TimeUnit.NANOSECONDS.sleep(Math.max(0, Math.min(next, deadline) - System.nanoTime())); // and once more at the deadline
        }
        out.printf(Locale.ROOT, "%d answers in %.0f ms%n", CALLS.size(), (System.nanoTime() - start) / 1e6);
        if (failed > 0) err.println("Error: " + Shown.plural(failed, "call") + " failed (see the monitors' answers above)");
        return failed == 0 ? 0 : 1;
    }

    /** Fires a call with Prefer: respond-async; the monitor its 202 names, or null (said on err) when it named none of the endpoint's. */
    private static URI monitorOf(PrintWriter err, Clients clients, Call call, Options o) throws IOException, InterruptedException {
        String[] headers = o.headers("Prefer", "respond-async");
        String location;
        if (call.curl()) {
            HttpResponse<String> r = sendCURL(clients.client(), call.method(), o.url, HELLO, o.timeout, headers);
            location = r == null ? null : r.headers().firstValue("Location").orElse(null);
        } else {
            ByteArrayOutputStream answer = new ByteArrayOutputStream();
            sendSock(clients.tls(), call.method(), o.url, HELLO, answer, headers);
            Matcher m = LOCATION.matcher(answer.toString(StandardCharsets.ISO_8859_1));
            location = m.find() ? m.group(1) : null;
        }
        if (location == null) {
            err.println("Error: " + Shown.url(o.url) + " named no monitor for " + call.function() + " " + call.method()
                + " (no 202 with a Location: does it honour Prefer: respond-async?)");
            return null;
        }
        URI monitor = o.url.resolve(location);
        // The token goes to the endpoint's own monitors only, never to another host a Location names.
        if (!(monitor.getScheme() + monitor.getAuthority()).equalsIgnoreCase(o.url.getScheme() + o.url.getAuthority())) {
            err.println("Error: " + Shown.url(o.url) + " named a monitor elsewhere (" + Shown.printable(location) + "): not followed");
            return null;
        }
        return monitor;
    }

    private static final Pattern LOCATION = Pattern.compile("(?im)^location: *(\\S+)\r?$");

    /**
     * What a monitor said: its state (null: it answered no state, but what answered says), answer, note and
     * answer's whole length, and when to ask again (System.nanoTime).
     */
    private record Followed(String state, String answered, String answer, String note, long answerBytes, long next) {
        boolean finished() {
            return state.equals("done") || state.equals("failed");
        }
    }

    /** Reads a monitor. */
    private static Followed read(Clients clients, URI monitor, Options o) throws IOException, InterruptedException {
        HttpResponse<String> r = sendCURL(clients.client(), "GET", monitor, Map.of(), o.timeout, o.headers());
        String state = r == null || r.statusCode() != 200 ? null : Json.string(r.body(), "state");
        if (state == null) return new Followed(null, r == null ? "nothing" : status(r.statusCode()), null, null, 0, 0);
        // As Retry-After says, a fifth of a second at least.
        long wait = r.headers().firstValue("Retry-After").filter(v -> v.matches("\\d{1,5}")).map(Long::parseLong).orElse(1L);
        return new Followed(state, "200 OK", Json.string(r.body(), "answer"), Json.string(r.body(), "note"), Json.number(r.body(), "answer_bytes"),
            System.nanoTime() + Math.max(200_000_000L, wait * 1_000_000_000L));
    }

    /** A finished call's answer, as --wait prints it, with its state and how long it took. */
    private static void print(PrintWriter out, Call call, Followed f, long start) {
        String answer = f.answer() == null ? "" : f.answer();
        long shown = answer.getBytes(StandardCharsets.UTF_8).length;
        out.printf(Locale.ROOT, "%s Response (%s), %s after %.1f s%s:%n%s%s%n", shortName(call), call.method(), f.state(),
            (System.nanoTime() - start) / 1e9, f.note() == null ? "" : " (" + Shown.printable(f.note()) + ")", Shown.printable(answer),
            f.answerBytes() > shown ? "\n... (the monitor keeps the first " + shown + " of " + f.answerBytes() + " bytes)" : "");
        out.flush();
    }

    static final class Options {
        URI url = URI.create(DEFAULT_URL);
        Duration timeout;
        int retries;
        String token;
        javax.net.ssl.SSLContext tls;
        boolean waitForAnswers, follow, help;

        static Options parse(String... words) {
            Options o = new Options();
            String tokenFile = null, cacert = null;
            Args args = new Args(words);
            while (args.hasNext()) {
                String option = args.next();
                switch (option) {
                    case "-h", "--help" -> o.help = true;
                    case "--wait" -> o.waitForAnswers = true;
                    case "--follow" -> o.follow = true;
                    case "--url" -> o.url = url(args.value(option));
                    case "--timeout" -> o.timeout = Duration.ofMillis(args.number(option, 1, Long.MAX_VALUE));
                    case "--retries" -> o.retries = retries(args.value(option));
                    case "--token-file" -> tokenFile = args.value(option);
                    case "--cacert" -> cacert = args.value(option);
                    default -> throw Args.unknown(option);
                }
            }
            if (o.waitForAnswers && o.follow) throw new IllegalArgumentException("--wait and --follow go one at a time");
            if (o.timeout == null) o.timeout = Duration.ofMillis(o.waitForAnswers || o.follow ? 30_000 : 1000);
            o.token = Token.read(tokenFile);
            o.tls = cacert != null ? Tls.trusting(java.nio.file.Path.of(cacert))
                : "https".equalsIgnoreCase(o.url.getScheme()) ? Tls.jdk() : Tls.none();
            return o;
        }

        private static int retries(String s) {
            if (s.matches("[0-9]{1,3}") && Integer.parseInt(s) <= 100) return Integer.parseInt(s);
            throw Args.invalid("--retries", s + " (0 to 100)");
        }

        /** The headers every call carries: the token when there is one, and the given ones. */
        String[] headers(String... more) {
            List<String> h = new ArrayList<>(List.of(more));
            if (token != null) h.addAll(List.of("Authorization", "Bearer " + token));
            return h.toArray(String[]::new);
        }

        private static URI url(String s) {
            URI u = null;
            try {
                u = new URI(s);
                boolean scheme = "http".equalsIgnoreCase(u.getScheme()) || "https".equalsIgnoreCase(u.getScheme());
                if (scheme && u.getHost() != null && u.getPort() <= 65535 && u.getPort() != 0) return u;
            } catch (java.net.URISyntaxException bad) {
                // said below
            }
            throw Args.invalid("--url", (u == null ? Shown.printable(s) : Shown.url(u)) + " (an http:// or https:// URL, port 1 to 65535)");
        }
    }

    static final String USAGE = """
        Usage: test [--url URL] [--wait | --follow] [--timeout MS] [--retries N] [--token-file FILE] [--cacert FILE] [-h]
        Fires the article's four calls (sendCURL GET/POST, sendSock GET/POST, hello => world!) and does
        not wait for the work.
          --url URL       the endpoint, http:// or https:// (default http://127.0.0.1:8080/res.php)
          --wait          the article's commented-out code: wait for the four answers and print them
          --follow        fire the four with Prefer: respond-async (202 at once) and print each answer as it
                          finishes, read from the monitor each 202 names (GET /calls/ID), and what a
                          --run command writes as it writes it (GET /calls/ID/output)
          --timeout MS    how long sendCURL waits for an answer (default 1000, as CURLOPT_TIMEOUT 1);
                          with --wait or --follow, how long the four answers may take in all (default 30000)
          --retries N     retry a call up to N times (0 to 100, default 0) while the endpoint cannot be reached,
                          waiting 0.1 s, 0.2 s, 0.4 s ... at most 5 s between tries: 20 retries wait 76.3 s
                          at most in all; and a sendCURL answered 503 as its Retry-After says (at most 99 s
                          each); each call carries an Idempotency-Key, so none is worked on twice
          --token-file FILE  send "Authorization: Bearer TOKEN" (the file's content); the ASYNCCALL_TOKEN
                          environment variable does the same
          --cacert FILE   trust the certificates in this PEM file for https:// (instead of the JDK's own)
          -h, --help      this help
        Exit status: 0 all four delivered, 1 any not delivered, 2 bad arguments.
        """;
}
