package server;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Comparator;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;

/**
 * Where --run commands' bodies, answers and stderr go while they run: a folder of this serve's own in the
 * temporary folder, only its user's, with a lock held while serve lives, so that the next serve removes what a
 * killed one left; and while a command runs, its stdout and stderr kept within bounds on disk.
 */
final class CommandFiles implements AutoCloseable {
    /** How much of a command's stdout is kept: its answer's bound. */
    static final long STDOUT_KEPT = Command.STDOUT_LIMIT;
    /** Past this much stderr, what came before goes (the log shows its last lines only, kept across the cut). */
    static final long STDERR_KEPT = 1 << 20;
    /**
     * How often the files of running commands are looked at: what a command writes meanwhile is all it can add. With
     * more than LOOKS_AT_ONCE running, less often, so that a look at each costs about that many every LOOK_MILLIS (2,000
     * sleeping commands took a fifth of serve's time in stats), and at least one look a second.
     */
    static final long LOOK_MILLIS = 100;
    static final int LOOKS_AT_ONCE = 500;
    private static final String PREFIX = "asynccall-run-";

    private final Path lockFile;
    private final FileChannel lock;
    private final Path folder;
    /** How much of the end of stderr is kept for the log. */
    static final int STDERR_TAIL = 2048;
    /** The lock files of this JVM's serves: never opened by a sweep, whose close would drop this process's lock on them. */
    private static final java.util.Set<Path> OWN_LOCKS = ConcurrentHashMap.newKeySet();

    /**
     * What the bound saw of a running command's files: the most its stdout held, the end of its stderr before a cut;
     * and where what it writes is followed, and how far each file has been read for it.
     */
    private static final class Watched {
        volatile long outMost;
        volatile byte[] errTail = new byte[0];
        final Output.Live live;
        long outRead, errRead;

        Watched(Output.Live live) {
            this.live = live;
        }
    }
    /** The most of each file read for its followers at one look: a command writing fast cannot hold the bound. */
    private static final int FOLLOWED_AT_ONCE = 64 * 1024;

    /** The folders of running commands. */
    private final Map<Path, Watched> running = new ConcurrentHashMap<>();
    private final java.util.concurrent.atomic.AtomicLong calls = new java.util.concurrent.atomic.AtomicLong();
    private final int removed;
    private final Thread bound;

    /** The files of one call's command: stdin, stdout, stderr. */
    record Call(Path folder) {
        Path in() {
            return folder.resolve("in");
        }

        Path out() {
            return folder.resolve("out");
        }

        Path err() {
            return folder.resolve("err");
        }
    }

    /** Locks a new folder in the temporary folder, after removing those of serves that are gone; starts the bound. */
    CommandFiles() throws IOException {
        this.lockFile = Files.createTempFile(PREFIX, ".lock"); // made and locked before its folder, so no sweep takes it
        OWN_LOCKS.add(lockFile);
        this.lock = FileChannel.open(lockFile, StandardOpenOption.WRITE);
        if (lock.tryLock() == null) throw new IOException("cannot lock " + lockFile);
        String name = lockFile.getFileName().toString();
        this.folder = Files.createDirectory(lockFile.resolveSibling(name.substring(0, name.length() - ".lock".length())),
            PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        this.removed = removeLeftovers(lockFile);
        this.bound = Thread.ofPlatform().daemon().name("command output bound").start(this::bound);
    }

    /** How many folders of serves that had gone (killed) were removed at the start. */
    int removed() {
        return removed;
    }

    Path folder() {
        return folder;
    }

    /** A folder for a call's files, watched until done, what its command writes told to live. */
    Call open(Output.Live live) throws IOException {
        // Named by a count, not by createTempDirectory's SecureRandom (a lock and /dev/urandom each): the folder is serve's user's alone.
        Call call = new Call(Files.createDirectory(folder.resolve("call-" + calls.incrementAndGet())));
        running.put(call.folder(), new Watched(live));
        return call;
    }

    /** Tells the followers what the command wrote since the last look (at most FOLLOWED_AT_ONCE of each file; all: every byte). */
    private static void follow(Path folder, Watched w, boolean all) {
        follow(folder, w, all, Long.MAX_VALUE, Long.MAX_VALUE);
    }

    /** The same, where the look saw the files' sizes (Long.MAX_VALUE: not looked at): a file that did not grow is not opened. */
    private static void follow(Path folder, Watched w, boolean all, long outSize, long errSize) {
        synchronized (w) {
            // past its bound, stdout is not kept
            if (outSize > w.outRead) w.outRead = read(folder.resolve("out"), w.outRead, STDOUT_KEPT, false, w.live, all);
            if (errSize > w.errRead) w.errRead = read(folder.resolve("err"), w.errRead, Long.MAX_VALUE, true, w.live, all);
        }
    }

    private static long read(Path file, long from, long bound, boolean err, Output.Live live, boolean all) {
        if (from >= bound) return from;
        try (FileChannel c = FileChannel.open(file, StandardOpenOption.READ)) {
            byte[] piece = new byte[(int) Math.min(FOLLOWED_AT_ONCE, Math.max(8192, c.size() - from))];
            do {
                int n = c.read(java.nio.ByteBuffer.wrap(piece, 0, (int) Math.min(piece.length, Math.max(0, bound - from))), from);
                if (n <= 0) break;
                live.add(err, piece, n);
                from += n;
            } while (all);
        } catch (IOException goneOrNotYet) {
            // nothing to read yet, or any more
        }
        return from;
    }

    /** How many bytes the command wrote to stdout: its file's size, or more where it was cut. */
    long written(Call call) throws IOException {
        Watched w = running.get(call.folder());
        return Math.max(Files.size(call.out()), w == null ? 0 : w.outMost);
    }

    /** The last STDERR_TAIL bytes the command wrote to stderr, across a cut. */
    byte[] stderrTail(Call call) {
        Watched w = running.get(call.folder());
        byte[] before = w == null ? new byte[0] : w.errTail, now = tail(call.err(), STDERR_TAIL);
        int from = 0;
        while (from < now.length && now[from] == 0) from++; // the hole of a stderr cut back to nothing, not the command's
        byte[] all = new byte[before.length + now.length - from];
        System.arraycopy(before, 0, all, 0, before.length);
        System.arraycopy(now, from, all, before.length, now.length - from);
        return java.util.Arrays.copyOfRange(all, Math.max(0, all.length - STDERR_TAIL), all.length);
    }

    private static byte[] tail(Path file, int n) {
        try (FileChannel c = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = c.size();
            java.nio.ByteBuffer last = java.nio.ByteBuffer.allocate((int) Math.min(size, n));
            c.position(size - last.capacity());
            while (last.hasRemaining() && c.read(last) > 0) { }
            return java.util.Arrays.copyOf(last.array(), last.position());
        } catch (IOException gone) {
            return new byte[0];
        }
    }

    /** Deletes a call's files. */
    void done(Call call) {
        Watched w = running.remove(call.folder());
        if (w != null) {
            follow(call.folder(), w, true); // the last of it, before the files go
            w.live.end();
        }
        for (Path p : new Path[] {call.in(), call.out(), call.err(), call.folder()}) {
            try {
                Files.deleteIfExists(p);
            } catch (IOException left) {
                // a temporary file left behind: removed with the folder by the next serve
            }
        }
    }

    /**
     * Every LOOK_MILLIS: a stdout past its kept bytes is cut back to them, a stderr past its bound to nothing. The
     * command writes on at its own offset, so the file grows a hole, which takes no disk: a command writing
     * gigabytes holds a megabyte. Reading stdout through a pipe would need a thread per running command.
     */
    private void bound() {
        while (true) {
            try {
                Thread.sleep(Math.min(1000, LOOK_MILLIS * Math.ceilDiv(Math.max(1, running.size()), LOOKS_AT_ONCE)));
            } catch (InterruptedException e) {
                return;
            }
            running.forEach((f, watched) -> {
                try {
                    // A stat each: most look within bounds, and wrote nothing since the last look.
                    long out = Files.size(f.resolve("out")), err = Files.size(f.resolve("err"));
                    follow(f, watched, false, out, err);
                    if (out > STDOUT_KEPT) {
                        try (FileChannel c = FileChannel.open(f.resolve("out"), StandardOpenOption.WRITE)) {
                            watched.outMost = Math.max(watched.outMost, c.size()); // before the cut: written() never sees less
                            c.truncate(STDOUT_KEPT);
                        }
                    }
                    if (err > STDERR_KEPT) {
                        watched.errTail = tail(f.resolve("err"), STDERR_TAIL); // its last lines are all the log shows
                        try (FileChannel c = FileChannel.open(f.resolve("err"), StandardOpenOption.WRITE)) {
                            synchronized (watched) {
                                follow(f, watched, true);
                                watched.errRead = c.size(); // the command writes on from there, past a hole
                                c.truncate(0);
                            }
                        }
                    }
                } catch (IOException goneOrNotYet) {
                    // the call ended meanwhile, or its command has not started
                }
            });
        }
    }

    /** Stops the bound and removes the folder and its lock (the commands have been ended). */
    @Override
    public void close() {
        bound.interrupt();
        removeTree(folder);
        try {
            Files.deleteIfExists(lockFile);
            lock.close();
        } catch (IOException left) {
            // removed by the next serve
        }
        OWN_LOCKS.remove(lockFile);
    }

    /** Removes the folders whose lock no serve holds: their serve was killed (a stop removes its own). */
    private static int removeLeftovers(Path own) {
        int removed = 0;
        try (DirectoryStream<Path> locks = Files.newDirectoryStream(own.getParent(), PREFIX + "*.lock")) {
            for (Path lockFile : locks) {
                if (!OWN_LOCKS.contains(lockFile) && removeIfUnlocked(lockFile)) removed++;
            }
        } catch (IOException unreadable) {
            // nothing removed: leftovers stay for the OS's cleaning of its temporary folder
        }
        return removed;
    }

    private static boolean removeIfUnlocked(Path lockFile) {
        try {
            // A serve starting takes its lock a moment after making the file: one under a second old is left alone.
            if (Files.getLastModifiedTime(lockFile).toMillis() > System.currentTimeMillis() - 1000) return false;
        } catch (IOException gone) {
            return false;
        }
        try (FileChannel c = FileChannel.open(lockFile, StandardOpenOption.WRITE); FileLock held = c.tryLock()) {
            if (held == null) return false; // its serve runs
            String name = lockFile.getFileName().toString();
            removeTree(lockFile.resolveSibling(name.substring(0, name.length() - ".lock".length())));
            Files.delete(lockFile);
            return true;
        } catch (IOException | java.nio.channels.OverlappingFileLockException notOurs) {
            return false; // another user's, or this JVM's own (a server of the tests), or being removed by another serve
        }
    }

    private static void removeTree(Path folder) {
        if (!Files.isDirectory(folder)) return;
        try (Stream<Path> files = Files.walk(folder)) {
            for (Path p : files.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
        } catch (IOException | java.io.UncheckedIOException left) {
            // what is left goes with the next serve's start
        }
    }
}
