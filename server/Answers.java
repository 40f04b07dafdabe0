package server;

import call.Call;
import call.Listener;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The requests being read or answered now, from when the HTTP server hands one over until its answer is sent,
 * or its call is in (read whole and admitted), or its stream of events begins: a --run command starts once there
 * are none, or at the latest DEFER_MILLIS after it could, so that in a burst the callers' requests are read and
 * answered first and the commands' processes (an exec costs milliseconds of CPU) come after them. (Counting
 * arrivals instead, a command starting in any 5 ms without one, let commands in amid the burst: 168–429 answers
 * a second where this gave 947–1,202.)
 */
public final class Answers implements Listener {
    /** The longest a command's start waits for the answers of a burst. */
    public static final long DEFER_MILLIS = 2000;
    private final AtomicInteger going = new AtomicInteger();
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition none = lock.newCondition();
    private volatile int waiting;

    /** The request a thread is answering, and whether it no longer counts. */
    private static final class Turn {
        final Answers of;
        boolean left;

        Turn(Answers of) {
            this.of = of;
        }
    }

    private static final ThreadLocal<Turn> ANSWERING = new ThreadLocal<>();

    /** A request was handed over. */
    void begin() {
        going.incrementAndGet();
    }

    /** Runs a request's exchange on this thread (begun); it counts until it ends or leaves. */
    void answer(Runnable exchange) {
        Turn turn = new Turn(this);
        ANSWERING.set(turn);
        try {
            exchange.run();
        } finally {
            ANSWERING.remove();
            if (!turn.left) end();
        }
    }

    /** A request that no longer counts, on a thread that was not given one (the server stops). */
    void abandon() {
        end();
    }

    private void end() {
        if (going.decrementAndGet() == 0 && waiting > 0) {
            lock.lock();
            try {
                none.signalAll();
            } finally {
                lock.unlock();
            }
        }
    }

    /** The request of this thread stops counting: it was answered, and what follows (a stream, a call's work) takes its time. */
    public static void leave() {
        Turn turn = ANSWERING.get();
        if (turn != null && !turn.left) {
            turn.left = true;
            turn.of.end();
        }
    }

    /**
     * A call is in, read whole: what is left of its request is an answer (a 202 in a moment), or its work for a caller
     * that waits, maybe for a worker first (--workers): it no longer counts.
     */
    @Override
    public void accepted(Call call) {
        leave();
    }

    /** Waits until no request is being read or answered, at most DEFER_MILLIS; at once on a request's own thread (its caller waits). */
    public void awaitNone() throws InterruptedException {
        if (going.get() == 0 || ANSWERING.get() != null) return;
        lock.lock();
        try {
            waiting++;
            for (long left = TimeUnit.MILLISECONDS.toNanos(DEFER_MILLIS); going.get() > 0 && left > 0; ) left = none.awaitNanos(left);
        } finally {
            waiting--;
            lock.unlock();
        }
    }
}
