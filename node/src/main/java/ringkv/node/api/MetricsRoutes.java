package ringkv.node.api;

import io.vertx.core.http.HttpMethod;
import io.vertx.ext.web.Router;
import ringkv.node.error.ErrorCode;
import ringkv.node.error.KvException;
import ringkv.node.metrics.NodeMetrics;

/**
 * {@code GET /metrics}: every metric of the node in Prometheus' text format (version 0.0.4),
 * SPEC §7. Like the health routes it is mounted ahead of the in-flight bound (a node at its
 * limit still reports why), needs no credentials and changes nothing; it is not counted in the
 * request metrics, so a scrape leaves the figures it reads as they were.
 *
 * <p>Not thread-safe; runs on the node's event loop, where the gauges read the node's state.
 */
public final class MetricsRoutes {
  public static final String PATH = "/metrics";

  private final NodeMetrics metrics;

  public MetricsRoutes(NodeMetrics metrics) {
    this.metrics = metrics;
  }

  /** For every method: the router would turn a GET-only route's 405 into a 404 (HealthRoutes). */
  public void mount(Router router) {
    router.route(PATH).handler(ctx -> {
      if (ctx.request().method() != HttpMethod.GET) {
        ctx.fail(new KvException(ErrorCode.METHOD_NOT_ALLOWED));
        return;
      }
      ctx.response().putHeader("Content-Type", NodeMetrics.CONTENT_TYPE).end(metrics.scrape());
    });
  }
}
