package ringkv.node.api;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vertx.core.Handler;
import io.vertx.core.http.HttpMethod;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import ringkv.node.engine.ClusterState;
import ringkv.node.error.ErrorCode;
import ringkv.node.error.KvException;
import ringkv.node.json.Json;
import ringkv.ring.ClusterConfig;

/**
 * Health for supervisors (Docker's HEALTHCHECK, Kubernetes probes, load balancers, test
 * harnesses), SPEC §7:
 *
 * <ul>
 *   <li>{@code GET /health/live}: 200 whenever the process answers HTTP at all. A failing
 *       liveness probe restarts the process, so nothing but a dead event loop may fail it.
 *   <li>{@code GET /health/ready}: 200 when the node serves with its shard's data (its start-up
 *       and catch-up are over) and no view change is being installed; else 503 with
 *       {@code "status"} {@code "catching-up"} or {@code "view-change"} and the
 *       {@code "message"}/{@code "error"} every error carries (SPEC §2).
 * </ul>
 *
 * <p>Both only read the cluster state: they change nothing, contact no peer and need no credentials
 * (issue 14: {@code /health/*} stays open in every mode). They are mounted ahead of the
 * in-flight bound and the body handlers, so a node at its request limit still answers its
 * probes — a liveness probe refused under load would get a busy node restarted.
 *
 * <p>Not thread-safe; runs on the node's event loop.
 */
public final class HealthRoutes {
  public static final String LIVE_PATH = "/health/live";
  public static final String READY_PATH = "/health/ready";

  private final ClusterState state;

  public HealthRoutes(ClusterState state) {
    this.state = state;
  }

  /**
   * Mounts both routes for every method: mounted first, a GET-only route would lose the
   * router's 405 for other methods (the catch-all handlers after it reset the method mismatch
   * to a 404), so the 405 is answered here.
   */
  public void mount(Router router) {
    router.route(LIVE_PATH).handler(ctx -> onGet(ctx, this::live));
    router.route(READY_PATH).handler(ctx -> onGet(ctx, this::ready));
  }

  private static void onGet(RoutingContext ctx, Handler<RoutingContext> handler) {
    if (ctx.request().method() == HttpMethod.GET) {
      handler.handle(ctx);
    } else {
      ctx.fail(new KvException(ErrorCode.METHOD_NOT_ALLOWED));
    }
  }

  private void live(RoutingContext ctx) {
    HttpErrors.send(ctx, 200, describe("live"));
  }

  private void ready(RoutingContext ctx) {
    ClusterConfig pending = state.pending().orElse(null);
    if (pending != null) {
      ObjectNode body = describe("view-change");
      body.put("pending-epoch", pending.epoch());
      notReady(ctx, body, "View change in progress");
    } else if (state.catchingUp()) {
      notReady(ctx, describe("catching-up"), "Catching up with its shard's data");
    } else {
      HttpErrors.send(ctx, 200, describe("ready"));
    }
  }

  private static void notReady(RoutingContext ctx, ObjectNode body, String error) {
    body.put("message", "Error in " + ctx.request().method().name());
    body.put("error", error);
    HttpErrors.send(ctx, 503, body);
  }

  private ObjectNode describe(String status) {
    ObjectNode body = Json.object();
    body.put("status", status);
    body.put("node", state.self().toString());
    body.put("epoch", state.current().epoch());
    return body;
  }
}
