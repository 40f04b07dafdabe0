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
    /** Past this much stderr, what came before goes (the log shows its last lines only). */
    static final long STDERR_KEPT = 1 << 20;
    /** How often the files of running commands are looked at: what a command writes meanwhile is all it can add. */
    static final long LOOK_MILLIS = 100;
    private static final String PREFIX = "asynccall-run-";

    private final Path lockFile;
    private final FileChannel lock;
    private final Path folder;
    /** The folders of running commands, and the most their stdout held when it was cut (0: never cut). */
    private final Map<Path, Long> running = new ConcurrentHashMap<>();
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

    /** A folder for a call's files, watched until done. */
    Call open() throws IOException {
        Call call = new Call(Files.createTempDirectory(folder, "call-"));
        running.put(call.folder(), 0L);
        return call;
    }

    /** How many bytes the command wrote to stdout: its file's size, or more where it was cut. */
    long written(Call call) throws IOException {
        return Math.max(Files.size(call.out()), running.getOrDefault(call.folder(), 0L));
    }

    /** Deletes a call's files. */
    void done(Call call) {
        running.remove(call.folder());
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
                Thread.sleep(LOOK_MILLIS);
            } catch (InterruptedException e) {
                return;
            }
            running.forEach((f, most) -> {
                long cut = cut(f.resolve("out"), STDOUT_KEPT, STDOUT_KEPT);
                if (cut > most) running.replace(f, most, cut);
                cut(f.resolve("err"), STDERR_KEPT, 0);
            });
        }
    }

    /** Cuts a file past bound back to its first to bytes; returns its size before, or 0 where it was within bound. */
    private static long cut(Path file, long bound, long to) {
        try {
            if (Files.size(file) <= bound) return 0; // a stat: most look within bounds
            try (FileChannel c = FileChannel.open(file, StandardOpenOption.WRITE)) {
                long size = c.size();
                c.truncate(to);
                return size;
            }
        } catch (IOException goneOrNotYet) {
            return 0; // the call ended meanwhile, or its command has not started
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
    }

    /** Removes the folders whose lock no serve holds: their serve was killed (a stop removes its own). */
    private static int removeLeftovers(Path own) {
        int removed = 0;
        try (DirectoryStream<Path> locks = Files.newDirectoryStream(own.getParent(), PREFIX + "*.lock")) {
            for (Path lockFile : locks) {
                if (!lockFile.equals(own) && removeIfUnlocked(lockFile)) removed++;
            }
        } catch (IOException unreadable) {
            // nothing removed: leftovers stay for the OS's cleaning of its temporary folder
        }
        return removed;
    }

    private static boolean removeIfUnlocked(Path lockFile) {
        try (FileChannel c = FileChannel.open(lockFile, StandardOpenOption.WRITE); FileLock held = c.tryLock()) {
            // A serve starting takes its lock a moment after making the file: one under a second old is left alone.
            if (held == null || Files.getLastModifiedTime(lockFile).toMillis() > System.currentTimeMillis() - 1000) return false;
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
