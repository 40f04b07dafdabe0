

import java.io.IOException;
import java.net.URI;
import java.util.ArrayList;
import java.util.List;

/** serve.java started in this JVM on 127.0.0.1:0 with the given options, its log captured. */
final class TestServer implements AutoCloseable {
    final serve.Server server;
    final LogSink log = new LogSink();
    final Recorder calls = new Recorder();

    TestServer(String... args) throws IOException {
        List<String> all = new ArrayList<>(List.of("127.0.0.1:0"));
        all.addAll(List.of(args));
        server = serve.Server.start(serve.Options.parse(all.toArray(String[]::new)), log);
        server.listeners.add(calls); // after the log: an end recorded here is already logged
    }

    int port() {
        return server.port();
    }

    URI url(String path) {
        return URI.create(server.url() + path);
    }

    @Override
    public void close() {
        server.close();
    }
}
