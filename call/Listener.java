package call;

/**
 * Told what happens to each call: accepted (the whole request is in and counted as working),
 * started (its work begins, once a worker is free), warnings while reading its variables, its end
 * (exactly once, refusals included).
 */
public interface Listener {
    default void accepted(Call call) {}

    default void started(Call call) {}

    default void warning(Call call, String text) {}

    default void done(Done done) {}
}
