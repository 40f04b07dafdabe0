package call;

/**
 * Told what happens to each call: accepted (the whole request is in and counted as working),
 * planned, started (each attempt at its work begins, once a worker is free), tried (an attempt ended), warnings while reading its variables, its end
 * (exactly once, refusals included); and connections closed for others, counted.
 */
public interface Listener {
    default void accepted(Call call) {}

    /** What an accepted call asked for: its attempts, not before when, its group (told only when not at once, once, in no group). */
    default void planned(Call call, Plan plan) {}

    /** An attempt begins (due: when it could have begun: its arrival, the end of its delay or backoff; null: unknown). */
    default void started(Call call, java.time.Instant due) {}

    /**
     * An attempt at a call's work ended (end is that attempt's), of attempts planned at most: next is when the next is
     * due, or null when this was the last.
     */
    default void tried(Done end, Try attempt, int attempts, java.time.Instant next) {}

    default void warning(Call call, String text) {}

    default void done(Done done) {}

    /** Connections closed before a request on them became a call, so many for a reason ("idle connection"), once a second at most. */
    default void refused(String reason, int count) {}
}
