package store;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.OptionalInt;

/**
 * The Idempotency-Keys an endpoint has seen (IETF httpapi draft "The Idempotency-Key HTTP Header Field"):
 * the most recent ones, up to a bound, each with a fingerprint of its request and the status it was
 * answered (none while its first call is still being worked on). Thread-safe; JDK only.
 */
public final class Idempotency {
    /** A key's first call: its request's fingerprint, the status it was answered (empty while still working) and its id. */
    public record Seen(byte[] fingerprint, OptionalInt status, String id) {}

    private final int capacity;
    private final Map<String, Seen> seen;

    public Idempotency(int capacity) {
        this.capacity = capacity;
        this.seen = new LinkedHashMap<>(16, 0.75f, false) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<String, Seen> eldest) {
                return size() > Idempotency.this.capacity;
            }
        };
    }

    /** Records key as being worked on and returns null; or, when the key was seen, what was seen. */
    public synchronized Seen claim(String key, byte[] fingerprint, String id) {
        Seen first = seen.get(key);
        if (first == null) seen.put(key, new Seen(fingerprint, OptionalInt.empty(), id));
        return first;
    }

    /** The key's first call was answered with status. */
    public synchronized void done(String key, int status) {
        seen.computeIfPresent(key, (k, first) -> new Seen(first.fingerprint(), OptionalInt.of(status), first.id()));
    }

    /** The key's first call did not get its work done: a retry with the same key may do it. */
    public synchronized void forget(String key) {
        seen.remove(key);
    }
}
