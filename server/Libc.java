package server;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The C library's posix_spawnp, waitpid and kill, through the JDK's foreign function API: a command started
 * as the leader of a session of its own in one exec (the JDK's launcher takes two more, jspawnhelper and
 * setsid), and its process group signalled without a kill process. Linux on x86-64 or AArch64 with glibc 2.34
 * or later (posix_spawn_file_actions_addclosefrom_np) only; elsewhere absent, and commands start as before.
 */
final class Libc {
    // Linux's values (x86-64 and AArch64 share them).
    private static final short POSIX_SPAWN_SETSIGDEF = 0x04, POSIX_SPAWN_SETSIGMASK = 0x08, POSIX_SPAWN_SETSID = 0x80;
    private static final int O_RDONLY = 0, O_WRONLY = 1, O_CREAT = 0100, O_TRUNC = 01000, EINTR = 4;
    /** Bigger than glibc's posix_spawn_file_actions_t (80 bytes), posix_spawnattr_t (336) and sigset_t (128). */
    private static final long ACTIONS_BYTES = 256, ATTR_BYTES = 1024, SIGSET_BYTES = 256;

    private final MethodHandle spawnp, actionsInit, actionsDestroy, addOpen, addCloseFrom, attrInit, attrDestroy, setFlags, setSigMask,
        setSigDefault, sigEmptySet, sigFillSet, waitpid, kill;
    private final VarHandle errno;
    private final long errnoBytes;

    private Libc(Linker linker, SymbolLookup c) {
        var I = ValueLayout.JAVA_INT;
        var A = ValueLayout.ADDRESS;
        spawnp = linker.downcallHandle(find(c, "posix_spawnp"), FunctionDescriptor.of(I, A, A, A, A, A, A));
        actionsInit = linker.downcallHandle(find(c, "posix_spawn_file_actions_init"), FunctionDescriptor.of(I, A));
        actionsDestroy = linker.downcallHandle(find(c, "posix_spawn_file_actions_destroy"), FunctionDescriptor.of(I, A));
        addOpen = linker.downcallHandle(find(c, "posix_spawn_file_actions_addopen"), FunctionDescriptor.of(I, A, I, A, I, I));
        addCloseFrom = linker.downcallHandle(find(c, "posix_spawn_file_actions_addclosefrom_np"), FunctionDescriptor.of(I, A, I));
        attrInit = linker.downcallHandle(find(c, "posix_spawnattr_init"), FunctionDescriptor.of(I, A));
        attrDestroy = linker.downcallHandle(find(c, "posix_spawnattr_destroy"), FunctionDescriptor.of(I, A));
        setFlags = linker.downcallHandle(find(c, "posix_spawnattr_setflags"), FunctionDescriptor.of(I, A, ValueLayout.JAVA_SHORT));
        setSigMask = linker.downcallHandle(find(c, "posix_spawnattr_setsigmask"), FunctionDescriptor.of(I, A, A));
        setSigDefault = linker.downcallHandle(find(c, "posix_spawnattr_setsigdefault"), FunctionDescriptor.of(I, A, A));
        sigEmptySet = linker.downcallHandle(find(c, "sigemptyset"), FunctionDescriptor.of(I, A));
        sigFillSet = linker.downcallHandle(find(c, "sigfillset"), FunctionDescriptor.of(I, A));
        Linker.Option errnoOption = Linker.Option.captureCallState("errno");
        waitpid = linker.downcallHandle(find(c, "waitpid"), FunctionDescriptor.of(I, I, A, I), errnoOption);
        kill = linker.downcallHandle(find(c, "kill"), FunctionDescriptor.of(I, I, I));
        var state = Linker.Option.captureStateLayout();
        errno = state.varHandle(java.lang.foreign.MemoryLayout.PathElement.groupElement("errno"));
        errnoBytes = state.byteSize();
    }

    private static MemorySegment find(SymbolLookup c, String name) {
        return c.find(name).orElseThrow(() -> new UnsupportedOperationException("no " + name));
    }

    private static final Optional<Libc> C = load();

    private static Optional<Libc> load() {
        String arch = System.getProperty("os.arch");
        if (!System.getProperty("os.name").equals("Linux") || !(arch.equals("amd64") || arch.equals("aarch64"))) return Optional.empty();
        try {
            Linker linker = Linker.nativeLinker();
            return Optional.of(new Libc(linker, linker.defaultLookup()));
        } catch (RuntimeException | LinkageError missing) {
            return Optional.empty(); // an older or other C library, or native access refused: the JDK's launcher serves
        }
    }

    /** This process's C library, when it has all that is needed. */
    static Optional<Libc> get() {
        return C;
    }

    /**
     * Starts argv[0] (found on serve's PATH) as the leader of a new session, with the environment env, stdin read
     * from in and stdout and stderr written to out and err (made or emptied), every other descriptor closed, every
     * signal at its default and none blocked. Returns its pid.
     *
     * @throws java.io.IOException with the C library's reason when it cannot start (no such file, not executable)
     */
    int spawn(List<String> argv, Map<String, String> env, String in, String out, String err) throws java.io.IOException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment actions = arena.allocate(ACTIONS_BYTES, 16), attr = arena.allocate(ATTR_BYTES, 16);
            MemorySegment signals = arena.allocate(SIGSET_BYTES, 16), none = arena.allocate(SIGSET_BYTES, 16), pid = arena.allocate(ValueLayout.JAVA_INT);
            check("posix_spawn_file_actions_init", (int) actionsInit.invokeExact(actions));
            try {
                check("posix_spawnattr_init", (int) attrInit.invokeExact(attr));
                try {
                    check("addopen", (int) addOpen.invokeExact(actions, 0, arena.allocateFrom(in), O_RDONLY, 0));
                    check("addopen", (int) addOpen.invokeExact(actions, 1, arena.allocateFrom(out), O_WRONLY | O_CREAT | O_TRUNC, 0600));
                    check("addopen", (int) addOpen.invokeExact(actions, 2, arena.allocateFrom(err), O_WRONLY | O_CREAT | O_TRUNC, 0600));
                    check("addclosefrom", (int) addCloseFrom.invokeExact(actions, 3));
                    check("sigfillset", (int) sigFillSet.invokeExact(signals));
                    check("sigemptyset", (int) sigEmptySet.invokeExact(none));
                    check("setsigdefault", (int) setSigDefault.invokeExact(attr, signals));
                    check("setsigmask", (int) setSigMask.invokeExact(attr, none));
                    check("setflags", (int) setFlags.invokeExact(attr, (short) (POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK)));
                    int failed = (int) spawnp.invokeExact(pid, arena.allocateFrom(argv.get(0)), actions, attr, strings(arena, argv), strings(arena, environment(env)));
                    if (failed != 0) throw new java.io.IOException(argv.get(0) + ": " + reason(failed));
                    return pid.get(ValueLayout.JAVA_INT, 0);
                } finally {
                    int ignored = (int) attrDestroy.invokeExact(attr);
                }
            } finally {
                int ignored = (int) actionsDestroy.invokeExact(actions);
            }
        } catch (java.io.IOException | RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /**
     * Waits for a child that has ended (or ends) and reaps it: its exit status as the JDK's Process gives it (the
     * exit code, or 128 plus the signal that ended it).
     */
    int reap(int pid) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment status = arena.allocate(ValueLayout.JAVA_INT), state = arena.allocate(errnoBytes);
            while (true) {
                int r = (int) waitpid.invokeExact(state, pid, status, 0);
                if (r == pid) break;
                if ((int) errno.get(state, 0L) != EINTR) throw new IllegalStateException("waitpid " + pid + ": errno " + (int) errno.get(state, 0L));
            }
            int s = status.get(ValueLayout.JAVA_INT, 0);
            return (s & 0x7f) == 0 ? (s >> 8) & 0xff : 0x80 + (s & 0x7f);
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /** kill(2): sends signal to pid (to a process group when negative); whether it was sent. */
    boolean kill(int pid, int signal) {
        try {
            return (int) kill.invokeExact(pid, signal) == 0;
        } catch (Throwable t) {
            return false;
        }
    }

    private static void check(String what, int result) {
        if (result != 0) throw new IllegalStateException(what + ": " + reason(result));
    }

    private static String reason(int errno) {
        return switch (errno) {
            case 2 -> "No such file or directory";
            case 7 -> "Argument list too long";
            case 8 -> "Exec format error";
            case 12 -> "Cannot allocate memory";
            case 13 -> "Permission denied";
            case 11 -> "Resource temporarily unavailable";
            default -> "error " + errno;
        };
    }

    private static List<String> environment(Map<String, String> env) {
        return env.entrySet().stream().map(e -> e.getKey() + "=" + e.getValue()).toList();
    }

    /** A NULL-ended array of C strings (UTF-8). */
    private static MemorySegment strings(Arena arena, List<String> values) {
        MemorySegment array = arena.allocate(ValueLayout.ADDRESS, values.size() + 1);
        for (int i = 0; i < values.size(); i++) array.setAtIndex(ValueLayout.ADDRESS, i, arena.allocateFrom(values.get(i)));
        array.setAtIndex(ValueLayout.ADDRESS, values.size(), MemorySegment.NULL);
        return array;
    }
}
