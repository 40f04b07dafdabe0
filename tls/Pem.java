package tls;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.Base64;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** PEM files as nginx and Let's Encrypt write them: certificates, and an unencrypted private key. JDK only. */
final class Pem {
    private static final Pattern PEM = Pattern.compile("-----BEGIN ([A-Z ]+)-----([A-Za-z0-9+/=\\s]+)-----END \\1-----");

    private Pem() {}

    /** The certificates of a PEM file, in order (a chain: server first); at least one. */
    static List<Certificate> certificates(Path file) throws IOException, GeneralSecurityException {
        byte[] pem = Files.readAllBytes(file);
        List<Certificate> chain = List.copyOf(CertificateFactory.getInstance("X.509").generateCertificates(new ByteArrayInputStream(pem)));
        if (chain.isEmpty()) throw new GeneralSecurityException("no certificate in " + file);
        return chain;
    }

    /** The private key of a PEM file: unencrypted PKCS#8, or PKCS#1 RSA. */
    static PrivateKey key(Path file) throws IOException, GeneralSecurityException {
        Matcher m = PEM.matcher(Files.readString(file, StandardCharsets.US_ASCII));
        while (m.find()) {
            byte[] der = Base64.getMimeDecoder().decode(m.group(2));
            switch (m.group(1)) {
                case "PRIVATE KEY" -> {
                    return pkcs8(der);
                }
                case "RSA PRIVATE KEY" -> {
                    return pkcs8(rsaAsPkcs8(der));
                }
                case "ENCRYPTED PRIVATE KEY" -> throw new GeneralSecurityException(
                    "the key is encrypted: give it unencrypted (openssl pkcs8 -topk8 -nocrypt)");
                case "EC PRIVATE KEY" -> throw new GeneralSecurityException(
                    "an SEC1 EC key: give it as PKCS#8 (openssl pkcs8 -topk8 -nocrypt -in KEY)");
                default -> { } // parameters and other blocks before the key
            }
        }
        throw new GeneralSecurityException("no PEM private key in " + file);
    }

    /** A PKCS#8 key of the algorithm it names: RSA, EC or Ed25519. */
    private static PrivateKey pkcs8(byte[] der) throws GeneralSecurityException {
        GeneralSecurityException last = null;
        for (String algorithm : new String[] {"RSA", "EC", "Ed25519", "RSASSA-PSS"}) {
            try {
                return KeyFactory.getInstance(algorithm).generatePrivate(new PKCS8EncodedKeySpec(der));
            } catch (GeneralSecurityException e) {
                last = e;
            }
        }
        throw new GeneralSecurityException("not a private key the JDK reads: " + last.getMessage());
    }

    /** PKCS#1 RSAPrivateKey wrapped as PKCS#8: SEQUENCE { 0, { rsaEncryption, NULL }, OCTET STRING key }. */
    private static byte[] rsaAsPkcs8(byte[] pkcs1) {
        byte[] algorithm = {0x02, 0x01, 0x00, 0x30, 0x0d, 0x06, 0x09, 0x2a, (byte) 0x86, 0x48, (byte) 0x86, (byte) 0xf7, 0x0d, 0x01, 0x01, 0x01, 0x05, 0x00};
        byte[] octets = der(0x04, pkcs1);
        byte[] body = new byte[algorithm.length + octets.length];
        System.arraycopy(algorithm, 0, body, 0, algorithm.length);
        System.arraycopy(octets, 0, body, algorithm.length, octets.length);
        return der(0x30, body);
    }

    private static byte[] der(int tag, byte[] content) {
        int n = content.length;
        byte[] length = n < 0x80 ? new byte[] {(byte) n}
            : n < 0x100 ? new byte[] {(byte) 0x81, (byte) n}
            : n < 0x10000 ? new byte[] {(byte) 0x82, (byte) (n >> 8), (byte) n}
            : new byte[] {(byte) 0x83, (byte) (n >> 16), (byte) (n >> 8), (byte) n};
        byte[] out = new byte[1 + length.length + n];
        out[0] = (byte) tag;
        System.arraycopy(length, 0, out, 1, length.length);
        System.arraycopy(content, 0, out, 1 + length.length, n);
        return out;
    }
}
