package call;

import java.net.InetSocketAddress;
import java.net.URI;

/** A call as the server speaks of it: its id, method, URI as sent, caller and Idempotency-Key (or null). */
public record Call(String id, String method, URI uri, InetSocketAddress from, String key) {}
