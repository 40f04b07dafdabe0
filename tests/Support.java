

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/** What the tests share: the project folder, raw HTTP, commands run in this JVM. */
final class Support {
    private Support() {}

    /** The project folder: the nearest folder up from here with jbang-catalog.json. */
    static final Path ROOT = root();

    private static Path root() {
        for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
            if (Files.exists(p.resolve("jbang-catalog.json")) && Files.exists(p.resolve("serve.java"))) return p;
        }
        throw new IllegalStateException("run the tests from the project folder (where jbang-catalog.json is)");
    }

    static String quote(String s) {
        return "'" + s.replace("'", "'\\''") + "'";
    }

    /** Sends raw bytes (one char per byte) and reads the whole answer, the connection closed by the server. */
    static String raw(int port, String request) throws IOException {
        try (Socket s = new Socket("127.0.0.1", port)) {
            s.setSoTimeout(20_000);
            s.getOutputStream().write(request.getBytes(StandardCharsets.ISO_8859_1));
            return new String(s.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
        }
    }

    static String body(String answer) {
        return answer.substring(answer.indexOf("\r\n\r\n") + 4);
    }

    static int status(String answer) {
        return Integer.parseInt(answer.substring(9, 12));
    }

    /** A port where nothing listens: taken, then given back. */
    static int closedPort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    /** What a command printed and returned, run in this JVM through its start(out, err, args). */
    record Run(int status, String out, String err, long millis) {}

    interface Command {
        int start(PrintWriter out, PrintWriter err, String... args);
    }

    static Run run(Command command, String... args) {
        StringWriter out = new StringWriter(), err = new StringWriter();
        long t = System.nanoTime();
        int status = command.start(new PrintWriter(out, true), new PrintWriter(err, true), args);
        return new Run(status, out.toString(), err.toString(), (System.nanoTime() - t) / 1_000_000);
    }

    static Run serveCommand(String... args) {
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        long t = System.nanoTime();
        int status = serve.start(new PrintStream(err, true, StandardCharsets.UTF_8), args);
        return new Run(status, "", err.toString(StandardCharsets.UTF_8), (System.nanoTime() - t) / 1_000_000);
    }

}
