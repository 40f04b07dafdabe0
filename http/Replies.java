package http;

import com.sun.net.httpserver.HttpExchange;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;

/** How every route answers: a whole answer with its length, nosniff, and a caller that has gone away is no error. */
public final class Replies {
    private Replies() {}

    /**
     * Sends a text answer (one char per byte); close: say "Connection: close" (a refusal whose body
     * may not have been read). Returns the status.
     */
    public static int send(HttpExchange call, int status, String text, boolean close) {
        call.getResponseHeaders().set("Content-Type", "text/plain; charset=UTF-8");
        return send(call, status, text == null ? new byte[0] : text.getBytes(StandardCharsets.ISO_8859_1), close);
    }

    /** Sends an answer of these bytes, with the Content-Type already set. */
    public static int send(HttpExchange call, int status, byte[] bytes, boolean close) {
        try {
            call.getResponseHeaders().set("X-Content-Type-Options", "nosniff");
            if (close) call.getResponseHeaders().set("Connection", "close");
            boolean noBody = bytes.length == 0 || call.getRequestMethod().equals("HEAD");
            call.sendResponseHeaders(status, noBody ? -1 : bytes.length);
            if (!noBody) {
                try (OutputStream out = call.getResponseBody()) {
                    out.write(bytes);
                }
            }
        } catch (IOException | IllegalStateException hungUp) {
            // The caller left before the answer, or an answer was already sent: the work still counts.
        }
        return status;
    }

    /** Whether the request has a body: a Content-Length other than 0, or a Transfer-Encoding. */
    public static boolean hasBody(HttpExchange call) {
        String length = call.getRequestHeaders().getFirst("Content-Length");
        return call.getRequestHeaders().containsKey("Transfer-Encoding") || (length != null && !length.trim().equals("0"));
    }
}
