package call;

/**
 * What an attempt's end means for its call, as the work says it: done; tried again (any other exit, a
 * 5xx, a 408 or 429, a work timeout, a Java function that throws); or failed at once (another 4xx, a
 * Java function that gives up).
 */
public enum Verdict {
    DONE, AGAIN, GIVE_UP;

    public static Verdict of(Done done) {
        if (done.gaveUp()) return GIVE_UP;
        if (done.note() != null || done.exit().orElse(0) != 0) return AGAIN;
        int status = done.workStatus().orElse(200);
        if (status >= 500 || status == 408 || status == 429) return AGAIN;
        return status >= 400 ? GIVE_UP : DONE;
    }
}
