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
final class Php {
    static final int MAX_INPUT_VARS = 1000;
    static final int MAX_INPUT_NESTING_LEVEL = 64;
    static final int POST_MAX_SIZE = 8 * 1024 * 1024;


    private Php() {}

    /** $_REQUEST as PHP builds it: $_GET, then $_POST merged over it (request_order "GP"). */
    static Map<Object, Object> request(String method, String rawQuery, String contentType, byte[] body,
                                       Consumer<String> warn) {
        Map<Object, Object> request = new LinkedHashMap<>();
        merge(request, parseQuery(rawQuery == null ? "" : rawQuery, warn));
        merge(request, parsePost(method, contentType, body, warn));
        return request;
    }

    /** The query string php -S gives a script: the target's raw query without the '?'s that lead it (its parser skips them). */
    static String queryString(java.net.URI target) {
        String query = target.getRawQuery();
        int i = 0;
        while (query != null && i < query.length() && query.charAt(i) == '?') i++;
        return query == null ? null : query.substring(i);
    }

    /** $_GET from a raw query string (php_default_treat_data): empty pieces skipped, 1000 variables kept. */
    static Map<Object, Object> parseQuery(String query, Consumer<String> warn) {
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

    private static String tooManyVars() {
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
    static String printR(Object value) {
        StringBuilder out = new StringBuilder();
        try {
            printR(value, out);
        } catch (java.io.IOException never) {
            throw new java.io.UncheckedIOException(never); // a StringBuilder does not throw
        }
        return out.toString();
    }

    /** print_r($value) written to out as it goes, so that a large answer is never held whole. */
    static void printR(Object value, Appendable out) throws java.io.IOException {
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

    /**
     * multipart/form-data as rfc1867.c reads it: the fields without a filename go to $_POST, files do not.
     * PHP reads the body through a buffer of 5 KiB (more for a longer boundary), a line or a chunk at a
     * time, and several of its rules depend on that buffer, so it is ported as it is: lines end at LF (a CR
     * before it dropped), a line longer than the buffer comes in buffer-sized pieces, a part starts after a
     * line that is exactly "--BOUNDARY" (anywhere, also after the closing one), and a value ends before the
     * first "\n--BOUNDARY" whatever follows it (or a start of it at the end of the body), one CR before it
     * dropped. Header values and names are C strings: a NUL ends them.
     */
    static final class Multipart {
        static final int FILLUNIT = 5 * 1024;
        static final int MAX_FILE_UPLOADS = 20;
        static final int UPLOAD_MAX_FILESIZE = 2 * 1024 * 1024;

        private final byte[] body;
        private int read;                 // how much of the body went into the buffer
        private final byte[] buffer;
        private int begin, length;        // the unread bytes: buffer[begin, begin + length)
        private final String boundary;    // "--B", as a line
        private final byte[] next;        // "\n--B", the end of a value

        private Multipart(byte[] body, String boundary) {
            this.body = body;
            this.buffer = new byte[Math.max(FILLUNIT, boundary.length() + 6)];
            this.boundary = "--" + boundary;
            this.next = ("\n--" + boundary).getBytes(StandardCharsets.ISO_8859_1);
        }

        /** rfc1867_post_handler: the fields, registered as they come; files are read past and left out. */
        static Map<Object, Object> fields(byte[] body, String boundary, Consumer<String> warn) {
            Map<Object, Object> vars = new LinkedHashMap<>();
            if (boundary.length() > FILLUNIT - 4) { // found by running PHP 8.2: 5,116 bytes are read, 5,117 are not
                warn.accept("Warning: Boundary too large in multipart/form-data POST data");
                return vars;
            }
            Multipart in = new Multipart(body, boundary);
            int parts = MAX_INPUT_VARS + MAX_FILE_UPLOADS, count = 0, uploads = MAX_FILE_UPLOADS;
            long maxFileSize = 0;
            boolean skipUpload = false; // once set, PHP never clears it: every later file is skipped too
            while (!in.eof()) {
                List<String[]> headers = in.headers();
                if (headers == null) break;
                String cd = header(headers, "Content-Disposition");
                if (cd == null) continue;
                if (--parts < 0) {
                    warn.accept("Warning: Multipart body parts limit exceeded " + (MAX_INPUT_VARS + MAX_FILE_UPLOADS)
                        + ". To increase the limit change max_multipart_body_parts in php.ini.");
                    break;
                }
                String[] disposition = disposition(cd);
                String name = disposition[0], filename = disposition[1];
                if (filename == null && name != null) {
                    String value = in.value();
                    if (++count <= MAX_INPUT_VARS) register(vars, name, value, warn);
                    else if (count == MAX_INPUT_VARS + 1) warn.accept(tooManyVars());
                    if (name.equalsIgnoreCase("MAX_FILE_SIZE")) maxFileSize = strtoll(value);
                    continue;
                }
                if (uploads <= 0) {
                    if (uploads-- == 0) warn.accept("Warning: Maximum number of allowable file uploads has been exceeded");
                    skipUpload = true;
                }
                if (name == null && filename == null) {
                    warn.accept("Warning: File Upload Mime headers garbled");
                    break;
                }
                if (!skipUpload && name != null && !bracketsClosed(name)) skipUpload = true;
                if (skipUpload || filename.isEmpty()) continue; // not read: the next part is looked for line by line
                uploads--;
                in.file(maxFileSize);
            }
            return vars;
        }

        /** The name and filename parameters of a Content-Disposition (null when absent), the last of each winning. */
        private static String[] disposition(String cd) {
            String[] found = new String[2];
            int[] at = {skipSpace(cd, 0)};
            while (at[0] < cd.length()) {
                String pair = word(cd, at, ';');
                at[0] = skipSpace(cd, at[0]);
                if (pair.indexOf('=') < 0) continue;
                int[] p = {0};
                String key = word(pair, p, '=');
                if (key.equalsIgnoreCase("name")) found[0] = wordConf(pair.substring(p[0]));
                else if (key.equalsIgnoreCase("filename")) found[1] = wordConf(pair.substring(p[0]));
            }
            return found;
        }

        /** A file's content read (and dropped) as PHP reads it: it stops early past upload_max_filesize or MAX_FILE_SIZE. */
        private void file(long maxFileSize) {
            long total = 0;
            boolean cancel = false;
            for (int n = read(); !cancel && n > 0; n = read()) {
                if (total + n > UPLOAD_MAX_FILESIZE || maxFileSize != 0 && total + n > maxFileSize) cancel = true;
                else total += n;
            }
        }

        /** PHP's check of a file's name ("never repair potential malicious user input"): brackets closed, nothing after one. */
        private static boolean bracketsClosed(String name) {
            int depth = 0;
            for (int i = 0; i < name.length(); i++) {
                char c = name.charAt(i);
                if (c == '[') depth++;
                else if (c == ']' && (--depth < 0 || i + 1 < name.length() && name.charAt(i + 1) != '[')) return false;
            }
            return depth == 0;
        }

        private static String header(List<String[]> headers, String wanted) {
            for (String[] h : headers) {
                if (h[0].equalsIgnoreCase(wanted)) return h[1];
            }
            return null;
        }

        /** fill_buffer: moves the unread bytes to the front and tops the buffer up from the body. */
        private int fill() {
            System.arraycopy(buffer, begin, buffer, 0, length);
            begin = 0;
            int n = Math.min(buffer.length - length, body.length - read);
            System.arraycopy(body, read, buffer, length, n);
            read += n;
            length += n;
            return n;
        }

        private boolean eof() {
            return length == 0 && fill() < 1;
        }

        /** next_line: up to LF (a CR before it dropped); without one, a full buffer is a line, else null. */
        private String nextLine() {
            int lf = -1;
            for (int i = begin; i < begin + length; i++) {
                if (buffer[i] == '\n') {
                    lf = i;
                    break;
                }
            }
            int start = begin, end;
            if (lf >= 0) {
                end = lf > start && buffer[lf - 1] == '\r' ? lf - 1 : lf;
                length -= lf + 1 - begin;
                begin = lf + 1;
            } else if (length < buffer.length) {
                return null;
            } else {
                end = begin + length;
                begin = 0;
                length = 0;
            }
            return cString(buffer, start, end);
        }

        private String line() {
            String line = nextLine();
            if (line == null) {
                fill();
                line = nextLine();
            }
            return line;
        }

        /** multipart_buffer_headers: past the next boundary line, the part's headers; null when there is none. */
        private List<String[]> headers() {
            String line;
            do {
                line = line();
                if (line == null) return null;
            } while (!line.equals(boundary));
            List<String[]> headers = new java.util.ArrayList<>();
            String key = null;
            StringBuilder value = null;
            while ((line = line()) != null && !line.isEmpty()) {
                int colon = isSpace(line.charAt(0)) ? -1 : line.indexOf(':');
                if (colon >= 0) {
                    if (key != null) headers.add(new String[] {key, value.toString()});
                    key = line.substring(0, colon);
                    value = new StringBuilder(line.substring(skipSpace(line, colon + 1)));
                } else if (value != null) {
                    value.append(line); // a line without a colon, or folded: it continues the header before it
                }
            }
            if (key != null) headers.add(new String[] {key, value.toString()});
            return headers;
        }

        /** multipart_buffer_read_body: the value, read chunk by chunk up to the boundary. */
        private String value() {
            StringBuilder value = new StringBuilder();
            for (int n; (n = read()) > 0; ) value.append(new String(buffer, begin - n, n, StandardCharsets.ISO_8859_1));
            return value.toString();
        }

        /**
         * multipart_buffer_read of a FILLUNIT chunk: the bytes before "\n--B" (or before a start of it
         * that ends the buffer), at most FILLUNIT - 1, one CR before a boundary left unread; how many it
         * read, which are those before the new begin.
         */
        private int read() {
            if (FILLUNIT > length) fill();
            int bound = find(), max = bound < 0 ? length : bound - begin;
            int n = Math.min(max, FILLUNIT - 1);
            if (n > 0) {
                if (bound >= 0 && buffer[begin + n - 1] == '\r') n--;
                length -= n;
                begin += n;
            }
            return n;
        }

        /** php_ap_memstr of "\n--B" in the unread bytes, where a start of it at their end counts too. */
        private int find() {
            int end = begin + length;
            for (int i = begin; i < end; i++) {
                if (buffer[i] != next[0]) continue;
                int n = Math.min(next.length, end - i), j = 0;
                while (j < n && buffer[i + j] == next[j]) j++;
                if (j == n) return i;
            }
            return -1;
        }

        /** php_ap_getword: the text up to stop, quoted parts skipped whole; at moves past it and every stop after it. */
        static String word(String s, int[] at, char stop) {
            int pos = at[0];
            while (pos < s.length() && s.charAt(pos) != stop) {
                char quote = s.charAt(pos++);
                if (quote != '"' && quote != '\'') continue;
                while (pos < s.length() && s.charAt(pos) != quote) {
                    pos += s.charAt(pos) == '\\' && pos + 1 < s.length() && s.charAt(pos + 1) == quote ? 2 : 1;
                }
                if (pos < s.length()) pos++;
            }
            String word = s.substring(at[0], pos);
            while (pos < s.length() && s.charAt(pos) == stop) pos++;
            at[0] = pos;
            return word;
        }

        /**
         * php_ap_getword_conf: after spaces, a quoted word up to its closing quote (\" and \\ escaped), or
         * an unquoted one up to a space (\\ escaped); whatever follows is ignored.
         */
        static String wordConf(String s) {
            int start = skipSpace(s, 0);
            if (start == s.length()) return "";
            char quote = s.charAt(start);
            int end;
            if (quote == '"' || quote == '\'') {
                start++;
                end = s.length();
            } else {
                quote = 0;
                end = start;
                while (end < s.length() && !isSpace(s.charAt(end))) end++;
            }
            StringBuilder out = new StringBuilder();
            for (int i = start; i < end && s.charAt(i) != quote; i++) {
                char after = i + 1 < s.length() ? s.charAt(i + 1) : 0;
                if (s.charAt(i) == '\\' && (after == '\\' || quote != 0 && after == quote)) i++;
                out.append(s.charAt(i));
            }
            return out.toString();
        }

        /** strtoll(s, NULL, 10): spaces, a sign, digits; out of range it saturates. */
        static long strtoll(String s) {
            int i = skipSpace(s, 0);
            boolean negative = i < s.length() && s.charAt(i) == '-';
            if (i < s.length() && (s.charAt(i) == '-' || s.charAt(i) == '+')) i++;
            long n = 0;
            for (; i < s.length() && s.charAt(i) >= '0' && s.charAt(i) <= '9'; i++) {
                int d = s.charAt(i) - '0';
                if (n > (Long.MAX_VALUE - d) / 10) return negative ? Long.MIN_VALUE : Long.MAX_VALUE;
                n = n * 10 + d;
            }
            return negative ? -n : n;
        }

        /** C's isspace in the C locale. */
        static boolean isSpace(char c) {
            return c == ' ' || c >= '\t' && c <= '\r';
        }

        private static int skipSpace(String s, int i) {
            while (i < s.length() && isSpace(s.charAt(i))) i++;
            return i;
        }

        /** The bytes as a C string: up to the first NUL. */
        private static String cString(byte[] bytes, int start, int end) {
            for (int i = start; i < end; i++) {
                if (bytes[i] == 0) return new String(bytes, start, i - start, StandardCharsets.ISO_8859_1);
            }
            return new String(bytes, start, end - start, StandardCharsets.ISO_8859_1);
        }
    }
}
