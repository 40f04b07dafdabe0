package server;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;

/**
 * The process groups of the --run commands running, told to a watcher process of serve's own (awk, on a pipe):
 * when serve dies, however (SIGKILL included), the kernel closes the pipe, and the watcher kills every group it
 * was told of and not told the end of. No command outlives a killed serve, to run beside the next one's run of
 * the same call; and each command costs no process more than its own.
 */
final class CommandGroups implements AutoCloseable {
    /** "-G" forgets group G; "G" keeps it; at the end of its input, every group kept is killed, 200 to a kill. */
    private static final String WATCHER = "/^-/ { delete g[substr($0, 2)]; next } { g[$0] = 1 }"
        + " END { n = 0; for (p in g) { s = s \" -\" p; if (++n % 200 == 0) { system(\"kill -s KILL --\" s \" 2>/dev/null\"); s = \"\" } }"
        + " if (s != \"\") system(\"kill -s KILL --\" s \" 2>/dev/null\") }";

    private final Process watcher;
    private final OutputStream told;
    private boolean broken;

    private CommandGroups(Process watcher) {
        this.watcher = watcher;
        this.told = watcher == null ? null : watcher.getOutputStream();
    }

    /** Starts the watcher; without awk there is none, and started() says so. */
    static CommandGroups start() {
        try {
            return new CommandGroups(new ProcessBuilder("awk", WATCHER).redirectOutput(ProcessBuilder.Redirect.DISCARD)
                .redirectError(ProcessBuilder.Redirect.DISCARD).start());
        } catch (IOException noAwk) {
            return new CommandGroups(null);
        }
    }

    /** Whether commands are ended with a killed serve. */
    boolean watched() {
        return watcher != null && !broken;
    }

    /** A command started: its group is killed if serve dies before it ends. */
    void started(long group) {
        tell(Long.toString(group));
    }

    /** A command ended: its group id may be another's from now on. */
    void ended(long group) {
        tell("-" + group);
    }

    private synchronized void tell(String line) {
        if (!watched()) return;
        try {
            told.write((line + "\n").getBytes(StandardCharsets.US_ASCII));
            told.flush();
        } catch (IOException gone) {
            broken = true; // the watcher died: commands may outlive a killed serve from now on
        }
    }

    /** A stop: the commands have been ended; the watcher, at the end of its input, kills what is left of their groups. */
    @Override
    public synchronized void close() {
        if (watcher == null) return;
        try {
            told.close();
        } catch (IOException gone) {
            // it went first
        }
    }
}
