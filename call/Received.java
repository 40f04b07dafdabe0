package call;

import java.net.InetSocketAddress;
import java.util.List;
import java.util.Map;

/**
 * What a call received: all its work needs, held while it waits: the method, the raw query, the
 * Content-Type, the headers, the body (as sent, at most post_max_size), the address it came to, the
 * protocol (HTTP/1.1) and whether it came over TLS.
 */
public record Received(String method, String rawQuery, String contentType, Map<String, List<String>> headers, byte[] body,
                       InetSocketAddress local, String protocol, boolean secure) {}
