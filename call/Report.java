package call;

import java.time.Instant;
import java.util.OptionalInt;

/**
 * A call as its monitor shows it (GET /calls/ID): its state (queued, working, retrying, done, failed,
 * cancelled); when it was accepted, last started and finished (null until then); once finished, the status
 * of its work's answer, a command's exit, the answer's first ANSWER_SHOWN bytes and its whole length, a
 * note; the attempts made so far, when the next is due (null: none is waiting for a time), its group (or
 * null), each attempt as JSON objects joined by commas (empty: none yet), its callback (null: none asked), and
 * what was asked (null: not known, a row of an older store).
 */
public record Report(String id, String state, Instant accepted, Instant started, Instant finished, OptionalInt status, OptionalInt exit,
                     String answer, long answerBytes, String note, int attempts, Instant next, String group, String tries, Callback callback,
                     Asked asked) {
    /** The request's method and URI (as sent), and its Idempotency-Key (or null). */
    public record Asked(String method, String uri, String key) {
        public static Asked of(Call call) {
            return new Asked(call.method(), call.uri().toString(), call.key());
        }
    }

    /** How much of an answer a monitor shows: what a caller following it needs to see, not a copy of large answers. */
    public static final int ANSWER_SHOWN = 4096;

    /** The same report with its callback as it now stands. */
    public Report told(Callback c) {
        return new Report(id, state, accepted, started, finished, status, exit, answer, answerBytes, note, attempts, next, group, tries, c, asked);
    }

    public static final java.util.List<String> STATES = java.util.List.of("queued", "working", "retrying", "done", "failed", "cancelled");
}
