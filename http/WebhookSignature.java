package http;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.util.Base64;

/**
 * A message signed as the Standard Webhooks spec says: "webhook-signature: v1,BASE64" of HMAC-SHA256 over
 * "ID.TIMESTAMP.BODY", keyed with the bytes of a secret written "whsec_BASE64" (24 to 64 bytes).
 */
public final class WebhookSignature {
    private final SecretKeySpec key;

    private WebhookSignature(byte[] key) {
        this.key = new SecretKeySpec(key, "HmacSHA256");
    }

    /** The secret of a file: "whsec_" and the base64 of 24 to 64 random bytes (openssl rand -base64 32). */
    public static WebhookSignature read(String file) {
        String text;
        try {
            text = java.nio.file.Files.readString(java.nio.file.Path.of(file), StandardCharsets.UTF_8).strip();
        } catch (java.io.IOException | java.io.UncheckedIOException | java.nio.file.InvalidPathException e) {
            throw new IllegalArgumentException("cannot read --callback-secret-file " + file + ": " + e.getMessage());
        }
        byte[] key = null;
        if (text.startsWith("whsec_")) {
            try {
                key = Base64.getDecoder().decode(text.substring(6));
            } catch (IllegalArgumentException e) {
                key = null;
            }
        }
        if (key == null || key.length < 24 || key.length > 64) {
            throw new IllegalArgumentException("--callback-secret-file " + file + " holds whsec_ and the base64 of 24 to 64 random bytes,"
                + " as the Standard Webhooks spec says (make one: echo \"whsec_$(openssl rand -base64 32)\" > " + file + ")");
        }
        return new WebhookSignature(key);
    }

    /** The webhook-signature header of a message: "v1," and the base64 of its HMAC-SHA256. */
    public String sign(String id, long timestamp, byte[] body) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(key);
            mac.update((id + "." + timestamp + ".").getBytes(StandardCharsets.UTF_8));
            return "v1," + Base64.getEncoder().encodeToString(mac.doFinal(body));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("the JDK has no HmacSHA256", e);
        }
    }
}
