///usr/bin/env jbang "$0" "$@" ; exit $?
//JAVA 21+
//SOURCES ../serve.java

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * The endpoint with a Java function as its work, in a few lines: each call's "to" and "subject" are
 * written to an outbox file, one line each, for a mailer to send. Run: jbang examples/outbox.java [serve's options]
 * (the file is outbox.txt, or ASYNCCALL_OUTBOX).
 */
public class outbox {
    public static void main(String... args) {
        Path outbox = Path.of(System.getenv().getOrDefault("ASYNCCALL_OUTBOX", "outbox.txt"));
        serve.run(args, request -> {
            Object to = request.data().get("to"), subject = request.data().getOrDefault("subject", "");
            if (!(to instanceof String address) || !address.matches("[^@\\s]+@[^@\\s]+")) throw new res.GiveUp("no valid to"); // a bad request: never tried again
            // PHP's strings are bytes (one char each): written back as the bytes they are.
            String line = address + "\t" + String.valueOf(subject).replaceAll("[\\x00-\\x1f]", " ") + "\n";
            synchronized (outbox) {
                Files.write(outbox, line.getBytes(StandardCharsets.ISO_8859_1), StandardOpenOption.CREATE, StandardOpenOption.APPEND);
            }
            return "queued for " + address + "\n";
        });
    }
}
