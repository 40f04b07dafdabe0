package server;

import call.Call;
import call.Done;
import call.Listener;
import call.Try;

import com.sun.net.httpserver.HttpExchange;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Instant;

/**
 * GET /calls/events: a "changed" event whenever calls change, for the dashboard to read its page again; at most
 * four a second, however busy serve is. With a store, other endpoints' changes are not heard: one comes every
 * 2 s all the same. A comment every 15 s meanwhile.
 */
public final class Changes implements Listener {
    private static final long AT_MOST_EVERY_MILLIS = 250, HEARTBEAT_MILLIS = 15_000;
    private final long pollMillis;
    /** Bumped by every event (on the calls' own threads: no lock unless someone follows), read by the followers. */
    private final java.util.concurrent.atomic.AtomicLong version = new java.util.concurrent.atomic.AtomicLong();
    private final java.util.concurrent.atomic.AtomicInteger followers = new java.util.concurrent.atomic.AtomicInteger();

    /** shared: calls are shared with other endpoints (a store), whose changes this serve does not hear. */
    public Changes(boolean shared) {
        this.pollMillis = shared ? 2_000 : HEARTBEAT_MILLIS;
    }

    private void changed() {
        version.incrementAndGet();
        if (followers.get() == 0) return;
        synchronized (this) {
            notifyAll();
        }
    }

    @Override
    public void accepted(Call call) {
        changed();
    }

    @Override
    public void started(Call call, Instant due) {
        changed();
    }

    @Override
    public void tried(Done end, Try attempt, int attempts, Instant next) {
        changed();
    }

    @Override
    public void done(Done done) {
        changed();
    }

    /** Streams the changes until the follower leaves (a write fails) or serve stops. */
    public void follow(HttpExchange exchange) throws IOException {
        exchange.getResponseHeaders().set("Content-Type", "text/event-stream; charset=UTF-8");
        exchange.getResponseHeaders().set("Cache-Control", "no-store");
        exchange.sendResponseHeaders(200, 0);
        Answers.leave(); // a stream of events, answered: it lasts, and holds no command back
        followers.incrementAndGet();
        try (OutputStream out = exchange.getResponseBody()) {
            send(out, ": changes of the calls\n\n");
            long seen = version.get();
            while (true) {
                synchronized (this) {
                    long until = System.currentTimeMillis() + pollMillis;
                    for (long now; version.get() == seen && (now = System.currentTimeMillis()) < until; ) wait(until - now);
                }
                long current = version.get();
                if (current != seen || pollMillis < HEARTBEAT_MILLIS) {
                    seen = current;
                    send(out, "event: changed\ndata: {}\n\n");
                    Thread.sleep(AT_MOST_EVERY_MILLIS);
                } else {
                    send(out, ": quiet\n\n");
                }
            }
        } catch (InterruptedException stop) {
            Thread.currentThread().interrupt();
        } catch (IOException gone) {
            // the follower left
        } finally {
            followers.decrementAndGet();
        }
    }

    private static void send(OutputStream out, String text) throws IOException {
        out.write(text.getBytes(StandardCharsets.UTF_8));
        out.flush();
    }
}
