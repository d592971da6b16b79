package ringkv.node.net;

import io.vertx.core.http.ClientAuth;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.net.PemKeyCertOptions;
import io.vertx.core.net.PemTrustOptions;
import ringkv.node.config.SecurityConfig;

/**
 * TLS of a node, from {@code TLS_CERT}/{@code TLS_KEY} (PEM: this node's certificate chain and
 * its private key), {@code TLS_CA} (PEM: what peers' certificates must chain to) and
 * {@code TLS_CLIENT_AUTH}: the server serves HTTPS with the node's certificate and, with
 * {@code required}, accepts only clients presenting a certificate {@code TLS_CA} signed; the
 * peer client speaks HTTPS, checks the peer's certificate against {@code TLS_CA} (the JVM's
 * trust store without it) and that it names the address it dials (host name or IP address, as
 * in {@code VIEW}), and presents the node's own certificate to peers that ask for one.
 */
public final class Tls {
  private Tls() {}

  /** Makes {@code options} serve HTTPS if {@code security} says so. */
  public static HttpServerOptions server(HttpServerOptions options, SecurityConfig security) {
    if (!security.tls()) {
      return options;
    }
    options.setSsl(true).setKeyCertOptions(ownCertificate(security));
    security.tlsCa().ifPresent(ca -> options.setTrustOptions(
        new PemTrustOptions().addCertPath(ca.toString())));
    return options.setClientAuth(security.clientAuth() == SecurityConfig.ClientAuth.REQUIRED
        ? ClientAuth.REQUIRED : ClientAuth.NONE);
  }

  /** Makes {@code options} call peers over HTTPS if {@code security} says so. */
  public static HttpClientOptions client(HttpClientOptions options, SecurityConfig security) {
    if (!security.tls()) {
      return options;
    }
    options.setSsl(true).setVerifyHost(true).setKeyCertOptions(ownCertificate(security));
    security.tlsCa().ifPresent(ca -> options.setTrustOptions(
        new PemTrustOptions().addCertPath(ca.toString())));
    return options;
  }

  private static PemKeyCertOptions ownCertificate(SecurityConfig security) {
    return new PemKeyCertOptions()
        .setCertPath(security.tlsCert().orElseThrow().toString())
        .setKeyPath(security.tlsKey().orElseThrow().toString());
  }
}
