package server;

import call.Call;
import call.Done;
import call.Listener;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * Every listener of the endpoint's events (the log, the page, the events file, a test's recorder),
 * each told in turn; one that throws is reported in the log and the others are told all the same.
 */
public final class Listeners implements Listener {
    private final List<Listener> all = new CopyOnWriteArrayList<>();
    private final Log log;

    public Listeners(Log log) {
        this.log = log;
        all.add(log);
    }

    public void add(Listener listener) {
        all.add(listener);
    }

    public void remove(Listener listener) {
        all.remove(listener);
    }

    @Override
    public void accepted(Call call) {
        each(l -> l.accepted(call));
    }

    @Override
    public void planned(Call call, call.Plan plan) {
        each(l -> l.planned(call, plan));
    }

    @Override
    public void tried(Done end, call.Try attempt, int attempts, java.time.Instant next) {
        each(l -> l.tried(end, attempt, attempts, next));
    }

    @Override
    public void started(Call call, java.time.Instant due) {
        each(l -> l.started(call, due));
    }

    @Override
    public void warning(Call call, String text) {
        each(l -> l.warning(call, text));
    }

    @Override
    public void done(Done done) {
        each(l -> l.done(done));
    }

    @Override
    public void refused(String reason, int count) {
        each(l -> l.refused(reason, count));
    }

    private void each(java.util.function.Consumer<Listener> event) {
        for (Listener l : all) {
            try {
                event.accept(l);
            } catch (RuntimeException e) {
                log.line(null, "A listener failed (" + l.getClass().getName() + "): " + e);
            }
        }
    }
}
