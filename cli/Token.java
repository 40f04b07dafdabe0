package cli;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/** The shared secret of serve and its callers: from --token-file FILE, else from ASYNCCALL_TOKEN, else none. */
public final class Token {
    public static final String VARIABLE = "ASYNCCALL_TOKEN";

    private Token() {}

    /** The token of file (null: of the environment), or null when there is none. */
    public static String read(String file) {
        if (file == null) return check(System.getenv(VARIABLE), VARIABLE);
        try {
            return check(Files.readString(Path.of(file), StandardCharsets.UTF_8).strip(), "--token-file " + file);
        } catch (IOException | UncheckedIOException | java.nio.file.InvalidPathException e) {
            throw new IllegalArgumentException("cannot read --token-file " + file + ": " + e.getMessage());
        }
    }

    /** A token goes into a header: 1 to 1024 visible ASCII characters. */
    private static String check(String token, String where) {
        if (token != null && !token.matches("[\\x21-\\x7e]{1,1024}")) {
            throw new IllegalArgumentException("invalid token in " + where + ": 1 to 1024 visible ASCII characters");
        }
        return token;
    }
}
