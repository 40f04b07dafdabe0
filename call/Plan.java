package call;

import java.time.Instant;

/**
 * What a call asked of its work beside the request: how many attempts at most, not before when (null: at
 * once), and the group it is worked one at a time in (null: none).
 */
public record Plan(int attempts, Instant notBefore, String group) {
    /** A call its caller waits for: one attempt, now, in no group. */
    public static final Plan ONCE = new Plan(1, null, null);
}
