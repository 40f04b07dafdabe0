///usr/bin/env jbang "$0" "$@" ; exit $?
//JAVA 21+
//SOURCES res.java Php.java

import com.sun.net.httpserver.Filter;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.Locale;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;

/**
 * The launcher, `php -S 127.0.0.1:8080` ported: serves res.php (and /res) on com.sun.net.httpserver,
 * a virtual thread per call, and writes php -S's log on stderr.
 */
public class serve {

    static {
        // com.sun.net.httpserver reads its settings once, JVM-wide, when its first server is made.
        // drainAmount 0: after answering a body it did not read (a 413), close the connection instead of
        // reading on up to 64 KiB, which a client that sends nothing more would make wait forever.
        if (System.getProperty("sun.net.httpserver.drainAmount") == null) {
            System.setProperty("sun.net.httpserver.drainAmount", "0");
        }
    }

    public static void main(String... args) {
        int status = start(System.err, args);
        if (status != 0) System.exit(status);
    }

    /** Starts the server and returns 0 (it keeps running), or 1 when it cannot listen, 2 for bad arguments. */
    static int start(PrintStream err, String... args) {
        Options options;
        try {
            options = Options.parse(args);
        } catch (IllegalArgumentException e) {
            err.println("Error: " + e.getMessage());
            err.print(USAGE);
            return 2;
        }
        if (options.help) {
            System.out.print(USAGE);
            return 0;
        }
        try {
            Server.start(options, err);
            return 0;
        } catch (IOException | UncheckedIOException e) {
            err.println("Error: cannot listen on " + options.host + ":" + options.port + ": " + e.getMessage());
            return 1;
        }
    }

    /** A running server: the HTTP listener, the executor that runs the calls, the calls in progress, the log. */
    static final class Server implements AutoCloseable {
        final HttpServer http;
        final ExecutorService calls;
        final Log log;
        private final String host;
        private int working;

        private Server(String host, HttpServer http, ExecutorService calls, Log log) {
            this.host = host;
            this.http = http;
            this.calls = calls;
            this.log = log;
        }

        static Server start(Options options, OutputStream logTo) throws IOException {
            Log log = new Log(logTo, options.verbose);
            HttpServer http = HttpServer.create(new InetSocketAddress(options.host, options.port), 4096);
            ExecutorService calls = Executors.newVirtualThreadPerTaskExecutor();
            http.setExecutor(calls);
            Server server = new Server(options.host, http, calls, log);
            Semaphore workers = options.workers == 0 ? null : new Semaphore(options.workers, true);
            res endpoint = new res(options.sleep, workers, log);
            http.createContext("/", call -> {
                String path = call.getRequestURI().getPath();
                if (path.equals("/res.php") || path.equals("/res")) {
                    server.working(+1);
                    try {
                        endpoint.handle(call);
                    } finally {
                        server.working(-1);
                    }
                } else {
                    notFound(call, log);
                }
            }).getFilters().add(Filter.beforeHandler("log arrivals", call -> log.line(call, "Accepted")));
            http.start();
            log.line(null, "asynccall Development Server (" + server.url() + ") started");
            return server;
        }

        int port() {
            return http.getAddress().getPort();
        }

        /** The URL of the server, with the host as it was given (an IPv6 one in brackets) and the real port. */
        String url() {
            return "http://" + (host.contains(":") ? "[" + host + "]" : host) + ":" + port();
        }

        private synchronized void working(int change) {
            working += change;
            if (working == 0) notifyAll();
        }

        /** The calls being worked on (or waiting for a worker) now. */
        synchronized int working() {
            return working;
        }

        private synchronized int awaitIdle(long deadline) throws InterruptedException {
            for (long left; working > 0 && (left = deadline - System.nanoTime()) > 0; ) {
                wait(Math.max(1, left / 1_000_000));
            }
            return working;
        }

        /**
         * Stops listening at once (new connections are refused), gives the calls in progress up to grace
         * to finish, then interrupts the rest. Returns how many calls were abandoned.
         */
        int stop(Duration grace) {
            long deadline = System.nanoTime() + grace.toNanos();
            // Waits (at most grace) for the answers still owed, then closes the connections.
            http.stop((int) Math.min(Integer.MAX_VALUE, grace.toSeconds()));
            int abandoned;
            try {
                abandoned = awaitIdle(deadline);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                abandoned = working();
            }
            calls.shutdownNow();
            return abandoned;
        }

        @Override
        public void close() {
            stop(Duration.ZERO);
        }
    }

    private static void notFound(HttpExchange call, Log log) {
        try (call) {
            byte[] text = "404 Not Found\n".getBytes(StandardCharsets.US_ASCII);
            call.getResponseHeaders().set("Content-Type", "text/plain; charset=UTF-8");
            call.sendResponseHeaders(404, text.length);
            call.getResponseBody().write(text);
        } catch (IOException hungUp) {
            // The caller left: the 404 is logged all the same.
        }
        log.line(call, "[404]: " + call.getRequestMethod() + " " + call.getRequestURI() + " - No such file or directory");
    }

    /** The php -S 8.2 log: "[Wed Nov 25 16:33:14 2026] 127.0.0.1:47790 text", control characters escaped. */
    static final class Log implements res.Events {
        private static final DateTimeFormatter ASCTIME = DateTimeFormatter.ofPattern("EEE MMM ppd HH:mm:ss yyyy", Locale.US);
        private final OutputStream out;
        private final boolean verbose;

        Log(OutputStream out, boolean verbose) {
            this.out = out;
            this.verbose = verbose;
        }

        @Override
        public void warning(HttpExchange call, String text) {
            line(call, text);
        }

        @Override
        public void done(HttpExchange call, int status, String answer) {
            String line = "[" + status + "]: " + call.getRequestMethod() + " " + call.getRequestURI();
            if (verbose && answer != null) line += "\n" + answer.stripTrailing();
            line(call, line);
        }

        /** Writes one entry; a byte string from a request is shown safely: no raw control characters. */
        void line(HttpExchange call, String text) {
            String who = call == null ? "" : address(call.getRemoteAddress()) + " ";
            String entry = "[" + ASCTIME.format(ZonedDateTime.now()) + "] " + who + safe(text) + "\n";
            synchronized (out) {
                try {
                    out.write(entry.getBytes(StandardCharsets.UTF_8));
                    out.flush();
                } catch (IOException e) {
                    // Nowhere left to log to; the calls go on.
                }
            }
        }

        private static String address(InetSocketAddress a) {
            String host = a.getAddress().getHostAddress();
            return (host.contains(":") ? "[" + host + "]" : host) + ":" + a.getPort();
        }

        /**
         * A byte string (one char per byte) made safe for a terminal and a log reader: valid UTF-8 stays
         * readable, invalid bytes and control characters other than a line break become \xNN, and every
         * line after the first is indented so that it cannot pass for a log entry of its own.
         */
        static String safe(String bytes) {
            String text = bytes;
            boolean utf8 = true;
            try {
                text = StandardCharsets.UTF_8.newDecoder()
                    .decode(ByteBuffer.wrap(bytes.getBytes(StandardCharsets.ISO_8859_1))).toString();
            } catch (CharacterCodingException notUtf8) {
                utf8 = false;
            }
            StringBuilder out = new StringBuilder(text.length());
            for (int i = 0; i < text.length(); i++) {
                char c = text.charAt(i);
                if (c == '\n' && i + 1 < text.length()) {
                    out.append("\n    ");
                } else if (Character.isISOControl(c) || (!utf8 && c > 0x7f)) {
                    out.append(String.format("\\x%02X", (int) c & 0xff));
                } else {
                    out.append(c);
                }
            }
            return out.toString();
        }
    }

    static final class Options {
        String host = "127.0.0.1";
        int port = 8080;
        Duration sleep = Duration.ofSeconds(5);
        int workers;
        boolean verbose, help;

        static Options parse(String... args) {
            Options o = new Options();
            for (int i = 0; i < args.length; i++) {
                String option = args[i];
                switch (option) {
                    case "-h", "--help" -> o.help = true;
                    case "-v", "--verbose" -> o.verbose = true;
                    case "--sleep" -> o.sleep = seconds(value(args, ++i, option), option);
                    case "--workers" -> o.workers = workers(value(args, ++i, option));
                    default -> {
                        if (option.startsWith("-")) throw new IllegalArgumentException("unknown option: " + option);
                        o.address(option);
                    }
                }
            }
            return o;
        }

        private void address(String s) {
            int colon = s.lastIndexOf(':');
            String h = colon < 0 ? "" : s.substring(0, colon);
            if (h.startsWith("[") && h.endsWith("]")) h = h.substring(1, h.length() - 1);
            try {
                int p = Integer.parseInt(s.substring(colon + 1));
                if (!h.isEmpty() && p >= 0 && p <= 65535) {
                    host = h;
                    port = p;
                    return;
                }
            } catch (NumberFormatException bad) {
                // said below
            }
            throw new IllegalArgumentException("invalid value given for HOST:PORT: " + s);
        }

        private static String value(String[] args, int i, String option) {
            if (i >= args.length) throw new IllegalArgumentException("no value given for " + option);
            return args[i];
        }

        private static Duration seconds(String s, String option) {
            try {
                double v = Double.parseDouble(s);
                if (v >= 0 && v <= 86_400 && !s.matches(".*[a-zA-Z].*")) return Duration.ofNanos(Math.round(v * 1e9));
            } catch (NumberFormatException bad) {
                // said below
            }
            throw new IllegalArgumentException("invalid value given for " + option + ": " + s);
        }

        private static int workers(String s) {
            try {
                int v = Integer.parseInt(s);
                if (v > 0) return v;
            } catch (NumberFormatException bad) {
                // said below
            }
            throw new IllegalArgumentException("invalid value given for --workers: " + s);
        }
    }

    static final String USAGE = """
        Usage: serve [HOST:PORT] [--sleep SECONDS] [--workers N] [-v] [-h]
        Serves the endpoint (/res.php and /res) and logs like php -S.
          HOST:PORT          where to listen (default 127.0.0.1:8080; port 0 takes a free port)
          --sleep SECONDS    how long each call works (default 5; decimals allowed)
          --workers N        at most N calls worked on at once, the others wait their turn
                             (default: no bound, a virtual thread per call; 1 = one at a time, as php -S)
          -v, --verbose      also log each call's print_r answer when its work is done
          -h, --help         this help
        """;
}
