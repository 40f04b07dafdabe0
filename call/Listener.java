package call;

/**
 * Told what happens to each call: accepted (the whole request is in and counted as working),
 * started (its work begins, once a worker is free), warnings while reading its variables, its end
 * (exactly once, refusals included); and connections closed for others, counted.
 */
public interface Listener {
    default void accepted(Call call) {}

    default void started(Call call) {}

    default void warning(Call call, String text) {}

    default void done(Done done) {}

    /** Connections closed before a request on them became a call, so many for a reason ("idle connection"), once a second at most. */
    default void refused(String reason, int count) {}
}
