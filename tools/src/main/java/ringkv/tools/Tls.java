package ringkv.tools;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.util.Collection;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/**
 * TLS for talking to nodes that serve HTTPS: trust exactly the certificates of a CA PEM file
 * (the file a node's {@code TLS_CA} names), the way the nodes verify each other. Host names are
 * verified by the JDK's HttpClient as usual.
 */
public final class Tls {
  private Tls() {}

  /** An SSL context that trusts the certificates of {@code caPem} and nothing else. */
  public static SSLContext trusting(Path caPem) {
    Collection<? extends Certificate> certificates;
    try (InputStream in = Files.newInputStream(caPem)) {
      certificates = CertificateFactory.getInstance("X.509").generateCertificates(in);
    } catch (IOException e) {
      throw new CliException(ExitCode.USAGE, "cannot read CA file " + caPem + ": " + e);
    } catch (GeneralSecurityException e) {
      throw new CliException(ExitCode.USAGE, "CA file " + caPem
          + " holds no PEM certificate: " + e.getMessage());
    }
    if (certificates.isEmpty()) {
      throw new CliException(ExitCode.USAGE, "CA file " + caPem + " holds no certificate");
    }
    try {
      KeyStore store = KeyStore.getInstance(KeyStore.getDefaultType());
      store.load(null, null);
      int i = 0;
      for (Certificate c : certificates) {
        store.setCertificateEntry("ca-" + i++, c);
      }
      TrustManagerFactory trust =
          TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
      trust.init(store);
      SSLContext context = SSLContext.getInstance("TLS");
      context.init(null, trust.getTrustManagers(), null);
      return context;
    } catch (GeneralSecurityException | IOException e) {
      throw new IllegalStateException("cannot build a trust store from " + caPem, e);
    }
  }
}
