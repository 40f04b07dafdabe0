package queue;

import call.Call;
import call.Plan;
import call.Received;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;

/**
 * Without a store: the requests of failed and cancelled calls, kept so that POST /calls/ID/retry can run
 * them again, for as long as their monitors are (--keep) and within a bound of calls and bytes (the oldest
 * go first). A store keeps them all, in the database.
 */
public final class Kept {
    /** A call that can run again: its request, what it asked for, when it ended and whether it was cancelled. */
    public record Entry(Call call, Received received, Plan plan, Instant ended, boolean cancelled) {}

    private final LinkedHashMap<String, Entry> calls = new LinkedHashMap<>();
    private final int most;
    private final long mostBytes;
    private final Duration keep;
    private long bytes;

    public Kept(int most, long mostBytes, Duration keep) {
        this.most = most;
        this.mostBytes = mostBytes;
        this.keep = keep;
    }

    public synchronized void add(Call call, Received received, Plan plan, boolean cancelled) {
        remove(call.id());
        calls.put(call.id(), new Entry(call, received, plan, Instant.now(), cancelled));
        bytes += received.body().length;
        forget();
    }

    /** Takes a call out to run it again: null when it is not kept (never failed, or forgotten). */
    public synchronized Entry remove(String id) {
        Entry c = calls.remove(id);
        if (c != null) bytes -= c.received().body().length;
        return c;
    }

    /** Takes out the failed (or cancelled) calls that ended at since or after (null: all). */
    public synchronized List<Entry> removeAll(boolean cancelled, Instant since) {
        forget();
        List<Entry> out = new ArrayList<>();
        for (Iterator<Entry> each = calls.values().iterator(); each.hasNext(); ) {
            Entry c = each.next();
            if (c.cancelled() == cancelled && (since == null || !c.ended().isBefore(since))) {
                out.add(c);
                bytes -= c.received().body().length;
                each.remove();
            }
        }
        return out;
    }

    private void forget() {
        Instant before = Instant.now().minus(keep);
        for (Iterator<Entry> each = calls.values().iterator(); each.hasNext(); ) {
            Entry c = each.next();
            if (calls.size() <= most && bytes <= mostBytes && !c.ended().isBefore(before)) break;
            bytes -= c.received().body().length;
            each.remove();
        }
    }
}
