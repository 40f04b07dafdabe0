package queue;

import call.Backoff;
import call.Call;
import call.Done;
import call.Listener;
import call.Plan;
import call.Received;
import call.Try;
import call.Verdict;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * Without a store: the calls answered 202, each worked in a thread of its own: its turn in its group, its
 * time, then attempt after attempt with backoff, until one is done, the work gives up, the attempts run out,
 * or it is cancelled. A failed or cancelled call is kept to run again. A store does all of this in rows.
 */
public final class Line {
    /** One attempt at a call's work, its end whatever happens (a failure is an end, not a throw). */
    public interface Attempt {
        /** due: when the attempt could have begun (its arrival, the end of its delay or backoff). */
        Done work(Call call, Received received, Instant due);
    }

    /** The note of a call a stop cut before its work was done. */
    public static final String STOPPED = "stopped before the work was done";

    /** A call in the line, until it ends: what it needs to be worked, and to be cancelled. */
    private static final class Pending {
        final Call call;
        final Received received;
        final Plan plan;
        volatile Thread thread;
        volatile boolean cancelled;
        final Instant arrived = Instant.now();
        final CountDownLatch ended = new CountDownLatch(1);

        Pending(Call call, Received received, Plan plan) {
            this.call = call;
            this.received = received;
            this.plan = plan;
        }
    }

    private final Executor background;
    private final Listener listener;
    private final Backoff backoff;
    private final Attempt attempt;
    private final Map<String, Pending> pending = new ConcurrentHashMap<>();
    private final Groups groups = new Groups();
    private final Kept kept;
    /** Calls waiting for their time or their group's turn, not working: a stop need not wait for them. */
    private int resting;

    /**
     * @param listener told each call's plan and each attempt's end (what it throws stays with it)
     * @param kept where failed and cancelled calls wait to run again
     */
    public Line(Executor background, Listener listener, Backoff backoff, Attempt attempt, Kept kept) {
        this.background = background;
        this.listener = listener;
        this.backoff = backoff;
        this.attempt = attempt;
        this.kept = kept;
    }

    /** A call about to be answered 202 takes its place in its group's line: a call its caller sends next comes after it. */
    public void hold(Call call, Plan plan) {
        groups.join(plan.group(), call.id());
    }

    /**
     * A call answered 202 joins the line (its group's too, in arrival order) and is worked in a thread of its own;
     * ended is told its end (done, failed, cancelled, or cut by a stop) and then the call is kept when it failed.
     */
    public void start(Call call, Received received, Plan plan, Consumer<Done> ended) {
        Pending p = new Pending(call, received, plan);
        pending.put(call.id(), p);
        groups.join(plan.group(), call.id());
        if (!plan.equals(Plan.ONCE)) tell(l -> l.planned(call, plan));
        background.execute(() -> {
            Done end = null;
            boolean ending = false;
            try {
                end = attempts(p);
                enterEnding();
                ending = true;
                ended.accept(end);
            } finally {
                // Kept once its end is told (a run again must not meet the end of this one), then let go.
                if (end != null && end.failed() && !STOPPED.equals(end.note())) kept.add(call, received, plan, end.cancelled());
                if (ending) leaveEnding();
                pending.remove(call.id(), p);
                p.ended.countDown();
            }
        });
    }

    private Done attempts(Pending p) {
        p.thread = Thread.currentThread();
        Call call = p.call;
        try {
            if (p.cancelled) throw new InterruptedException();
            rest(() -> groups.awaitTurn(p.plan.group(), call.id()));
            Instant at = p.plan.notBefore();
            for (int n = 1; ; n++) {
                Instant due = at;
                if (due != null) rest(() -> sleepUntil(due));
                Instant started = Instant.now();
                Done d = attempt.work(call.attempt(n), p.received, due == null || due.isBefore(p.arrived) ? p.arrived : due);
                // A cancel sets cancelled before it interrupts: an interrupt without it is a stop's.
                if (Thread.currentThread().isInterrupted() && !p.cancelled) return d;
                Verdict verdict = Verdict.of(d);
                if (p.cancelled && verdict != Verdict.DONE) {
                    Thread.interrupted();
                    Done cut = d.noted(Done.CANCELLED);
                    tell(l -> l.tried(cut, Try.of(cut, started), p.plan.attempts(), null));
                    return cut;
                }
                at = verdict == Verdict.AGAIN && n < p.plan.attempts() ? backoff.next(n, d.retryAfter()) : null;
                Done end = at == null ? ended(d, verdict) : d;
                Instant next = at;
                tell(l -> l.tried(end, Try.of(end, started), p.plan.attempts(), next));
                if (at == null) return end;
            }
        } catch (InterruptedException e) {
            if (!p.cancelled) {
                Thread.currentThread().interrupt();
                return Done.refused(call, 202, STOPPED);
            }
            Thread.interrupted();
            return Done.refused(call, 202, Done.CANCELLED);
        } finally {
            groups.leave(p.plan.group(), call.id());
        }
    }

    /** A call's last attempt, with a note when its failure has none (a CGI status): the log and the monitor say why. */
    public static Done ended(Done d, Verdict verdict) {
        if (verdict == Verdict.DONE || d.note() != null) return d;
        String why = "status " + d.workStatus().orElse(0);
        return d.noted(verdict == Verdict.GIVE_UP ? Done.GAVE_UP + why : "failed: " + why);
    }

    private interface Wait {
        void run() throws InterruptedException;
    }

    /** Waits, counted as resting meanwhile. */
    private void rest(Wait wait) throws InterruptedException {
        synchronized (this) {
            resting++;
        }
        try {
            wait.run();
        } finally {
            synchronized (this) {
                resting--;
            }
        }
    }

    private static void sleepUntil(Instant at) throws InterruptedException {
        for (Duration left; (left = Duration.between(Instant.now(), at)).isPositive(); ) Thread.sleep(left);
    }

    /** The calls waiting for their time or their turn now. */
    public synchronized int resting() {
        return resting;
    }

    /**
     * Cancels a call in the line: waiting, it ends at once; working, its work is interrupted (a command's process group
     * ended). Returns 200 once it ended, 202 while it is still ending after wait, 0 when no such call is in the line.
     */
    public int cancel(String id, Duration wait) throws InterruptedException {
        Pending p = pending.get(id);
        if (p == null) return 0;
        p.cancelled = true;
        Thread worker = p.thread;
        if (worker != null) worker.interrupt();
        return p.ended.await(wait.toMillis(), TimeUnit.MILLISECONDS) ? 200 : 202;
    }

    /** Ends being told whose call is not yet kept: one told failed is run again only once kept, so a run again waits for them. */
    private int ending;

    private synchronized void enterEnding() {
        ending++;
    }

    private synchronized void leaveEnding() {
        ending--;
        notifyAll();
    }

    /** Waits (a second at most: an end is told in microseconds) until every end told is kept. */
    private synchronized void awaitKept() {
        long until = System.nanoTime() + 1_000_000_000L;
        try {
            while (ending > 0 && System.nanoTime() < until) wait(Math.max(1, (until - System.nanoTime()) / 1_000_000));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** A kept call taken out to run again (null: not kept), or those of a state that ended at since or later. */
    public Kept.Entry takeKept(String id) {
        awaitKept();
        return kept.remove(id);
    }

    public List<Kept.Entry> takeKept(boolean cancelled, Instant since) {
        awaitKept();
        return kept.removeAll(cancelled, since);
    }

    /** A call taken out that could not run again after all (the queue is full): kept as it was. */
    public void keepAgain(Kept.Entry e) {
        kept.add(e.call(), e.received(), e.plan(), e.cancelled());
    }

    private void tell(Consumer<Listener> event) {
        try {
            event.accept(listener);
        } catch (RuntimeException e) {
            // The listener's failure is its own: the call goes on.
        }
    }
}
