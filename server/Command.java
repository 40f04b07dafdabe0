package server;

import call.Call;
import call.Received;
import call.Result;
import call.Work;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.OptionalInt;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * serve --run CMD: each call's work is a command, the operator's fixed command line run as sh -c would run it,
 * as CGI/1.1 runs a script (RFC 3875): the request's meta-variables in its environment, its body on the
 * command's stdin, and the command's stdout its answer. Nothing from the request is ever put into the
 * command line. Exit 0 is done, anything else failed (the last lines of stderr go to the log).
 */
public final class Command implements Work {
    /** How much of the command's stdout is its answer; the rest is dropped (the log says how much there was). */
    public static final int STDOUT_LIMIT = 1 << 20;

    /**
     * Starting a process is a native call that would hold one of the few carrier threads of the calls'
     * virtual threads, and with them the server's answers: it is done on platform threads of its own.
     */
    private static final java.util.concurrent.ExecutorService SPAWN = java.util.concurrent.Executors.newFixedThreadPool(
        Math.max(2, Runtime.getRuntime().availableProcessors()), Thread.ofPlatform().daemon().name("command start").factory());


    /** What a command gets of serve's own environment, beside the names the operator lists: never a secret of serve's. */
    private static final Set<String> PASSED = Set.of("PATH", "HOME", "USER", "LOGNAME", "SHELL", "LANG", "LANGUAGE", "TZ", "TMPDIR");

    private final String command;
    /** The command's words when it has no shell syntax and names a file by its path: started without sh; else null. */
    private final List<String> words;
    private final Duration timeout;
    private final Set<String> passEnv;
    /** Where what a running command writes is followed (GET /calls/ID/output). */
    private final Output output;
    private final CommandFiles files;
    private final CommandGroups groups = CommandGroups.start();
    private final Set<SessionLeader> running = ConcurrentHashMap.newKeySet();
    /** The requests being answered, whose answers go before a command's start. */
    private final Answers answers;

    /**
     * @param timeout how long a command may run before it and its children are ended; null for no limit
     * @param passEnv the variables of serve's environment a command gets beside PASSED and LC_*
     * @param answers the requests being answered: a command starts after them (a moment at most)
     * @throws java.io.UncheckedIOException when there is no temporary folder for the commands' files
     */
    public Command(String command, Duration timeout, Set<String> passEnv, Output output, Answers answers) {
        this.output = output;
        this.answers = answers;
        this.command = command;
        this.words = words(command);
        this.timeout = timeout;
        this.passEnv = Set.copyOf(passEnv);
        try {
            this.files = new CommandFiles();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException("no temporary folder for --run commands", e);
        }
    }

    /** Lines for the log at start: folders of killed serves' commands removed, and a warning without awk. */
    public List<String> started() {
        int n = files.removed();
        List<String> lines = new java.util.ArrayList<>();
        if (n > 0) lines.add("Removed the files of the commands of " + n + (n == 1 ? " serve" : " serves")
            + " that ended without stopping (killed), from " + files.folder().getParent());
        if (!groups.watched()) lines.add("Warning: no awk on the PATH to end --run commands with serve: they outlive serve if it is killed");
        return lines;
    }

    @Override
    public Result work(Call call, Received received) throws InterruptedException {
        // The body, the answer and stderr are files of the call's own: no thread and no pipe per command,
        // and a child the command leaves behind holds a file, not the call.
        CommandFiles.Call files;
        SessionLeader process;
        answers.awaitNone();
        try {
            files = this.files.open(output.start(call.id(), call.attempt()));
        } catch (IOException e) {
            return Result.text(500, "Internal Server Error\n", "the command could not start: " + e.getMessage());
        }
        try {
            process = start(environment(call, received), files, received.body());
        } catch (IOException e) {
            this.files.done(files);
            return Result.text(500, "Internal Server Error\n", "the command could not start: " + e.getMessage());
        } catch (InterruptedException stopping) {
            this.files.done(files);
            throw stopping;
        }
        running.add(process);
        groups.started(process.pid()); // a session's leader leads its process group: its pid is the group's
        try {
            return outcome(process, files);
        } finally {
            running.remove(process);
            groups.ended(process.pid());
            this.files.done(files);
        }
    }

    /** The command's environment: what it needs of serve's, the request's CGI variables, and nothing else of a request. */
    private Map<String, String> environment(Call call, Received received) {
        Map<String, String> env = new LinkedHashMap<>(System.getenv());
        // serve's environment may hold its secrets (PGPASSWORD, ASYNCCALL_TOKEN): a command gets what it needs to run.
        env.keySet().removeIf(name -> !(PASSED.contains(name) || name.startsWith("LC_") || passEnv.contains(name))
            || name.equals("ASYNCCALL_TOKEN") || name.startsWith("HTTP_") || CGI.contains(name)); // the request's, below
        // The request's bytes go to the command as they came (the OS encodes a String as UTF-8); a value
        // the OS cannot carry (a NUL byte) leaves its variable out.
        metaVariables(call, received).forEach((name, value) -> {
            if (value.indexOf('\0') < 0) env.put(name, utf8(value));
        });
        env.put("PWD", System.getProperty("user.dir")); // as sh sets it: a command started without sh gets it too
        return env;
    }

    /**
     * Starts the command on the spawning pool, the leader of a session of its own (the command and all it starts
     * are a process group, ended together), the body its stdin, stdout and stderr files in files.
     */
    private SessionLeader start(Map<String, String> env, CommandFiles.Call files, byte[] body) throws IOException, InterruptedException {
        Files.write(files.in(), body);
        try {
            return SPAWN.submit(() -> start(env, files)).get();
        } catch (java.util.concurrent.ExecutionException e) {
            throw e.getCause() instanceof IOException io ? io : new IOException(e.getCause());
        }
    }

    /**
     * The command alone when its words need no shell (sh would exec them as they are: one process and one exec
     * fewer a call), else sh -c; and sh -c too when it cannot start alone (a script without #!, a file not found),
     * so that the shell says why, and runs it, as it always would.
     */
    private SessionLeader start(Map<String, String> env, CommandFiles.Call files) throws IOException {
        if (words != null) {
            try {
                return SessionLeader.start(words, env, files.in(), files.out(), files.err());
            } catch (SessionLeader.NotStarted notAlone) {
                // sh -c, below
            }
        }
        return SessionLeader.start(List.of("sh", "-c", command), env, files.in(), files.out(), files.err());
    }

    /**
     * A command line's words, when it is only words of characters that mean nothing to sh, blank-separated, the first a
     * path with a '/' (never a builtin, a keyword or an assignment): sh -c would run exactly that. Null otherwise.
     */
    static List<String> words(String command) {
        if (!command.matches("[ \t]*[A-Za-z0-9_./:,@%+=-]+([ \t]+[A-Za-z0-9_./:,@%+=-]+)*[ \t]*")) return null;
        List<String> words = List.of(command.strip().split("[ \t]+"));
        String first = words.get(0);
        return first.indexOf('/') >= 0 && first.indexOf('=') < 0 ? words : null;
    }

    /** Waits for the command (at most its timeout, then ends it) and reads its answer: a CGI response, or a failure. */
    private Result outcome(SessionLeader process, CommandFiles.Call files) throws InterruptedException {
        Path out = files.out();
        try {
            boolean ended = timeout == null ? process.waitFor() >= 0 : process.waitFor(timeout.toNanos());
            if (!ended) {
                end(process);
                return new Result(504, Map.of(), "Gateway Timeout: the work took longer than its limit\n".getBytes(StandardCharsets.UTF_8),
                    OptionalInt.empty(), "ended after --work-timeout " + timeout.toMillis() / 1000.0 + " s" + tail(files), null, stderr(files));
            }
            int exit = process.waitFor(); // it has ended: at once
            long written = this.files.written(files);
            String remark = written > STDOUT_LIMIT ? "the command wrote " + written + " bytes: its answer is the first " + STDOUT_LIMIT : null;
            if (exit != 0) {
                return new Result(500, Map.of(), "Internal Server Error: the work failed\n".getBytes(StandardCharsets.UTF_8), OptionalInt.of(exit),
                    "exit " + exit + tail(files), remark, stderr(files));
            }
            Result answer = cgiResponse(head(out, STDOUT_LIMIT), remark);
            // An answer of 4xx or 5xx fails the call: its stderr says why, as an exit's does.
            return answer.status() < 400 ? answer : new Result(answer.status(), answer.headers(), answer.body(), answer.exit(), answer.failure(),
                answer.remark(), stderr(files));
        } catch (IOException e) {
            return Result.text(500, "Internal Server Error\n", "the command's answer could not be read: " + e.getMessage());
        } catch (InterruptedException stopping) {
            end(process);
            throw stopping;
        }
    }

    /** The first limit bytes of a file. */
    private static byte[] head(Path file, int limit) throws IOException {
        try (InputStream in = Files.newInputStream(file)) {
            return in.readNBytes(limit);
        }
    }

    /** The end of stderr for a log line: ": " and its last bytes, or nothing. */
    private String tail(CommandFiles.Call call) {
        String s = stderr(call);
        return s == null ? "" : ": " + s;
    }

    /** The last bytes of stderr (one char per byte), or null when it wrote none. */
    private String stderr(CommandFiles.Call call) {
        String s = new String(files.stderrTail(call), StandardCharsets.ISO_8859_1).strip();
        return s.isEmpty() ? null : s;
    }

    /**
     * Ends a command and every process it started: TERM to its whole process group at once, KILL a second later to
     * what is left (sh itself dies of TERM at once; the processes it started have their second to clean up).
     */
    static void end(SessionLeader process) {
        List<ProcessHandle> family = new java.util.ArrayList<>(process.handle().descendants().toList());
        family.add(process.handle());
        process.signalGroup(15);
        try {
            java.util.concurrent.CompletableFuture.allOf(family.stream().map(ProcessHandle::onExit)
                .toArray(java.util.concurrent.CompletableFuture[]::new)).get(1, TimeUnit.SECONDS);
        } catch (Exception stillThere) {
            // KILL, below
        }
        process.signalGroup(9); // what is left of the group, children that ignore TERM included
        process.destroyForcibly();
    }

    /** Ends the commands still running, and their children, all at once, and removes their files: the server is stopping. */
    public void stop() {
        List<Thread> ending = running.stream().map(p -> Thread.ofVirtual().start(() -> end(p))).toList();
        try {
            for (Thread t : ending) t.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            files.close();
            groups.close();
        }
    }

    /** The CGI variables a command gets from its request only, never from the server's own environment. */
    private static final Set<String> CGI = Set.of("GATEWAY_INTERFACE", "SERVER_SOFTWARE", "SERVER_PROTOCOL", "SERVER_NAME",
        "SERVER_PORT", "REQUEST_METHOD", "QUERY_STRING", "REQUEST_URI", "SCRIPT_NAME", "PATH_INFO", "REMOTE_ADDR", "REMOTE_PORT",
        "REDIRECT_STATUS", "CONTENT_TYPE", "CONTENT_LENGTH", "HTTPS", "REQUEST_SCHEME", "ASYNCCALL_ID", "ASYNCCALL_ATTEMPT");

    /** A byte string (one char per byte) as the String whose UTF-8 is those bytes; an invalid byte becomes U+FFFD. */
    private static String utf8(String bytes) {
        return new String(bytes.getBytes(StandardCharsets.ISO_8859_1), StandardCharsets.UTF_8);
    }

    /**
     * The CGI/1.1 meta-variables of a request (RFC 3875 section 4.1), ASYNCCALL_ID, and what php-cgi
     * needs as nginx's fastcgi_params give it (REDIRECT_STATUS, REQUEST_URI, REQUEST_SCHEME, HTTPS).
     * Authorization and Proxy-Authorization are never passed (credentials), nor Proxy as HTTP_PROXY (httpoxy),
     * nor a header with '_' in its name.
     */
    static Map<String, String> metaVariables(Call call, Received r) {
        Map<String, String> v = new LinkedHashMap<>();
        InetSocketAddress local = r.local();
        String host = r.headers().getOrDefault("Host", List.of("")).get(0);
        v.put("GATEWAY_INTERFACE", "CGI/1.1");
        v.put("SERVER_SOFTWARE", "asynccall");
        v.put("SERVER_PROTOCOL", r.protocol());
        v.put("SERVER_NAME", host.isEmpty() ? local.getAddress().getHostAddress() : host.replaceFirst(":\\d+$", "").replaceAll("^\\[|\\]$", ""));
        v.put("SERVER_PORT", String.valueOf(local.getPort()));
        v.put("REQUEST_METHOD", r.method());
        v.put("QUERY_STRING", r.rawQuery() == null ? "" : r.rawQuery());
        v.put("REQUEST_URI", call.uri().toString());
        v.put("SCRIPT_NAME", call.uri().getRawPath());
        v.put("PATH_INFO", "");
        v.put("REMOTE_ADDR", call.from().getAddress().getHostAddress());
        v.put("REMOTE_PORT", String.valueOf(call.from().getPort()));
        v.put("REDIRECT_STATUS", "200");
        v.put("REQUEST_SCHEME", r.secure() ? "https" : "http");
        if (r.secure()) v.put("HTTPS", "on");
        if (r.contentType() != null) v.put("CONTENT_TYPE", r.contentType());
        if (r.body().length > 0 || r.headers().containsKey("Content-length")) v.put("CONTENT_LENGTH", String.valueOf(r.body().length));
        v.put("ASYNCCALL_ID", call.id());
        v.put("ASYNCCALL_ATTEMPT", String.valueOf(call.attempt()));
        r.headers().forEach((name, values) -> {
            String meta = "HTTP_" + name.toUpperCase(Locale.ROOT).replace('-', '_');
            // A name with '_' would pass for another's (X_Foo for X-Foo): left out, as nginx does by default; and one
            // with any character a shell variable's name cannot hold (X.Foo), which sh would drop.
            boolean own = meta.equals("HTTP_AUTHORIZATION") || meta.equals("HTTP_PROXY_AUTHORIZATION") || meta.equals("HTTP_PROXY")
                || meta.equals("HTTP_CONTENT_TYPE") || meta.equals("HTTP_CONTENT_LENGTH") || !name.matches("[A-Za-z0-9-]+");
            if (!own) v.put(meta, String.join(", ", values));
        });
        return v;
    }

    /**
     * A CGI response (RFC 3875 section 6): when everything before the first blank line is header lines
     * and one of them is Status, Content-Type or Location, those give the answer's status and headers
     * and the rest is its body; any other output is the body as it stands.
     */
    static Result cgiResponse(byte[] out, String remark) {
        String text = new String(out, StandardCharsets.ISO_8859_1);
        int blank = text.indexOf("\n\n"), crlf = text.indexOf("\r\n\r\n");
        int end = blank < 0 ? crlf : crlf < 0 ? blank : Math.min(blank, crlf);
        List<String[]> lines = new java.util.ArrayList<>();
        boolean cgi = end > 0;
        if (cgi) {
            for (String line : text.substring(0, end).split("\r?\n")) {
                int colon = line.indexOf(':');
                if (colon <= 0 || !line.substring(0, colon).matches("[!#$%&'*+.^_`|~0-9A-Za-z-]+")) {
                    cgi = false;
                    break;
                }
                lines.add(new String[] {line.substring(0, colon), line.substring(colon + 1).strip()});
            }
        }
        cgi = cgi && lines.stream().anyMatch(h -> h[0].equalsIgnoreCase("Status") || h[0].equalsIgnoreCase("Content-Type")
            || h[0].equalsIgnoreCase("Location"));
        if (!cgi) return new Result(200, Map.of(), out, OptionalInt.of(0), null, remark);
        int status = lines.stream().anyMatch(h -> h[0].equalsIgnoreCase("Location")) ? 302 : 200;
        Map<String, List<String>> answer = new LinkedHashMap<>(); // a header may come more than once (Set-Cookie)
        for (String[] h : lines) {
            String name = h[0].toLowerCase(Locale.ROOT);
            if (name.equals("status")) {
                String code = h[1].split(" ", 2)[0];
                // A final answer is 2xx to 5xx: anything else from a command is its fault.
                if (!code.matches("[2-5]\\d\\d")) return Result.text(502, "Bad Gateway: the work gave an invalid status\n", "an invalid Status: " + h[1]);
                status = Integer.parseInt(code);
            } else if (!Set.of("connection", "transfer-encoding", "content-length", "keep-alive").contains(name)) {
                answer.computeIfAbsent(h[0], k -> new java.util.ArrayList<>()).add(h[1]);
            }
        }
        int bodyStart = end + (end == crlf ? 4 : 2);
        byte[] body = java.util.Arrays.copyOfRange(out, bodyStart, out.length);
        return new Result(status, answer, body, OptionalInt.of(0), null, remark);
    }
}
