package tls;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.util.List;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.X509ExtendedKeyManager;

/**
 * serve --tls-cert FILE --tls-key FILE: TLS from PEM files as nginx and Let's Encrypt write them (the
 * certificate chain, server first; an unencrypted PKCS#8 "PRIVATE KEY" or PKCS#1 "RSA PRIVATE KEY").
 * JDK only.
 */
public final class Tls {
    private Tls() {}

    /** A server's key manager, with the certificate it serves first. */
    record Keys(X509ExtendedKeyManager manager, X509Certificate certificate) {}

    /** What a server needs: its certificate chain and key. Throws IllegalArgumentException saying what is wrong. */
    static Keys keys(Path certFile, Path keyFile) {
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
            for (javax.net.ssl.KeyManager m : keys.getKeyManagers()) {
                if (m instanceof X509ExtendedKeyManager x) return new Keys(x, (X509Certificate) chain.get(0));
            }
            throw new GeneralSecurityException("no X.509 key manager in this JDK");
        } catch (IOException | GeneralSecurityException | ClassCastException e) {
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
            javax.net.ssl.TrustManager[] managers = trust.getTrustManagers();
            for (int i = 0; i < managers.length; i++) {
                if (managers[i] instanceof javax.net.ssl.X509ExtendedTrustManager x) managers[i] = new ValidNow(x);
            }
            SSLContext tls = SSLContext.getInstance("TLS");
            tls.init(null, managers, null);
            return tls;
        } catch (IOException | GeneralSecurityException e) {
            throw new IllegalArgumentException("cannot read --cacert " + file + ": " + e.getMessage());
        }
    }

    /**
     * A trust manager that also wants the server's certificate valid now: PKIX does not check the dates of
     * a trust anchor, and a self-signed certificate given with --cacert is its own (curl refuses it expired).
     */
    private static final class ValidNow extends javax.net.ssl.X509ExtendedTrustManager {
        private final javax.net.ssl.X509ExtendedTrustManager trust;

        ValidNow(javax.net.ssl.X509ExtendedTrustManager trust) {
            this.trust = trust;
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType, java.net.Socket socket) throws java.security.cert.CertificateException {
            trust.checkServerTrusted(chain, authType, socket);
            chain[0].checkValidity();
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType, javax.net.ssl.SSLEngine engine) throws java.security.cert.CertificateException {
            trust.checkServerTrusted(chain, authType, engine);
            chain[0].checkValidity();
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType) throws java.security.cert.CertificateException {
            trust.checkServerTrusted(chain, authType);
            chain[0].checkValidity();
        }

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType, java.net.Socket socket) throws java.security.cert.CertificateException {
            trust.checkClientTrusted(chain, authType, socket);
        }

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType, javax.net.ssl.SSLEngine engine) throws java.security.cert.CertificateException {
            trust.checkClientTrusted(chain, authType, engine);
        }

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType) throws java.security.cert.CertificateException {
            trust.checkClientTrusted(chain, authType);
        }

        @Override
        public X509Certificate[] getAcceptedIssuers() {
            return trust.getAcceptedIssuers();
        }
    }
}
