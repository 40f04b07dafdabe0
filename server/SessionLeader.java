package server;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * A command's process, started as the leader of a session (and so of a process group) of its own: the command
 * and all it starts are ended together by a signal to the group. Started by the C library's posix_spawnp
 * where Libc has it (one exec: the command), else by the JDK's launcher through setsid (three: jspawnhelper,
 * setsid, the command).
 */
final class SessionLeader {
    private final ProcessHandle handle;
    /** The exit status, as Process.exitValue gives it, once the process has ended (and been reaped). */
    private final CompletableFuture<Integer> exit;
    /** The JDK's Process where it started the command, else null. */
    private final Process process;

    private SessionLeader(ProcessHandle handle, CompletableFuture<Integer> exit, Process process) {
        this.handle = handle;
        this.exit = exit;
        this.process = process;
    }

    /** It did not start (no such file, not executable, not a program): nothing runs. */
    static final class NotStarted extends IOException {
        NotStarted(IOException e) {
            super(e.getMessage(), e);
        }
    }

    /**
     * Starts argv with exactly the environment env, stdin from in, stdout and stderr to out and err.
     *
     * @throws NotStarted when it cannot start
     * @throws IOException when it started and cannot be followed (it was killed and reaped)
     */
    static SessionLeader start(List<String> argv, Map<String, String> env, Path in, Path out, Path err) throws IOException {
        var c = Libc.get();
        if (c.isPresent()) {
            Libc libc = c.get();
            int pid;
            try {
                pid = libc.spawn(argv, env, in.toString(), out.toString(), err.toString());
            } catch (IOException e) {
                throw new NotStarted(e);
            }
            // Ours until reaped: the JDK waits for its end without reaping it (waitid WNOWAIT), then it is reaped here.
            var found = ProcessHandle.of(pid);
            if (found.isEmpty()) { // no /proc: it cannot be followed, so it does not run
                libc.kill(pid, 9);
                libc.reap(pid);
                throw new IOException("process " + pid + " cannot be followed (is /proc mounted?)");
            }
            ProcessHandle handle = found.get();
            return new SessionLeader(handle, handle.onExit().thenApply(h -> libc.reap(pid)), null);
        }
        List<String> command = new ArrayList<>(argv);
        command.addFirst("setsid");
        ProcessBuilder builder = new ProcessBuilder(command).redirectInput(in.toFile()).redirectOutput(out.toFile()).redirectError(err.toFile());
        builder.environment().clear();
        builder.environment().putAll(env);
        Process p;
        try {
            p = builder.start();
        } catch (IOException e) {
            throw new NotStarted(e);
        }
        return new SessionLeader(p.toHandle(), p.onExit().thenApply(Process::exitValue), p);
    }

    /** Its pid, which is also its process group's id. */
    long pid() {
        return handle.pid();
    }

    ProcessHandle handle() {
        return handle;
    }

    /** Waits for its end: its exit status (the exit code, or 128 plus the signal that ended it). */
    int waitFor() throws InterruptedException {
        try {
            return exit.get();
        } catch (ExecutionException e) {
            throw new IllegalStateException(e.getCause());
        }
    }

    /** Waits at most nanos for its end: whether it ended. */
    boolean waitFor(long nanos) throws InterruptedException {
        try {
            exit.get(nanos, TimeUnit.NANOSECONDS);
            return true;
        } catch (TimeoutException notYet) {
            return false;
        } catch (ExecutionException e) {
            throw new IllegalStateException(e.getCause());
        }
    }

    /** Signals its whole process group (TERM 15, KILL 9): the kill(2) of the C library, or a kill process. */
    void signalGroup(int signal) {
        var c = Libc.get();
        if (c.isPresent()) {
            c.get().kill(-(int) pid(), signal);
            return;
        }
        try {
            new ProcessBuilder("kill", "-s", signal == 9 ? "KILL" : "TERM", "--", "-" + pid()).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.DISCARD).start().waitFor(5, TimeUnit.SECONDS);
        } catch (IOException | InterruptedException e) {
            // the group is gone, or cannot be signalled: the process itself is destroyed after
        }
    }

    /** Kills the process itself (not its group). */
    void destroyForcibly() {
        if (process != null) {
            process.destroyForcibly();
        } else if (!exit.isDone()) {
            handle.destroyForcibly();
        }
    }
}
