package server;

import call.Call;
import call.Done;
import call.Listener;
import call.Try;
import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.exporter.httpserver.MetricsHandler;
import io.prometheus.metrics.instrumentation.jvm.JvmMetrics;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.prometheus.metrics.model.snapshots.Unit;

import java.time.Duration;
import java.time.Instant;
import java.util.function.IntSupplier;
import java.util.function.LongSupplier;

/**
 * What GET /metrics says, counted by the Prometheus Java client from the endpoint's events: calls accepted,
 * finished (by state), retried, refused (by reason); calls waiting and working now; how long calls waited
 * before their work, how long each attempt worked, how long the store took to commit; connections open;
 * and the JVM's own. One registry per server, so that servers in one JVM (the tests) count apart.
 */
public final class Metrics implements Listener {
    /** Bounds for waits and work, from a millisecond to ten minutes: a call's work is seconds, its backoff minutes. */
    private static final double[] SECONDS = {0.001, 0.005, 0.025, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600};

    private final PrometheusRegistry registry = new PrometheusRegistry();
    private final MetricsHandler handler;
    private final Counter accepted = Counter.builder().name("asynccall_calls_accepted_total")
        .help("Calls whose whole request was read and admitted").register(registry);
    private final Counter finished = Counter.builder().name("asynccall_calls_finished_total")
        .help("Accepted calls that ended, by state: done, failed or cancelled").labelNames("state").register(registry);
    private final Counter retried = Counter.builder().name("asynccall_calls_retried_total")
        .help("Attempts that failed and are to be tried again").register(registry);
    private final Counter refused = Counter.builder().name("asynccall_calls_refused_total")
        .help("Requests and connections refused before they became calls, by reason").labelNames("reason").register(registry);
    private final Histogram waited = Histogram.builder().name("asynccall_wait_seconds").unit(Unit.SECONDS).classicOnly()
        .classicUpperBounds(SECONDS).help("From when an attempt could begin (its arrival, delay or backoff ended) to its start")
        .register(registry);
    private final Histogram worked = Histogram.builder().name("asynccall_work_seconds").unit(Unit.SECONDS).classicOnly()
        .classicUpperBounds(SECONDS).help("How long each attempt at a call's work took").register(registry);
    private final Histogram committed = Histogram.builder().name("asynccall_store_commit_seconds").unit(Unit.SECONDS).classicOnly()
        .help("How long the store took to commit one batch of writes").register(registry);

    /**
     * @param waiting calls accepted and not working now (queued, delayed, retrying; with a store, all its endpoints')
     * @param working attempts at work going on in this server now
     * @param connections connections open now
     */
    public Metrics(LongSupplier waiting, IntSupplier working, IntSupplier connections) {
        GaugeWithCallback.builder().name("asynccall_calls_waiting").help("Calls accepted and waiting for their work (with a store: in it)")
            .callback(g -> g.call(waiting.getAsLong())).register(registry);
        GaugeWithCallback.builder().name("asynccall_calls_working").help("Attempts at work going on in this server")
            .callback(g -> g.call(working.getAsInt())).register(registry);
        GaugeWithCallback.builder().name("asynccall_connections_open").help("Connections open to this server")
            .callback(g -> g.call(connections.getAsInt())).register(registry);
        JvmMetrics.builder().register(registry);
        handler = new MetricsHandler(registry);
    }

    @Override
    public void accepted(Call call) {
        accepted.inc();
    }

    @Override
    public void started(Call call, Instant due) {
        if (due != null) waited.observe(Math.max(0, Duration.between(due, Instant.now()).toNanos() / 1e9));
    }

    @Override
    public void tried(Done end, Try attempt, int attempts, Instant next) {
        worked.observe(Duration.between(attempt.started(), attempt.finished()).toNanos() / 1e9);
        if (next != null) retried.inc();
    }

    @Override
    public void done(Done done) {
        if (done.repeat()) {
            refused.labelValues("repeated key").inc();
        } else if (done.status() == 202 || done.workStatus().isPresent()) {
            finished.labelValues(done.cancelled() ? "cancelled" : done.failed() ? "failed" : "done").inc();
        } else {
            refused.labelValues(reason(done.status())).inc();
        }
    }

    @Override
    public void refused(String reason, int count) {
        refused.labelValues(reason).inc(count);
    }

    /** GET /metrics, as the Prometheus client answers it (the text format, or what the scraper asks for). */
    public com.sun.net.httpserver.HttpHandler handler() {
        return handler;
    }

    /** A commit of the store, as long as it took. */
    public void committed(Duration took) {
        committed.observe(took.toNanos() / 1e9);
    }

    /** A request refused before its work, named by its status: a few fixed names, never the request's own words. */
    static String reason(int status) {
        return switch (status) {
            case 400 -> "bad request";
            case 401 -> "no token";
            case 409 -> "key in use";
            case 411 -> "no length";
            case 413 -> "body too large";
            case 422 -> "key reused";
            case 431 -> "headers too large";
            case 501 -> "not implemented";
            case 503 -> "busy";
            default -> "status " + (status >= 100 && status <= 599 ? status : 0);
        };
    }
}
