package call;

import java.net.URI;

/**
 * Where a call's end is told (Asynccall-Callback) and how the telling went: waiting (the call has not ended),
 * sending (tried attempts times so far, the last answered status, 0: no answer), delivered (a 2xx) or failed
 * (every attempt refused).
 */
public record Callback(URI url, String state, int attempts, int status) {
    public static final String WAITING = "waiting", SENDING = "sending", DELIVERED = "delivered", FAILED = "failed";

    /** A callback asked for, its call not ended yet. */
    public static Callback asked(URI url) {
        return new Callback(url, WAITING, 0, 0);
    }

    /** As the monitor shows it: one JSON object. */
    public String json() {
        return "{\"url\":" + text.Json.bytes(url.toString()) + ",\"state\":\"" + state + "\",\"attempts\":" + attempts
            + ",\"status\":" + (status == 0 ? "null" : String.valueOf(status)) + "}";
    }
}
