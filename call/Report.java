package call;

import java.time.Instant;
import java.util.OptionalInt;

/**
 * A call as its monitor shows it (GET /calls/ID): started and finished are null until then; the rest
 * once finished (the status of its work's answer, a command's exit, the answer's first ANSWER_SHOWN
 * bytes and its whole length, a note, whether it failed).
 */
public record Report(String id, Instant accepted, Instant started, Instant finished, OptionalInt status, OptionalInt exit,
                     String answer, long answerBytes, String note, boolean failed) {
    /** How much of an answer a monitor shows: what a caller following it needs to see, not a copy of large answers. */
    public static final int ANSWER_SHOWN = 4096;

    /** queued, working, done or failed. */
    public String state() {
        return finished != null ? (failed ? "failed" : "done") : started != null ? "working" : "queued";
    }
}
