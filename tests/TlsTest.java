import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIf;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * TLS both ways, with certificates made by openssl at test time: serve --tls-cert/--tls-key serves
 * HTTPS from PEM files, and test.java's sendCURL and sendSock call it, verifying the certificate
 * (--cacert) and its name.
 */
@EnabledIf(value = "TlsTest#openssl", disabledReason = "openssl is not installed (apt-get install openssl)")
class TlsTest {
    static Path dir;

    static boolean openssl() {
        try {
            return new ProcessBuilder("openssl", "version").start().waitFor(10, TimeUnit.SECONDS);
        } catch (Exception e) {
            return false;
        }
    }

    /** A self-signed certificate for name (also as an IP address when it is one), with its key: cert.pem, key.pem. */
    private static void certificate(String stem, String subjectAltName, String... keyOptions) throws Exception {
        List<String> key = new java.util.ArrayList<>(List.of("openssl", "genpkey", "-algorithm", "RSA", "-out", stem + "-key.pem"));
        if (keyOptions.length > 0) key = List.of("openssl", "genrsa", "-traditional", "-out", stem + "-key.pem", "2048");
        run(key);
        run(List.of("openssl", "req", "-x509", "-new", "-key", stem + "-key.pem", "-out", stem + "-cert.pem", "-days", "2",
            "-subj", "/CN=asynccall test", "-addext", "subjectAltName=" + subjectAltName));
    }

    private static void run(List<String> command) throws Exception {
        Process p = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertEquals(0, p.waitFor(), String.join(" ", command) + ": " + out);
    }

    /** A certificate for 127.0.0.1 that expired a year ago (keytool can date one in the past; openssl req cannot), with its key. */
    private static void expired(String stem) throws Exception {
        String keytool = Path.of(System.getProperty("java.home"), "bin", "keytool").toString();
        run(List.of(keytool, "-genkeypair", "-keystore", stem + ".p12", "-storetype", "PKCS12", "-storepass", "asynccall",
            "-alias", "server", "-keyalg", "RSA", "-dname", "CN=asynccall expired", "-ext", "san=ip:127.0.0.1",
            "-startdate", "-2y", "-validity", "365"));
        run(List.of("openssl", "pkcs12", "-in", stem + ".p12", "-passin", "pass:asynccall", "-nokeys", "-out", stem + "-cert.pem"));
        run(List.of("openssl", "pkcs12", "-in", stem + ".p12", "-passin", "pass:asynccall", "-nocerts", "-nodes", "-out", stem + "-key.pem"));
    }

    @BeforeAll
    static void certificates() throws Exception {
        dir = Files.createTempDirectory("asynccall-tls");
        certificate("local", "IP:127.0.0.1,DNS:localhost");
        expired("expired");
        certificate("other", "DNS:other.example");
        certificate("rsa", "IP:127.0.0.1", "-traditional");
        assertTrue(Files.readString(dir.resolve("rsa-key.pem")).contains("BEGIN RSA PRIVATE KEY"));
    }

    @AfterAll
    static void clean() throws Exception {
        try (var files = Files.walk(dir)) {
            for (Path p : files.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
        }
    }

    private static TestServer https(String stem) throws Exception {
        return new TestServer("--sleep", "0", "--tls-cert", dir.resolve(stem + "-cert.pem").toString(),
            "--tls-key", dir.resolve(stem + "-key.pem").toString());
    }

    @Test
    void theFourCallsGoOverHttpsToAServerWhoseCertificateIsTrusted() throws Exception {
        for (String stem : List.of("local", "rsa")) {
            try (TestServer server = https(stem)) {
                String url = server.url("/res.php").toString();
                assertTrue(url.startsWith("https://127.0.0.1:"), url);
                server.log.await("asynccall Development Server \\(https://127\\.0\\.0\\.1:\\d+\\) started$", Duration.ofSeconds(5));
                Support.Run run = Support.run(test::start, "--url", url, "--cacert", dir.resolve(stem + "-cert.pem").toString());
                assertEquals(0, run.status(), run.out() + run.err());
                assertEquals(2, run.out().lines().filter(l -> l.endsWith("202 Accepted")).count(), run.out());
                assertEquals(2, run.out().lines().filter(l -> l.endsWith("sent 14 bytes")).count(), run.out());
                server.calls.await(Recorder.workedWith("            [hello] => world!"), 4, Duration.ofSeconds(10));
            }
        }
    }

    @Test
    void aCertificateThatIsNotTrustedOrNamesAnotherHostIsRefusedByBothFunctions() throws Exception {
        try (TestServer server = https("local")) {
            String url = server.url("/res.php").toString();
            Support.Run untrusted = Support.run(test::start, "--url", url);
            assertEquals(1, untrusted.status(), untrusted.out());
            assertEquals(4, untrusted.out().lines().filter(l -> l.contains("not sent: TLS failed with 127.0.0.1:")).count(), untrusted.out());
        }
        try (TestServer server = https("other")) {
            Support.Run wrongName = Support.run(test::start, "--url", server.url("/res.php").toString(),
                "--cacert", dir.resolve("other-cert.pem").toString());
            assertEquals(1, wrongName.status(), wrongName.out());
            assertEquals(4, wrongName.out().lines().filter(l -> l.contains("not sent: TLS failed")).count(), wrongName.out());
            assertEquals(0, server.calls.done().size(), "nothing reached the endpoint");
        }
    }

    @Test
    void anExpiredCertificateIsSaidAtServesStartAndRefusedByTheCaller() throws Exception {
        try (TestServer server = https("expired")) {
            server.log.await("Warning: the certificate \\(--tls-cert .*expired-cert\\.pem\\) expired on .*: callers that check it refuse every call$",
                Duration.ofSeconds(5));
            Support.Run run = Support.run(test::start, "--url", server.url("/res.php").toString(),
                "--cacert", dir.resolve("expired-cert.pem").toString());
            assertEquals(1, run.status(), run.out());
            assertEquals(4, run.out().lines().filter(l -> l.contains("not sent: TLS failed with 127.0.0.1:")).count(), run.out());
            assertEquals(0, server.calls.done().size(), "nothing reached the endpoint");
        }
    }

    /** A renewal: the files replaced while serve runs, then SIGHUP; the new certificate is served, the calls go on. */
    @Test
    void sighupReloadsARenewedCertificate() throws Exception {
        Path live = Files.createDirectories(dir.resolve("live"));
        Files.copy(dir.resolve("local-cert.pem"), live.resolve("cert.pem"));
        Files.copy(dir.resolve("local-key.pem"), live.resolve("key.pem"));
        try (ServeProcess server = new ServeProcess("", "127.0.0.1:0", "--sleep", "0", "--tls-cert", live.resolve("cert.pem").toString(),
                "--tls-key", live.resolve("key.pem").toString())) {
            String url = server.url("/res.php").toString();
            String renewed = dir.resolve("rsa-cert.pem").toString();
            assertEquals(1, Support.run(test::start, "--url", url, "--cacert", renewed).status(), "not yet the renewed one");
            Files.copy(dir.resolve("rsa-cert.pem"), live.resolve("cert.pem"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            Files.copy(dir.resolve("rsa-key.pem"), live.resolve("key.pem"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            server.signal("HUP");
            server.log.await("SIGHUP: reloaded the certificate \\(CN=asynccall test, valid until .*\\)$", Duration.ofSeconds(10));
            Support.Run run = Support.run(test::start, "--url", url, "--cacert", renewed);
            assertEquals(0, run.status(), run.out() + run.err());
            // A renewal that cannot be read leaves the certificate before in place.
            Files.writeString(live.resolve("key.pem"), "not a key");
            server.signal("HUP");
            server.log.await("SIGHUP: the certificate was not reloaded, the one before serves on: .*", Duration.ofSeconds(10));
            assertEquals(0, Support.run(test::start, "--url", url, "--cacert", renewed).status());
        }
    }

    @Test
    void badTlsFilesAreAClearErrorAndExit2() {
        Support.Run missing = Support.serveCommand("127.0.0.1:0", "--tls-cert", dir.resolve("local-cert.pem").toString());
        assertEquals(2, missing.status());
        assertTrue(missing.err().startsWith("Error: --tls-cert and --tls-key go together\n"), missing.err());
        Support.Run swapped = Support.serveCommand("127.0.0.1:0", "--tls-cert", dir.resolve("local-key.pem").toString(),
            "--tls-key", dir.resolve("local-cert.pem").toString());
        assertEquals(2, swapped.status());
        assertTrue(swapped.err().startsWith("Error: cannot use --tls-cert "), swapped.err());
        Support.Run mismatched = Support.serveCommand("127.0.0.1:0", "--tls-cert", dir.resolve("local-cert.pem").toString(),
            "--tls-key", dir.resolve("other-key.pem").toString());
        assertEquals(2, mismatched.status());
        assertTrue(mismatched.err().contains("the key is not the certificate's"), mismatched.err());
        Support.Run cacert = Support.run(test::start, "--cacert", dir.resolve("nope.pem").toString());
        assertEquals(2, cacert.status());
        assertTrue(cacert.err().startsWith("Error: cannot read --cacert "), cacert.err());
    }
}
