package call;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;

/**
 * What a work gave: the status and headers of its answer, the answer (at most what the work chose to
 * keep), the exit code of a command (empty: not a command), why it failed (null: it did not), a
 * remark for the log (null: none), and the end of a command's stderr (null: none).
 */
public record Result(int status, Map<String, List<String>> headers, byte[] body, OptionalInt exit, String failure, String remark, String stderr) {
    public Result(int status, Map<String, List<String>> headers, byte[] body, OptionalInt exit, String failure, String remark) {
        this(status, headers, body, exit, failure, remark, null);
    }

    /** A text answer of a work that is not a command. */
    public static Result text(int status, String text, String failure) {
        return new Result(status, Map.of(), text.getBytes(StandardCharsets.UTF_8), OptionalInt.empty(), failure, null);
    }
}
