package ringkv.node;

import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Starts one RingKV node: parses the configuration (a bad value stops the node with one line
 * naming the variable), prints the effective settings, deploys the {@link NodeVerticle}, and
 * closes Vert.x on SIGTERM.
 */
public final class Main {
  private Main() {}

  public static void main(String[] args) {
    NodeConfig config;
    try {
      config = NodeConfig.parse(System.getenv(), args);
    } catch (NodeConfig.BadConfigException e) {
      System.err.println("ringkv: invalid configuration: " + e.getMessage());
      System.exit(2);
      return;
    }
    Logger log = LoggerFactory.getLogger(Main.class);
    log.info(config.describe());
    Vertx vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(2));
    vertx.deployVerticle(new NodeVerticle(config)).onFailure(err -> {
      System.err.println("ringkv: cannot start on " + config.address() + ": " + err.getMessage());
      vertx.close();
      System.exit(1);
    });
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      CountDownLatch closed = new CountDownLatch(1);
      vertx.close().onComplete(ar -> closed.countDown());
      try {
        closed.await(8, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }, "ringkv-shutdown"));
  }
}
