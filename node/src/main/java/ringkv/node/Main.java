package ringkv.node;
import ringkv.node.config.NodeConfig;

import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import ringkv.node.log.LogFields;
import ringkv.node.log.LogFormatEncoder;
import ringkv.node.storage.RocksDbStore;
import ringkv.node.storage.StoreOptions;
import ringkv.node.time.Clock;

/**
 * Starts one RingKV node: parses the configuration (a bad value stops the node with one line
 * naming the variable), prints the effective settings, opens the durable store when
 * {@code DATA_DIR} is set, deploys the {@link NodeVerticle}, and on SIGTERM closes Vert.x (a
 * graceful stop) and then the store. With {@code EXIT_WITH_PARENT=1} it stops the same way when
 * the process that started it exits.
 */
public final class Main {
  /** Netty's bound on one go of queued tasks, in ms (a {@code -D} given to the JVM wins). */
  static final String TASK_QUANTUM_PROPERTY = "io.netty.eventLoop.maxTaskProcessingQuantumMs";

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
    // Before the first logger: logback.xml reads the format when it configures itself.
    System.setProperty(LogFormatEncoder.FORMAT_PROPERTY, config.logFormat().text());
    Logger log = LoggerFactory.getLogger(Main.class);
    LogFields.node(config.address().toString());
    log.info(config.describe());
    Clock clock = Clock.SYSTEM; // the one clock of the node, handed to whatever reads time
    RocksDbStore durable = null;
    if (config.dataDir().isPresent()) {
      try {
        durable = new RocksDbStore(config.dataDir().get().resolve("store"), new StoreOptions(
            config.durability(), config.fsyncIntervalMs(), config.scrubBytesPerSec(),
            StoreOptions.SCRUB_PASS_PAUSE_MS_DEFAULT), clock);
      } catch (RuntimeException e) {
        System.err.println("ringkv: cannot open DATA_DIR " + config.dataDir().get() + ": "
            + e.getMessage());
        System.exit(1);
        return;
      }
    }
    RocksDbStore store = durable;
    // Netty runs queued tasks for up to this long before it polls the network again (1000 ms by
    // default, 100 at the least): a burst of tasks holds requests no longer than this (Turns).
    if (System.getProperty(TASK_QUANTUM_PROPERTY) == null) {
      System.setProperty(TASK_QUANTUM_PROPERTY, "100");
    }
    Vertx vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(2)
        .setPreferNativeTransport(true));
    log.info("event=transport name={}", vertx.isNativeTransportEnabled() ? "native" : "nio");
    vertx.deployVerticle(new NodeVerticle(config, store, clock)).onFailure(err -> {
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
      if (store != null) {
        store.close(); // syncs the write-ahead log
      }
    }, "ringkv-shutdown"));
    if (config.exitWithParent()) {
      exitWithParent(log);
    }
  }

  /**
   * Stops this node (through the shutdown hook, as on SIGTERM) once its parent process exits.
   * The JDK polls a process that is not its child (every few seconds at most) and tells a
   * reused pid from the parent by its start time.
   */
  private static void exitWithParent(Logger log) {
    ProcessHandle.current().parent().ifPresentOrElse(parent -> {
      log.info("event=watching-parent pid={}", parent.pid());
      parent.onExit().thenRun(() -> {
        log.info("event=parent-exited pid={}: stopping", parent.pid());
        System.exit(0);
      });
    }, () -> {
      log.warn("event=parent-gone: stopping");
      System.exit(0);
    });
  }
}
