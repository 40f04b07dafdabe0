package call;

import java.net.URI;
import java.time.Instant;

/**
 * What a call asked of its work beside the request: how many attempts at most, not before when (null: at
 * once), the group it is worked one at a time in (null: none), and where its end is told (null: nowhere).
 */
public record Plan(int attempts, Instant notBefore, String group, URI callback) {
    /** A call its caller waits for: one attempt, now, in no group, told to no one else. */
    public static final Plan ONCE = new Plan(1, null, null, null);

    /** The same plan, for a call run again: its attempts, group and callback, at once. */
    public Plan again() {
        return new Plan(attempts, null, group, callback);
    }
}
