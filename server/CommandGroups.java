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
    private volatile boolean broken;
    /**
     * The lines not yet told, written by a thread of their own: a call's thread only queues its line (the write and
     * its lock had cost 2,000 starting commands more than their spawns), and lines that come together go in one write.
     */
    private final java.util.concurrent.BlockingQueue<String> lines = new java.util.concurrent.LinkedBlockingQueue<>();
    private static final String CLOSE = new String("close");
    private final Thread teller;

    private CommandGroups(Process watcher) {
        this.watcher = watcher;
        this.told = watcher == null ? null : watcher.getOutputStream();
        this.teller = watcher == null ? null : Thread.ofPlatform().daemon().name("command groups").start(this::tell);
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

    private void tell(String line) {
        if (watched()) lines.add(line);
    }

    /** Writes the lines as they come, all those waiting at once; at CLOSE, closes the pipe. */
    private void tell() {
        java.util.List<String> batch = new java.util.ArrayList<>();
        StringBuilder text = new StringBuilder();
        while (true) {
            try {
                batch.add(lines.take());
            } catch (InterruptedException e) {
                return;
            }
            lines.drainTo(batch);
            boolean closing = batch.removeIf(line -> line == CLOSE); // the sentinel itself, never a group's line
            text.setLength(0);
            for (String line : batch) text.append(line).append('\n');
            batch.clear();
            try {
                if (!text.isEmpty() && !broken) {
                    told.write(text.toString().getBytes(StandardCharsets.US_ASCII));
                    told.flush();
                }
                if (closing) {
                    told.close();
                    return;
                }
            } catch (IOException gone) {
                broken = true; // the watcher died: commands may outlive a killed serve from now on
                if (closing) return;
            }
        }
    }

    /** A stop: the commands have been ended; the watcher, at the end of its input, kills what is left of their groups. */
    @Override
    public void close() {
        if (watcher == null) return;
        lines.add(CLOSE);
        try {
            teller.join(5000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
