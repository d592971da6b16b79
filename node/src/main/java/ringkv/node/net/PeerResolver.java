package ringkv.node.net;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.internal.VertxInternal;
import io.vertx.core.internal.resolver.NameResolver;
import io.vertx.core.net.SocketAddress;
import ringkv.ring.NodeAddress;

/**
 * Where a request to a peer goes when the peer's address is a host name (a Kubernetes pod's
 * stable name): the name is resolved at every request, through Vert.x's resolver (its cache
 * follows the DNS TTL; with {@code -Dvertx.disableDnsResolver=true} the JDK's, which caches for
 * {@code networkaddress.cache.ttl}), and the request is sent to the IP address found, with the
 * name still in the Host header ({@code RequestOptions.setServer}).
 *
 * <p>Why not leave the name to the HTTP client: a Vert.x 5 client resolves a host once and keeps
 * that address for as long as it keeps sending there, so a peer that comes back under its name
 * on a new IP (a rescheduled pod) would never be reached again. An IP literal gives the client
 * nothing to remember. Every sender of node-to-node requests must go through this.
 *
 * <p>Stateless apart from Vert.x's resolver; safe on any event loop.
 */
public final class PeerResolver {
  private final NameResolver resolver;

  public PeerResolver(Vertx vertx) {
    // Vert.x has no public API that resolves a host as its clients do (hosts file, search
    // domains, ndots); DnsClient only queries servers.
    this.resolver = ((VertxInternal) vertx).nameResolver();
  }

  /** Whether {@code to} names a host to resolve (NodeAddress hosts of digits and dots are IPv4). */
  public static boolean isHostName(NodeAddress to) {
    String host = to.host();
    for (int i = 0; i < host.length(); i++) {
      char c = host.charAt(i);
      if (c != '.' && (c < '0' || c > '9')) {
        return true;
      }
    }
    return false;
  }

  /** The address to connect to for {@code to} now: its name resolved, as an IP literal. */
  public Future<SocketAddress> resolve(NodeAddress to) {
    return resolver.resolve(to.host())
        .map(ip -> SocketAddress.inetSocketAddress(to.port(), ip.getHostAddress()));
  }
}
