package ringkv.node;
import ringkv.node.config.NodeConfig;

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
import ringkv.gossip.Store;
import ringkv.node.json.Json;
import ringkv.node.api.Wire;
import ringkv.node.storage.RocksDbStore;
import ringkv.gossip.Replica;
import ringkv.gossip.ReplicationQueue;
import ringkv.node.api.HealthRoutes;
import ringkv.node.api.HttpErrors;
import ringkv.node.api.InternalRoutes;
import ringkv.node.api.KeyValueFastPath;
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
  /** Sends key-value requests straight to their dialect and the rest to the router. */
  private KeyValueFastPath fastPath;

  /** The durable store when DATA_DIR is set, else null (data in memory). */
  private final RocksDbStore durable;

  public NodeVerticle(NodeConfig config, RocksDbStore durable) {
    this.config = config;
    this.durable = durable;
  }

  @Override
  public Future<?> start() {
    ClusterConfig restored = restoredCluster();
    ClusterConfig cluster = restored != null ? restored : initialCluster();
    ReplicationQueue queue = new ReplicationQueue(new ReplicationQueue.Limits(
        config.queueEntriesMax(), config.batchEntriesMax(), config.retryDelayMsMin(),
        config.retryDelayMsMax()));
    Store store = durable != null ? durable : new MemoryStore();
    Replica replica = new Replica(config.address().toString(), store, queue,
        new LamportClock());
    peers = new Peers(vertx, config.connectTimeoutMs());
    engine = new Engine(vertx, context, config, cluster, replica, peers, durable);
    membership = new Membership(vertx, engine);

    Router router = Router.router(vertx);
    new HealthRoutes(engine).mount(router); // first: ahead of the in-flight bound and bodies
    router.route().handler(ctx -> {
      if (!fastPath.enter()) {
        ctx.fail(KeyValueFastPath.overloaded());
        return;
      }
      ctx.addEndHandler(done -> fastPath.exit());
      ctx.next();
    });
    // Bodies are JSON whatever the content type says: without this, BodyHandler would decode
    // form and multipart bodies into attributes (curl -d sends form-urlencoded by default).
    router.route().handler(ctx -> {
      String type = ctx.request().getHeader("Content-Type");
      if (type != null && (type.startsWith("application/x-www-form-urlencoded")
          || type.startsWith("multipart/"))) {
        ctx.request().headers().remove("Content-Type");
      }
      ctx.next();
    });
    // Clients get BODY_BYTES_MAX; peers may send batches of several large values.
    router.route("/internal/*").handler(BodyHandler.create(false)
        .setBodyLimit(INTERNAL_BODY_BYTES_MAX));
    router.routeWithRegex("^(?!/internal/).*").handler(BodyHandler.create(false)
        .setBodyLimit(config.bodyBytesMax()));
    ShardDialect shardDialect = new ShardDialect(engine, membership, config);
    shardDialect.mount(router);
    KvsDialect kvsDialect = new KvsDialect(vertx, engine, membership, config);
    kvsDialect.mount(router);
    fastPath = new KeyValueFastPath(shardDialect, kvsDialect, router, config.bodyBytesMax());
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
    server = vertx.createHttpServer(options).requestHandler(fastPath)
        .invalidRequestHandler(NodeVerticle::rejectMalformed);
    return requeueUnacknowledged().compose(v -> server.listen()).compose(s -> {
      engine.start();
      return membership.bootstrap(restored != null);
    }).onSuccess(v -> {
      ClusterConfig c = engine.cluster();
      LOG.info("event=ready node={} epoch={} shard={} shards={}", config.address(),
          c.epoch(), c.shardOfNode(config.address()), c.layout().asMap());
    });
  }

  /**
   * A request Netty could not even parse (request line or headers too long, garbage line): a
   * JSON 400 like every other error, then the connection closes.
   */
  private static void rejectMalformed(io.vertx.core.http.HttpServerRequest request) {
    String method = request.method() == null ? "request" : request.method().name();
    byte[] body = ringkv.node.json.Json.bytes(ringkv.node.json.Json.object()
        .put("message", "Error in " + method)
        .put("error", "Bad request: malformed HTTP request"));
    request.response().setStatusCode(400)
        .putHeader("Content-Type", "application/json")
        .putHeader("Connection", "close")
        .end(io.vertx.core.buffer.Buffer.buffer(body));
  }

  /** Requests being served now (for tests). */
  int requestsInFlight() {
    return fastPath.inFlight();
  }

  /** The configuration this node last installed, when DATA_DIR holds one. */
  private ClusterConfig restoredCluster() {
    if (durable == null) {
      return null;
    }
    return durable.getMeta(Engine.META_CONFIG)
        .map(bytes -> Wire.decodeConfig(Json.parseBody(bytes)))
        .orElse(null);
  }

  /**
   * After a restart with DATA_DIR: the replication queue was in memory, so every write this node
   * made above its persisted stable mark (the ones some peer may not have acknowledged) is
   * queued again for its shard's peers. Scanning the store runs on a worker thread.
   */
  private Future<Void> requeueUnacknowledged() {
    if (durable == null) {
      return Future.succeededFuture();
    }
    long mark = durable.getMeta(Engine.META_STABLE)
        .map(b -> Long.parseLong(new String(b, java.nio.charset.StandardCharsets.US_ASCII)))
        .orElse(0L);
    String self = config.address().toString();
    return vertx.executeBlocking(() -> {
      java.util.List<ringkv.gossip.Entry> own = new java.util.ArrayList<>();
      durable.forEach(e -> {
        if (e.version().node().equals(self) && e.version().counter() > mark) {
          own.add(e);
        }
      });
      return own;
    }).map(own -> {
      int queued = engine.requeue(own);
      LOG.info("event=outbox-rebuilt node={} stable-mark={} own-writes-above-mark={} queued={}",
          self, mark, own.size(), queued);
      return null;
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

  /**
   * Graceful stop (SIGTERM): stop accepting connections and let in-flight requests finish (up to
   * {@link #SHUTDOWN_GRACE_MS}), push what the replication queue still holds to live peers (up
   * to {@link #SHUTDOWN_DRAIN_MS}), then stop timers and close clients.
   */
  @Override
  public Future<?> stop() {
    long start = System.currentTimeMillis();
    Future<Void> closed = server == null ? Future.succeededFuture()
        : server.shutdown(java.time.Duration.ofMillis(SHUTDOWN_GRACE_MS));
    return closed
        .compose(v -> engine == null ? Future.<Void>succeededFuture()
            : engine.drainReplication(System.currentTimeMillis() + SHUTDOWN_DRAIN_MS))
        .transform(ar -> {
          long pending = engine == null ? 0 : engine.replica().queue().pendingTotal();
          LOG.info("event=shutdown node={} ms={} unacknowledged-writes={}", config.address(),
              System.currentTimeMillis() - start, pending);
          if (engine != null) {
            engine.stop();
          }
          return peers == null ? Future.succeededFuture() : peers.close();
        });
  }

  static final long SHUTDOWN_GRACE_MS = 3_000;
  static final long SHUTDOWN_DRAIN_MS = 2_000;
}
