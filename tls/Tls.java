package tls;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.Certificate;
import java.util.List;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;

/**
 * serve --tls-cert FILE --tls-key FILE: TLS from PEM files as nginx and Let's Encrypt write them (the
 * certificate chain, server first; an unencrypted PKCS#8 "PRIVATE KEY" or PKCS#1 "RSA PRIVATE KEY").
 * JDK only.
 */
public final class Tls {
    private Tls() {}

    /** What a server needs: its certificate chain and key. Throws IllegalArgumentException saying what is wrong. */
    public static SSLContext server(Path certFile, Path keyFile) {
        try {
            List<Certificate> chain = Pem.certificates(certFile);
            PrivateKey key = Pem.key(keyFile);
            matches(key, chain.get(0));
            KeyStore store = KeyStore.getInstance("PKCS12");
            store.load(null, null);
            char[] none = new char[0];
            store.setKeyEntry("server", key, none, chain.toArray(Certificate[]::new));
            KeyManagerFactory keys = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            keys.init(store, none);
            SSLContext tls = SSLContext.getInstance("TLS");
            tls.init(keys.getKeyManagers(), null, null);
            return tls;
        } catch (IOException | GeneralSecurityException e) {
            throw new IllegalArgumentException("cannot use --tls-cert " + certFile + " with --tls-key " + keyFile + ": " + e.getMessage());
        }
    }

    /** The key must be the certificate's own: else every handshake would fail, and only the callers would say so. */
    private static void matches(PrivateKey key, Certificate cert) throws GeneralSecurityException {
        String algorithm = switch (key.getAlgorithm()) {
            case "RSA" -> "SHA256withRSA";
            case "EC" -> "SHA256withECDSA";
            case "Ed25519", "EdDSA" -> "Ed25519";
            default -> null; // RSASSA-PSS and others: their parameters vary; the handshake will tell
        };
        if (algorithm == null) return;
        byte[] probe = "asynccall".getBytes(StandardCharsets.US_ASCII);
        java.security.Signature sign = java.security.Signature.getInstance(algorithm);
        sign.initSign(key);
        sign.update(probe);
        byte[] signature = sign.sign();
        java.security.Signature check = java.security.Signature.getInstance(algorithm);
        try {
            check.initVerify(cert.getPublicKey());
            check.update(probe);
            if (check.verify(signature)) return;
        } catch (java.security.InvalidKeyException otherKind) {
            // said below
        }
        throw new GeneralSecurityException("the key is not the certificate's (" + ((java.security.cert.X509Certificate) cert).getSubjectX500Principal() + ")");
    }

    /** The JDK's own TLS, trusting its own certificate authorities. */
    public static SSLContext jdk() {
        try {
            return SSLContext.getDefault();
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has TLS", e);
        }
    }

    /**
     * TLS that trusts no one, for a client that speaks plain http:// only (an HttpClient needs an
     * SSLContext all the same): the JDK's certificate store is never loaded, which a start feels.
     */
    public static SSLContext none() {
        try {
            SSLContext tls = SSLContext.getInstance("TLS");
            tls.init(new javax.net.ssl.KeyManager[0], new javax.net.ssl.TrustManager[0], null);
            return tls;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("every JDK has TLS", e);
        }
    }

    /** TLS that trusts the certificates of a PEM file, and no others, as curl's --cacert. */
    public static SSLContext trusting(Path file) {
        try {
            KeyStore store = KeyStore.getInstance("PKCS12");
            store.load(null, null);
            int n = 0;
            for (Certificate cert : Pem.certificates(file)) store.setCertificateEntry("ca" + n++, cert);
            javax.net.ssl.TrustManagerFactory trust = javax.net.ssl.TrustManagerFactory.getInstance(javax.net.ssl.TrustManagerFactory.getDefaultAlgorithm());
            trust.init(store);
            SSLContext tls = SSLContext.getInstance("TLS");
            tls.init(null, trust.getTrustManagers(), null);
            return tls;
        } catch (IOException | GeneralSecurityException e) {
            throw new IllegalArgumentException("cannot read --cacert " + file + ": " + e.getMessage());
        }
    }
}
