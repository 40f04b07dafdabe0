package http;

import com.sun.net.httpserver.HttpExchange;

import java.io.IOException;

/** A request's body read whole, up to a limit: exactly its Content-Length, or chunks until the limit. */
public final class RequestBody {
    private RequestBody() {}

    /** The body, or null when it is larger than limit: then it is not read further (the answer closes the connection). */
    public static byte[] read(HttpExchange call, int limit) throws EndedEarly {
        String length = call.getRequestHeaders().getFirst("Content-Length");
        boolean chunked = call.getRequestHeaders().containsKey("Transfer-Encoding");
        try {
            if (!chunked && length == null) {
                call.getRequestBody().read(); // the end of an empty body: the connection can take the next request
                return new byte[0];
            }
            if (chunked) {
                byte[] body = call.getRequestBody().readNBytes(limit + 1);
                return body.length > limit ? null : body;
            }
            long n = Long.parseLong(length.trim());
            if (n > limit) return null;
            // Exactly the announced size: no 16 KiB read buffer for a small body, which 10,000 calls would feel.
            byte[] body = call.getRequestBody().readNBytes((int) n);
            if (body.length < n) throw new EndedEarly();
            if (n == 0) call.getRequestBody().read();
            return body;
        } catch (EndedEarly e) {
            throw e;
        } catch (IOException e) {
            throw new EndedEarly();
        }
    }

    /** The caller hung up, or took longer than the request timeout, before sending all its body. */
    public static final class EndedEarly extends IOException {
        EndedEarly() {
            super("the body ended before its Content-Length (the caller hung up or stalled)");
        }
    }
}
