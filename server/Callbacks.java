package server;

import call.Backoff;
import call.Callback;
import call.Done;
import call.Listener;
import call.Report;
import http.WebhookSignature;

import java.io.IOException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.Set;
import java.util.function.Consumer;

/**
 * Tells a call's end to the URL it named (Asynccall-Callback): POSTs its monitor's JSON, signed as the Standard
 * Webhooks spec says, until an answer 2xx, at most as many times as a call is tried, the waits of --backoff
 * between. Without a store it hears the ends as a listener; with one, the store gives it each end once committed
 * (and, at a start, those whose telling a stop cut short), and what it did is written back to the call's row.
 */
public final class Callbacks implements Listener {
    /** Where a call is read as its monitor shows it, and how its callback went is written. */
    public interface Book {
        Report report(String id);

        /** How the telling of the call's end at ended went (an end since, of a run again, is not this one's). */
        void told(String id, Instant ended, Callback c);
    }

    private static final Duration CONNECT = Duration.ofSeconds(10), ANSWER = Duration.ofSeconds(30);
    private final WebhookSignature signature;
    private final int attempts;
    private final Backoff backoff;
    private final Book book;
    private final http.CallbackUrls allowed;
    private final Consumer<String> log;
    // No redirects: a 3xx could lead out of what --callback-allow allows; it is an answer that is not 2xx.
    private final HttpClient client = HttpClient.newBuilder().connectTimeout(CONNECT).followRedirects(HttpClient.Redirect.NEVER).build();
    private final Set<Thread> sending = java.util.concurrent.ConcurrentHashMap.newKeySet();
    private volatile boolean closed;

    public Callbacks(WebhookSignature signature, int attempts, Backoff backoff, http.CallbackUrls allowed, Book book, Consumer<String> log) {
        this.allowed = allowed;
        this.signature = signature;
        this.attempts = attempts;
        this.backoff = backoff;
        this.book = book;
        this.log = log;
    }

    /** Without a store: the end of a call answered 202 (a repeat of a key is not an end). */
    @Override
    public void done(Done done) {
        if (done.status() == 202 && !done.repeat()) send(done.call().id());
    }

    /** Tells the end of a call, if it named a callback, on a thread of its own. */
    public void send(String id) {
        if (closed) return;
        Thread.ofVirtual().name("callback " + id).start(() -> {
            sending.add(Thread.currentThread());
            try {
                Report end = book.report(id);
                if (end != null && end.callback() != null && end.finished() != null) deliver(end);
            } finally {
                sending.remove(Thread.currentThread());
            }
        });
    }

    private void deliver(Report end) {
        String id = end.id();
        java.net.URI url = end.callback().url();
        // One message, one webhook-id, whichever attempt: the receiver may tell a repeat by it. A call run again ends anew.
        String message = "msg_" + id + "_" + end.finished().toEpochMilli();
        byte[] body = Monitor.json(end.told(null)).getBytes(StandardCharsets.UTF_8);
        String what = "Callback of call " + id + " to " + url;
        try {
            allowed.check(url.toString()); // stored under an earlier serve's --callback-allow: what this one allows is what goes
        } catch (IllegalArgumentException e) {
            book.told(id, end.finished(), new Callback(url, Callback.FAILED, end.callback().attempts(), 0));
            log.accept(what + ": not sent, not under what --callback-allow allows now");
            return;
        }
        for (int n = end.callback().attempts() + 1; ; n++) {
            if (n > end.callback().attempts() + 1) {
                Report now = book.report(id);
                if (now == null || !end.finished().equals(now.finished())) {
                    log.accept(what + ": its end of " + end.finished() + " is not told again (the call ran again since; its new end is told)");
                    return;
                }
            }
            long timestamp = Instant.now().getEpochSecond();
            HttpRequest request = HttpRequest.newBuilder(url).version(HttpClient.Version.HTTP_1_1).timeout(ANSWER)
                .header("Content-Type", "application/json")
                .header("User-Agent", "asynccall").header("webhook-id", message).header("webhook-timestamp", String.valueOf(timestamp))
                .header("webhook-signature", signature.sign(message, timestamp, body)).POST(HttpRequest.BodyPublishers.ofByteArray(body)).build();
            int status = 0;
            String why;
            Duration retryAfter = null;
            try {
                // The status is the answer: the body is not read (the timeout ends at the headers, and a body trickled forever
                // would hold the telling), its connection closed.
                HttpResponse<java.io.InputStream> answer = client.send(request, HttpResponse.BodyHandlers.ofInputStream());
                answer.body().close();
                status = answer.statusCode();
                why = "status " + status;
                retryAfter = answer.headers().firstValue("Retry-After").filter(s -> s.matches("\\d{1,5}")).map(s -> Duration.ofSeconds(Long.parseLong(s))).orElse(null);
            } catch (IOException e) {
                why = e.getClass().getSimpleName() + (e.getMessage() == null ? "" : ": " + e.getMessage());
            } catch (InterruptedException stop) {
                return; // a stop: with a store, the call's row says it is still being sent, and the next start sends it
            }
            if (status >= 200 && status < 300) {
                book.told(id, end.finished(), new Callback(url, Callback.DELIVERED, n, status));
                log.accept(what + ": delivered (" + why + (n > 1 ? ", attempt " + n + " of " + attempts : "") + ")");
                return;
            }
            if (n >= attempts) {
                book.told(id, end.finished(), new Callback(url, Callback.FAILED, n, status));
                log.accept(what + ": attempt " + n + " of " + attempts + " failed (" + why + "): given up");
                return;
            }
            book.told(id, end.finished(), new Callback(url, Callback.SENDING, n, status));
            Instant next = backoff.next(n, retryAfter);
            Duration wait = Duration.between(Instant.now(), next);
            log.accept(what + ": attempt " + n + " of " + attempts + " failed (" + why + "): tried again in "
                + String.format(java.util.Locale.ROOT, "%.1f", Math.max(0, wait.toMillis()) / 1000.0) + " s");
            try {
                if (!wait.isNegative()) Thread.sleep(wait);
            } catch (InterruptedException stop) {
                return;
            }
        }
    }

    /** A stop: callbacks being sent are cut (with a store, sent again at the next start). */
    public void close() {
        closed = true;
        sending.forEach(Thread::interrupt);
        client.close();
    }
}
