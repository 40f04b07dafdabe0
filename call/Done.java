package call;

import java.time.Duration;
import java.util.OptionalInt;

/**
 * The end of a call (or of one attempt at it), worked or refused: the status sent (202 for a call accepted
 * at once), the status of its work's answer (empty: not worked), a command's exit code (empty: not a
 * command), the first ANSWER_KEPT bytes of the answer (one char per byte; null when there is none), the
 * answer's whole length, a note on why it was refused, not worked on or failed (null: it was worked on),
 * the end of a command's stderr (or null), and how long the work asked to wait before trying again (its
 * Retry-After, or null).
 */
public record Done(Call call, int status, OptionalInt workStatus, OptionalInt exit, String answer, long answerBytes, String note,
                   String stderr, Duration retryAfter) {
    /** How much of an answer an end keeps (for the -v log and --events): the rest is only counted. */
    public static final int ANSWER_KEPT = 64 * 1024;
    /** The note of a call cancelled (DELETE /calls/ID): never worked again. */
    public static final String CANCELLED = "cancelled";
    /** How the note of a repeat of an Idempotency-Key begins: answered as the first call was, not worked on. */
    public static final String REPEAT = "repeat of Idempotency-Key ";
    /** How the note of a work that gave up begins (a CGI 4xx, a Java function that threw res.GiveUp): not tried again. */
    public static final String GAVE_UP = "gave up: ";

    public Done(Call call, int status, OptionalInt workStatus, OptionalInt exit, String answer, long answerBytes, String note) {
        this(call, status, workStatus, exit, answer, answerBytes, note, null, null);
    }

    public static Done refused(Call call, int status, String note) {
        return new Done(call, status, OptionalInt.empty(), OptionalInt.empty(), null, 0, note);
    }

    /** Failed: not worked on (stopped, failed, cancelled), a command that did not exit 0, or a work that answered 4xx or 5xx. */
    public boolean failed() {
        return note != null || exit.orElse(0) > 0 || workStatus.orElse(0) >= 400;
    }

    public boolean cancelled() {
        return CANCELLED.equals(note);
    }

    public boolean repeat() {
        return note != null && note.startsWith(REPEAT);
    }

    public boolean gaveUp() {
        return note != null && note.startsWith(GAVE_UP);
    }

    /** The same end with another note (and the rest as it was). */
    public Done noted(String note) {
        return new Done(call, status, workStatus, exit, answer, answerBytes, note, stderr, retryAfter);
    }
}
