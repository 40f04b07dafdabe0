package http;

import java.net.URI;
import java.util.List;
import java.util.Locale;

/**
 * The callback URLs an operator allows (--callback-allow PREFIX, none by default): a call's Asynccall-Callback
 * is taken only under one of them, so that a caller cannot make serve call into the network behind it.
 */
public final class CallbackUrls {
    public static final CallbackUrls NONE = new CallbackUrls(List.of());
    private final List<URI> prefixes;

    public CallbackUrls(List<URI> prefixes) {
        this.prefixes = List.copyOf(prefixes);
    }

    public boolean any() {
        return !prefixes.isEmpty();
    }

    /** A --callback-allow value: an http or https URL with a host, and no user, query or fragment. */
    public static URI prefix(String text) {
        URI u;
        try {
            u = new URI(text);
        } catch (java.net.URISyntaxException e) {
            throw new IllegalArgumentException("--callback-allow takes a URL such as https://hooks.example.com/asynccall/, not " + text);
        }
        if (!web(u) || u.getRawUserInfo() != null || u.getRawQuery() != null || u.getRawFragment() != null || !plain(u.getRawPath())) {
            throw new IllegalArgumentException("--callback-allow takes an http or https URL with a host and a path at most (no user,"
                + " query or fragment), such as https://hooks.example.com/asynccall/, not " + text);
        }
        return u;
    }

    /** The URL a call gave, parsed: IllegalArgumentException saying why it is not taken. */
    public URI check(String given) {
        if (prefixes.isEmpty()) throw new IllegalArgumentException("this serve takes no callback URL (it allows none: --callback-allow)");
        URI u;
        try {
            u = given.length() > 2048 ? null : new URI(given);
        } catch (java.net.URISyntaxException e) {
            u = null;
        }
        if (u == null || !web(u) || u.getRawUserInfo() != null || u.getRawFragment() != null || !plain(u.getRawPath())) {
            throw new IllegalArgumentException("Asynccall-Callback is an http or https URL of 2048 characters at most, without user,"
                + " fragment, dot segments, \";\" or encoded slashes, dots, percents and control characters");
        }
        for (URI p : prefixes) if (under(u, p)) return u;
        throw new IllegalArgumentException("Asynccall-Callback " + given + " is not under a URL this serve allows (--callback-allow)");
    }

    private static boolean web(URI u) {
        String scheme = u.getScheme() == null ? "" : u.getScheme().toLowerCase(Locale.ROOT);
        return u.isAbsolute() && !u.isOpaque() && (scheme.equals("http") || scheme.equals("https")) && u.getHost() != null;
    }

    /**
     * A path that means what it says to every server: no dot segments, no encoded dot, slash, backslash, percent or
     * control character, and no ";" (Tomcat reads "/a/..;/b" as "/b").
     */
    private static boolean plain(String path) {
        String p = path == null ? "" : path.toLowerCase(Locale.ROOT);
        return !p.matches("(?s).*(%2e|%2f|%5c|%25|%[01][0-9a-f]|%7f|[;\\\\]).*")
            && !("/" + p + "/").contains("/./") && !("/" + p + "/").contains("/../");
    }

    private static boolean under(URI u, URI p) {
        if (!u.getScheme().equalsIgnoreCase(p.getScheme()) || !u.getHost().equalsIgnoreCase(p.getHost()) || port(u) != port(p)) return false;
        String path = u.getRawPath().isEmpty() ? "/" : u.getRawPath(), base = p.getRawPath().isEmpty() ? "/" : p.getRawPath();
        return base.endsWith("/") ? path.startsWith(base) : path.equals(base) || path.startsWith(base + "/");
    }

    private static int port(URI u) {
        return u.getPort() != -1 ? u.getPort() : u.getScheme().equalsIgnoreCase("https") ? 443 : 80;
    }
}
