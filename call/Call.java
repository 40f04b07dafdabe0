package call;

import java.net.InetSocketAddress;
import java.net.URI;

/**
 * A call as the server speaks of it: its id, method, URI as sent, caller, Idempotency-Key (or null), and
 * which attempt at its work this is (1, 2, …: a call whose work fails is tried again).
 */
public record Call(String id, String method, URI uri, InetSocketAddress from, String key, int attempt) {
    public Call(String id, String method, URI uri, InetSocketAddress from, String key) {
        this(id, method, uri, from, key, 1);
    }

    /** The same call at another attempt. */
    public Call attempt(int n) {
        return new Call(id, method, uri, from, key, n);
    }
}
