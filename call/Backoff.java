package call;

import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.ThreadLocalRandom;

/**
 * The wait before a failed call's next attempt: exponential from min (at most min·2^n after the n-th
 * failure, and never more than max), with full jitter above min, so that calls failing together (a
 * service down for all of them) do not come back together.
 */
public record Backoff(Duration min, Duration max) {
    /** The wait after the failures-th failed attempt (1, 2, …). */
    public Duration after(int failures) {
        long lo = min.toMillis(), ceiling = Math.min(max.toMillis(), lo << Math.min(failures, 30));
        return Duration.ofMillis(ceiling <= lo ? lo : ThreadLocalRandom.current().nextLong(lo, ceiling + 1));
    }

    /** When the next attempt is due after the failures-th: after the wait, and not before the work's Retry-After (null: none). */
    public Instant next(int failures, Duration retryAfter) {
        Duration wait = after(failures);
        return Instant.now().plus(retryAfter != null && retryAfter.compareTo(wait) > 0 ? retryAfter : wait);
    }
}
