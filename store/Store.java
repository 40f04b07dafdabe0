package store;

import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

import call.Call;
import call.Callback;
import call.Done;
import call.Plan;
import call.Received;
import call.Report;
import call.Try;
import text.Shown;

/**
 * The calls of an endpoint kept in a database (serve --store URL), through JDBC only: SQLite (a file,
 * one endpoint) or PostgreSQL (one queue for several endpoints). A call is a row: what its work needs
 * of the request, its Idempotency-Key, its state (queued, working, finished), and its end.
 *
 * One thread owns the writes and does them in groups, one transaction for every call that arrived
 * meanwhile (group commit): a caller is told 202 once its call's transaction is committed. The same
 * thread takes queued calls for this endpoint's workers (FOR UPDATE SKIP LOCKED on PostgreSQL), each
 * held under a lease that it renews while the call is worked; a call whose endpoint died is taken
 * again when its lease runs out (at-least-once), and finished calls are deleted after --keep.
 */
public final class Store implements AutoCloseable {
    /**
     * A call's state in its row, by name (as SQL literals), for an operator reading the table: queued (retrying too: queued
     * after an attempt), working, and at its end done, failed or cancelled.
     */
    static final String QUEUED = "'queued'", WORKING = "'working'", DONE = "'done'", FAILED = "'failed'", CANCELLED = "'cancelled'";
    /** Not finished, in the very words of the partial index of such rows: SQLite uses it only for a query that says them. */
    private static final String NOT_FINISHED = "state IN (" + QUEUED + ", " + WORKING + ")";
    /** Said first in a query of unfinished rows, so that SQLite uses their index (it cannot tell that state = 'queued' implies it). */
    private static final String UNFINISHED = NOT_FINISHED + " AND ";
    private static final String FINISHED = "state IN (" + DONE + ", " + FAILED + ", " + CANCELLED + ")";
    /** How often an idle store looks for calls (queued by another endpoint, or whose lease ran out). */
    static final Duration POLL = Duration.ofMillis(200);

    /** A call taken from the store for this endpoint's workers. */
    /** A call this endpoint took to work on, and when its attempt was due (its arrival, or the end of its delay or backoff). */
    public record Claimed(Call call, Received received, Plan plan, java.time.Instant due) {}

    /** The columns added since the first version of the table, made on an older one as it is opened. */
    private static final String[][] ADDED = {{"attempts", "INTEGER NOT NULL DEFAULT 0"}, {"max_attempts", "INTEGER NOT NULL DEFAULT 1"},
        {"run_at_ms", "BIGINT"}, {"grp", "TEXT"}, {"tries", "TEXT"}, {"cancel", "INTEGER NOT NULL DEFAULT 0"},
        {"callback", "TEXT"}, {"callback_state", "TEXT"}, {"callback_attempts", "INTEGER NOT NULL DEFAULT 0"}, {"callback_status", "INTEGER"},
        {"method", "TEXT"}, {"uri", "TEXT"}};
    /** Set on the end of a call that asked for a callback, in the transaction of its end: sent once that commits, and again after a restart. */
    private static final String CALLBACK_DUE = "callback_state = CASE WHEN callback IS NULL THEN NULL ELSE '" + Callback.SENDING + "' END";

    private final boolean postgres;
    private final String table = "asynccall_calls";
    private final String jdbc;
    /** What every endpoint on one queue must agree on (the token, --keep), as one string: checked when one joins. */
    private final String agreed;
    /** SQLite: the file, and its identity when opened (a file deleted or replaced while serving would take calls into nothing). */
    private final java.nio.file.Path file;
    private Object fileKey;
    /** SQLite: the lock that keeps the file this serve's (null: PostgreSQL, or closed). */
    private java.nio.channels.FileChannel owned;
    /** Why new calls are refused for good (the file is gone), or null. */
    private volatile String lost;
    /** Guards the connections: the store's thread holds it for a transaction, a monitor's read for its query. */
    private final Object lock = new Object();
    private Connection writer, reader;
    private final String owner = HexFormat.of().formatHex(new SecureRandom().generateSeed(8));
    private final Duration lease, keep;
    private final int capacity;
    private final AtomicInteger holding = new AtomicInteger();
    /** The bodies of the calls this endpoint holds, and how much of them it may hold (a quarter of the heap). */
    private final java.util.concurrent.atomic.AtomicLong holdingBytes = new java.util.concurrent.atomic.AtomicLong();
    private final long budget = Runtime.getRuntime().maxMemory() / 4;
    /** Ends of calls whose transaction failed: written again one per transaction, so that none blocks the others. */
    private final List<Op> retry = new ArrayList<>();
    private final LinkedBlockingQueue<Op> ops = new LinkedBlockingQueue<>();
    private final Consumer<String> log;
    private volatile Consumer<Claimed> worker;
    /** Told the id of a call this endpoint works that another endpoint took over: its work here is to stop. */
    private volatile Consumer<String> takenOver = id -> { };
    /** Told the id of a call this endpoint works that was cancelled (DELETE /calls/ID, here or at another endpoint): its work is to end. */
    private volatile Consumer<String> cancelled = id -> { };
    /** Told how long each commit of a batch took, from its first statement (for the metrics). */
    private volatile Consumer<Duration> commits = took -> { };
    /** Told each call whose end is to go to its callback, once committed; and those of this turn until then. */
    private volatile Consumer<String> callbacks = id -> { };
    private final List<String> callbacksDue = new ArrayList<>();
    /** The calls handed to this endpoint's workers and not yet let go (unhold). */
    private final java.util.Set<String> held = java.util.concurrent.ConcurrentHashMap.newKeySet();
    private volatile boolean claiming = true;
    private volatile long backlog, queued;
    private Thread thread;
    /**
     * Calls of a transaction whose commit went unanswered (the database hung, the connection broke): their callers
     * were told 503, so what of them was committed after all is deleted once the store is connected again.
     */
    private final java.util.Set<String> doubtful = new java.util.LinkedHashSet<>();
    /** PostgreSQL's process of the writer's connection: a commit it holds unanswered is ended before its calls are looked for. */
    /** PostgreSQL's process of the writer's connection and its start (a pid is used again), and of an unanswered commit's. */
    private String writerBackend, doubtfulBackend;
    /**
     * Free space on a SQLite store's disk under which new calls are refused: what the calls it holds need to be
     * finished (the WAL, about 4 MiB before its checkpoint, and the checkpoint's pages), so that a full disk
     * never stops the queue from draining.
     */
    public static final long RESERVE = 16L << 20;
    /** Why new calls are refused for want of room on the store's disk, or null. */
    private volatile String full;
    /** Calls a killed serve was working on, left so at a start on a full disk: queued again once there is room. */
    private boolean staleWorking;
    /** The largest the SQLite file has been: SQLite never makes it smaller (no VACUUM here), so smaller is damage. */
    private long fileSize;
    /** Why the store could not connect again, while it cannot. */
    private volatile String disconnected;
    /** The writer's statements, prepared once (the store's thread alone uses them). */
    private final Map<String, PreparedStatement> statements = new java.util.HashMap<>();
    // The texts of the statements each call makes, made once: each use of one is then a look-up of the same string.
    private final String insert = "INSERT INTO " + table + " (id, idem_key, fingerprint, state, owner, lease_until,"
        + " accepted_ms, started_ms, request, body, status, max_attempts, run_at_ms, grp, callback, method, uri)"
        + " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
    private final String insertKeyed = insert + " ON CONFLICT (idem_key) DO NOTHING";
    /** By the end's state and whether its key is let go. */
    private final Map<String, String> finishTexts = new java.util.HashMap<>();

    /**
     * Opens the store (creating its table when missing) and, on SQLite, makes the calls a previous
     * process was working on queued again: a SQLite file belongs to one endpoint at a time.
     *
     * @param capacity calls this endpoint holds at most (taken and not finished)
     * @throws IllegalArgumentException when the store cannot be opened, with what to do about it
     */
    public static Store open(String url, Duration lease, Duration keep, int capacity, String agreed, Consumer<String> log) {
        String jdbc = url.startsWith("jdbc:") ? url : "jdbc:sqlite:" + url;
        boolean postgres = jdbc.startsWith("jdbc:postgresql:");
        if (!postgres && !jdbc.startsWith("jdbc:sqlite:")) {
            throw new IllegalArgumentException("--store takes jdbc:sqlite:FILE, a file name, or jdbc:postgresql://HOST/DB, not " + Shown.storeUrl(url));
        }
        String file = postgres ? null : jdbc.substring("jdbc:sqlite:".length());
        if (file != null && (file.isBlank() || file.contains(":memory:") || file.contains("mode=memory"))) {
            throw new IllegalArgumentException("--store needs a file that outlives the process (jdbc:sqlite:FILE), not " + Shown.storeUrl(url));
        }
        // A reader beside serve (sqlite3 -readonly) relies on SQLite's locks: a URL that turns them off is refused.
        if (file != null && file.toLowerCase(java.util.Locale.ROOT).matches("(?s).*[?&](vfs=[^&]*-(none|dotfile)|nolock=(1|true|yes))\\b.*")) {
            throw new IllegalArgumentException("--store " + Shown.storeUrl(url) + " turns SQLite's locking off, which lets a reader"
                + " (sqlite3) see the file half-written: give the file without it");
        }
        Store store = new Store(jdbc, postgres, lease, keep, capacity, agreed, log);
        try {
            if (!postgres) store.own();
            store.prepare();
            return store;
        } catch (SQLException e) {
            close(store.writer);
            close(store.reader);
            store.disown();
            if (e.getMessage() != null && e.getMessage().startsWith("No suitable driver")) {
                throw new IllegalArgumentException("no JDBC driver for " + jdbc.split(":")[1] + " on the class path: run serve with"
                    + " JBang (`jbang serve.java --store ...` or `./jbang serve --store ...`), which adds the drivers serve.java"
                    + " names in //DEPS, or put the driver's jar on the class path (java -cp DRIVER.jar serve.java ...)");
            }
            if (e.getMessage() != null && e.getMessage().contains("SQLITE_BUSY")) {
                throw new IllegalArgumentException("the store " + Shown.storeUrl(url) + " is in use by another serve (a SQLite file serves one"
                    + " endpoint; several endpoints share a PostgreSQL store)");
            }
            if (e.getMessage() != null && (e.getMessage().contains("SQLITE_NOTADB") || e.getMessage().contains("SQLITE_CORRUPT"))) {
                throw new IllegalArgumentException("cannot open the store " + Shown.storeUrl(url) + ": the file is damaged (" + e.getMessage()
                    + "): restore it from a copy, or move it aside to start with an empty store");
            }
            throw new IllegalArgumentException("cannot open the store " + Shown.storeUrl(url) + ": " + e.getMessage());
        }
    }

    /**
     * A SQLite file is one serve's: it holds a lock of FILE.lock while it runs (the OS lets it go when the process ends),
     * rather than SQLite's exclusive mode, which would lock out an operator's reader too.
     */
    private void own() {
        java.nio.file.Path real;
        try {
            // The file itself, whatever names it: a symbolic link to it locks the same lock; a second hard link is refused.
            real = java.nio.file.Files.exists(file) ? file.toRealPath() : file.toAbsolutePath().getParent().toRealPath().resolve(file.getFileName());
            if (java.nio.file.Files.exists(real) && ((Number) java.nio.file.Files.getAttribute(real, "unix:nlink")).intValue() > 1) {
                throw new IllegalArgumentException("the store " + file + " has another name (a hard link), by which a second serve could"
                    + " take its calls: give serve a file of its own");
            }
        } catch (java.io.IOException | UnsupportedOperationException e) {
            real = file.toAbsolutePath();
        }
        java.nio.file.Path lockFile = real.resolveSibling(real.getFileName() + ".lock");
        try {
            owned = java.nio.channels.FileChannel.open(lockFile, java.nio.file.StandardOpenOption.CREATE, java.nio.file.StandardOpenOption.WRITE);
            if (owned.tryLock() != null) return;
        } catch (java.io.IOException | java.nio.channels.OverlappingFileLockException e) {
            disown();
            if (!(e instanceof java.nio.channels.OverlappingFileLockException)) {
                throw new IllegalArgumentException("cannot open the store's lock " + lockFile + " (" + e.getMessage() + ")");
            }
        }
        disown();
        throw new IllegalArgumentException("the store " + file + " is in use by another serve (" + lockFile + " is locked; a SQLite"
            + " file serves one endpoint; several endpoints share a PostgreSQL store)");
    }

    private void disown() {
        try {
            if (owned != null) owned.close();
        } catch (java.io.IOException e) {
            // its lock goes with the process
        }
        owned = null;
    }

    private Store(String jdbc, boolean postgres, Duration lease, Duration keep, int capacity, String agreed, Consumer<String> log) {
        this.agreed = agreed;
        this.jdbc = jdbc;
        this.postgres = postgres;
        this.file = postgres ? null : java.nio.file.Path.of(jdbc.substring("jdbc:sqlite:".length()).replaceFirst("^file:", "").replaceFirst("\\?.*", ""));
        this.lease = lease;
        this.keep = keep;
        this.capacity = capacity;
        this.log = log;
    }

    /**
     * A connection to the store: on SQLite every commit is on disk (FULL), and readers beside serve read
     * what was committed (WAL). autoCommit false: the store's thread commits.
     */
    private Connection connect() throws SQLException {
        java.util.Properties properties = new java.util.Properties();
        if (postgres) {
            // A database that stops answering is a failure (503 to new calls), not a hang; the URL may say otherwise.
            properties.setProperty("connectTimeout", "10");
            properties.setProperty("loginTimeout", "10");
            properties.setProperty("socketTimeout", "30");
        } else {
            // SQLite's driver would otherwise query last_insert_rowid() after every INSERT: nothing here reads it.
            properties.setProperty("jdbc.get_generated_keys", "false");
        }
        Connection c = DriverManager.getConnection(jdbc, properties);
        try {
            if (postgres) {
                // An endpoint paused in a transaction (SIGSTOP, a VM frozen) would hold its calls' row locks, and SKIP LOCKED
                // would keep the others from taking them over for good: PostgreSQL ends such a session well within the lease.
                try (Statement s = c.createStatement()) {
                    s.execute("SET idle_in_transaction_session_timeout = " + Math.max(100, lease.toMillis() / 2));
                }
            } else {
                try (Statement s = c.createStatement()) {
                    s.execute("PRAGMA busy_timeout=3000"); // an operator's write (sqlite3) is waited for, not a failure at once
                    s.execute("PRAGMA journal_mode=WAL");
                    s.execute("PRAGMA synchronous=FULL");
                }
            }
            c.setAutoCommit(false);
            return c;
        } catch (SQLException | RuntimeException e) {
            // A connection left open would keep its lock, and every later connection would find the file busy.
            close(c);
            throw e;
        }
    }

    /**
     * Connects again after a failure, so that the store goes on when the database is back: a connection
     * a failure left in a bad state (a restarted server, SQLite after SQLITE_FULL) is not used again.
     */
    private void reconnect() {
        close(writer);
        if (reader != writer) close(reader);
        statements.clear();
        writer = null;
        reader = null;
        try {
            writer = connect();
            reader = postgres ? connect() : writer;
            writerBackend = backend(writer);
            disconnected = null;
            log.accept("The store is connected again");
        } catch (SQLException e) {
            if (reader != writer) close(reader);
            close(writer);
            writer = null;
            reader = null;
            disconnected = e.getMessage();
            log.accept("The store could not connect again (tried again after the next failure): " + e.getMessage());
        }
    }

    private void prepare() throws SQLException {
        // SQLite writes a new file's first page at once: one there and empty was cut to nothing, or made by hand.
        if (!postgres && java.nio.file.Files.isRegularFile(file) && fileSize() == 0) {
            log.accept("Warning: the store's file " + file + " is empty (0 bytes): it starts as a new store;"
                + " if it held calls (cut to nothing), they are gone: restore it from a copy");
        }
        writer = connect();
        reader = postgres ? connect() : writer;
        writerBackend = backend(writer);
        if (!postgres) {
            checkIntegrity();
            fileKey = fileKey();
            fileSize = fileSize();
        }
        try (Statement s = writer.createStatement()) {
            if (postgres) {
                // The start's transaction may pause (a JVM starting on a busy machine): the short limit is for the turns after it.
                s.execute("SET LOCAL idle_in_transaction_session_timeout = " + Math.max(10_000, lease.toMillis() / 2));
                // Endpoints starting together on one PostgreSQL make the table one at a time.
                s.execute("SELECT pg_advisory_xact_lock(20261126)");
            }
            String blob = postgres ? "BYTEA" : "BLOB";
            s.execute("CREATE TABLE IF NOT EXISTS " + table + " ("
                + (postgres ? "seq BIGSERIAL PRIMARY KEY" : "seq INTEGER PRIMARY KEY")
                + ", id TEXT NOT NULL UNIQUE, idem_key TEXT UNIQUE, fingerprint " + blob
                + ", state TEXT NOT NULL, owner TEXT, lease_until BIGINT"
                + ", accepted_ms BIGINT NOT NULL, started_ms BIGINT, finished_ms BIGINT"
                + ", request " + blob + ", body " + blob
                + ", status INTEGER NOT NULL, work_status INTEGER, exit_code INTEGER, answer " + blob
                + ", answer_bytes BIGINT, note TEXT)");
            addColumns(s);
            nameStates(s);
            // Partial indexes: a finished call leaves the first, and only then enters the second.
            s.execute("CREATE INDEX IF NOT EXISTS " + table + "_unfinished ON " + table + " (state, seq) WHERE " + NOT_FINISHED);
            s.execute("CREATE INDEX IF NOT EXISTS " + table + "_finished ON " + table + " (finished_ms) WHERE " + FINISHED);
            // A group's unfinished calls in arrival order: the first of them is the only one that may be taken.
            s.execute("CREATE INDEX IF NOT EXISTS " + table + "_groups ON " + table + " (grp, seq) WHERE " + UNFINISHED + "grp IS NOT NULL");
            if (postgres) join(s);
            writer.commit();
            if (!postgres) {
                checkRoom();
                try {
                    requeueStale();
                } catch (SQLException e) {
                    if (full == null) throw e;
                    // A full disk: serve comes up all the same, reading and refusing new calls, and queues them once it
                    // can, on a connection of its own (SQLite's transaction state after a failed commit is not to be trusted).
                    close(writer);
                    writer = connect();
                    reader = writer;
                    staleWorking = true;
                }
            }
            backlog = count(NOT_FINISHED);
            queued = count(UNFINISHED + "state = " + QUEUED);
            writer.commit();
        }
        thread = Thread.ofPlatform().name("store").daemon(true).start(this::loop);
    }

    /** A table made by an earlier version gets the columns it lacks (their defaults: one attempt, now, no group). */
    private void addColumns(Statement s) throws SQLException {
        java.util.Set<String> have = new java.util.HashSet<>();
        try (ResultSet r = s.executeQuery("SELECT * FROM " + table + " WHERE 1 = 0")) {
            for (int i = 1; i <= r.getMetaData().getColumnCount(); i++) have.add(r.getMetaData().getColumnName(i).toLowerCase(java.util.Locale.ROOT));
        }
        for (String[] column : ADDED) {
            if (!have.contains(column[0])) s.execute("ALTER TABLE " + table + " ADD COLUMN " + column[0] + " " + column[1]);
        }
    }

    /**
     * A table made before states had names (state 0, 1, 2 and failed 0, 1, 2) gets them: its indexes of states are made
     * again. Every endpoint on a PostgreSQL store is to be this version once one is (stop them all, then start them).
     */
    private void nameStates(Statement s) throws SQLException {
        try (ResultSet r = s.executeQuery("SELECT state FROM " + table + " WHERE 1 = 0")) {
            if (r.getMetaData().getColumnType(1) != java.sql.Types.INTEGER) return;
        }
        for (String index : new String[] {"unfinished", "finished", "groups"}) s.execute("DROP INDEX IF EXISTS " + table + "_" + index);
        s.execute("ALTER TABLE " + table + " RENAME COLUMN state TO state_number");
        s.execute("ALTER TABLE " + table + " ADD COLUMN state TEXT NOT NULL DEFAULT " + QUEUED);
        int named = s.executeUpdate("UPDATE " + table + " SET state = CASE state_number WHEN 0 THEN " + QUEUED + " WHEN 1 THEN " + WORKING
            + " ELSE CASE failed WHEN 2 THEN " + CANCELLED + " WHEN 1 THEN " + FAILED + " ELSE " + DONE + " END END");
        s.execute("ALTER TABLE " + table + " DROP COLUMN state_number");
        s.execute("ALTER TABLE " + table + " DROP COLUMN failed");
        log.accept("The store's states are named now (queued, working, done, failed, cancelled): " + Shown.plural(named, "call") + " kept");
    }

    /** On SQLite: the calls the last serve was working on when it ended are queued again (a file is one serve's). */
    private void requeueStale() throws SQLException {
        try (Statement s = writer.createStatement()) {
            int again = s.executeUpdate("UPDATE " + table + " SET state = " + QUEUED + ", owner = NULL WHERE state = " + WORKING
                + " AND (owner IS NULL OR owner <> '" + owner + "')");
            writer.commit();
            staleWorking = false;
            if (again > 0) log.accept(Shown.plural(again, "call") + " worked on when the last serve ended: queued again (at-least-once)");
        }
    }

    /**
     * On SQLite, once a second: under RESERVE free on the store's disk, new calls are refused and the log says so
     * once; room again (twice the reserve, not to flap), they are taken again.
     */
    private void checkRoom() {
        if (postgres) return;
        long usable;
        try {
            usable = java.nio.file.Files.getFileStore(file.toAbsolutePath().getParent()).getUsableSpace();
        } catch (java.io.IOException | RuntimeException unknown) {
            return;
        }
        if (full == null && usable < RESERVE) {
            full = "the store's disk has " + Shown.mib(usable) + " free, under the " + Shown.mib(RESERVE)
                + " kept to finish the calls it holds: free some space";
            log.accept("New calls are refused (503) while " + full);
        } else if (full != null && usable >= 2 * RESERVE) {
            full = null;
            log.accept("The store's disk has room again (" + Shown.mib(usable) + " free): new calls are taken");
        }
    }

    private Object fileKey() {
        try {
            return java.nio.file.Files.readAttributes(file, java.nio.file.attribute.BasicFileAttributes.class).fileKey();
        } catch (java.io.IOException | RuntimeException gone) {
            return null;
        }
    }

    /**
     * Once a second: the SQLite file must still be the one opened, and no smaller than it has been; else new
     * calls are refused, and the log says so once.
     */
    private void checkFile() {
        if (postgres || lost != null || fileKey == null) return;
        long size = fileSize();
        if (!fileKey.equals(fileKey())) {
            refuseAll("the store's file " + file + " was deleted or replaced while serve ran: restart serve with the file in place");
        } else if (size < fileSize) {
            refuseAll("the store's file " + file + " shrank from " + fileSize + " to " + size + " bytes while serve ran (something else cut it):"
                + " it is damaged; restore it from a copy and restart serve");
        }
        fileSize = Math.max(fileSize, size);
    }

    private long fileSize() {
        try {
            return java.nio.file.Files.size(file);
        } catch (java.io.IOException gone) {
            return 0;
        }
    }

    /** The store cannot be trusted with new calls: they are refused from now on, and the log says why, once. */
    private void refuseAll(String why) {
        if (lost != null) return;
        lost = why;
        log.accept("New calls are refused (503) from now on: " + why);
    }

    /** New calls of a batch are refused at once (their callers are told 503); the rest of the batch goes on. */
    private void refuseInserts(List<Op> batch, String why) {
        for (java.util.Iterator<Op> each = batch.iterator(); each.hasNext(); ) {
            if (each.next() instanceof Insert i) {
                i.done.completeExceptionally(new SQLException(why));
                each.remove();
            }
        }
    }

    /** A damaged SQLite file is refused at start (PRAGMA quick_check), before it takes a call it could lose. */
    private void checkIntegrity() throws SQLException {
        List<String> problems = new ArrayList<>();
        try (Statement s = writer.createStatement(); ResultSet r = s.executeQuery("PRAGMA quick_check")) {
            while (r.next() && problems.size() < 3) problems.add(r.getString(1));
        } catch (SQLException e) {
            problems.add(e.getMessage());
        }
        if (!problems.equals(List.of("ok"))) {
            throw new SQLException("the file is damaged (" + String.join("; ", problems) + "): restore it from a copy, or move it"
                + " aside to start with an empty store");
        }
    }

    /** Why the store cannot take calls now (for GET /health), or null while it can. */
    public String unhealthy() {
        String why = lost != null ? lost : full != null ? full : null;
        return why != null ? why : disconnected != null ? "the store is unreachable (" + disconnected + ")" : null;
    }

    /** Calls accepted and not finished, as last counted (about once a second) plus those accepted since. */
    public long backlog() {
        return backlog;
    }

    /** Calls waiting in the store for an endpoint to work them (delayed and retrying ones too), as last counted (once a second). */
    public long queued() {
        return queued;
    }

    /**
     * Starts handing taken calls to worker, and telling takenOver the id of one another endpoint took over while
     * this one worked it (its lease ran out: this one was paused, or cut off), on the store's thread: both must
     * only hand on.
     */
    public void work(Consumer<Claimed> worker, Consumer<String> takenOver, Consumer<String> cancelled) {
        this.takenOver = takenOver;
        this.cancelled = cancelled;
        this.worker = worker;
        ops.add(new Wake());
    }

    /** Given, from now on, each call whose end is to be told to its callback, once that end is committed. */
    public void tellEnds(Consumer<String> callbacks) {
        this.callbacks = callbacks;
    }

    /** The calls whose callbacks were being sent when the last serve on this store stopped: sent again. */
    public List<String> callbacksSending() throws SQLException {
        synchronized (lock) {
            if (reader == null) throw new SQLException("the store is not connected");
            try (PreparedStatement q = reader.prepareStatement("SELECT id FROM " + table + " WHERE " + FINISHED + " AND callback_state = '"
                    + Callback.SENDING + "' ORDER BY finished_ms")) {
                List<String> ids = new ArrayList<>();
                try (ResultSet r = q.executeQuery()) {
                    while (r.next()) ids.add(r.getString(1));
                }
                reader.commit();
                return ids;
            }
        }
    }

    /** How a call's callback went (an attempt, or its end): written in the next turn; completes once committed. */
    public CompletableFuture<Void> told(String id, java.time.Instant ended, Callback c) {
        Told told = new Told(id, ended.toEpochMilli(), c, new CompletableFuture<>());
        ops.add(told);
        return told.done();
    }

    /** Tells each commit's time from now on. */
    public void timeCommits(Consumer<Duration> commits) {
        this.commits = commits;
    }

    /** No more calls are taken (a stop). */
    public void stopTaking() {
        claiming = false;
    }

    /** PostgreSQL's process serving a connection, "PID START" (null on SQLite). */
    private String backend(Connection c) throws SQLException {
        if (!postgres) return null;
        try (Statement s = c.createStatement();
             ResultSet r = s.executeQuery("SELECT pid || ' ' || backend_start FROM pg_stat_activity WHERE pid = pg_backend_pid()")) {
            String backend = r.next() ? r.getString(1) : null;
            c.commit();
            return backend;
        }
    }

    /** A call being stored: its outcome, unless its caller gives up on it before the store takes it up. */
    public interface Storing {
        /** Completes, once committed, with null (a new call) or, when its Idempotency-Key was used before, that first call. */
        CompletableFuture<Idempotency.Seen> done();

        /** True when the call will never be stored (the store had not taken it up); false when its transaction is under way. */
        boolean abandon();
    }

    /**
     * Stores a call. The future completes, once committed, with null (a new call, queued or, when
     * working, held by this endpoint) or, when its Idempotency-Key was used before, that first call.
     */
    public Storing accept(Call call, Received received, byte[] fingerprint, boolean working, Plan plan) {
        Insert insert = new Insert(call, received, fingerprint, working, plan);
        ops.add(insert);
        return insert;
    }

    /**
     * Records a call's end and its last attempt (null: none was made), and drops its request unless it failed or was
     * cancelled (kept to run again); a key whose call was not worked on is let go, so that a retry may do it.
     */
    public CompletableFuture<Void> finish(Done done, Try attempt, boolean letKeyGo) {
        Finish finish = new Finish(done, attempt == null ? null : attempt.json(), letKeyGo);
        ops.add(finish);
        return finish.done;
    }

    /**
     * A failed attempt whose call is tried again at next: queued for then, its attempt recorded. Completes with true when
     * a cancel came meanwhile: the call then ended cancelled instead.
     */
    public CompletableFuture<Boolean> again(Done done, Try attempt, java.time.Instant next) {
        Again again = new Again(done, attempt, next.toEpochMilli());
        ops.add(again);
        return again.done;
    }

    /**
     * What a cancel found: was "cancelled" (now, when call is not null, or before), "working" (marked), "waited" (a call whose
     * caller waits for it: not cancelled), "done", "failed", or null (no such call).
     */
    public record Cancelled(String was, Call call) {}

    /**
     * Cancels a call: one waiting (queued, delayed, retrying) at once; one working is marked, and the endpoint working it
     * ends its work.
     */
    public CompletableFuture<Cancelled> cancel(String id) {
        Cancel cancel = new Cancel(id);
        ops.add(cancel);
        return cancel.done;
    }

    /**
     * Queues again, as new arrivals with new attempts, failed (or cancelled) calls answered 202: the one named (id), or at
     * most limit of those in state that ended at since or later (sinceMs; 0: all). Completes with the calls queued again.
     */
    public CompletableFuture<List<Call>> rerun(String id, String state, long sinceMs, int limit) {
        Rerun rerun = new Rerun(id, state, sinceMs, limit);
        ops.add(rerun);
        return rerun.done;
    }

    /** A call this endpoint took and could not finish (a stop): queued again for the next start or another endpoint. */
    public void requeue(String id) {
        ops.add(new Requeue(id));
    }

    /** A taken call (whose body had this length) is no longer held in memory: finished or queued again. */
    public void unhold(String id, long bytes) {
        held.remove(id);
        holding.decrementAndGet();
        holdingBytes.addAndGet(-bytes);
        ops.add(new Wake());
    }

    /** The columns a monitor shows, in the order report(ResultSet) reads them. */
    private static final String REPORTED = "id, state, accepted_ms, started_ms, finished_ms, work_status, exit_code, answer, answer_bytes,"
        + " note, attempts, run_at_ms, grp, tries, callback, callback_state, callback_attempts, callback_status, method, uri, idem_key";

    /** The call as its monitor shows it, or null when the store has no such call. */
    public Report report(String id) throws SQLException {
        List<Report> one = read("SELECT " + REPORTED + " FROM " + table + " WHERE id = ?", id);
        return one.isEmpty() ? null : one.get(0);
    }

    /**
     * Calls in a state (null: any), of a group, with a key, accepted from since and before until (each null: any),
     * newest first, at most limit, accepted before the call before (null: from the newest).
     */
    public List<Report> list(String state, String group, String key, java.time.Instant since, java.time.Instant until, int limit, String before)
            throws SQLException {
        String where = state == null ? "1 = 1" : switch (state) {
            case "queued" -> UNFINISHED + "state = " + QUEUED + " AND attempts = 0";
            case "retrying" -> UNFINISHED + "state = " + QUEUED + " AND attempts > 0";
            case "working" -> UNFINISHED + "state = " + WORKING;
            case "done", "failed", "cancelled" -> FINISHED + " AND state = '" + state + "'";
            default -> throw new IllegalArgumentException("no such state: " + state);
        };
        List<String> params = new ArrayList<>();
        if (group != null) {
            where += " AND grp = ?";
            params.add(group);
        }
        if (key != null) {
            where += " AND idem_key = ?";
            params.add(key);
        }
        if (since != null) {
            where += " AND accepted_ms >= CAST(? AS BIGINT)";
            params.add(String.valueOf(since.toEpochMilli()));
        }
        if (until != null) {
            where += " AND accepted_ms < CAST(? AS BIGINT)";
            params.add(String.valueOf(until.toEpochMilli()));
        }
        if (before != null) {
            where += " AND seq < (SELECT seq FROM " + table + " WHERE id = ?)";
            params.add(before);
        }
        return read("SELECT " + REPORTED + " FROM " + table + " WHERE " + where + " ORDER BY seq DESC LIMIT " + limit, params.toArray(String[]::new));
    }

    /** How many calls are in each state (retrying apart from queued), every endpoint's. */
    public Map<String, Long> counts() throws SQLException {
        Map<String, Long> counts = new java.util.LinkedHashMap<>();
        for (String state : Report.STATES) counts.put(state, 0L);
        synchronized (lock) {
            if (reader == null) throw new SQLException("the store is not connected");
            try (PreparedStatement q = reader.prepareStatement("SELECT state, CASE WHEN attempts > 0 THEN 1 ELSE 0 END, count(*) FROM " + table
                    + " GROUP BY state, CASE WHEN attempts > 0 THEN 1 ELSE 0 END"); ResultSet r = q.executeQuery()) {
                while (r.next()) {
                    String state = r.getString(1).equals("queued") && r.getInt(2) == 1 ? "retrying" : r.getString(1);
                    counts.merge(state, r.getLong(3), Long::sum);
                }
            } finally {
                reader.commit();
            }
        }
        return counts;
    }

    private List<Report> read(String sql, String... params) throws SQLException {
        synchronized (lock) {
            if (reader == null) throw new SQLException("the store is not connected");
            try (PreparedStatement q = reader.prepareStatement(sql)) {
                for (int i = 0; i < params.length; i++) q.setString(i + 1, params[i]);
                List<Report> reports = new ArrayList<>();
                try (ResultSet r = q.executeQuery()) {
                    while (r.next()) reports.add(report(r));
                }
                reader.commit();
                return reports;
            }
        }
    }

    /** A row as its monitor shows it (the columns of REPORTED). */
    private static Report report(ResultSet r) throws SQLException {
        String row = r.getString(2);
        int attempts = r.getInt(11);
        boolean queued = QUEUED.equals("'" + row + "'"), finished = !queued && !WORKING.equals("'" + row + "'");
        byte[] answer = r.getBytes(8);
        return new Report(r.getString(1), queued && attempts > 0 ? "retrying" : row, instant(r, 3), queued && attempts == 0 ? null : instant(r, 4),
            finished ? instant(r, 5) : null, status(r, 6), exit(r, 7),
            answer == null ? null : new String(answer, StandardCharsets.ISO_8859_1), r.getLong(9), r.getString(10),
            attempts, queued ? instant(r, 12) : null, r.getString(13), r.getString(14) == null ? "" : r.getString(14),
            r.getString(15) == null ? null : new Callback(java.net.URI.create(r.getString(15)), r.getString(16) == null ? Callback.WAITING
                : r.getString(16), r.getInt(17), r.getInt(18)),
            r.getString(19) == null ? null : new Report.Asked(r.getString(19), r.getString(20), r.getString(21)));
    }

    /** A status: 0 (what a call not worked on, or still working, is written with) or NULL is none. */
    private static java.util.OptionalInt status(ResultSet r, int column) throws SQLException {
        int v = r.getInt(column);
        return v == 0 ? java.util.OptionalInt.empty() : java.util.OptionalInt.of(v);
    }

    /** An exit code: NULL is none. */
    private static java.util.OptionalInt exit(ResultSet r, int column) throws SQLException {
        int v = r.getInt(column);
        return r.wasNull() ? java.util.OptionalInt.empty() : java.util.OptionalInt.of(v);
    }

    private static java.time.Instant instant(ResultSet r, int column) throws SQLException {
        long ms = r.getLong(column);
        return r.wasNull() ? null : java.time.Instant.ofEpochMilli(ms);
    }

    /** Stops the store's thread once what was given to it is written, lets go the calls this endpoint holds; returns the calls left waiting. */
    public long close(Duration wait) {
        claiming = false;
        Close close = new Close();
        ops.add(close);
        try {
            close.done.get(wait.toMillis(), TimeUnit.MILLISECONDS);
        } catch (Exception e) {
            // A database that does not answer holds the store's thread: its connections are cut from here.
            log.accept(e instanceof java.util.concurrent.TimeoutException ? "The store did not close in " + wait.toSeconds() + " s: its connections are cut"
                : "The store could not write its last turn (" + (e.getCause() == null ? e : e.getCause()) + "): its connections are cut");
            abort(writer);
            abort(reader);
            disown();
            return -1;
        }
        synchronized (lock) {
            close(writer);
            if (reader != writer) close(reader);
        }
        disown();
        return close.left;
    }

    @Override
    public void close() {
        close(Duration.ofSeconds(5));
    }

    private static void abort(Connection c) {
        try {
            if (c != null) c.abort(Runnable::run);
        } catch (SQLException | RuntimeException | AbstractMethodError e) {
            close(c);
        }
    }

    private static void close(Connection c) {
        try {
            if (c != null) c.close();
        } catch (SQLException e) {
            // nothing more to do with it
        }
    }

    // The store's thread: everything given to it since its last commit, written in one transaction.

    private sealed interface Op permits Insert, Finish, Again, Cancel, Rerun, Requeue, Told, Wake, Close {}

    private final class Insert implements Op, Storing {
        final Call call;
        final Received received;
        final byte[] fingerprint;
        final boolean working;
        final Plan plan;
        /** The row's request and URI, made on the caller's thread: the store's one thread only writes them. */
        final byte[] request;
        final String uri;
        final CompletableFuture<Idempotency.Seen> done = new CompletableFuture<>();
        /** 0 waiting for the store, 1 in its transaction, 2 abandoned by its caller (never stored). */
        final AtomicInteger stage = new AtomicInteger();
        Idempotency.Seen seen;
        /** Taken by this endpoint as it is stored (a worker is free and no older call waits): no second query, no copy read back. */
        boolean taken;

        Insert(Call call, Received received, byte[] fingerprint, boolean working, Plan plan) {
            this.plan = plan;
            this.call = call;
            this.received = received;
            this.fingerprint = fingerprint;
            this.working = working;
            this.request = Rows.encode(call, received);
            this.uri = call.uri().toString().replace('\0', '\uFFFD'); // PostgreSQL's text has no NUL
        }

        @Override
        public CompletableFuture<Idempotency.Seen> done() {
            return done;
        }

        @Override
        public boolean abandon() {
            return stage.compareAndSet(0, 2);
        }
    }

    /** tried: the attempt's JSON (null: none was made), made on the caller's thread. */
    private record Finish(Done end, String tried, boolean letKeyGo, CompletableFuture<Void> done) implements Op {
        Finish(Done end, String tried, boolean letKeyGo) {
            this(end, tried, letKeyGo, new CompletableFuture<>());
        }
    }

    private static final class Again implements Op {
        final Done end;
        final Try attempt;
        final long nextMs;
        final CompletableFuture<Boolean> done = new CompletableFuture<>();
        boolean cancelled;

        Again(Done end, Try attempt, long nextMs) {
            this.end = end;
            this.attempt = attempt;
            this.nextMs = nextMs;
        }
    }

    private static final class Cancel implements Op {
        final String id;
        final CompletableFuture<Cancelled> done = new CompletableFuture<>();
        String was;
        Call call;
        /** A call of this endpoint's that is working: its worker is told once the mark is committed. */
        boolean ours;

        Cancel(String id) {
            this.id = id;
        }
    }

    /** id: that call; null: those in state that ended at sinceMs or later. */
    private static final class Rerun implements Op {
        final String id;
        final String state;
        final int limit;
        final long sinceMs;
        final CompletableFuture<List<Call>> done = new CompletableFuture<>();
        final List<Call> calls = new ArrayList<>();

        Rerun(String id, String state, long sinceMs, int limit) {
            this.id = id;
            this.state = state;
            this.sinceMs = sinceMs;
            this.limit = limit;
        }
    }

    private record Requeue(String id) implements Op {}

    private record Told(String id, long endedMs, Callback callback, CompletableFuture<Void> done) implements Op {}

    private record Wake() implements Op {}

    private static final class Close implements Op {
        final CompletableFuture<Void> done = new CompletableFuture<>();
        long left;
    }

    /** When the store's thread next polls for calls, renews its leases, and counts its backlog (System.currentTimeMillis). */
    private static final class Clock {
        long poll, renew, count;
    }

    /** One turn of the store's thread: when, whether it polls, renews and counts now, how many calls it may take and whether it tries. */
    private record Turn(long now, boolean poll, boolean renew, boolean count, int free, boolean take) {}

    /** What a turn's transaction took for this endpoint's workers, and whether calls may still wait in the store. */
    private record Written(List<Claimed> taken, boolean waiting, List<String> callbacks) {}

    private void loop() {
        Clock clock = new Clock();
        long start = System.currentTimeMillis();
        clock.poll = start;
        clock.renew = start + lease.toMillis() / 3;
        clock.count = start + 1000;
        List<Op> batch = new ArrayList<>();
        Close closing = null;
        int failures = 0;
        boolean mayWait = true; // whether calls may be queued in the store: after a start, a queued insert, a release, a poll
        while (closing == null) {
            if (!gather(batch, Math.min(clock.poll, Math.min(clock.renew, clock.count)))) break;
            closing = closing(batch);
            mayWait |= batch.stream().anyMatch(op -> op instanceof Requeue);
            Turn turn = turn(clock, batch, closing, mayWait);
            if (!retry.isEmpty() && turn.count()) retry(); // once a second
            if (batch.isEmpty() && !turn.take() && !turn.renew() && !turn.count()) {
                if (turn.poll()) clock.poll = turn.now() + POLL.toMillis(); // nothing to take it for: no free worker
                continue;
            }
            Written written;
            try {
                written = write(batch, turn, closing, mayWait);
                failures = 0;
            } catch (Exception | Error e) { // an Error too (OutOfMemoryError): the store's thread must go on
                recover(batch, e, ++failures);
                continue;
            }
            mayWait = written.waiting();
            advance(clock, turn);
            complete(batch, written.taken(), turn.count());
            hand(written.taken());
            written.callbacks().forEach(callbacks);
        }
        if (closing != null) closing.done.complete(null);
    }

    /** Waits for work until the next timer (until, System.currentTimeMillis), then takes all that came; false when interrupted. */
    private boolean gather(List<Op> batch, long until) {
        try {
            Op first = ops.poll(Math.max(1, until - System.currentTimeMillis()), TimeUnit.MILLISECONDS);
            if (first != null) batch.add(first);
            ops.drainTo(batch);
            return true;
        } catch (InterruptedException e) {
            return false;
        }
    }

    private static Close closing(List<Op> batch) {
        for (Op op : batch) if (op instanceof Close c) return c;
        return null;
    }

    /** What this turn does: the oldest waiting calls are taken first (those of other endpoints too, on a poll), then the new ones as they are stored. */
    private Turn turn(Clock clock, List<Op> batch, Close closing, boolean mayWait) {
        long now = System.currentTimeMillis();
        boolean wake = batch.stream().anyMatch(op -> op instanceof Wake || op instanceof Requeue);
        int free = claiming && worker != null && closing == null ? capacity - holding.get() : 0;
        boolean poll = now >= clock.poll;
        return new Turn(now, poll, now >= clock.renew, now >= clock.count, free, free > 0 && (poll || (mayWait && (wake || !batch.isEmpty()))));
    }

    /** The turn's one transaction: renew, take, store and finish what came, count and sweep, let go on a close. */
    private Written write(List<Op> batch, Turn turn, Close closing, boolean mayWait) throws SQLException {
        if (turn.count()) {
            checkFile();
            checkRoom();
        }
        if (lost != null) refuseInserts(batch, lost);
        else if (full != null) refuseInserts(batch, full);
        // A call its caller gave up on (told 503) is never stored; one taken up here is waited for by its caller.
        batch.removeIf(op -> op instanceof Insert i && !i.stage.compareAndSet(0, 1));
        synchronized (lock) {
            if (writer == null) throw new SQLException("the store is not connected (" + disconnected + ")");
            long began = System.nanoTime();
            callbacksDue.clear(); // a turn rolled back told none
            if (!doubtful.isEmpty()) settleDoubtful();
            if (staleWorking && full == null) requeueStale();
            if (turn.renew()) renew(turn.now()); // before taking: an endpoint's own calls are never taken over from it
            List<Claimed> taken = turn.take() ? take(turn.free(), turn.now(), turn.poll()) : new ArrayList<>();
            // Fewer than asked for: none left waiting.
            boolean waiting = turn.take() ? taken.size() == turn.free() : mayWait;
            waiting |= place(batch, turn.free() - taken.size(), holdingBytes.get() + bytes(taken));
            for (Op op : batch) apply(op, turn.now());
            if (turn.poll() && postgres && !held.isEmpty()) endCancelled();
            if (turn.count()) {
                sweepCancelled(turn.now());
                backlog = count(NOT_FINISHED);
                queued = count(UNFINISHED + "state = " + QUEUED);
                delete(turn.now());
            }
            if (closing != null) closing.left = requeueOwn();
            try {
                writer.commit();
            } catch (SQLException | RuntimeException unanswered) {
                // Committed or not, nobody can tell: its new calls' callers are told 503, so they must not stay.
                for (Op op : batch) if (op instanceof Insert i) doubtful.add(i.call.id());
                doubtfulBackend = writerBackend;
                throw unanswered;
            }
            doubtful.clear();
            commits.accept(Duration.ofNanos(System.nanoTime() - began));
            List<String> callbacks = List.copyOf(callbacksDue);
            callbacksDue.clear();
            return new Written(taken, waiting, callbacks);
        }
    }

    /**
     * The calls of a commit that went unanswered, in this turn's transaction: the connection that sent it is ended
     * first (PostgreSQL may still hold it, hung), then those committed after all are deleted, and those another
     * endpoint took meanwhile said.
     */
    private void settleDoubtful() throws SQLException {
        if (postgres && doubtfulBackend != null) endDoubtfulBackend();
        int deleted = 0;
        List<String> kept = new ArrayList<>();
        // A call with an Idempotency-Key stays: its caller's retry finds it (maybe at another endpoint, which said 202).
        PreparedStatement delete = sql("DELETE FROM " + table + " WHERE id = ? AND idem_key IS NULL AND (state = " + QUEUED + " OR owner = ?)");
        PreparedStatement find = sql("SELECT 1 FROM " + table + " WHERE id = ?");
        for (String id : doubtful) {
            delete.setString(1, id);
            delete.setString(2, owner);
            if (delete.executeUpdate() > 0) {
                deleted++;
                continue;
            }
            find.setString(1, id);
            try (ResultSet r = find.executeQuery()) {
                if (r.next()) kept.add(id);
            }
        }
        if (deleted > 0) log.accept(Shown.plural(deleted, "call") + " told 503 when the store's commit went unanswered had been stored after all: deleted");
        if (!kept.isEmpty()) log.accept("Calls told 503 when the store's commit went unanswered had been stored after all, and are worked (their"
            + " Idempotency-Key finds them for a retry, or another endpoint had taken them): " + String.join(", ", kept));
    }

    /**
     * Ends PostgreSQL's process that held the unanswered commit, if it is still that one (its pid and start), on the
     * reader's connection: a failure here (another role's, a pooler's) is said and passed over, never holding the store.
     */
    private void endDoubtfulBackend() {
        String[] backend = doubtfulBackend.split(" ", 2);
        doubtfulBackend = null;
        try (PreparedStatement end = reader.prepareStatement("SELECT pg_terminate_backend(pid"
                + (reader.getMetaData().getDatabaseMajorVersion() >= 14 ? ", 5000" : "") // waits for it to end (PostgreSQL 14)
                + ") FROM pg_stat_activity WHERE pid = ? AND backend_start::text = ?")) {
            end.setInt(1, Integer.parseInt(backend[0]));
            end.setString(2, backend[1]);
            try (ResultSet r = end.executeQuery()) {
                while (r.next()) { } // none: it had gone
            }
            reader.commit();
        } catch (SQLException | RuntimeException e) {
            try {
                reader.rollback();
            } catch (SQLException alsoGone) {
                // the next turn finds the connection as it is
            }
            log.accept("The store could not end PostgreSQL's process of an unanswered commit (" + e.getMessage() + "): its calls are looked for all the same");
        }
    }

    /**
     * Which new calls this endpoint takes as they are stored (room: workers free; bytes: bodies held):
     * the others are queued. Returns whether any was queued.
     */
    private boolean place(List<Op> batch, int room, long bytes) {
        boolean queued = false;
        for (Op op : batch) {
            if (!(op instanceof Insert i) || i.working) continue;
            long body = i.received.body().length;
            // A call for later, or of a group, waits for its time or its turn in the store's queue.
            i.taken = room > 0 && (bytes == 0 || bytes + body <= budget) && i.plan.notBefore() == null && i.plan.group() == null;
            if (i.taken) {
                room--;
                bytes += body;
            } else {
                queued = true;
            }
        }
        return queued;
    }

    private void advance(Clock clock, Turn turn) {
        if (turn.poll()) clock.poll = turn.now() + POLL.toMillis();
        if (turn.renew()) clock.renew = turn.now() + lease.toMillis() / 3;
        if (turn.count()) clock.count = turn.now() + 1000;
    }

    /**
     * The callers of a committed turn are told: a new call's 202 (or its key's first call), a finished call's end.
     * counted: the turn counted the backlog after its inserts, which are in that count already.
     */
    private void complete(List<Op> batch, List<Claimed> taken, boolean counted) {
        for (Op op : batch) {
            if (op instanceof Insert i) {
                if (i.seen == null && !counted) backlog++;
                if (i.seen == null && i.taken) taken.add(new Claimed(i.call, i.received, i.plan, java.time.Instant.now()));
                i.done.complete(i.seen);
            } else if (op instanceof Finish f) {
                f.done.complete(null);
            } else if (op instanceof Again a) {
                a.done.complete(a.cancelled);
            } else if (op instanceof Cancel c) {
                if (c.ours) cancelled.accept(c.id);
                c.done.complete(new Cancelled(c.was, c.call));
            } else if (op instanceof Rerun r) {
                r.done.complete(r.calls);
            } else if (op instanceof Told t) {
                t.done().complete(null);
            }
        }
        batch.clear();
    }

    /** The calls taken go to this endpoint's workers, counted as held. */
    private void hand(List<Claimed> taken) {
        holding.addAndGet(taken.size());
        holdingBytes.addAndGet(bytes(taken));
        for (Claimed c : taken) held.add(c.call().id());
        for (Claimed c : taken) worker.accept(c);
    }

    /** A turn whose transaction failed: rolled back, connected again, its ops refused or kept to be written again. */
    private void recover(List<Op> batch, Throwable e, int failures) {
        String m = String.valueOf(e.getMessage());
        if (!postgres && (m.contains("SQLITE_CORRUPT") || m.contains("SQLITE_NOTADB"))) {
            refuseAll("the store's file " + file + " is damaged (" + m + "): restore it from a copy and restart serve");
        }
        synchronized (lock) {
            rollback();
            reconnect();
        }
        failed(batch, e, failures);
        batch.clear();
    }

    private void apply(Op op, long now) throws SQLException {
        if (op instanceof Insert i) {
            insert(i, now);
        } else if (op instanceof Finish f) {
            Done d = f.end();
            String end = d.cancelled() ? CANCELLED : d.failed() ? FAILED : DONE;
            // A failed or cancelled call keeps its request, to run again (POST /calls/ID/retry).
            PreparedStatement u = sql(finishTexts.computeIfAbsent(end + f.letKeyGo(), k -> "UPDATE " + table + " SET state = " + end
                + ", finished_ms = ?, status = CASE WHEN status = 0 THEN ? ELSE status END, work_status = ?, exit_code = ?, answer = ?,"
                + " answer_bytes = ?, note = ?, request = CASE WHEN ? = 1 THEN request END, body = CASE WHEN ? = 1 THEN body END,"
                + " owner = NULL, run_at_ms = NULL, cancel = 0, attempts = attempts + ?, " + TRIED + ", " + CALLBACK_DUE
                + (f.letKeyGo() ? ", idem_key = NULL" : "") + " WHERE id = ? AND owner = ? RETURNING callback"));
            u.setLong(1, now);
            u.setInt(2, d.status());
            u.setInt(3, d.workStatus().orElse(0));
            if (d.exit().isEmpty()) u.setNull(4, java.sql.Types.INTEGER); else u.setInt(4, d.exit().getAsInt());
            String answer = d.answer() == null ? null : d.answer().substring(0, Math.min(d.answer().length(), Report.ANSWER_SHOWN));
            u.setBytes(5, answer == null ? null : answer.getBytes(StandardCharsets.ISO_8859_1));
            u.setLong(6, d.answerBytes());
            u.setString(7, d.note() == null ? null : d.note().replace('\0', '\uFFFD')); // PostgreSQL's text has no NUL
            int keep = end != DONE && d.status() == 202 ? 1 : 0; // a call whose caller waited got its answer: it does not run again
            u.setInt(8, keep);
            u.setInt(9, keep);
            u.setInt(10, f.tried() == null ? 0 : 1);
            tried(u, 11, f.tried());
            u.setString(13, d.call().id());
            u.setString(14, owner);
            boolean ended;
            try (ResultSet r = u.executeQuery()) {
                ended = r.next();
                if (ended && r.getString(1) != null) callbacksDue.add(d.call().id());
            }
            if (ended) {
                backlog--;
            } else {
                // Not ours any more: its lease ran out while this endpoint worked it, and another took it over.
                log.accept("The call " + d.call().id() + " was taken over by another endpoint while this one worked it (its lease of "
                    + lease.toMillis() / 1000.0 + " s ran out: this endpoint was paused, or cut off from the store): its work may be"
                    + " done twice; the other endpoint's end stands");
            }
        } else if (op instanceof Again a) {
            Done d = a.end;
            // Queued for its next attempt; cancelled meanwhile (DELETE while this attempt ended), it ends cancelled instead.
            PreparedStatement u = sql("UPDATE " + table + " SET state = CASE WHEN cancel = 1 THEN " + CANCELLED + " ELSE " + QUEUED + " END,"
                + " finished_ms = CASE WHEN cancel = 1 THEN ? END,"
                + " run_at_ms = CASE WHEN cancel = 1 THEN NULL ELSE ? END, note = CASE WHEN cancel = 1 THEN '" + Done.CANCELLED + "' ELSE ? END,"
                + " owner = NULL, lease_until = NULL, work_status = ?, exit_code = ?, attempts = attempts + 1, cancel = 0, " + TRIED
                + ", callback_state = CASE WHEN cancel = 1 AND callback IS NOT NULL THEN '" + Callback.SENDING + "' END"
                + " WHERE id = ? AND owner = ? AND state = " + WORKING + " RETURNING state, callback");
            u.setLong(1, now);
            u.setLong(2, a.nextMs);
            u.setString(3, d.note() == null ? null : d.note().replace('\0', '\uFFFD'));
            u.setInt(4, d.workStatus().orElse(0));
            if (d.exit().isEmpty()) u.setNull(5, java.sql.Types.INTEGER); else u.setInt(5, d.exit().getAsInt());
            tried(u, 6, a.attempt == null ? null : a.attempt.json());
            u.setString(8, d.call().id());
            u.setString(9, owner);
            try (ResultSet r = u.executeQuery()) {
                if (!r.next()) {
                    log.accept("The call " + d.call().id() + " was taken over by another endpoint while this one worked it (its lease of "
                        + lease.toMillis() / 1000.0 + " s ran out): its attempt here is not counted; the other endpoint's stands");
                } else if (CANCELLED.equals("'" + r.getString(1) + "'")) {
                    a.cancelled = true;
                    if (r.getString(2) != null) callbacksDue.add(d.call().id());
                    backlog--;
                }
            }
        } else if (op instanceof Cancel c) {
            cancel(c, now);
        } else if (op instanceof Told t) {
            // Only the end it was told of: a call run again since has its own.
            PreparedStatement u = sql("UPDATE " + table + " SET callback_state = ?, callback_attempts = ?, callback_status = ?"
                + " WHERE id = ? AND finished_ms = ?");
            u.setString(1, t.callback().state());
            u.setInt(2, t.callback().attempts());
            if (t.callback().status() == 0) u.setNull(3, java.sql.Types.INTEGER); else u.setInt(3, t.callback().status());
            u.setString(4, t.id());
            u.setLong(5, t.endedMs());
            u.executeUpdate();
        } else if (op instanceof Rerun r) {
            rerun(r);
        } else if (op instanceof Requeue r) {
            PreparedStatement u = sql("UPDATE " + table + " SET state = " + QUEUED + ", owner = NULL"
                + " WHERE id = ? AND owner = ? AND state = " + WORKING);
            u.setString(1, r.id());
            u.setString(2, owner);
            u.executeUpdate();
        }
    }

    /** Appends an attempt (JSON) to a call's tries: two parameters from at. */
    private static final String TRIED = "tries = COALESCE(tries || ',' || CAST(? AS TEXT), tries, CAST(? AS TEXT))";

    private static void tried(PreparedStatement u, int at, String json) throws SQLException {
        u.setString(at, json);
        u.setString(at + 1, json);
    }

    /** A waiting call cancelled at once; a working one marked, for the endpoint working it to end (this one: told after the commit). */
    private void cancel(Cancel c, long now) throws SQLException {
        PreparedStatement q = sql("SELECT state, owner, request, status, callback FROM " + table + " WHERE id = ?" + (postgres ? " FOR UPDATE" : ""));
        q.setString(1, c.id);
        int status;
        String state, by, callback;
        byte[] request;
        try (ResultSet r = q.executeQuery()) {
            if (!r.next()) return; // was: null, no such call
            state = "'" + r.getString(1) + "'";
            by = r.getString(2);
            request = r.getBytes(3);
            status = r.getInt(4);
            callback = r.getString(5);
        }
        if (state.equals(WORKING) && status == 0) {
            c.was = "waited"; // its caller waits for its answer (stored working, its status not yet written): not cancelled
        } else if (state.equals(QUEUED)) {
            PreparedStatement u = sql("UPDATE " + table + " SET state = " + CANCELLED + ", note = '" + Done.CANCELLED
                + "', finished_ms = ?, run_at_ms = NULL, owner = NULL, status = CASE WHEN status = 0 THEN 202 ELSE status END, " + CALLBACK_DUE
                + " WHERE id = ?");
            u.setLong(1, now);
            u.setString(2, c.id);
            u.executeUpdate();
            backlog--;
            if (callback != null) callbacksDue.add(c.id);
            c.was = "cancelled";
            c.call = Rows.decode(c.id, request, null, 1, Plan.ONCE, null).call(); // for the log and the events: its end
        } else if (!state.equals(WORKING)) {
            c.was = state.replace("'", ""); // done, failed or cancelled
        } else {
            PreparedStatement u = sql("UPDATE " + table + " SET cancel = 1 WHERE id = ?");
            u.setString(1, c.id);
            u.executeUpdate();
            c.was = "working";
            c.ours = owner.equals(by);
        }
    }

    /**
     * Failed (or cancelled) calls answered 202 whose request is kept (one whose caller waited got its answer), queued
     * again with new attempts, their old id, and a new place at the end of the queue (and of their group's), as new arrivals.
     */
    private void rerun(Rerun r) throws SQLException {
        String kept = FINISHED + " AND status = 202 AND body IS NOT NULL AND request IS NOT NULL AND ";
        PreparedStatement q;
        if (r.id != null) {
            q = sql("SELECT id FROM " + table + " WHERE " + kept + "id = ? AND state IN (" + FAILED + ", " + CANCELLED + ")");
            q.setString(1, r.id);
        } else {
            q = sql("SELECT id FROM " + table + " WHERE " + kept + "state = ? AND finished_ms >= ? ORDER BY seq LIMIT ?");
            q.setString(1, r.state);
            q.setLong(2, r.sinceMs);
            q.setInt(3, r.limit);
        }
        List<String> ids = new ArrayList<>();
        try (ResultSet rows = q.executeQuery()) {
            while (rows.next()) ids.add(rows.getString(1));
        }
        PreparedStatement u = sql("UPDATE " + table + " SET seq = " + (postgres ? "nextval(pg_get_serial_sequence('" + table + "', 'seq'))"
            : "(SELECT max(seq) + 1 FROM " + table + ")") + ", state = " + QUEUED + ", attempts = 0, run_at_ms = NULL, finished_ms = NULL,"
            + " started_ms = NULL, cancel = 0, callback_state = NULL, callback_attempts = 0, callback_status = NULL, work_status = NULL, exit_code = NULL, answer = NULL, answer_bytes = NULL, note = NULL,"
            + " owner = NULL WHERE id = ? RETURNING request");
        for (String id : ids) {
            u.setString(1, id);
            try (ResultSet rows = u.executeQuery()) {
                if (rows.next()) r.calls.add(Rows.decode(id, rows.getBytes(1), null, 1, Plan.ONCE, null).call());
            }
        }
        backlog += r.calls.size();
    }

    private void insert(Insert i, long now) throws SQLException {
        PreparedStatement u = sql(i.call.key() == null ? insert : insertKeyed);
        u.setString(1, i.call.id());
        u.setString(2, i.call.key());
        u.setBytes(3, i.fingerprint);
        boolean held = i.working || i.taken;
        u.setString(4, (held ? WORKING : QUEUED).replace("'", ""));
        u.setString(5, held ? owner : null);
        if (held) u.setLong(6, now + lease.toMillis()); else u.setNull(6, java.sql.Types.BIGINT);
        u.setLong(7, now);
        if (held) u.setLong(8, now); else u.setNull(8, java.sql.Types.BIGINT);
        u.setBytes(9, i.request);
        u.setBytes(10, i.received.body());
        u.setInt(11, i.working ? 0 : 202);
        u.setInt(12, i.plan.attempts());
        if (i.plan.notBefore() == null) u.setNull(13, java.sql.Types.BIGINT); else u.setLong(13, i.plan.notBefore().toEpochMilli());
        u.setString(14, i.plan.group());
        u.setString(15, i.plan.callback() == null ? null : i.plan.callback().toString());
        u.setString(16, i.call.method());
        u.setString(17, i.uri);
        if (u.executeUpdate() > 0) return;
        PreparedStatement q = sql("SELECT fingerprint, status, id FROM " + table + " WHERE idem_key = ?");
        q.setString(1, i.call.key());
        try (ResultSet r = q.executeQuery()) {
            if (!r.next()) throw new SQLException("Idempotency-Key " + i.call.key() + " neither stored nor found");
            i.seen = new Idempotency.Seen(r.getBytes(1), status(r, 2), r.getString(3));
        }
    }

    /**
     * Takes up to free calls, oldest first, while their bodies fit in what this endpoint may hold: first
     * (when polling, on PostgreSQL) those of other endpoints whose lease ran out, then the queued.
     * (On SQLite, the calls of an endpoint that died were queued again when this one started.)
     */
    private List<Claimed> take(int free, long now, boolean poll) throws SQLException {
        List<Claimed> taken = new ArrayList<>();
        if (poll && postgres) {
            PreparedStatement q = sql("SELECT seq, octet_length(body), grp FROM " + table + " WHERE state = " + WORKING
                + " AND lease_until < ? AND owner <> ? AND cancel = 0 ORDER BY seq LIMIT ? FOR UPDATE SKIP LOCKED");
            q.setLong(1, now);
            q.setString(2, owner);
            q.setInt(3, free);
            take(q, taken);
            if (!taken.isEmpty()) {
                log.accept("Took over " + Shown.plural(taken.size(), "call") + " whose endpoint stopped renewing its lease (it died,"
                    + " or was paused or cut off from the store): worked again here (at least once)");
            }
        }
        if (taken.size() < free) {
            // Due, and first of its group: no call of its group before it unfinished, and none working.
            PreparedStatement q = queued("(grp IS NULL OR NOT EXISTS (SELECT 1 FROM " + table + " o WHERE o.grp = c.grp AND o."
                + NOT_FINISHED + " AND (o.seq < c.seq OR o.state = " + WORKING + ")))", now, free - taken.size());
            // On PostgreSQL, endpoints taking calls of one group at once could each see the other's not yet taken: grouped calls
            // are taken by one endpoint at a time, the one that holds the lock of groups (never waited for: no deadlock).
            if (!take(q, taken, !postgres)) take(groupLock() ? q : queued("grp IS NULL", now, free - taken.size()), taken, true);
        }
        return taken;
    }

    /** The queued calls that are due and meet a condition, oldest first, at most limit. */
    private PreparedStatement queued(String condition, long now, int limit) throws SQLException {
        PreparedStatement q = sql("SELECT seq, " + (postgres ? "octet_length" : "length") + "(body), grp FROM " + table + " c"
            + " WHERE " + UNFINISHED + "state = " + QUEUED + " AND cancel = 0 AND (run_at_ms IS NULL OR run_at_ms <= ?) AND " + condition
            + " ORDER BY seq LIMIT ?" + (postgres ? " FOR UPDATE SKIP LOCKED" : ""));
        q.setLong(1, now);
        q.setInt(2, limit);
        return q;
    }

    /** Takes PostgreSQL's lock of groups for this transaction if no other endpoint holds it; whether it did. */
    private boolean groupLock() throws SQLException {
        try (ResultSet r = sql("SELECT pg_try_advisory_xact_lock(20261205)").executeQuery()) {
            return r.next() && r.getBoolean(1);
        }
    }

    private void take(PreparedStatement candidates, List<Claimed> into) throws SQLException {
        take(candidates, into, true);
    }

    /**
     * Takes the calls the query names (seq, body length, group) while they fit in memory; returns false, taking none,
     * when grouped calls are among them and the caller does not yet hold the lock of groups (grouped).
     */
    private boolean take(PreparedStatement candidates, List<Claimed> into, boolean grouped) throws SQLException {
        List<Long> chosen = new ArrayList<>();
        long bytes = holdingBytes.get() + bytes(into);
        try (ResultSet r = candidates.executeQuery()) {
            while (r.next()) {
                if (!grouped && r.getString(3) != null) return false;
                long body = r.getLong(2);
                if (bytes > 0 && bytes + body > budget) break; // the rest wait for memory (one at least is taken)
                bytes += body;
                chosen.add(r.getLong(1));
            }
        }
        PreparedStatement u = sql("UPDATE " + table + " SET state = " + WORKING + ", owner = ?, lease_until = ?, started_ms = ?"
            + " WHERE seq = ? RETURNING id, request, body, attempts, max_attempts, run_at_ms, grp, accepted_ms, callback");
        long now = System.currentTimeMillis();
        for (long seq : chosen) {
            u.setString(1, owner);
            u.setLong(2, now + lease.toMillis());
            u.setLong(3, now);
            u.setLong(4, seq);
            try (ResultSet r = u.executeQuery()) {
                while (r.next()) {
                    long at = r.getLong(6);
                    java.time.Instant notBefore = r.wasNull() ? null : java.time.Instant.ofEpochMilli(at);
                    Plan plan = new Plan(r.getInt(5), notBefore, r.getString(7),
                        r.getString(9) == null ? null : java.net.URI.create(r.getString(9)));
                    java.time.Instant due = java.time.Instant.ofEpochMilli(Math.max(at, r.getLong(8)));
                    into.add(Rows.decode(r.getString(1), r.getBytes(2), r.getBytes(3), r.getInt(4) + 1, plan, due));
                }
            }
        }
        return true;
    }

    private static long bytes(List<Claimed> calls) {
        long bytes = 0;
        for (Claimed c : calls) bytes += c.received().body().length;
        return bytes;
    }

    private void renew(long now) throws SQLException {
        PreparedStatement u = sql("UPDATE " + table + " SET lease_until = ? WHERE " + UNFINISHED + "owner = ? AND state = " + WORKING);
        u.setLong(1, now + lease.toMillis());
        u.setString(2, owner);
        u.executeUpdate();
        if (!postgres) return;
        if (!held.isEmpty()) stopTakenOver(); // renewed also counts calls whose callers wait: not a measure of held
        PreparedStatement seen = sql("UPDATE " + table + "_endpoints SET seen_ms = ? WHERE owner = ?");
        seen.setLong(1, now);
        seen.setString(2, owner);
        seen.executeUpdate();
    }

    /**
     * Fewer leases renewed than calls held: those of them another endpoint holds now were taken over while this one
     * could not renew (paused, cut off). Their work here is stopped, and said; the other endpoint's stands.
     */
    private void stopTakenOver() throws SQLException {
        PreparedStatement q = sql("SELECT id FROM " + table + " WHERE state = " + WORKING + " AND owner <> ? AND id = ANY (?)");
        q.setString(1, owner);
        q.setArray(2, writer.createArrayOf("text", held.toArray()));
        try (ResultSet r = q.executeQuery()) {
            while (r.next()) {
                String id = r.getString(1);
                log.accept("The call " + id + " was taken over by another endpoint while this one worked it (its lease of "
                    + lease.toMillis() / 1000.0 + " s ran out: this endpoint was paused, or cut off from the store): its work here is stopped");
                takenOver.accept(id);
            }
        }
    }

    /**
     * Joins the queue (PostgreSQL), in the transaction that makes the tables: endpoints seen within their
     * lease that serve it with other settings (another token would read this one's calls, another --keep
     * delete them) make this one refuse to start.
     */
    private void join(Statement s) throws SQLException {
        s.execute("CREATE TABLE IF NOT EXISTS " + table + "_endpoints (owner TEXT PRIMARY KEY, agreed TEXT NOT NULL, seen_ms BIGINT NOT NULL)");
        long now = System.currentTimeMillis();
        try (PreparedStatement gone = writer.prepareStatement("DELETE FROM " + table + "_endpoints WHERE seen_ms < ?")) {
            gone.setLong(1, now - 2 * lease.toMillis());
            gone.executeUpdate();
        }
        int same = 0;
        try (ResultSet r = s.executeQuery("SELECT agreed FROM " + table + "_endpoints")) {
            while (r.next()) {
                if (!r.getString(1).equals(agreed)) {
                    throw new SQLException("endpoints with another token or another --keep serve this queue already (one that died is"
                        + " forgotten after twice its lease); endpoints on one queue agree on both: give this deployment a database or a"
                        + " schema of its own (?currentSchema=NAME)");
                }
                same++;
            }
        }
        try (PreparedStatement in = writer.prepareStatement("INSERT INTO " + table + "_endpoints (owner, agreed, seen_ms) VALUES (?, ?, ?)")) {
            in.setString(1, owner);
            in.setString(2, agreed);
            in.setLong(3, now);
            in.executeUpdate();
        }
        if (same > 0) log.accept("The store's queue is served by " + Shown.plural(same, "other endpoint") + " with the same token and --keep");
    }

    /** Calls of this endpoint's that another endpoint cancelled while they work here: their workers are told (again until they end). */
    private void endCancelled() throws SQLException {
        PreparedStatement q = sql("SELECT id FROM " + table + " WHERE state = " + WORKING + " AND owner = ? AND cancel = 1");
        q.setString(1, owner);
        try (ResultSet r = q.executeQuery()) {
            while (r.next()) cancelled.accept(r.getString(1));
        }
    }

    /**
     * Calls cancelled while working that did not end as such (their endpoint stopped, or died and its lease ran out)
     * are ended cancelled, never worked again.
     */
    private void sweepCancelled(long now) throws SQLException {
        PreparedStatement u = sql("UPDATE " + table + " SET state = " + CANCELLED + ", note = '" + Done.CANCELLED
            + "', finished_ms = ?, owner = NULL, run_at_ms = NULL, " + CALLBACK_DUE + " WHERE " + UNFINISHED + "cancel = 1 AND (state = " + QUEUED
            + " OR (state = " + WORKING + " AND lease_until < ?)) RETURNING id, callback");
        u.setLong(1, now);
        u.setLong(2, now);
        try (ResultSet r = u.executeQuery()) {
            while (r.next()) if (r.getString(2) != null) callbacksDue.add(r.getString(1));
        }
    }

    /** Finished calls older than --keep go, and their keys with them. */
    private void delete(long now) throws SQLException {
        PreparedStatement u = sql("DELETE FROM " + table + " WHERE " + FINISHED + " AND finished_ms < ?");
        u.setLong(1, now - keep.toMillis());
        u.executeUpdate();
    }

    private long requeueOwn() throws SQLException {
        PreparedStatement u = sql("UPDATE " + table + " SET state = " + QUEUED + ", owner = NULL"
            + " WHERE " + UNFINISHED + "owner = ? AND state = " + WORKING);
        u.setString(1, owner);
        u.executeUpdate();
        if (postgres) {
            PreparedStatement leave = sql("DELETE FROM " + table + "_endpoints WHERE owner = ?");
            leave.setString(1, owner);
            leave.executeUpdate();
        }
        return count(NOT_FINISHED);
    }

    private long count(String where) throws SQLException {
        try (Statement s = writer.createStatement(); ResultSet r = s.executeQuery("SELECT count(*) FROM " + table + " WHERE " + where)) {
            r.next();
            return r.getLong(1);
        }
    }

    private PreparedStatement sql(String text) throws SQLException {
        PreparedStatement s = statements.get(text);
        if (s == null) statements.put(text, s = writer.prepareStatement(text));
        return s;
    }

    private void rollback() {
        try {
            if (writer != null) writer.rollback();
        } catch (SQLException e) {
            // the transaction is gone with the connection
        }
    }

    /**
     * A transaction that failed: its new calls are refused (their callers are told 503, and may
     * retry); ends of calls are written again once a second, each in a transaction of its own, so that
     * one that cannot be written never blocks the new calls.
     */
    private void failed(List<Op> batch, Throwable e, int failures) {
        log.accept("The store failed (" + Shown.plural(failures, "time") + " in a row): " + e);
        for (Op op : batch) {
            if (op instanceof Insert i) i.done.completeExceptionally(e);
            else if (op instanceof Close c) c.done.completeExceptionally(e);
            else if (op instanceof Cancel c) c.done.completeExceptionally(e);
            else if (op instanceof Rerun r) r.done.completeExceptionally(e);
            else if (!(op instanceof Wake)) retry.add(op);
        }
        try {
            Thread.sleep(Math.min(5000, 50L << Math.min(failures, 7)));
        } catch (InterruptedException stop) {
            Thread.currentThread().interrupt();
        }
    }

    /** The ends (and releases) whose transaction failed, each written again in a transaction of its own; those that fail stay. */
    private void retry() {
        for (java.util.Iterator<Op> each = retry.iterator(); each.hasNext(); ) {
            Op op = each.next();
            List<String> told;
            try {
                synchronized (lock) {
                    callbacksDue.clear();
                    apply(op, System.currentTimeMillis());
                    writer.commit();
                    told = List.copyOf(callbacksDue);
                    callbacksDue.clear();
                }
                each.remove();
                if (op instanceof Finish f) f.done.complete(null);
                if (op instanceof Again a) a.done.complete(a.cancelled);
                if (op instanceof Told t) t.done().complete(null);
                told.forEach(callbacks);
            } catch (Exception | Error e) {
                synchronized (lock) {
                    callbacksDue.clear();
                    rollback();
                    reconnect();
                }
                log.accept("The store could not write the end of a call again: " + e);
                return;
            }
        }
    }
}
