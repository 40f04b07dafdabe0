package call;

import java.util.OptionalInt;

/**
 * The end of a call, worked or refused: the status sent (202 for a call accepted at once), the
 * status of its work's answer (empty: not worked), a command's exit code (empty: not a command), the
 * first ANSWER_KEPT bytes of the answer (one char per byte; null when there is none), the answer's
 * whole length, and a note on why it was refused, not worked on or failed (null: it was worked on).
 */
public record Done(Call call, int status, OptionalInt workStatus, OptionalInt exit, String answer, long answerBytes, String note) {
    /** How much of an answer an end keeps (for the -v log and --events): the rest is only counted. */
    public static final int ANSWER_KEPT = 64 * 1024;

    public static Done refused(Call call, int status, String note) {
        return new Done(call, status, OptionalInt.empty(), OptionalInt.empty(), null, 0, note);
    }

    /** Failed: not worked on (stopped, failed), a command that did not exit 0, or a work that answered 5xx. */
    public boolean failed() {
        return note != null || exit.orElse(0) > 0 || workStatus.orElse(0) >= 500;
    }
}
