package http;

import com.sun.net.httpserver.HttpExchange;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/** The token every route asks for when serve has one: "Authorization: Bearer TOKEN" (RFC 6750). */
public final class Bearer {
    public static final String UNAUTHORIZED = "Unauthorized: this endpoint takes calls with its token only";

    private final byte[] tokenHash;

    /** token: null for none (every request is trusted). */
    public Bearer(String token) {
        this.tokenHash = token == null ? null : sha256(token.getBytes(StandardCharsets.UTF_8));
    }

    /**
     * Whether the request may be served: always without a token, else only with "Authorization: Bearer
     * TOKEN", compared in constant time (hashes of equal length, MessageDigest.isEqual).
     */
    public boolean trusted(HttpExchange call) {
        if (tokenHash == null) return true;
        String authorization = call.getRequestHeaders().getFirst("Authorization");
        if (authorization == null || !authorization.regionMatches(true, 0, "Bearer ", 0, 7)) return false;
        byte[] given = sha256(authorization.substring(7).trim().getBytes(StandardCharsets.UTF_8));
        return MessageDigest.isEqual(tokenHash, given);
    }

    /** The 401 of a request without the token (its body unread: the connection is closed). */
    public static int refuse(HttpExchange call) {
        call.getResponseHeaders().set("WWW-Authenticate", "Bearer");
        return Replies.send(call, 401, UNAUTHORIZED + "\n", Replies.hasBody(call));
    }

    public static byte[] sha256(byte[] bytes) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(bytes);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has SHA-256", e);
        }
    }
}
