package ringkv.client;

import io.netty.buffer.ByteBufAllocator;
import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.JdkSslContext;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslHandshakeTimeoutException;
import java.nio.file.Files;
import java.nio.file.Path;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLParameters;

/**
 * The client's side of TLS: one Netty {@link SslContext} for every connection, made from PEM
 * files (the CA that signed the nodes' certificates, as {@code TLS_CA} is for a node, and
 * optionally the client's own certificate and key for nodes with
 * {@code TLS_CLIENT_AUTH=required}), from a JDK {@link SSLContext}, or given as is. Each
 * connection gets its own {@link SslHandler} for the node's host and port, and unless
 * turned off checks that the node's certificate names the address it dials (a DNS name, or an
 * IP address SAN), as HTTPS does.
 *
 * <p>Immutable; thread-safe.
 */
final class ClientTls {
  private final SslContext context;
  private final boolean verifyHostname;

  private ClientTls(SslContext context, boolean verifyHostname) {
    this.context = context;
    this.verifyHostname = verifyHostname;
  }

  /**
   * From PEM files: {@code caPem} (null: the JVM's trust store), and the client's own
   * certificate chain and PKCS#8 key (both null: none).
   *
   * @throws IllegalArgumentException if a file cannot be read or is not what it should be
   */
  static ClientTls fromPem(Path caPem, Path certPem, Path keyPem, boolean verifyHostname) {
    SslContextBuilder b = SslContextBuilder.forClient()
        .endpointIdentificationAlgorithm(verifyHostname ? "HTTPS" : null);
    if (caPem != null) {
      b.trustManager(readable(caPem, "CA certificate").toFile());
    }
    if (certPem != null) {
      b.keyManager(readable(certPem, "client certificate").toFile(),
          readable(keyPem, "client key").toFile());
    }
    try {
      return new ClientTls(b.build(), verifyHostname);
    } catch (SSLException | IllegalArgumentException e) {
      throw new IllegalArgumentException("cannot use the TLS files (CA " + caPem
          + ", certificate " + certPem + ", key " + keyPem + "): " + e.getMessage(), e);
    }
  }

  /** From a JDK context (its trust and key managers). */
  static ClientTls of(SSLContext context, boolean verifyHostname) {
    return new ClientTls(new JdkSslContext(context, true, ClientAuth.NONE), verifyHostname);
  }

  /**
   * From a Netty client context. Hostname verification on is enforced on each engine; off
   * cannot undo a context built with it on (Netty's default since 4.2).
   */
  static ClientTls of(SslContext context, boolean verifyHostname) {
    if (!context.isClient()) {
      throw new IllegalArgumentException("a server SslContext cannot make client connections");
    }
    return new ClientTls(context, verifyHostname);
  }

  private static Path readable(Path file, String what) {
    if (file == null || !Files.isReadable(file)) {
      throw new IllegalArgumentException(what + " file not readable: " + file);
    }
    return file;
  }

  /** The handler of a new connection to {@code host:port}. */
  SslHandler newHandler(ByteBufAllocator alloc, String host, int port) {
    SslHandler handler = context.newHandler(alloc, host, port);
    SSLEngine engine = handler.engine();
    SSLParameters parameters = engine.getSSLParameters();
    parameters.setEndpointIdentificationAlgorithm(verifyHostname ? "HTTPS" : null);
    engine.setSSLParameters(parameters);
    return handler;
  }

  /**
   * Whether {@code failure} says TLS cannot work with this node as configured (its
   * certificate is not trusted or names another host, it refused ours or wants one, it does
   * not speak TLS): retrying would fail the same way. A handshake that timed out is not one.
   */
  static boolean isConfigurationFailure(Throwable failure) {
    return failure instanceof SSLException && !(failure instanceof SslHandshakeTimeoutException);
  }

  boolean verifiesHostname() {
    return verifyHostname;
  }

  @Override
  public String toString() {
    return "ClientTls[" + context.getClass().getSimpleName() + ", verifyHostname="
        + verifyHostname + "]";
  }
}
