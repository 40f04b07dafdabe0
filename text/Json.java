package text;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The JSON of the monitors, the events and the page: strings written, and a field read back by the
 * caller. Hand-written on purpose: the scripts run with the JDK alone (no //DEPS for the caller), and
 * these flat objects need quoting, not a library.
 */
public final class Json {
    private Json() {}

    /** A byte string (one char per byte, as PHP's strings are) as a JSON string: decoded as UTF-8, an invalid byte as U+FFFD. */
    public static String bytes(String bytes) {
        try {
            return text(StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPLACE)
                .onUnmappableCharacter(CodingErrorAction.REPLACE)
                .decode(ByteBuffer.wrap(bytes.getBytes(StandardCharsets.ISO_8859_1))).toString());
        } catch (CharacterCodingException never) {
            return text(bytes); // REPLACE never throws
        }
    }

    /** Text as a JSON string: quotes, backslashes and control characters escaped (and U+2028/2029, which end a line in JavaScript). */
    public static String text(String text) {
        StringBuilder out = new StringBuilder(text.length() + 2).append('"');
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            switch (c) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                case '\n' -> out.append("\\n");
                default -> {
                    if (c < 0x20 || c == 0x2028 || c == 0x2029) out.append(String.format("\\u%04x", (int) c));
                    else out.append(c);
                }
            }
        }
        return out.append('"').toString();
    }

    /** A string field of a flat JSON object such as a monitor's, decoded; null when it is not there. */
    public static String string(String json, String field) {
        int at = json.indexOf("\"" + field + "\":\"");
        if (at < 0) return null;
        StringBuilder out = new StringBuilder();
        for (int i = at + field.length() + 4; i < json.length(); i++) {
            char c = json.charAt(i);
            if (c == '"') return out.toString();
            if (c != '\\' || i + 1 >= json.length()) {
                out.append(c);
                continue;
            }
            i = unescape(json, i + 1, out);
        }
        return null;
    }

    /** Appends the escape whose letter is at i; returns the index of its last char. */
    private static int unescape(String json, int i, StringBuilder out) {
        char e = json.charAt(i);
        switch (e) {
            case 'n' -> out.append('\n');
            case 'r' -> out.append('\r');
            case 't' -> out.append('\t');
            case 'b' -> out.append('\b');
            case 'f' -> out.append('\f');
            case 'u' -> {
                out.append((char) Integer.parseInt(json.substring(i + 1, Math.min(json.length(), i + 5)), 16));
                return i + 4;
            }
            default -> out.append(e);
        }
        return i;
    }

    /** A whole-number field of a flat JSON object; 0 when it is not there. */
    public static long number(String json, String field) {
        Matcher m = Pattern.compile("\"" + Pattern.quote(field) + "\":(\\d+)").matcher(json);
        return m.find() ? Long.parseLong(m.group(1)) : 0;
    }
}
