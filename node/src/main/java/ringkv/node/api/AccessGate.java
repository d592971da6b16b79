package ringkv.node.api;

import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import java.util.List;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import ringkv.node.auth.BearerToken;
import ringkv.node.error.ErrorCode;
import ringkv.node.error.KvException;
import ringkv.node.time.Clock;
import ringkv.ring.NodeAddress;

/**
 * Operators and clients: with {@code ADMIN_TOKEN} set, every route that changes the cluster
 * ({@link #ADMIN_ROUTES}) needs {@code Authorization: Bearer <ADMIN_TOKEN>}; with
 * {@code CLIENT_TOKEN} set, the key-value routes of both dialects need it (or the admin token).
 * Anything else is 401 JSON, checked before the body is read. Read-only routes ({@code /ring},
 * the GET view and shard routes, key counts, {@code /health/*}, {@code /metrics}, {@code /ui},
 * the staged plan and the progress of a view change) stay open. Every request to an
 * admin route is logged at INFO with the caller's address, the route and the outcome (refusals
 * at most once a second: a flood must not flood the log).
 *
 * <p>Not thread-safe; runs on the node's event loop.
 */
public final class AccessGate {
  private static final Logger LOG = LoggerFactory.getLogger(AccessGate.class);
  /** Body bytes read and dropped before a 401 is sent (then the connection is cut). */
  static final long DRAIN_BYTES_MAX = 1L << 20;
  static final long REFUSAL_LOG_INTERVAL_MS = 1_000;

  /** A method and a route path as the router writes it. */
  public record Route(HttpMethod method, String path) {}

  /** Every route that changes the cluster, in both dialects. */
  public static final List<Route> ADMIN_ROUTES = List.of(
      new Route(HttpMethod.PUT, ShardDialect.VIEW),
      new Route(HttpMethod.DELETE, ShardDialect.VIEW),
      new Route(HttpMethod.PUT, ShardDialect.ADD_MEMBER),
      new Route(HttpMethod.PUT, ShardDialect.RESHARD),
      new Route(HttpMethod.PUT, KvsDialect.VIEW_CHANGE),
      new Route(HttpMethod.POST, AdminRoutes.PLAN),
      new Route(HttpMethod.DELETE, AdminRoutes.PLAN),
      new Route(HttpMethod.POST, AdminRoutes.COMMIT),
      new Route(HttpMethod.POST, AdminRoutes.ABORT),
      new Route(HttpMethod.POST, AdminRoutes.SETTLE));

  private final NodeAddress self;
  private final Optional<BearerToken> admin;
  private final Optional<BearerToken> client;
  private final Clock clock;
  private long lastRefusalLoggedMs = Long.MIN_VALUE / 2;

  public AccessGate(NodeAddress self, Optional<BearerToken> admin,
      Optional<BearerToken> client, Clock clock) {
    this.self = self;
    this.clock = clock;
    this.admin = admin;
    this.client = client;
  }

  /** Mounts the checks; must come before any body handler. */
  public void mount(Router router) {
    for (Route r : ADMIN_ROUTES) {
      router.route(r.method(), r.path()).handler(this::admin);
    }
    for (String path : new String[] {ShardDialect.KV_PREFIX + "*", "/key-value-store",
        KvsDialect.KEYS_PREFIX + "*"}) {
      router.route(path).handler(ctx -> {
        if (allowsKeyValue(ctx.request())) {
          ctx.next();
        }
      });
    }
  }

  private void admin(RoutingContext ctx) {
    HttpServerRequest req = ctx.request();
    String caller = String.valueOf(req.remoteAddress());
    if (admin.isPresent() && !admin.get().matches(req.getHeader("Authorization"))) {
      long now = clock.millis();
      if (now - lastRefusalLoggedMs >= REFUSAL_LOG_INTERVAL_MS) {
        lastRefusalLoggedMs = now;
        LOG.info("event=admin-request node={} caller={} method={} path={} status=401 "
            + "outcome=unauthorized", self, caller, req.method(), req.path());
      }
      refuse(req);
      return;
    }
    ctx.addEndHandler(done -> LOG.info("event=admin-request node={} caller={} method={} path={}"
        + " status={} outcome={}", self, caller, req.method(), req.path(),
        ctx.response().getStatusCode(), ctx.response().getStatusCode() < 300 ? "done"
            : "refused"));
    ctx.next();
  }

  /**
   * Whether a key-value request may go on: no client token set, or it presents the client (or
   * the admin) token. Answers 401 itself when not.
   */
  public boolean allowsKeyValue(HttpServerRequest req) {
    if (client.isEmpty()) {
      return true;
    }
    String authorization = req.getHeader("Authorization");
    if (client.get().matches(authorization)
        || admin.map(a -> a.matches(authorization)).orElse(false)) {
      return true;
    }
    refuse(req);
    return false;
  }

  /** 401 JSON once the (bounded) body is drained, so the client reads the answer. */
  private static void refuse(HttpServerRequest req) {
    HttpErrors.afterBody(req, DRAIN_BYTES_MAX, () -> HttpErrors.render(req,
        new KvException(ErrorCode.UNAUTHENTICATED, "a missing or wrong bearer token"), null));
  }
}
