package php;

import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Consumer;

/**
 * PHP 8.2's request variables ($_GET, $_POST, $_REQUEST) and print_r, ported byte for byte.
 *
 * Strings here are PHP strings: byte strings, one char per byte (ISO-8859-1), so that nothing is
 * re-encoded on the way in or out. A PHP array is a LinkedHashMap whose keys are Long (integer keys)
 * or String, and whose values are String or another such map. JDK only; compiles on Java 17.
 */
public final class Php {
    public static final int MAX_INPUT_VARS = 1000;
    public static final int MAX_INPUT_NESTING_LEVEL = 64;
    public static final int POST_MAX_SIZE = 8 * 1024 * 1024;


    private Php() {}

    /** $_REQUEST as PHP builds it: $_GET, then $_POST merged over it (request_order "GP"). */
    public static Map<Object, Object> request(String method, String rawQuery, String contentType, byte[] body,
                                       Consumer<String> warn) {
        Map<Object, Object> request = new LinkedHashMap<>();
        merge(request, parseQuery(rawQuery == null ? "" : rawQuery, warn));
        merge(request, parsePost(method, contentType, body, warn));
        return request;
    }

    /** The query string php -S gives a script: the target's raw query without the '?'s that lead it (its parser skips them). */
    public static String queryString(java.net.URI target) {
        String query = target.getRawQuery();
        int i = 0;
        while (query != null && i < query.length() && query.charAt(i) == '?') i++;
        return query == null ? null : query.substring(i);
    }

    /** $_GET from a raw query string (php_default_treat_data): empty pieces skipped, 1000 variables kept. */
    public static Map<Object, Object> parseQuery(String query, Consumer<String> warn) {
        Map<Object, Object> vars = new LinkedHashMap<>();
        int count = 0;
        for (String piece : query.split("&")) {
            if (piece.isEmpty()) continue;
            if (++count > MAX_INPUT_VARS) {
                warn.accept(tooManyVars());
                break;
            }
            registerPair(vars, piece, warn);
        }
        return vars;
    }

    /** $_POST: filled only for method POST with a form or multipart body, as PHP's SAPI does. */
    static Map<Object, Object> parsePost(String method, String contentType, byte[] body, Consumer<String> warn) {
        if (!"POST".equals(method) || contentType == null || body == null) return new LinkedHashMap<>();
        int nul = contentType.indexOf('\0');
        if (nul >= 0) contentType = contentType.substring(0, nul); // a C string in PHP
        String mime = mimeType(contentType);
        if (mime.equals("application/x-www-form-urlencoded")) {
            return parseForm(new String(body, StandardCharsets.ISO_8859_1), warn);
        }
        if (mime.equals("multipart/form-data")) {
            String boundary = boundary(contentType);
            if (boundary != null) return Multipart.fields(body, boundary, warn);
            warn.accept("Warning: Missing boundary in multipart/form-data POST data");
        }
        return new LinkedHashMap<>();
    }

    /** A form body (add_post_vars): unlike a query, empty pieces count, and the 1001st variable is kept. */
    static Map<Object, Object> parseForm(String body, Consumer<String> warn) {
        Map<Object, Object> vars = new LinkedHashMap<>();
        int count = 0;
        for (int pos = 0; pos < body.length(); ) {
            int amp = body.indexOf('&', pos);
            if (amp < 0) amp = body.length();
            registerPair(vars, body.substring(pos, amp), warn);
            pos = amp + 1;
            if (++count > MAX_INPUT_VARS) {
                warn.accept(tooManyVars());
                break;
            }
        }
        return vars;
    }

    private static void registerPair(Map<Object, Object> vars, String piece, Consumer<String> warn) {
        int eq = piece.indexOf('=');
        String name = urlDecode(eq < 0 ? piece : piece.substring(0, eq));
        String value = eq < 0 ? "" : urlDecode(piece.substring(eq + 1));
        register(vars, name, value, warn);
    }

    static String tooManyVars() {
        return "Warning: Input variables exceeded " + MAX_INPUT_VARS
            + ". To increase the limit change max_input_vars in php.ini.";
    }

    /** The part of a Content-Type PHP compares: lowercased, cut at the first ';', ',' or space. */
    static String mimeType(String contentType) {
        int end = contentType.length();
        for (int i = 0; i < contentType.length(); i++) {
            char c = contentType.charAt(i);
            if (c == ';' || c == ',' || c == ' ') {
                end = i;
                break;
            }
        }
        return contentType.substring(0, end).toLowerCase(Locale.ROOT);
    }

    /** The boundary parameter as rfc1867.c finds it: after "boundary=", quoted or up to ',' or ';'. */
    static String boundary(String contentType) {
        int at = contentType.indexOf("boundary");
        if (at < 0) at = contentType.toLowerCase(Locale.ROOT).indexOf("boundary");
        if (at < 0) return null;
        int eq = contentType.indexOf('=', at);
        if (eq < 0) return null;
        String b = contentType.substring(eq + 1);
        if (b.startsWith("\"")) {
            int close = b.indexOf('"', 1);
            return close < 0 ? null : b.substring(1, close);
        }
        for (int i = 0; i < b.length(); i++) {
            if (b.charAt(i) == ',' || b.charAt(i) == ';') return b.substring(0, i);
        }
        return b;
    }

    /** php_url_decode: '+' is a space, %XX a byte, anything else (a bad escape too) stays as it is. */
    static String urlDecode(String s) {
        if (s.indexOf('%') < 0 && s.indexOf('+') < 0) return s;
        StringBuilder out = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            int hi, lo;
            if (c == '+') {
                out.append(' ');
            } else if (c == '%' && i + 2 < s.length() && (hi = hex(s.charAt(i + 1))) >= 0
                       && (lo = hex(s.charAt(i + 2))) >= 0) {
                out.append((char) (hi << 4 | lo));
                i += 2;
            } else {
                out.append(c);
            }
        }
        return out.toString();
    }

    private static int hex(char c) {
        return c < 128 ? Character.digit(c, 16) : -1;
    }

    /**
     * php_register_variable_ex: stores value under name in vars, following PHP's rules: leading spaces
     * dropped, ' ' and '.' in the base name become '_', "a[x][]" nests ("a[ ]" too, with any one
     * whitespace character), an unclosed '[' becomes '_',
     * anything after a closing ']' that is not '[' is ignored, more than 64 levels drop the variable.
     */
    static void register(Map<Object, Object> vars, String name, String value, Consumer<String> warn) {
        int nul = name.indexOf('\0');
        if (nul >= 0) name = name.substring(0, nul);
        int start = 0;
        while (start < name.length() && name.charAt(start) == ' ') start++;
        StringBuilder base = new StringBuilder();
        int ip = start;
        for (; ip < name.length() && name.charAt(ip) != '['; ip++) {
            char c = name.charAt(ip);
            base.append(c == ' ' || c == '.' ? '_' : c);
        }
        if (base.length() == 0) return;
        Map<Object, Object> table = vars;
        String index = base.toString();
        for (int level = 1; ip < name.length(); level++) {
            if (level > MAX_INPUT_NESTING_LEVEL) {
                vars.remove(key(base.toString()));
                warn.accept("Warning: Input variable nesting level exceeded " + MAX_INPUT_NESTING_LEVEL
                    + ". To increase the limit change max_input_nesting_level in php.ini.");
                return;
            }
            int p = ip + 1;
            if (p < name.length() && " \t\n\u000b\f\r".indexOf(name.charAt(p)) >= 0) p++; // C's isspace: "[ ]" appends
            String sub = null;
            if (p < name.length() && name.charAt(p) == ']') {
                ip = p;
            } else {
                int close = name.indexOf(']', p);
                if (close < 0) {
                    // Not an index: at the top level the '[' and the rest join the name, deeper they are dropped.
                    if (level == 1) index = index + '_' + name.substring(ip + 1).replaceAll("[ .\\[]", "_");
                    break;
                }
                sub = name.substring(ip + 1, close);
                ip = close;
            }
            table = child(table, index);
            if (table == null) return;
            index = sub;
            ip++;
            if (ip < name.length() && name.charAt(ip) != '[') break;
        }
        if (index == null) {
            append(table, value);
        } else {
            table.put(key(index), value);
        }
    }

    /** The array at table[index] (index null: a new one appended), replacing a string found there. */
    @SuppressWarnings("unchecked")
    private static Map<Object, Object> child(Map<Object, Object> table, String index) {
        Map<Object, Object> fresh = new LinkedHashMap<>();
        if (index == null) return append(table, fresh) ? fresh : null;
        Object k = key(index);
        Object found = table.get(k);
        if (found instanceof Map) return (Map<Object, Object>) found;
        table.put(k, fresh);
        return fresh;
    }

    /** $a[] = v: the next integer key is one past the largest so far (0 when none), never reused. */
    private static boolean append(Map<Object, Object> table, Object value) {
        Long max = null;
        for (Object k : table.keySet()) {
            if (k instanceof Long && (max == null || (Long) k > max)) max = (Long) k;
        }
        long next = max == null ? 0 : max == Long.MAX_VALUE ? Long.MAX_VALUE : max + 1;
        if (table.containsKey(next)) return false;
        table.put(next, value);
        return true;
    }

    /** An array key: a canonical decimal integer within long range becomes a Long, as in PHP. */
    static Object key(String k) {
        if (k.length() <= 20 && canonicalInteger(k)) {
            try {
                return Long.parseLong(k);
            } catch (NumberFormatException outOfRange) {
                return k;
            }
        }
        return k;
    }

    /** -?[1-9][0-9]*|0, without a regex: this runs for every key of every request. */
    private static boolean canonicalInteger(String k) {
        int start = k.startsWith("-") ? 1 : 0;
        if (k.length() == start) return false;
        if (k.charAt(start) == '0') return k.length() == 1;
        for (int i = start; i < k.length(); i++) {
            if (k.charAt(i) < '0' || k.charAt(i) > '9') return false;
        }
        return true;
    }

    /** php_autoglobal_merge: arrays found on both sides merge recursively, anything else is replaced. */
    @SuppressWarnings("unchecked")
    static void merge(Map<Object, Object> dest, Map<Object, Object> src) {
        for (Map.Entry<Object, Object> e : src.entrySet()) {
            Object there = dest.get(e.getKey());
            if (e.getValue() instanceof Map && there instanceof Map) {
                merge((Map<Object, Object>) there, (Map<Object, Object>) e.getValue());
            } else {
                dest.put(e.getKey(), copy(e.getValue()));
            }
        }
    }

    @SuppressWarnings("unchecked")
    private static Object copy(Object v) {
        if (!(v instanceof Map)) return v;
        Map<Object, Object> out = new LinkedHashMap<>();
        merge(out, (Map<Object, Object>) v);
        return out;
    }

    /** print_r($value, true): arrays as PHP prints them, every other value as its string. */
    public static String printR(Object value) {
        StringBuilder out = new StringBuilder();
        try {
            printR(value, out);
        } catch (java.io.IOException never) {
            throw new java.io.UncheckedIOException(never); // a StringBuilder does not throw
        }
        return out.toString();
    }

    /** print_r($value) written to out as it goes, so that a large answer is never held whole. */
    public static void printR(Object value, Appendable out) throws java.io.IOException {
        printR(out, value, 0);
    }

    private static void printR(Appendable out, Object value, int indent) throws java.io.IOException {
        if (value instanceof Map || value instanceof List) {
            Map<?, ?> map = value instanceof Map ? (Map<?, ?>) value : listAsMap((List<?>) value);
            out.append("Array\n").append(spaces(indent)).append("(\n");
            for (Map.Entry<?, ?> e : map.entrySet()) {
                out.append(spaces(indent + 4)).append('[').append(String.valueOf(e.getKey())).append("] => ");
                printR(out, e.getValue(), indent + 8);
                out.append('\n');
            }
            out.append(spaces(indent)).append(")\n");
        } else if (value instanceof Boolean) {
            out.append((Boolean) value ? "1" : "");
        } else if (value != null) {
            out.append(String.valueOf(value));
        }
    }

    /** The indentations print_r uses, multiples of 4 up to what 64 levels of nesting need, made once. */
    private static final String[] INDENTS = new String[2 * MAX_INPUT_NESTING_LEVEL + 8];

    static {
        for (int i = 0; i < INDENTS.length; i++) INDENTS[i] = " ".repeat(4 * i);
    }

    private static String spaces(int n) {
        return n % 4 == 0 && n / 4 < INDENTS.length ? INDENTS[n / 4] : " ".repeat(n);
    }

    private static Map<Object, Object> listAsMap(List<?> list) {
        Map<Object, Object> map = new LinkedHashMap<>();
        for (int i = 0; i < list.size(); i++) map.put((long) i, list.get(i));
        return map;
    }
}
