package server;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import http.Replies;

/** Every path that is not served: 404, logged as php -S logs a missing file. */
public final class NotFound implements HttpHandler {
    private final Log log;

    public NotFound(Log log) {
        this.log = log;
    }

    @Override
    public void handle(HttpExchange call) {
        try (call) {
            Replies.send(call, 404, "404 Not Found\n", Replies.hasBody(call));
        }
        log.line(call.getRemoteAddress(), "[404]: " + call.getRequestMethod() + " " + call.getRequestURI() + " - No such file or directory");
    }
}
