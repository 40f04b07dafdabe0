package server;

import call.Report;
import http.Replies;

import com.sun.net.httpserver.HttpExchange;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.function.Function;

/**
 * The output of --run commands as they write it, by call (GET /calls/ID/output, server-sent events): each
 * attempt's stdout and stderr told apart, the last KEPT bytes of each held, so that one who follows late, or
 * after the end, reads the end of it. Ended calls' output stays for the last CALLS_KEPT calls
 * (32 KiB each at most).
 */
public final class Output {
    /** How much of each stream a call holds: what a follower who comes late, or falls behind, gets. */
    static final int KEPT = 16 * 1024;
    static final int CALLS_KEPT = 256;
    private static final long HEARTBEAT_NANOS = 15_000_000_000L, LOOK_MILLIS = 200;

    /** One stream of one attempt: its last KEPT bytes (in as little as it wrote), and how many it wrote in all. */
    static final class Stream {
        private byte[] ring = new byte[0];
        private long total;

        private void add(byte[] bytes, int length) {
            long need = Math.min(KEPT, total + length);
            if (ring.length < need) ring = java.util.Arrays.copyOf(ring, (int) Math.min(KEPT, Math.max(need, 2L * ring.length)));
            for (int i = Math.max(0, length - KEPT); i < length; i++) ring[(int) ((total + i) % KEPT)] = bytes[i];
            total += length;
        }

        /** The bytes from position from on (those older than KEPT are gone). */
        private byte[] from(long from) {
            long start = Math.max(from, total - KEPT);
            byte[] out = new byte[(int) (total - start)];
            for (int i = 0; i < out.length; i++) out[i] = ring[(int) ((start + i) % KEPT)];
            return out;
        }
    }

    /** One attempt's output while its command runs, and after. */
    public static final class Live {
        private final Output owner;
        final String id;
        final int attempt;
        final Stream out = new Stream(), err = new Stream();
        boolean ended;

        private Live(Output owner, String id, int attempt) {
            this.owner = owner;
            this.id = id;
            this.attempt = attempt;
        }

        /** What the command wrote (err: to stderr) since it was last looked at. */
        public synchronized void add(boolean toErr, byte[] bytes, int length) {
            if (length <= 0) return;
            (toErr ? err : out).add(bytes, length);
            notifyAll();
        }

        /** The command ended: nothing more comes. */
        public void end() {
            synchronized (this) {
                ended = true;
                notifyAll();
            }
            owner.ended(this);
        }
    }

    /** The calls' output by id: those running, and the last CALLS_KEPT ended (in the order they ended). */
    private final Map<String, Live> calls = new java.util.HashMap<>();
    private final java.util.ArrayDeque<Live> ended = new java.util.ArrayDeque<>();

    /** An attempt at a call begins its command: its output from now on. */
    public Live start(String id, int attempt) {
        Live live = new Live(this, id, attempt);
        synchronized (calls) {
            calls.put(id, live);
        }
        return live;
    }

    private void ended(Live live) {
        synchronized (calls) {
            ended.addLast(live);
            while (ended.size() > CALLS_KEPT) {
                Live gone = ended.removeFirst();
                calls.remove(gone.id, gone); // unless its call has run again since
            }
        }
    }

    private Live live(String id) {
        synchronized (calls) {
            return calls.get(id);
        }
    }

    /**
     * GET /calls/ID/output: "stdout" and "stderr" events (each one's data the next piece of that stream, as
     * written), "attempt" as each attempt's command starts, "skipped" when a follower fell more than KEPT bytes
     * behind, and "end" with the call's monitor once it has ended; a comment every 15 s meanwhile. A call not
     * worked here (not a command, at another endpoint, before a restart) ends with its monitor alone.
     */
    public void follow(HttpExchange exchange, String id, Function<String, Report> monitor) throws IOException {
        if (monitor.apply(id) == null) {
            Replies.send(exchange, 404, "404 Not Found: no such call (or it finished longer ago than it is kept)\n", Replies.hasBody(exchange));
            return;
        }
        exchange.getResponseHeaders().set("Content-Type", "text/event-stream; charset=UTF-8");
        exchange.getResponseHeaders().set("Cache-Control", "no-store");
        exchange.sendResponseHeaders(200, 0);
        Answers.leave(); // a stream of events, answered: it lasts, and holds no command back
        try (OutputStream out = exchange.getResponseBody()) {
            Sender send = new Sender(out);
            send.comment("the output of call " + id);
            Live done = null;
            long beat = System.nanoTime() + HEARTBEAT_NANOS;
            while (true) {
                Live live = live(id);
                if (live != null && live != done) {
                    stream(live, send);
                    done = live;
                    beat = System.nanoTime() + HEARTBEAT_NANOS;
                    continue;
                }
                Report r = monitor.apply(id);
                if (r == null || r.finished() != null) {
                    // Not followed here (not a command, another endpoint's, before a restart): its monitor keeps the answer's start and stderr's end.
                    send.event("end", r == null ? "{}" : Monitor.json(r).strip());
                    return;
                }
                if (System.nanoTime() > beat) {
                    send.comment("waiting"); // and a follower that left is noticed here
                    beat = System.nanoTime() + HEARTBEAT_NANOS;
                }
                try {
                    Thread.sleep(LOOK_MILLIS);
                } catch (InterruptedException stop) {
                    Thread.currentThread().interrupt();
                    return;
                }
            }
        } catch (IOException gone) {
            // the follower left
        }
    }

    /** One attempt's output, from the oldest byte still held, until its command has ended and all of it is sent. */
    private static void stream(Live live, Sender send) throws IOException {
        send.event("attempt", String.valueOf(live.attempt));
        long outAt = 0, errAt = 0;
        Text outText = new Text(), errText = new Text();
        while (true) {
            byte[] outNew, errNew;
            long outSkipped, errSkipped;
            boolean ended;
            synchronized (live) {
                long beat = System.nanoTime() + HEARTBEAT_NANOS;
                while (!live.ended && live.out.total == outAt && live.err.total == errAt && System.nanoTime() < beat) {
                    try {
                        live.wait(Math.max(1, (beat - System.nanoTime()) / 1_000_000));
                    } catch (InterruptedException stop) {
                        Thread.currentThread().interrupt();
                        return;
                    }
                }
                outSkipped = Math.max(0, live.out.total - KEPT - outAt);
                errSkipped = Math.max(0, live.err.total - KEPT - errAt);
                outNew = live.out.from(outAt);
                errNew = live.err.from(errAt);
                outAt = live.out.total;
                errAt = live.err.total;
                ended = live.ended;
            }
            if (outSkipped > 0) send.event("skipped", "{\"stream\":\"stdout\",\"bytes\":" + outSkipped + "}");
            String outPiece = outText.next(outNew, ended, outSkipped > 0), errPiece = errText.next(errNew, ended, errSkipped > 0);
            if (!outPiece.isEmpty()) send.event("stdout", outPiece);
            if (errSkipped > 0) send.event("skipped", "{\"stream\":\"stderr\",\"bytes\":" + errSkipped + "}");
            if (!errPiece.isEmpty()) send.event("stderr", errPiece);
            if (outNew.length == 0 && errNew.length == 0 && !ended) send.comment("working");
            if (ended) return;
        }
    }

    /** A stream's bytes as UTF-8 text, piece by piece: the bytes of a character cut between two pieces wait for its rest. */
    private static final class Text {
        private final CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder()
            .onMalformedInput(CodingErrorAction.REPLACE).onUnmappableCharacter(CodingErrorAction.REPLACE);
        private byte[] rest = new byte[0];

        boolean waiting() {
            return rest.length > 0;
        }

        /** The text of the next piece (skipped: the bytes before it are gone); last: nothing comes after it. */
        String next(byte[] bytes, boolean last, boolean skipped) {
            if (skipped) rest = new byte[0];
            ByteBuffer in = ByteBuffer.allocate(rest.length + bytes.length).put(rest).put(bytes).flip();
            CharBuffer out = CharBuffer.allocate(in.remaining() + 1);
            decoder.decode(in, out, last);
            if (last) decoder.flush(out);
            rest = new byte[in.remaining()];
            in.get(rest);
            return out.flip().toString();
        }
    }

    /** Writes server-sent events: each line of data a "data:" line, so that the data is the text as it was. */
    private static final class Sender {
        private final OutputStream out;

        Sender(OutputStream out) {
            this.out = out;
        }

        void event(String name, String data) throws IOException {
            StringBuilder e = new StringBuilder("event: ").append(name).append('\n');
            // An event stream ends a line at CR, LF or CRLF: each is a line of data here, read back as LF.
            for (String line : data.split("\r\n|\r|\n", -1)) e.append("data: ").append(line).append('\n');
            out.write(e.append('\n').toString().getBytes(StandardCharsets.UTF_8));
            out.flush();
        }

        void comment(String text) throws IOException {
            out.write((": " + text + "\n\n").getBytes(StandardCharsets.UTF_8));
            out.flush();
        }
    }
}
