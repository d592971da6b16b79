package ringkv.client.tls;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/**
 * Certificates made at test time with the JDK's {@code keytool} (as the node's tests do): a
 * CA, and certificates it signs with the SANs a test asks for (nodes are dialled by IP address
 * or host name, and the client checks that the certificate names it), written as the PEM files
 * a node reads ({@code TLS_CERT}, {@code TLS_KEY}, {@code TLS_CA}) and the client is given.
 * Nothing is downloaded and nothing outlives the directory the test gives. Shared with the
 * tests module through the client's test-jar.
 */
public final class TestCertificates {
  private static final String PASS = "test-only-password";
  private final Path dir;
  private final String ca;

  /** A new CA named {@code name} in {@code dir} (created if missing). */
  public TestCertificates(Path dir, String name) {
    this.dir = dir;
    this.ca = name;
    try {
      Files.createDirectories(dir);
    } catch (IOException e) {
      throw new IllegalStateException("cannot create " + dir, e);
    }
    keytool("-genkeypair", "-alias", ca, "-keyalg", "EC", "-groupname", "secp256r1",
        "-dname", "CN=" + name, "-ext", "bc:c", "-validity", "2",
        "-keystore", store(ca).toString(), "-storetype", "PKCS12", "-storepass", PASS);
    keytool("-exportcert", "-rfc", "-alias", ca, "-keystore", store(ca).toString(),
        "-storepass", PASS, "-file", caPem().toString());
  }

  /** The CA's certificate (TLS_CA, and what a client trusts). */
  public Path caPem() {
    return dir.resolve(ca + "-ca.pem");
  }

  /** {@code name}'s certificate for 127.0.0.1 (an IP address SAN). */
  public Path[] issue(String name) {
    return issue(name, "ip:127.0.0.1");
  }

  /**
   * Issues {@code name}'s certificate with {@code san} (keytool syntax, e.g.
   * {@code ip:127.0.0.1,dns:localhost}): {certificate PEM, PKCS#8 private key PEM}.
   */
  public Path[] issue(String name, String san) {
    Path store = store(name);
    keytool("-genkeypair", "-alias", name, "-keyalg", "EC", "-groupname", "secp256r1",
        "-dname", "CN=" + name, "-validity", "2", "-keystore", store.toString(),
        "-storetype", "PKCS12", "-storepass", PASS);
    Path csr = dir.resolve(name + ".csr");
    keytool("-certreq", "-alias", name, "-keystore", store.toString(), "-storepass", PASS,
        "-file", csr.toString());
    Path cert = dir.resolve(name + "-cert.pem");
    keytool("-gencert", "-rfc", "-alias", ca, "-keystore", store(ca).toString(),
        "-storepass", PASS, "-infile", csr.toString(), "-outfile", cert.toString(),
        "-ext", "san=" + san, "-validity", "2");
    // The signed certificate replaces the self-signed one in the store (context uses it).
    keytool("-importcert", "-noprompt", "-trustcacerts", "-alias", ca + "-anchor", "-file",
        caPem().toString(), "-keystore", store.toString(), "-storepass", PASS);
    keytool("-importcert", "-noprompt", "-alias", name, "-file", cert.toString(), "-keystore",
        store.toString(), "-storepass", PASS);
    Path key = dir.resolve(name + "-key.pem");
    try (InputStream in = Files.newInputStream(store)) {
      KeyStore ks = KeyStore.getInstance("PKCS12");
      ks.load(in, PASS.toCharArray());
      PrivateKey k = (PrivateKey) ks.getKey(name, PASS.toCharArray());
      Files.writeString(key, "-----BEGIN PRIVATE KEY-----\n"
          + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII))
              .encodeToString(k.getEncoded()) + "\n-----END PRIVATE KEY-----\n");
    } catch (Exception e) {
      throw new IllegalStateException("cannot write the key of " + name, e);
    }
    return new Path[] {cert, key};
  }

  /**
   * An SSL context that trusts this CA and presents {@code own}'s certificate (issued
   * before; null: none): a server's, or a client's.
   */
  public SSLContext context(String own) {
    try {
      KeyStore trust = KeyStore.getInstance("PKCS12");
      trust.load(null, null);
      try (InputStream in = Files.newInputStream(caPem())) {
        trust.setCertificateEntry(ca, (X509Certificate) CertificateFactory.getInstance("X.509")
            .generateCertificate(in));
      }
      TrustManagerFactory tmf = TrustManagerFactory.getInstance(
          TrustManagerFactory.getDefaultAlgorithm());
      tmf.init(trust);
      KeyManagerFactory kmf = null;
      if (own != null) {
        KeyStore keys = KeyStore.getInstance("PKCS12");
        try (InputStream in = Files.newInputStream(store(own))) {
          keys.load(in, PASS.toCharArray());
        }
        kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        kmf.init(keys, PASS.toCharArray());
      }
      SSLContext context = SSLContext.getInstance("TLS");
      context.init(kmf == null ? null : kmf.getKeyManagers(), tmf.getTrustManagers(), null);
      return context;
    } catch (Exception e) {
      throw new IllegalStateException("cannot build an SSL context", e);
    }
  }

  private Path store(String alias) {
    return dir.resolve(alias + ".p12");
  }

  private static void keytool(String... args) {
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "keytool").toString());
    command.addAll(List.of(args));
    try {
      Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
        p.destroyForcibly();
        throw new IllegalStateException("keytool " + args[0] + " failed: " + out);
      }
    } catch (IOException e) {
      throw new IllegalStateException("cannot run keytool", e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }
}
