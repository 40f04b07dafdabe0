package queue;

import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;

/**
 * Calls of one group (Asynccall-Group) worked one at a time, in arrival order, without a store: each joins
 * its group's line as it is accepted, waits until it is first, and leaves when it ends (done, failed or
 * cancelled), which lets the next one go. A group with no call in it is forgotten.
 */
public final class Groups {
    private final Map<String, ArrayDeque<String>> lines = new HashMap<>();

    /** A call joins the end of its group's line (null: no group), once: joined already, it keeps its place. */
    public synchronized void join(String group, String id) {
        if (group == null) return;
        ArrayDeque<String> line = lines.computeIfAbsent(group, g -> new ArrayDeque<>());
        if (!line.contains(id)) line.addLast(id);
    }

    /** Waits until the call is first in its group's line. */
    public synchronized void awaitTurn(String group, String id) throws InterruptedException {
        if (group == null) return;
        while (!id.equals(lines.get(group).peekFirst())) wait();
    }

    /** The call leaves its group's line (first or not: a cancelled call leaves from where it waits). */
    public synchronized void leave(String group, String id) {
        if (group == null) return;
        ArrayDeque<String> line = lines.get(group);
        if (line == null) return;
        line.remove(id);
        if (line.isEmpty()) lines.remove(group);
        notifyAll();
    }
}
