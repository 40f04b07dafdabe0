///usr/bin/env jbang "$0" "$@" ; exit $?
//JAVA 22+
//SOURCES res.java call/*.java php/*.java store/*.java http/*.java text/*.java cli/*.java tls/*.java caller/*.java server/*.java queue/*.java
//DEPS org.xerial:sqlite-jdbc:3.54.1.0
//DEPS org.postgresql:postgresql:42.7.14
//DEPS io.prometheus:prometheus-metrics-core:1.10.0
//DEPS io.prometheus:prometheus-metrics-exporter-httpserver:1.10.0
//DEPS io.prometheus:prometheus-metrics-instrumentation-jvm:1.10.0
//JAVA_OPTIONS -Xmx320m --enable-native-access=ALL-UNNAMED --add-opens jdk.httpserver/sun.net.httpserver=ALL-UNNAMED --add-opens java.base/java.io=ALL-UNNAMED
//COMPILE_OPTIONS -XDignore.symbol.file

import call.Backoff;
import call.Work;
import cli.Args;
import cli.Token;
import com.sun.net.httpserver.Filter;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import com.sun.net.httpserver.HttpHandlers;
import com.sun.net.httpserver.HttpServer;
import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;
import http.Bearer;
import http.Replies;
import server.Answers;
import server.Callbacks;
import server.Changes;
import server.Command;
import server.ConnectionBudget;
import server.EventLog;
import server.Listeners;
import server.Log;
import server.Metrics;
import server.Monitor;
import server.NotFound;
import server.Output;
import server.Page;
import server.ProtocolCheck;
import server.Routes;
import store.Store;
import sun.misc.Signal;
import text.Shown;
import tls.ServerCertificate;
import tls.Tls;

import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.UnknownHostException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.logging.Handler;

/**
 * The launcher, `php -S 127.0.0.1:8080` ported: serves res.php (and /res) on com.sun.net.httpserver,
 * a virtual thread per call, writes php -S's log on stderr, and stops gracefully on SIGINT or SIGTERM.
 */
public class serve {
    static final int IDEMPOTENCY_KEYS = 100_000;
    /** Finished calls whose monitor stays readable, at most (each for --keep seconds). */
    static final int MONITORS_KEPT = 100_000;
    static final int MAX_HEAD_BYTES = 1024 * 1024 + 64 * 1024;
    /** With a store and no --workers bound: calls taken from the store and worked on at once, at most. */
    static final int STORE_WORKING = 1000;

    static {
        // com.sun.net.httpserver reads these once, JVM-wide, when its first server is made.
        // drainAmount 0: after answering a body it did not read (a 413, a 401), close the connection
        // instead of reading on, which a client that sends nothing more would make wait forever; such
        // answers say "Connection: close", and every other request's body is read to its end.
        // maxReqTime: a request (line, headers and body) must arrive within 30 s; a stalled one is closed.
        // maxReqHeaderSize: the JDK's own backstop above res.java's 431 (64 KiB); past it the JDK closes
        // the connection without an answer, which the log reports. maxReqHeaders: never before the bytes.
        // maxConnections: below the file descriptor limit, so that the server never runs out of them (the
        // heap is ConnectionBudget's). maxIdleConnections: as many (the JDK's 200 would close each kept-alive
        // connection past 200 as it falls idle, while a proxy such as nginx may already be sending its next
        // request on it: a POST then gets a 502 and is lost; ConnectionBudget closes the oldest instead).
        // idleInterval: a kept-alive connection idle for 90 s is closed, after a proxy's own idle timeout
        // (nginx's 60 s), so that the proxy never sends a call on one being closed.
        setDefault("sun.net.httpserver.drainAmount", "0");
        setDefault("sun.net.httpserver.maxReqTime", "30");
        setDefault("sun.net.httpserver.maxReqHeaders", "300000");
        setDefault("sun.net.httpserver.maxReqHeaderSize", String.valueOf(MAX_HEAD_BYTES));
        setDefault("jdk.httpserver.maxConnections", String.valueOf(ConnectionBudget.descriptorCap()));
        setDefault("sun.net.httpserver.maxIdleConnections", String.valueOf(ConnectionBudget.descriptorCap()));
        setDefault("sun.net.httpserver.idleInterval", "90");
    }

    private static void setDefault(String property, String value) {
        if (System.getProperty(property) == null) System.setProperty(property, value);
    }

    public static void main(String... args) {
        run(args, null);
    }

    /**
     * serve with a Java function as the work of each call, for a script of yours that pulls serve.java
     * in with //SOURCES: serve.run(args, request -> ...). The options are serve's (without --run).
     */
    public static void run(String[] args, res.Job job) {
        int status = start(System.err, job, args);
        if (status != 0) System.exit(status);
    }

    static int start(PrintStream err, String... args) {
        return start(err, null, args);
    }

    /** Starts the server and returns 0 (it keeps running), or 1 when it cannot listen, 2 for bad arguments. */
    static int start(PrintStream err, res.Job job, String... args) {
        Options options;
        try {
            options = Options.parse(args);
            options.checkAddress();
            if (job != null && options.run != null) throw new IllegalArgumentException("--run is not for a server with a Java function as its work");
            if (job != null) options.work = res.of(job);
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
            stopOnSignals(Server.start(options, err), options.grace);
            return 0;
        } catch (IOException e) {
            err.println("Error: cannot listen on " + options.host + ":" + options.port + ": " + e.getMessage());
            return 1;
        } catch (IllegalArgumentException e) {
            err.println("Error: " + e.getMessage());
            return 1;
        }
    }

    /**
     * SIGINT or SIGTERM: stop accepting, let the calls in progress finish (at most grace), exit 0, or 1
     * when some were abandoned. A second signal stops at once and says how many calls were abandoned.
     * SIGHUP (a dropped ssh session, an operator's reload) reloads the certificate and never stops serve.
     */
    static void stopOnSignals(Server server, Duration grace) {
        Signal.handle(new Signal("HUP"), signal -> server.reload("SIGHUP"));
        AtomicBoolean stopping = new AtomicBoolean();
        for (String name : new String[] {"INT", "TERM"}) {
            Signal.handle(new Signal(name), signal -> {
                if (stopping.compareAndSet(false, true)) {
                    Thread.ofPlatform().name("graceful stop").daemon(false).start(() ->
                        System.exit(server.stop(grace, "SIG" + signal.getName()) == 0 ? 0 : 1));
                } else {
                    server.log.line(null, "Stopping at once (a second signal, SIG" + signal.getName() + "): "
                        + Shown.plural(server.working(), "call") + " abandoned");
                    server.log.close();
                    Runtime.getRuntime().halt(128 + signal.getNumber());
                }
            });
        }
    }

    /** A running server: the HTTP listener, the executor that runs the calls, the endpoint, the log. */
    static final class Server implements AutoCloseable {
        final HttpServer http;
        final ExecutorService calls;
        final Log log;
        final Listeners listeners;
        final res endpoint;
        final Page page;
        final Monitor monitor;
        /** What --run commands write, followed: GET /calls/ID/output. */
        private final Output output = new Output();
        final Metrics metrics;
        /** Null: no --callback-allow. */
        private final Callbacks callbacks;
        final Store store;
        private final Command command;
        private final Routes routes;
        private final String host;
        private final Handler rejections;
        private final ServerCertificate tls;
        private final ConnectionBudget budget;
        /** The requests being read or answered: commands start after them. */
        private final Answers answers = new Answers();

        private Server(Options options, HttpServer http, ExecutorService calls, Log log, Store store) {
            this.host = options.host;
            this.tls = options.tls;
            this.store = store;
            this.http = http;
            this.calls = calls;
            this.log = log;
            this.listeners = new Listeners(log);
            this.rejections = log.rejectionsOf(http.getAddress().getPort(), MAX_HEAD_BYTES);
            this.budget = ConnectionBudget.start(http, options.tls != null, log, listeners);
            http.setExecutor(budget.turns(calls, answers));
            this.page = new Page(URI.create(url() + "/res.php"), options.sleep, options.token,
                options.tls == null ? Tls.jdk() : Tls.trusting(options.tls.certFile()));
            listeners.add(page);
            listeners.add(answers); // a call in stops holding commands back (its caller may wait for a worker)
            this.command = options.run == null ? null : new Command(options.run, options.workTimeout, options.passEnv, output, answers);
            Work work = command != null ? command : options.work;
            if (!options.routes.isEmpty()) {
                Map<String, Command> commands = new LinkedHashMap<>();
                options.routes.forEach((path, cmd) -> commands.put(path, new Command(cmd, options.workTimeout, options.passEnv, output, answers)));
                Duration sleep = options.sleep;
                this.routes = new Routes(commands, work != null ? work : (call, received) -> {
                    Thread.sleep(sleep.toMillis(), sleep.toNanosPart() % 1_000_000);
                    return null; // the article's answer
                });
                work = routes;
            } else {
                this.routes = null;
            }
            this.endpoint = new res(new res.Settings(options.sleep, options.workers, options.token, IDEMPOTENCY_KEYS, work, options.queue,
                options.attempts, options.backoff, options.keep, new http.CallbackUrls(options.callbackAllow)), calls, listeners, store);
            Monitor.Reader reader = store == null ? null : new Monitor.Reader() {
                @Override
                public call.Report report(String id) throws java.sql.SQLException {
                    return store.report(id);
                }

                @Override
                public List<call.Report> list(String state, String group, String key, java.time.Instant since, java.time.Instant until, int limit,
                                              String before) throws java.sql.SQLException {
                    return store.list(state, group, key, since, until, limit, before);
                }

                @Override
                public Map<String, Long> counts() throws java.sql.SQLException {
                    return store.counts();
                }
            };
            Changes changes = new Changes(store != null);
            this.monitor = new Monitor(options.keep, MONITORS_KEPT, endpoint::trusted, reader, output, changes);
            monitor.control(new Monitor.Control() {
                @Override
                public int cancel(String id) throws Exception {
                    return endpoint.cancel(id);
                }

                @Override
                public int rerun(String id) throws Exception {
                    return endpoint.rerun(id);
                }

                @Override
                public long rerunAll(String state, java.time.Instant since) throws Exception {
                    return endpoint.rerunAll(state, since);
                }
            });
            if (store == null) listeners.add(monitor);
            listeners.add(changes); // after the monitor: what a change makes the dashboard read is there
            this.callbacks = options.callbackAllow.isEmpty() ? null : new Callbacks(options.callbackSecret, options.attempts, options.backoff,
                new http.CallbackUrls(options.callbackAllow), new Callbacks.Book() {
                    @Override
                    public call.Report report(String id) {
                        return monitor.read(id);
                    }

                    @Override
                    public void told(String id, java.time.Instant ended, call.Callback c) {
                        if (store == null) {
                            monitor.told(id, ended, c);
                            return;
                        }
                        try {
                            store.told(id, ended, c).get(res.STORE_WAIT.toSeconds(), TimeUnit.SECONDS); // written before it is logged
                        } catch (InterruptedException e) {
                            Thread.currentThread().interrupt();
                        } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
                            // the store is failing, and says so; the row keeps what it last had
                        }
                    }
                }, text -> log.line(null, text));
            if (callbacks != null && store == null) listeners.add(callbacks); // after the monitor: it reads the end there
            if (callbacks != null && store != null) store.tellEnds(callbacks::send);
            this.metrics = new Metrics(endpoint::waiting, endpoint::busy, budget::open);
            listeners.add(metrics);
            if (store != null) store.timeCommits(metrics::committed);
        }

        /**
         * What endpoints sharing a store's queue must agree on: the token (a hash of it: another token would read
         * this one's calls) and --keep (a shorter one would delete them).
         */
        private static String agreed(Options options) {
            String token = options.token == null ? "none"
                : java.util.HexFormat.of().formatHex(Bearer.sha256(("asynccall token " + options.token).getBytes(java.nio.charset.StandardCharsets.UTF_8)));
            return "token " + token + ", --keep " + options.keep.toMillis() + " ms";
        }

        /** Starts a server; IllegalArgumentException when its store cannot be opened (and nothing is left listening). */
        static Server start(Options options, OutputStream logTo) throws IOException {
            Log log = new Log(logTo, options.verbose);
            Store store = options.store == null ? null : Store.open(options.store, options.lease, options.keep,
                options.workers > 0 ? options.workers : STORE_WORKING, agreed(options), text -> log.line(null, text));
            InetSocketAddress address = new InetSocketAddress(options.host, options.port);
            HttpServer http;
            try {
                if (options.tls == null) {
                    http = HttpServer.create(address, 4096);
                } else {
                    HttpsServer https = HttpsServer.create(address, 4096);
                    https.setHttpsConfigurator(new HttpsConfigurator(options.tls.context()));
                    http = https;
                }
            } catch (IOException e) {
                if (store != null) store.close();
                throw e;
            }
            ExecutorService calls = Executors.newVirtualThreadPerTaskExecutor();
            Server server = new Server(options, http, calls, log, store);
            if (options.events != null) server.listeners.add(EventLog.open(options.events));
            server.route(http, log);
            http.start();
            log.line(null, "asynccall Development Server (" + server.url() + ") started");
            log.line(null, store != null ? "Store: " + Shown.storeUrl(options.store) + ", " + Shown.plural(store.backlog(), "call")
                    + " waiting; Idempotency-Keys are kept as long as their calls"
                : "Idempotency-Key: the last " + IDEMPOTENCY_KEYS + " keys are remembered"
                + (options.token == null ? "" : "; calls need the token (Authorization: Bearer)"));
            if (store != null && options.token != null) log.line(null, "Calls need the token (Authorization: Bearer)");
            if (server.command != null) server.command.started().forEach(line -> log.line(null, line));
            if (server.routes != null) server.routes.started().forEach(line -> log.line(null, line));
            if (options.attempts > 1) {
                log.line(null, "A call answered 202 whose work fails is tried " + options.attempts + " times in all, "
                    + options.backoff.min().toMillis() / 1000.0 + " s to " + options.backoff.max().toMillis() / 1000.0 + " s apart (--attempts, --backoff)");
            }
            server.warnIfInvalid();
            server.endpoint.startWorking();
            if (server.callbacks == null && store != null) server.warnOfCallbacksWaiting();
            if (server.callbacks != null) {
                log.line(null, "Callbacks: calls may name a URL under " + String.join(", ", options.callbackAllow.stream().map(Object::toString).toList())
                    + " (Asynccall-Callback) to be told their end, signed (Standard Webhooks)");
                if (store != null) server.resumeCallbacks();
            }
            if (options.run != null && !"UTF-8".equals(System.getProperty("sun.jnu.encoding"))) {
                log.line(null, "Warning: the locale is not UTF-8 (" + System.getProperty("sun.jnu.encoding") + "): --run commands get"
                    + " '?' for every byte of a request that is not ASCII; start serve with LANG=C.UTF-8");
            }
            return server;
        }

        /**
         * The routes, each a context whose handler serves its exact path (a context also matches longer
         * paths, which are 404): /res.php and /res the endpoint, the page and its events (GET only), the
         * rest 404. Every request is logged on arrival and checked as an HTTP server must first.
         */
        private void route(HttpServer http, Log log) {
            HttpHandler notFound = new NotFound(log);
            Map<String, HttpHandler> routes = new LinkedHashMap<>();
            for (String path : List.of("/res.php", "/res")) routes.put(path, endpoint);
            if (this.routes != null) for (String path : this.routes.paths()) routes.put(path, endpoint);
            for (String path : List.of("/test.php", "/test")) routes.put(path, call -> page(call, false));
            routes.put("/events", call -> page(call, true));
            routes.put("/health", this::health);
            routes.put("/metrics", this::metrics);
            routes.put("/calls", monitor::handle);
            routes.put("/calls/", monitor::handle);
            routes.put("/", notFound);
            // Looked at, not called: one line each when answered, no "Accepted" before it.
            Set<String> lookedAt = Set.of("/health", "/metrics", "/calls", "/calls/");
            routes.forEach((path, handler) -> {
                boolean endpointPath = handler == endpoint;
                boolean getOnly = !endpointPath && !path.equals("/");
                boolean prefix = path.endsWith("/") && !path.equals("/");
                // The monitors and their management routes answer each method themselves (a 405 with Allow).
                Set<String> methods = path.startsWith("/calls") ? res.METHODS : Set.of("GET");
                boolean quiet = lookedAt.contains(path);
                HttpHandler exact = HttpHandlers.handleOrElse(call -> (prefix ? call.getRequestURI().getPath().startsWith(path)
                    : call.getRequestURI().getPath().equals(path)) && (!getOnly || methods.contains(call.getRequestMethod())),
                    quiet ? logged(handler) : handler, notFound);
                List<Filter> filters = http.createContext(path, exact).getFilters();
                filters.add(budget);
                if (!quiet) filters.add(Filter.beforeHandler("log arrivals", log::arrival));
                filters.add(new ProtocolCheck(log));
            });
        }

        /** A handler whose answer is logged in one line, as php -S logs a file it served. */
        private HttpHandler logged(HttpHandler handler) {
            return call -> {
                try {
                    handler.handle(call);
                } finally {
                    log.line(call.getRemoteAddress(), "[" + (call.getResponseCode() > 0 ? call.getResponseCode() : 499) + "]: "
                        + call.getRequestMethod() + " " + call.getRequestURI());
                }
            };
        }

        /** GET /metrics: the Prometheus text format (with a token, for its holders only). */
        private void metrics(HttpExchange call) throws IOException {
            if (endpoint.trusted(call)) {
                metrics.handler().handle(call);
            } else {
                try (call) {
                    Bearer.refuse(call);
                }
            }
        }

        /** GET /health: 200 "ok" while calls are taken, 503 while stopping or while the store cannot be reached. */
        private void health(HttpExchange call) {
            String why = stopping ? "stopping" : store == null ? null : store.unhealthy();
            try (call) {
                if (why != null) call.getResponseHeaders().set("Retry-After", "5");
                Replies.send(call, why == null ? 200 : 503, why == null ? "ok\n" : "Service Unavailable: " + why + "\n", Replies.hasBody(call));
            }
        }

        private volatile boolean stopping;

        /**
         * The page (/test.php, /test) and its events (/events), logged as php -S logs a page. With a
         * token, they need it too: the page fires calls that carry it.
         */
        private void page(HttpExchange call, boolean events) {
            int status = 200;
            try (call) {
                if (!endpoint.trusted(call)) {
                    Bearer.refuse(call);
                } else if (events) {
                    page.events(call);
                } else {
                    page.page(call);
                }
            } catch (IOException hungUp) {
                status = 499; // the browser left
            } catch (InterruptedException stopping) {
                Thread.currentThread().interrupt();
                status = 503;
            }
            log.line(call.getRemoteAddress(), "[" + (call.getResponseCode() > 0 ? call.getResponseCode() : status) + "]: "
                + call.getRequestMethod() + " " + call.getRequestURI());
        }

        int port() {
            return http.getAddress().getPort();
        }

        /**
         * SIGHUP: the certificate and key read again (a renewal), served from the next handshake on, and the
         * page told to trust the new one; without TLS there is nothing to reload. Serving goes on either way.
         */
        void reload(String why) {
            if (tls == null) {
                log.line(null, why + ": nothing to reload (serve reloads its certificate on " + why + "; SIGINT or SIGTERM stops it); serving on");
                return;
            }
            try {
                java.security.cert.X509Certificate c = tls.reload();
                page.trust(Tls.trusting(tls.certFile()));
                log.line(null, why + ": reloaded the certificate (" + c.getSubjectX500Principal() + ", valid until "
                    + c.getNotAfter().toInstant() + ")");
                warnIfInvalid();
            } catch (IllegalArgumentException e) {
                log.line(null, why + ": the certificate was not reloaded, the one before serves on: " + e.getMessage());
            }
        }

        /** A certificate that callers checking it would refuse is said at once, not by each caller later. */
        private void warnIfInvalid() {
            String invalid = tls == null ? null : tls.invalidNow();
            if (invalid != null) {
                log.line(null, "Warning: the certificate (--tls-cert " + tls.certFile() + ") " + invalid
                    + ": callers that check it refuse every call");
            }
        }

        /** With a store and no --callback-allow: callbacks the store holds to send wait for a serve that sends them. */
        private void warnOfCallbacksWaiting() {
            try {
                int n = store.callbacksSending().size();
                if (n > 0) log.line(null, "Warning: " + Shown.plural(n, "callback") + " of ended calls wait to be sent: start serve with"
                    + " --callback-allow and --callback-secret-file to send them");
            } catch (java.sql.SQLException e) {
                // the store's failure is said by the store
            }
        }

        /** With a store: the callbacks a stop cut short are sent again (their calls' rows still say sending). */
        private void resumeCallbacks() {
            try {
                List<String> ids = store.callbacksSending();
                if (ids.isEmpty()) return;
                log.line(null, Shown.plural(ids.size(), "callback") + " cut short by the last stop: sent again");
                ids.forEach(callbacks::send);
            } catch (java.sql.SQLException e) {
                log.line(null, "The callbacks cut short by the last stop could not be read (" + e.getMessage() + "): they are sent at the next start");
            }
        }

        /** The URL of the server, with the host as it was given (an IPv6 one in brackets) and the real port. */
        String url() {
            return (http instanceof HttpsServer ? "https://" : "http://") + (host.contains(":") ? "[" + host + "]" : host) + ":" + port();
        }

        /** The calls being worked on (or waiting for a worker) now. */
        int working() {
            return endpoint.working();
        }

        /**
         * Stops listening at once (new connections are refused), gives the calls in progress up to grace
         * to finish, then closes every connection (a half-sent request does not hold the stop) and
         * interrupts the rest. Logs what it does; returns how many calls were abandoned.
         */
        int stop(Duration grace, String why) {
            long start = System.nanoTime(), deadline = start + grace.toNanos();
            stopping = true;
            if (store != null) store.stopTaking();
            int working = working();
            log.line(null, "Stopping (" + why + "): no new calls; " + (working == 0 ? "no call is working"
                : Shown.plural(working, "call") + " still working, waiting up to " + grace.toMillis() / 1000.0 + " s for them"
                + (why.startsWith("SIG") ? " (signal again to stop at once)" : "")));
            // The JDK's stop closes the listener at once, then waits for exchanges: interrupted once no call works.
            Thread closing = Thread.ofPlatform().name("closing connections").start(() ->
                http.stop((int) Math.min(Integer.MAX_VALUE, (grace.toMillis() + 999) / 1000)));
            int abandoned;
            try {
                // The requests that came before the listener closed are read (and become calls) before it is closed.
                budget.awaitExchanges(deadline);
                abandoned = endpoint.awaitIdle(deadline);
                closing.interrupt();
                closing.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                abandoned = working();
            }
            // With a store, the calls whose work is cut from here go back to it, not to their ends.
            if (store != null) endpoint.abandon();
            if (command != null) command.stop(); // and their children: nothing of ours outlives the server
            if (callbacks != null) callbacks.close(); // with a store, sent again at the next start
            if (routes != null) routes.stop();
            calls.shutdownNow();
            try {
                calls.awaitTermination(5, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            // With a store nothing accepted is abandoned: what is not finished waits there for the next start.
            long left = store == null ? 0 : store.close(Duration.ofSeconds(10));
            if (store != null) abandoned = 0;
            log.remove(rejections);
            budget.close();
            String took = String.format(Locale.ROOT, "%.1f s", (System.nanoTime() - start) / 1e9);
            log.line(null, abandoned > 0 ? "Stopped after " + took + ": " + Shown.plural(abandoned, "call") + " abandoned"
                : left > 0 ? "Stopped after " + took + ": " + Shown.plural(left, "call") + " left in the store for the next start"
                : left < 0 ? "Stopped after " + took + ": the store did not answer; what it holds is worked on the next start"
                : "Stopped after " + took + (working == 0 ? "" : ": every call finished"));
            log.close(); // the process may exit next; a line after this is written by its caller
            return abandoned;
        }

        @Override
        public void close() {
            stop(Duration.ZERO, "closed");
        }
    }

    static final class Options {
        String host = "127.0.0.1";
        int port = 8080;
        Duration sleep = Duration.ofSeconds(5);
        Duration grace = Duration.ofSeconds(30);
        int workers, queue = 10_000;
        String token, events, tlsCert, tlsKey, run, store;
        Duration workTimeout, keep = Duration.ofHours(1), lease = Duration.ofSeconds(30);
        final java.util.Set<String> passEnv = new java.util.LinkedHashSet<>();
        final Map<String, String> routes = new LinkedHashMap<>();
        int attempts = 5;
        Backoff backoff = new Backoff(Duration.ofSeconds(2), Duration.ofSeconds(300));
        final List<URI> callbackAllow = new java.util.ArrayList<>();
        http.WebhookSignature callbackSecret;
        Work work;
        ServerCertificate tls;
        boolean verbose, help, insecure;

        static Options parse(String... words) {
            Options o = new Options();
            String tokenFile = null, secretFile = null;
            Args args = new Args(words);
            while (args.hasNext()) {
                String option = args.next();
                switch (option) {
                    case "-h", "--help" -> o.help = true;
                    case "-v", "--verbose" -> o.verbose = true;
                    case "--insecure" -> o.insecure = true;
                    case "--sleep" -> o.sleep = args.seconds(option);
                    case "--grace" -> o.grace = args.seconds(option);
                    case "--workers" -> o.workers = args.count(option);
                    case "--queue" -> o.queue = args.count(option);
                    case "--token-file" -> tokenFile = args.value(option);
                    case "--events" -> o.events = args.value(option);
                    case "--run" -> o.run = command(args.value(option));
                    case "--work-timeout" -> o.workTimeout = args.positiveSeconds(option);
                    case "--pass-env" -> o.passEnv.add(variable(args.value(option)));
                    case "--attempts" -> o.attempts = (int) args.number(option, 1, 100);
                    case "--backoff" -> o.backoff = backoff(args.value(option));
                    case "--route" -> {
                        String path = routePath(args.value(option));
                        if (o.routes.put(path, command(args.value(option))) != null) throw Args.invalid(option, path + " (given twice)");
                    }
                    case "--keep" -> o.keep = args.positiveSeconds(option);
                    case "--store" -> o.store = args.value(option);
                    case "--lease" -> {
                        o.lease = args.seconds(option);
                        // Shorter, a GC pause would lose it.
                        if (o.lease.compareTo(Duration.ofSeconds(1)) < 0) throw Args.invalid(option, args.current() + " (at least 1)");
                    }
                    case "--callback-allow" -> o.callbackAllow.add(http.CallbackUrls.prefix(args.value(option)));
                    case "--callback-secret-file" -> secretFile = args.value(option);
                    case "--tls-cert" -> o.tlsCert = args.value(option);
                    case "--tls-key" -> o.tlsKey = args.value(option);
                    default -> {
                        if (option.startsWith("-")) throw Args.unknown(option);
                        o.address(option);
                    }
                }
            }
            o.token = Token.read(tokenFile);
            if (o.callbackAllow.isEmpty() != (secretFile == null)) {
                throw new IllegalArgumentException("--callback-allow and --callback-secret-file go together (callbacks are signed)");
            }
            if (secretFile != null) o.callbackSecret = http.WebhookSignature.read(secretFile);
            if ((o.tlsCert == null) != (o.tlsKey == null)) throw new IllegalArgumentException("--tls-cert and --tls-key go together");
            if (!o.passEnv.isEmpty() && o.run == null && o.routes.isEmpty()) {
                throw new IllegalArgumentException("--pass-env gives variables to --run and --route commands: give one");
            }
            if (o.tlsCert != null) o.tls = new ServerCertificate(Path.of(o.tlsCert), Path.of(o.tlsKey));
            return o;
        }

        /** Bound to an address others can reach, the endpoint takes calls from trusted callers only. */
        void checkAddress() {
            boolean loopback;
            try {
                loopback = InetAddress.getByName(host).isLoopbackAddress();
            } catch (UnknownHostException e) {
                throw new IllegalArgumentException("invalid value given for HOST:PORT: unknown host " + host);
            }
            if (!loopback && token == null && !insecure) {
                throw new IllegalArgumentException(host + " is not a loopback address: give a token (--token-file FILE"
                    + " or ASYNCCALL_TOKEN) so that only trusted callers can call, or --insecure to serve anyone");
            }
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

        /** MIN,MAX seconds, 0 < MIN <= MAX. */
        private static Backoff backoff(String s) {
            String[] parts = s.split(",", -1);
            try {
                if (parts.length == 2) {
                    Duration min = new Args(parts[0]).seconds("--backoff"), max = new Args(parts[1]).seconds("--backoff");
                    if (!min.isZero() && min.compareTo(max) <= 0) return new Backoff(min, max);
                }
            } catch (IllegalArgumentException bad) {
                // said below
            }
            throw Args.invalid("--backoff", s + " (MIN,MAX seconds, 0 < MIN <= MAX)");
        }

        /** A path of its own for --route: /name…, not one of serve's. */
        private static String routePath(String s) {
            if (!s.matches("/[A-Za-z0-9._~!$&'()*+,;=:@/-]*") || s.contains("//") || s.contains("/./") || s.contains("/../") || s.endsWith("/")) {
                throw Args.invalid("--route", s + " (a path such as /mail)");
            }
            if (List.of("/res.php", "/res", "/test.php", "/test", "/events", "/health", "/metrics").contains(s) || s.startsWith("/calls")) {
                throw Args.invalid("--route", s + " (serve's own path)");
            }
            return s;
        }

        private static String variable(String s) {
            if (!s.matches("[A-Za-z_][A-Za-z0-9_]*")) throw new IllegalArgumentException("invalid value given for --pass-env: a variable's name");
            return s;
        }

        private static String command(String s) {
            if (s.isBlank() || s.indexOf('\0') >= 0) throw new IllegalArgumentException("invalid value given for --run: a command line for sh -c");
            return s;
        }
    }

    static final String USAGE = """
        Usage: serve [HOST:PORT] [--sleep SECONDS] [--run CMD] [--route PATH CMD] [--work-timeout SECONDS] [--pass-env NAME]
                     [--attempts N] [--backoff MIN,MAX] [--workers N] [--queue N] [--keep SECONDS]
                     [--store URL [--lease SECONDS]] [--grace SECONDS]
                     [--token-file FILE] [--insecure] [--callback-allow URL --callback-secret-file FILE]
                     [--tls-cert FILE --tls-key FILE] [--events FILE] [-v] [-h]
        Serves the endpoint (/res.php and /res) and the article's page (/test.php and /test, which fires the
        four calls at /res.php and shows them finish), each call's monitor (/calls/ID), and logs like php -S.
        SIGINT or SIGTERM stops it gracefully; SIGHUP reloads --tls-cert and --tls-key, and never stops it.
          HOST:PORT          where to listen (default 127.0.0.1:8080; port 0 takes a free port)
          --sleep SECONDS    how long each call works (default 5; decimals allowed)
          --run CMD          each call's work is this command line, run with sh -c: the request's CGI/1.1
                             variables in its environment, its body on stdin, stdout (1 MiB at most) the
                             answer, exit 0 done and anything else failed (instead of --sleep)
          --route PATH CMD   calls to PATH run CMD exactly as --run runs its command for /res.php (repeatable:
                             one serve, several kinds of work)
          --work-timeout SECONDS  end a --run command, and its children, after this long (default: no limit)
          --pass-env NAME    also give --run commands this variable of serve's environment (repeatable; they
                             get PATH, HOME, USER, LOGNAME, SHELL, LANG, LC_*, TZ and TMPDIR, and no other)
          --attempts N       a call answered 202 whose work fails (an exit other than 0, a 5xx, 408 or 429, a
                             timeout, a Java function that throws) is tried up to N times in all (default 5:
                             with the default backoff, about a minute of waits, which rides out a restart of
                             what the work calls; 1 to 100); a CGI 4xx fails it at once
          --backoff MIN,MAX  the wait before each next attempt: from MIN seconds, doubling, at most MAX, with
                             full jitter (default 2,300); a CGI Retry-After waits longer when it says so
          --workers N        at most N calls worked on at once, the others wait their turn
                             (default: no bound, a virtual thread per call; 1 = one at a time, as php -S)
          --queue N          at most N calls accepted and not finished (default 10000); past it, or past
                             bodies of a quarter of the heap, a call is answered 503 with Retry-After: 1
                             (with a store: the calls waiting in it, counted once a second)
          --keep SECONDS     how long a finished call's monitor (GET /calls/ID, named by each 202's
                             Location) stays readable (default 3600; 100000 finished calls at most
                             without a store), and with a store how long a call and its key are kept
          --store URL        keep calls in a database, a 202 sent once the call is committed, and work
                             on start those accepted and not finished: jdbc:sqlite:FILE (or just FILE)
                             for one endpoint, jdbc:postgresql://HOST:PORT/DB?user=U for several
          --lease SECONDS    with a store, a call held by an endpoint that stopped renewing it (it
                             died) is taken by another after this long (default 30)
          --grace SECONDS    on SIGINT/SIGTERM, how long the calls in progress may take to finish (default 30)
          --token-file FILE  only calls with "Authorization: Bearer TOKEN" (the file's content) are served;
                             the ASYNCCALL_TOKEN environment variable does the same
          --insecure         serve anyone on a non-loopback address (which otherwise needs a token)
          --callback-allow URL  a call may name a URL under this one (Asynccall-Callback) to be POSTed its
                             monitor's JSON when it ends (repeatable; none by default) ...
          --callback-secret-file FILE  ... signed with this secret (whsec_ and base64, Standard Webhooks)
          --tls-cert FILE    serve HTTPS with this PEM certificate chain (server first) ...
          --tls-key FILE     ... and this PEM private key (PKCS#8 or RSA, unencrypted), as nginx reads them
          --events FILE      also write each call's arrival, warnings and end to FILE as JSON lines
                             (one object a line; - for standard output)
          -v, --verbose      also log each call's answer (at most 64 KiB of it) when its work is done
          -h, --help         this help
        """;
}
