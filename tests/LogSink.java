

import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/** A log that tests can wait on: every entry of the server's log, with when it came. */
final class LogSink extends OutputStream {
    record Entry(long nanos, String text) {}

    private final List<Entry> entries = new ArrayList<>();
    private final ByteArrayOutputStream pending = new ByteArrayOutputStream();

    @Override
    public synchronized void write(int b) {
        if (b == '\n') {
            add(pending.toString(StandardCharsets.UTF_8));
            pending.reset();
        } else {
            pending.write(b);
        }
    }

    /** One write of the server's log may hold several entries (those that came together), each a line starting "[". */
    @Override
    public synchronized void write(byte[] b, int off, int len) {
        for (String text : new String(b, off, len, StandardCharsets.UTF_8).split("(?<=\n)(?=\\[)")) {
            add(text.endsWith("\n") ? text.substring(0, text.length() - 1) : text);
        }
    }

    private void add(String text) {
        entries.add(new Entry(System.nanoTime(), text));
        notifyAll();
    }

    /** One line of a log read from a process: an indented one continues the entry before it. */
    synchronized List<Entry> entries() {
        return List.copyOf(entries);
    }

    synchronized void addLine(String line) {
        if (line.startsWith("    ") && !entries.isEmpty()) {
            Entry last = entries.remove(entries.size() - 1);
            entries.add(new Entry(last.nanos(), last.text() + "\n" + line));
            notifyAll();
        } else {
            add(line);
        }
    }

    /** Waits until at least n entries match, and returns the first n; fails after the timeout. */
    synchronized List<Entry> await(String regex, int n, Duration timeout) throws InterruptedException {
        Pattern p = Pattern.compile(regex, Pattern.DOTALL);
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            List<Entry> found = entries.stream().filter(e -> p.matcher(e.text).find()).limit(n).toList();
            if (found.size() >= n) return found;
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                throw new AssertionError("waited " + timeout.toMillis() + " ms for " + n + " log entries matching "
                    + regex + ", found " + found.size() + "; the log:\n" + String.join("\n", texts()));
            }
            wait(Math.max(1, left / 1_000_000));
        }
    }

    Entry await(String regex, Duration timeout) throws InterruptedException {
        return await(regex, 1, timeout).get(0);
    }

    synchronized List<String> texts() {
        return entries.stream().map(Entry::text).toList();
    }

    synchronized long count(String regex) {
        Pattern p = Pattern.compile(regex, Pattern.DOTALL);
        return entries.stream().filter(e -> p.matcher(e.text).find()).count();
    }
}
