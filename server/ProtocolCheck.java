package server;

import com.sun.net.httpserver.Filter;
import com.sun.net.httpserver.HttpExchange;
import http.Replies;

import java.io.IOException;
import java.util.List;

/**
 * What every request is checked for before its handler, as nginx does: HTTP/1.0 or 1.1 only (505),
 * exactly one Host header in HTTP/1.1 (400), a Content-Length of digits only (400). A request without a
 * body has it read to its (empty) end here, so that the JDK keeps the connection for the next request.
 */
public final class ProtocolCheck extends Filter {
    private final Log log;

    public ProtocolCheck(Log log) {
        this.log = log;
    }

    @Override
    public void doFilter(HttpExchange call, Chain chain) throws IOException {
        String protocol = call.getProtocol();
        List<String> hosts = call.getRequestHeaders().get("Host");
        String refusal = null;
        int status = 400;
        if (!protocol.equals("HTTP/1.1") && !protocol.equals("HTTP/1.0")) {
            status = 505;
            refusal = "HTTP Version Not Supported: HTTP/1.1 and HTTP/1.0 only";
        } else if (protocol.equals("HTTP/1.1") && (hosts == null || hosts.size() != 1)) {
            refusal = "Bad Request: an HTTP/1.1 request has exactly one Host header";
        } else if (!digitsOnly(call.getRequestHeaders().get("Content-Length"))) {
            // "+0" or " 0x10": a proxy in front may read them otherwise than we would (RFC 9110 section 8.6).
            refusal = "Bad Request: a Content-Length is digits only";
        }
        if (refusal == null) {
            if (!Replies.hasBody(call)) call.getRequestBody().read();
            chain.doFilter(call);
            return;
        }
        try (call) {
            Replies.send(call, status, refusal + "\n", true);
        }
        log.line(call.getRemoteAddress(), "[" + status + "]: " + call.getRequestMethod() + " " + call.getRequestURI() + " - " + refusal);
    }

    /** Every value digits only, spaces around allowed (a loop, not a regex: every POST passes here). */
    private static boolean digitsOnly(List<String> lengths) {
        if (lengths == null) return true;
        for (String l : lengths) {
            String v = l.strip();
            if (v.isEmpty()) return false;
            for (int i = 0; i < v.length(); i++) if (v.charAt(i) < '0' || v.charAt(i) > '9') return false;
        }
        return true;
    }

    @Override
    public String description() {
        return "HTTP version and Host";
    }
}
