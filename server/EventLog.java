package server;

import call.Call;
import call.Done;
import call.Listener;
import text.Json;
import text.Shown;

import java.io.FileOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;

/**
 * serve --events FILE: the endpoint's events as JSON lines, one object a line, for programs (a test, a
 * log shipper) rather than people: {"event":"accepted"|"started"|"tried"|"warning"|"done", "time", "id", "from",
 * "method", "uri", "key"} and, for "done", "status" (sent), "work_status" (of the work's answer, 0 when
 * not worked), "exit" (a command's), "note", "answer" (at most Done.ANSWER_KEPT bytes of it) and
 * "answer_bytes"; for "warning", "text"; and {"event":"refused", "time", "reason", "count"} for connections
 * closed for others ("idle connection", "slow request", "silent connection"; at most one a second for a reason). Byte strings from a request are shown as UTF-8, an invalid
 * byte as U+FFFD. A line is written whole, so a reader never sees half an event.
 */
public final class EventLog implements Listener {
    private final OutputStream out;

    private EventLog(OutputStream out) {
        this.out = out;
    }

    /** FILE appended to, or standard output for "-". */
    public static EventLog open(String file) throws IOException {
        return new EventLog(file.equals("-") ? System.out : new FileOutputStream(file, true));
    }

    @Override
    public void accepted(Call call) {
        write(start("accepted", call).append('}'));
    }

    /** {"event":"tried", …, "attempt", "attempts" (planned at most), "exit" or "work_status", "note", "next" (null: it was the last)}. */
    @Override
    public void tried(Done end, call.Try attempt, int attempts, java.time.Instant next) {
        StringBuilder line = start("tried", end.call()).append(",\"attempt\":").append(attempt.attempt()).append(",\"attempts\":").append(attempts)
            .append(",\"work_status\":").append(end.workStatus().orElse(0));
        end.exit().ifPresent(exit -> line.append(",\"exit\":").append(exit));
        if (end.note() != null) line.append(",\"note\":").append(Json.bytes(end.note()));
        write(line.append(",\"next\":").append(next == null ? "null" : "\"" + next + "\"").append('}'));
    }

    @Override
    public void started(Call call, java.time.Instant due) {
        write(start("started", call).append('}'));
    }

    @Override
    public void warning(Call call, String text) {
        write(start("warning", call).append(",\"text\":").append(Json.bytes(text)).append('}'));
    }

    @Override
    public void done(Done done) {
        StringBuilder line = start("done", done.call()).append(",\"status\":").append(done.status())
            .append(",\"work_status\":").append(done.workStatus().orElse(0));
        done.exit().ifPresent(exit -> line.append(",\"exit\":").append(exit));
        if (done.note() != null) line.append(",\"note\":").append(Json.bytes(done.note()));
        if (done.answer() != null) {
            line.append(",\"answer\":").append(Json.bytes(done.answer())).append(",\"answer_bytes\":").append(done.answerBytes());
        }
        write(line.append('}'));
    }

    @Override
    public void refused(String reason, int count) {
        write(new StringBuilder(128).append("{\"event\":\"refused\",\"time\":\"").append(Instant.now()).append("\",\"reason\":")
            .append(Json.bytes(reason)).append(",\"count\":").append(count).append('}'));
    }

    private static StringBuilder start(String event, Call call) {
        StringBuilder line = new StringBuilder(256).append("{\"event\":\"").append(event)
            .append("\",\"time\":\"").append(Instant.now()).append("\",\"id\":\"").append(call.id())
            .append("\",\"from\":").append(Json.bytes(Shown.address(call.from())))
            .append(",\"method\":").append(Json.bytes(call.method())).append(",\"uri\":").append(Json.bytes(call.uri().toString()));
        if (call.key() != null) line.append(",\"key\":").append(Json.bytes(call.key()));
        return line;
    }

    private void write(StringBuilder line) {
        byte[] bytes = line.append('\n').toString().getBytes(StandardCharsets.UTF_8);
        synchronized (out) {
            try {
                out.write(bytes);
                out.flush();
            } catch (IOException e) {
                throw new UncheckedIOException(e); // the listeners' fan-out reports it in the log
            }
        }
    }
}
