package php;

import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * multipart/form-data as rfc1867.c reads it: the fields without a filename go to $_POST, files do not.
 * PHP reads the body through a buffer of 5 KiB (more for a longer boundary), a line or a chunk at a
 * time, and several of its rules depend on that buffer, so it is ported as it is: lines end at LF (a CR
 * before it dropped), a line longer than the buffer comes in buffer-sized pieces, a part starts after a
 * line that is exactly "--BOUNDARY" (anywhere, also after the closing one), and a value ends before the
 * first "\n--BOUNDARY" whatever follows it (or a start of it at the end of the body), one CR before it
 * dropped. Header values and names are C strings: a NUL ends them.
 */
final class Multipart {
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
        int parts = Php.MAX_INPUT_VARS + MAX_FILE_UPLOADS, count = 0, uploads = MAX_FILE_UPLOADS;
        long maxFileSize = 0;
        boolean skipUpload = false; // once set, PHP never clears it: every later file is skipped too
        while (!in.eof()) {
            List<String[]> headers = in.headers();
            if (headers == null) break;
            String cd = header(headers, "Content-Disposition");
            if (cd == null) continue;
            if (--parts < 0) {
                warn.accept("Warning: Multipart body parts limit exceeded " + (Php.MAX_INPUT_VARS + MAX_FILE_UPLOADS)
                    + ". To increase the limit change max_multipart_body_parts in php.ini.");
                break;
            }
            String[] disposition = disposition(cd);
            String name = disposition[0], filename = disposition[1];
            if (filename == null && name != null) {
                String value = in.value();
                if (++count <= Php.MAX_INPUT_VARS) Php.register(vars, name, value, warn);
                else if (count == Php.MAX_INPUT_VARS + 1) warn.accept(Php.tooManyVars());
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
