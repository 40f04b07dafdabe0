import java.io.FileOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.time.Instant;

/**
 * serve --events FILE: the endpoint's events as JSON lines, one object a line, for programs (a test, a
 * log shipper) rather than people: {"event":"accepted"|"started"|"warning"|"done", "time", "id", "from",
 * "method", "uri", "key"} and, for "done", "status" (sent), "work_status" (of the work's answer, 0 when
 * not worked), "exit" (a command's), "note", "answer" (at most res.ANSWER_KEPT bytes of it) and
 * "answer_bytes"; for "warning", "text". Byte strings from a request are shown as UTF-8, an invalid
 * byte as U+FFFD. A line is written whole, so a reader never sees half an event.
 */
final class EventLog implements res.Listener {
    private final OutputStream out;

    private EventLog(OutputStream out) {
        this.out = out;
    }

    /** FILE appended to, or standard output for "-". */
    static EventLog open(String file) throws IOException {
        return new EventLog(file.equals("-") ? System.out : new FileOutputStream(file, true));
    }

    @Override
    public void accepted(res.Call call) {
        write(start("accepted", call).append('}'));
    }

    @Override
    public void started(res.Call call) {
        write(start("started", call).append('}'));
    }

    @Override
    public void warning(res.Call call, String text) {
        write(start("warning", call).append(",\"text\":").append(json(text)).append('}'));
    }

    @Override
    public void done(res.Done done) {
        StringBuilder line = start("done", done.call()).append(",\"status\":").append(done.status())
            .append(",\"work_status\":").append(done.workStatus());
        if (done.exit() >= 0) line.append(",\"exit\":").append(done.exit());
        if (done.note() != null) line.append(",\"note\":").append(json(done.note()));
        if (done.answer() != null) {
            line.append(",\"answer\":").append(json(done.answer())).append(",\"answer_bytes\":").append(done.answerBytes());
        }
        write(line.append('}'));
    }

    private static StringBuilder start(String event, res.Call call) {
        StringBuilder line = new StringBuilder(256).append("{\"event\":\"").append(event)
            .append("\",\"time\":\"").append(Instant.now()).append("\",\"id\":\"").append(call.id())
            .append("\",\"from\":").append(json(serve.Log.address(call.from())))
            .append(",\"method\":").append(json(call.method())).append(",\"uri\":").append(json(call.uri().toString()));
        if (call.key() != null) line.append(",\"key\":").append(json(call.key()));
        return line;
    }

    private void write(StringBuilder line) {
        byte[] bytes = line.append('\n').toString().getBytes(StandardCharsets.UTF_8);
        synchronized (out) {
            try {
                out.write(bytes);
                out.flush();
            } catch (IOException e) {
                throw new UncheckedIOException(e); // the listeners' fan-out reports it in the log
            }
        }
    }

    /** A byte string (one char per byte) as a JSON string: decoded as UTF-8, then escaped. */
    static String json(String bytes) {
        String text;
        try {
            text = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPLACE)
                .onUnmappableCharacter(CodingErrorAction.REPLACE)
                .decode(ByteBuffer.wrap(bytes.getBytes(StandardCharsets.ISO_8859_1))).toString();
        } catch (java.nio.charset.CharacterCodingException never) {
            text = bytes; // REPLACE never throws
        }
        StringBuilder out = new StringBuilder(text.length() + 2).append('"');
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            switch (c) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                case '\n' -> out.append("\\n");
                default -> {
                    if (c < 0x20 || c == 0x2028 || c == 0x2029) out.append(String.format("\\u%04x", (int) c));
                    else out.append(c);
                }
            }
        }
        return out.append('"').toString();
    }
}
