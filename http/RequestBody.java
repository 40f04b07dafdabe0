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
            if (chunked) return chunked(call, limit);
            long n = Long.parseLong(length.trim());
            if (n > limit) return null;
            // Exactly the announced size: no 16 KiB read buffer for a small body, which 10,000 calls would feel.
            byte[] body = call.getRequestBody().readNBytes((int) n);
            if (body.length < n) throw new EndedEarly(EndedEarly.LENGTH);
            if (n == 0) call.getRequestBody().read();
            return body;
        } catch (EndedEarly e) {
            throw e;
        } catch (IOException e) {
            throw new EndedEarly(EndedEarly.LENGTH);
        }
    }

    private static byte[] chunked(HttpExchange call, int limit) throws EndedEarly {
        try {
            byte[] body = call.getRequestBody().readNBytes(limit + 1);
            return body.length > limit ? null : body;
        } catch (IOException e) {
            throw new EndedEarly(EndedEarly.CHUNKS);
        }
    }

    /** The caller hung up, or took longer than the request timeout, before sending all its body; or its chunks could not be read. */
    public static final class EndedEarly extends IOException {
        static final String LENGTH = "the body ended before its Content-Length (the caller hung up or stalled)";
        // The JDK's reader of chunks takes "3;x" but not "3 ;x" (whitespace before an extension), nor trailer fields.
        static final String CHUNKS = "the chunked body could not be read (whitespace before a chunk extension or a trailer"
            + " field, which are not taken here, or the caller hung up or stalled)";

        EndedEarly(String why) {
            super(why);
        }
    }
}
