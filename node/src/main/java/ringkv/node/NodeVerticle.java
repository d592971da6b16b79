package ringkv.node;

import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.handler.BodyHandler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import ringkv.gossip.LamportClock;
import ringkv.gossip.MemoryStore;
import ringkv.gossip.Replica;
import ringkv.gossip.ReplicationQueue;
import ringkv.node.api.HttpErrors;
import ringkv.node.api.InternalRoutes;
import ringkv.node.api.KvsDialect;
import ringkv.node.api.RingRoutes;
import ringkv.node.api.ShardDialect;
import ringkv.node.engine.Engine;
import ringkv.node.engine.Membership;
import ringkv.node.engine.Peers;
import ringkv.ring.ClusterConfig;

/**
 * The node: one verticle owns all state (cluster configuration, replica, queues, waiters) on its
 * event loop, so nothing needs a lock. It wires the HTTP dialects to the {@link Engine}.
 */
public final class NodeVerticle extends VerticleBase {
  private static final Logger LOG = LoggerFactory.getLogger(NodeVerticle.class);

  /** Body limit between nodes: a batch is bounded by bytes, plus one value of a client's size. */
  static final long INTERNAL_BODY_BYTES_MAX = 256L << 20;

  private final NodeConfig config;
  private Engine engine;
  private Membership membership;
  private Peers peers;
  private HttpServer server;

  public NodeVerticle(NodeConfig config) {
    this.config = config;
  }

  @Override
  public Future<?> start() {
    ClusterConfig cluster = initialCluster();
    ReplicationQueue queue = new ReplicationQueue(new ReplicationQueue.Limits(
        config.queueEntriesMax(), config.batchEntriesMax(), config.retryDelayMsMin(),
        config.retryDelayMsMax()));
    Replica replica = new Replica(config.address().toString(), new MemoryStore(), queue,
        new LamportClock());
    peers = new Peers(vertx, config.connectTimeoutMs());
    engine = new Engine(vertx, context, config, cluster, replica, peers);
    membership = new Membership(vertx, engine);

    Router router = Router.router(vertx);
    // Clients get BODY_BYTES_MAX; peers may send batches of several large values.
    router.route("/internal/*").handler(BodyHandler.create(false)
        .setBodyLimit(INTERNAL_BODY_BYTES_MAX));
    router.routeWithRegex("^(?!/internal/).*").handler(BodyHandler.create(false)
        .setBodyLimit(config.bodyBytesMax()));
    new ShardDialect(engine, membership, config).mount(router);
    new KvsDialect(vertx, engine, membership, config).mount(router);
    new RingRoutes(engine, membership, config).mount(router);
    new InternalRoutes(engine, membership).mount(router);
    router.route().failureHandler(HttpErrors::handle);
    for (int status : new int[] {400, 404, 405, 413, 500}) {
      router.errorHandler(status, HttpErrors::handle);
    }

    HttpServerOptions options = new HttpServerOptions()
        .setHost(config.address().host())
        .setPort(config.address().port())
        .setMaxInitialLineLength(64 * 1024)
        .setTcpNoDelay(true);
    server = vertx.createHttpServer(options).requestHandler(router);
    return server.listen().compose(s -> {
      engine.start();
      return membership.bootstrap();
    }).onSuccess(v -> {
      ClusterConfig c = engine.cluster();
      LOG.info("event=ready node={} epoch={} shard={} shards={}", config.address(),
          c.epoch(), c.shardOfNode(config.address()), c.layout().asMap());
    });
  }

  /**
   * The layout every node computes alike from VIEW and SHARD_COUNT (one shard if unset), or from
   * VIEW and REPL_FACTOR (|VIEW| / REPL_FACTOR shards); none for a node that starts idle.
   */
  private ClusterConfig initialCluster() {
    if (config.startsIdle()) {
      return ClusterConfig.unassigned(config.vnodesPerShard());
    }
    int shards = config.replFactor().isPresent() && config.inView()
        ? config.view().size() / config.replFactor().getAsInt()
        : config.shardCount().orElse(1);
    return ClusterConfig.initial(config.view(), shards, config.vnodesPerShard());
  }

  @Override
  public Future<?> stop() {
    if (engine != null) {
      engine.stop();
    }
    Future<Void> closed = server == null ? Future.succeededFuture() : server.close();
    return closed.compose(v -> peers == null ? Future.succeededFuture() : peers.close());
  }
}
