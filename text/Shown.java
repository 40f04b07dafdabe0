package text;

import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;

/** Text as people are shown it, on a terminal or in a log: nothing that moves or hides text, no password. */
public final class Shown {
    private Shown() {}

    /**
     * Text from a server, safe to print on a terminal: control characters other than a line break or a
     * tab, and the characters that move or hide text, become escapes.
     */
    public static String printable(String text) {
        StringBuilder out = new StringBuilder(text.length());
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if ((Character.isISOControl(c) && c != '\n' && c != '\t' && !(c == '\r' && i + 1 < text.length() && text.charAt(i + 1) == '\n')) || movesText(c)) {
                out.append(c < 0x100 ? String.format("\\x%02X", (int) c) : String.format("\\u{%04X}", (int) c));
            } else {
                out.append(c);
            }
        }
        return out.toString();
    }

    /**
     * A byte string (one char per byte) made safe for a log: valid UTF-8 stays readable; invalid bytes
     * and control characters other than a line break become \xNN, the characters that move or hide text
     * an escape of their code point in braces; every line after the first is indented so that it cannot
     * pass for a log entry of its own.
     */
    public static String logged(String bytes) {
        String text = utf8(bytes);
        boolean utf8 = text != null;
        if (!utf8) text = bytes;
        StringBuilder out = new StringBuilder(text.length());
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c == '\n' && i + 1 < text.length()) {
                out.append("\n    ");
            } else if (Character.isISOControl(c) || (!utf8 && c > 0x7f)) {
                out.append(String.format("\\x%02X", (int) c & 0xff));
            } else if (utf8 && movesText(c)) {
                out.append(String.format("\\u{%04X}", (int) c));
            } else {
                out.append(c);
            }
        }
        return out.toString();
    }

    /** The byte string decoded as UTF-8, or null when it is not valid UTF-8. */
    private static String utf8(String bytes) {
        try {
            return StandardCharsets.UTF_8.newDecoder().decode(ByteBuffer.wrap(bytes.getBytes(StandardCharsets.ISO_8859_1))).toString();
        } catch (CharacterCodingException notUtf8) {
            return null;
        }
    }

    /** U+2028/2029, the bidi controls U+202A–202E and U+2066–2069, U+FEFF, U+FFF9–FFFB: they move or hide text. */
    private static boolean movesText(char c) {
        return c >= 0x2028 && c <= 0x202e || c >= 0x2066 && c <= 0x2069 || c == 0xfeff || c >= 0xfff9 && c <= 0xfffb;
    }

    /** A URL as it may be shown: without the password of user:password@host. */
    public static String url(URI url) {
        String info = url.getRawUserInfo();
        if (info == null || !info.contains(":")) return url.toString();
        return url.toString().replaceFirst("//" + java.util.regex.Pattern.quote(info) + "@", "//" + info.substring(0, info.indexOf(':')) + ":***@");
    }

    /** A store's JDBC URL as it may be shown: its password hidden. */
    public static String storeUrl(String url) {
        return url.replaceAll("(?i)(password=)[^&]*", "$1***");
    }

    /** An address as php -S logs it: 127.0.0.1:47790, [::1]:47790. */
    public static String address(InetSocketAddress a) {
        String host = a.getAddress().getHostAddress();
        return (host.contains(":") ? "[" + host + "]" : host) + ":" + a.getPort();
    }

    /** A size in MiB for the log: "15.2 MiB". */
    public static String mib(long bytes) {
        return String.format(java.util.Locale.ROOT, "%.1f MiB", bytes / 1048576.0);
    }

    /** "1 call", "2 calls". */
    public static String plural(long n, String what) {
        return n + " " + what + (n == 1 ? "" : "s");
    }
}
