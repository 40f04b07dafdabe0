package tls;

import java.net.Socket;
import java.nio.file.Path;
import java.security.Principal;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.time.Instant;
import javax.net.ssl.KeyManager;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.X509ExtendedKeyManager;

/**
 * serve's certificate and key (--tls-cert, --tls-key), read again on a reload (SIGHUP, after a renewal)
 * while it serves: new handshakes take the new ones, connections open keep theirs. A reload that fails
 * leaves the ones before in place.
 */
public final class ServerCertificate {
    private final Path cert, key;
    private final SSLContext context;
    private volatile X509ExtendedKeyManager current;
    private volatile X509Certificate certificate;

    /** Reads both files; IllegalArgumentException saying what is wrong with them. */
    public ServerCertificate(Path cert, Path key) {
        this.cert = cert;
        this.key = key;
        reload();
        try {
            context = SSLContext.getInstance("TLS");
            context.init(new KeyManager[] {new Current()}, null, null);
        } catch (java.security.GeneralSecurityException e) {
            throw new IllegalStateException("every JDK has TLS", e);
        }
    }

    /** Reads the files again and serves what they hold from the next handshake on; returns the new certificate. */
    public synchronized X509Certificate reload() {
        Tls.Keys read = Tls.keys(cert, key);
        current = read.manager();
        certificate = read.certificate();
        return certificate;
    }

    public SSLContext context() {
        return context;
    }

    public Path certFile() {
        return cert;
    }

    /** "expired on DATE" or "not valid before DATE" when the certificate is not valid now; null when it is. */
    public String invalidNow() {
        Instant now = Instant.now();
        if (now.isAfter(certificate.getNotAfter().toInstant())) return "expired on " + certificate.getNotAfter().toInstant();
        if (now.isBefore(certificate.getNotBefore().toInstant())) return "not valid before " + certificate.getNotBefore().toInstant();
        return null;
    }

    /** The key manager of the moment, asked afresh at each handshake. */
    private final class Current extends X509ExtendedKeyManager {
        @Override
        public String[] getClientAliases(String type, Principal[] issuers) {
            return current.getClientAliases(type, issuers);
        }

        @Override
        public String chooseClientAlias(String[] types, Principal[] issuers, Socket socket) {
            return current.chooseClientAlias(types, issuers, socket);
        }

        @Override
        public String[] getServerAliases(String type, Principal[] issuers) {
            return current.getServerAliases(type, issuers);
        }

        @Override
        public String chooseServerAlias(String type, Principal[] issuers, Socket socket) {
            return current.chooseServerAlias(type, issuers, socket);
        }

        @Override
        public X509Certificate[] getCertificateChain(String alias) {
            return current.getCertificateChain(alias);
        }

        @Override
        public PrivateKey getPrivateKey(String alias) {
            return current.getPrivateKey(alias);
        }

        @Override
        public String chooseEngineClientAlias(String[] types, Principal[] issuers, SSLEngine engine) {
            return current.chooseEngineClientAlias(types, issuers, engine);
        }

        @Override
        public String chooseEngineServerAlias(String type, Principal[] issuers, SSLEngine engine) {
            return current.chooseEngineServerAlias(type, issuers, engine);
        }
    }
}
