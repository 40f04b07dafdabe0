package call;

import java.time.Instant;
import java.util.OptionalInt;

/**
 * One attempt at a call's work as its monitor lists it: its number, when it started and finished, a
 * command's exit or the status its work answered, and the last bytes of the command's stderr (or null).
 */
public record Try(int attempt, Instant started, Instant finished, OptionalInt exit, OptionalInt status, String stderr) {
    /** How much of stderr an attempt keeps: the lines that say why it failed. */
    public static final int STDERR_KEPT = 2048;

    /** The attempt an end (of a call started then) was. */
    public static Try of(Done done, Instant started) {
        String err = done.stderr();
        if (err != null && err.length() > STDERR_KEPT) err = err.substring(err.length() - STDERR_KEPT);
        return new Try(done.call().attempt(), started, Instant.now(), done.exit(), done.workStatus(), err);
    }

    /** As the monitor's "tries" list shows it: one JSON object. */
    public String json() {
        StringBuilder out = new StringBuilder("{\"attempt\":").append(attempt).append(",\"started\":\"").append(started)
            .append("\",\"finished\":\"").append(finished).append('"');
        // A command that failed says its exit; one that answered (exit 0), or a work that is not a command, its status.
        if (exit.orElse(0) != 0 || status.isEmpty()) exit.ifPresent(e -> out.append(",\"exit\":").append(e));
        else out.append(",\"status\":").append(status.getAsInt());
        if (stderr != null) out.append(",\"stderr\":").append(text.Json.bytes(stderr));
        return out.append('}').toString();
    }
}
