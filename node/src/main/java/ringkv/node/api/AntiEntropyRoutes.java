package ringkv.node.api;

import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import ringkv.node.engine.AntiEntropyDriver;

/**
 * The endpoints a peer's anti-entropy round calls ({@link AntiEntropyDriver} runs both sides):
 * {@code POST /internal/ae/digest} (this node's digest of the shard), {@code /internal/ae/versions}
 * (a page of its (key, version) pairs in the differing leaves) and {@code /internal/ae/entries}
 * (the entries of the keys the peer lacks). Pushed entries use {@code /internal/replicate}.
 */
public final class AntiEntropyRoutes {
  private final AntiEntropyDriver driver;

  public AntiEntropyRoutes(AntiEntropyDriver driver) {
    this.driver = driver;
  }

  public void mount(Router router) {
    router.post("/internal/ae/digest").handler(this::digest);
    router.post("/internal/ae/versions").handler(
        ctx -> HttpErrors.send(ctx, 200, driver.serveVersions(Requests.body(ctx))));
    router.post("/internal/ae/entries").handler(
        ctx -> HttpErrors.send(ctx, 200, driver.serveEntries(Requests.body(ctx))));
  }

  private void digest(RoutingContext ctx) {
    driver.serveDigest(Requests.body(ctx)).onComplete(ar -> {
      if (ar.failed()) {
        ctx.fail(ar.cause());
      } else {
        HttpErrors.send(ctx, 200, ar.result());
      }
    });
  }
}
