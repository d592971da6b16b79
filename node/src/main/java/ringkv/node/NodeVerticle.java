package ringkv.node;

import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.handler.BodyHandler;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import ringkv.gossip.EpochBound;
import ringkv.gossip.Entry;
import ringkv.gossip.KeyValueCore;
import ringkv.gossip.LamportClock;
import ringkv.gossip.MemoryStore;
import ringkv.gossip.NodeStability;
import ringkv.gossip.Replica;
import ringkv.gossip.ReplicationQueue;
import ringkv.gossip.Store;
import ringkv.node.api.AccessGate;
import ringkv.node.api.AdminRoutes;
import ringkv.node.api.ApiServices;
import ringkv.node.api.Admission;
import ringkv.node.api.HealthRoutes;
import ringkv.node.auth.BearerToken;
import ringkv.node.net.Tls;
import java.util.concurrent.TimeUnit;
import ringkv.node.auth.PeerAuth;
import ringkv.node.auth.ReplayGuard;
import ringkv.node.api.HttpErrors;
import ringkv.node.api.InternalRoutes;
import ringkv.node.api.KeyValueFastPath;
import ringkv.node.api.KvsDialect;
import ringkv.node.api.MetricsRoutes;
import ringkv.node.api.RingRoutes;
import ringkv.node.api.ShardDialect;
import ringkv.node.api.UiRoutes;
import ringkv.node.config.NodeConfig;
import ringkv.node.engine.AntiEntropyDriver;
import ringkv.node.engine.CatchUp;
import ringkv.node.engine.ChangeParticipant;
import ringkv.node.engine.ReplicaAcks;
import ringkv.node.engine.ClusterState;
import ringkv.node.engine.ConfigSync;
import ringkv.node.engine.CoordinatorLog;
import ringkv.node.engine.GossipDriver;
import ringkv.node.engine.Heartbeats;
import ringkv.node.engine.KvService;
import ringkv.node.engine.NodeMeta;
import ringkv.node.engine.NodeServices;
import ringkv.node.engine.PeerLiveness;
import ringkv.node.engine.QuarantineRepair;
import ringkv.node.engine.ViewChanges;
import ringkv.node.json.Json;
import ringkv.node.log.LogFields;
import ringkv.node.metrics.ClusterView;
import ringkv.node.metrics.NodeMetrics;
import ringkv.node.peer.PeerClient;
import ringkv.node.storage.Durability;
import ringkv.node.storage.DurabilityMode;
import ringkv.node.storage.RocksDbStore;
import ringkv.node.time.Clock;
import ringkv.ring.ClusterConfig;
import ringkv.ring.NodeAddress;

/**
 * The node and its one composition root: it builds every collaborator, hands each what it needs
 * through its constructor, and owns all state on its event loop (so nothing needs a lock). The
 * protocol's rules live in pure classes of {@code gossip} ({@link KeyValueCore},
 * {@link NodeStability}, {@code ViewChangeParticipant}, {@code TransferPlan}, the replication
 * queue); the engine classes drive them with timers and messages; the api classes speak HTTP.
 */
public final class NodeVerticle extends VerticleBase {
  private static final Logger LOG = LoggerFactory.getLogger(NodeVerticle.class);
  static final long SHUTDOWN_GRACE_MS = 3_000;
  static final long SHUTDOWN_DRAIN_MS = 2_000;

  private final NodeConfig config;
  private final Clock clock;
  /** The durable store when DATA_DIR is set, else null (data in memory). */
  private final RocksDbStore durable;
  private final PeerClient.Interceptor interceptor;
  private HttpServer server;
  private Admission admission;
  private AccessGate gate;
  private PeerClient peers;
  private KvService kv;
  private GossipDriver gossip;
  private Heartbeats heartbeats;
  private AntiEntropyDriver antiEntropy;
  private QuarantineRepair quarantineRepair;
  private ClusterState state;
  private NodeMetrics metrics;

  public NodeVerticle(NodeConfig config, RocksDbStore durable) {
    this(config, durable, Clock.SYSTEM);
  }

  public NodeVerticle(NodeConfig config, RocksDbStore durable, Clock clock) {
    this(config, durable, clock, null);
  }

  /**
   * A node whose peer calls pass {@code interceptor} first: for tests that run several nodes in
   * one JVM and control the network between them (null: none).
   */
  public NodeVerticle(NodeConfig config, RocksDbStore durable, Clock clock,
      PeerClient.Interceptor interceptor) {
    this.config = config;
    this.durable = durable;
    this.clock = clock;
    this.interceptor = interceptor;
  }

  @Override
  public Future<?> start() {
    NodeAddress self = config.address();
    warnIfOpen(self);
    NodeMeta meta = new NodeMeta(durable);
    ClusterConfig restored = meta.restoredConfig().orElse(null);
    state = new ClusterState(self, restored != null ? restored : initialCluster(),
        new EpochBound(config.epochAheadMax()));
    ReplicationQueue queue = new ReplicationQueue(new ReplicationQueue.Limits(
        config.queueEntriesMax(), config.batchEntriesMax(), config.retryDelayMsMin(),
        config.retryDelayMsMax(), config.batchIntervalMs()));
    Store store = durable != null ? durable : new MemoryStore();
    Replica replica = new Replica(self.toString(), store, queue, new LamportClock());
    NodeStability stability = new NodeStability(self.toString(), clock.millis(), meta.durable(),
        ClusterState.shardMap(state.current()), state.current().epoch());
    KeyValueCore core = new KeyValueCore(self.toString(), replica, stability,
        config.waitersMax());
    PeerAuth peerAuth = peerAuth(self);
    peers = new PeerClient(vertx, config.connectTimeoutMs(), interceptor, peerAuth, clock,
        config.security());
    PeerLiveness liveness = new PeerLiveness(self, clock, config.failureTimeoutMs());
    metrics = new NodeMetrics(config, clock, clusterView(liveness), core, durable);
    LogFields.epoch(state.current().epoch());
    ReplicaAcks acks = new ReplicaAcks(vertx, clock);
    NodeServices node = new NodeServices(vertx, context, clock, config, state, liveness, peers,
        metrics);
    gossip = new GossipDriver(node, queue, acks);
    kv = new KvService(node, core, gossip, durable != null ? durable : Durability.IMMEDIATE, acks);
    CoordinatorLog coordinated = new CoordinatorLog();
    ChangeParticipant participant = new ChangeParticipant(node, kv, meta, coordinated);
    ViewChanges views = new ViewChanges(node, participant, kv, coordinated);
    CatchUp catchUp = new CatchUp(node, kv, participant, gossip);
    ConfigSync configSync = new ConfigSync(node, participant, catchUp);
    heartbeats = new Heartbeats(node, stability, replica, gossip, configSync, meta,
        config.heartbeatIntervalMs(), config.failureTimeoutMs(), kv::clockLimit);
    antiEntropy = new AntiEntropyDriver(node, kv);
    quarantineRepair = new QuarantineRepair(node, kv);
    meta.saveConfig(state.current());

    admitAndGate(self);
    Router router = router();
    ApiServices api = new ApiServices(kv, state, liveness, views, config);
    ShardDialect shardDialect = new ShardDialect(api, heartbeats);
    shardDialect.mount(router);
    KvsDialect kvsDialect = new KvsDialect(vertx, api);
    kvsDialect.mount(router);
    KeyValueFastPath fastPath = new KeyValueFastPath(shardDialect, kvsDialect, router,
        config.bodyBytesMax(), admission, gate, metrics.http(), clock);
    metrics.watchInFlight(admission::inFlight);
    metrics.watchLostKeys(kv.lostKeys()::count);
    new RingRoutes(api).mount(router);
    new UiRoutes(api, clock).mount(router);
    new AdminRoutes(api).mount(router);
    new InternalRoutes(kv, state, heartbeats, configSync, catchUp, views, participant,
        antiEntropy, peerAuth, new ReplayGuard(config.signatureWindowMs(), config.noncesMax()),
        clock).mount(router);
    router.route().failureHandler(HttpErrors::handle);
    for (int status : new int[] {400, 404, 405, 413, 500}) {
      router.errorHandler(status, HttpErrors::handle);
    }
    server = vertx.createHttpServer(serverOptions())
        .connectionHandler(admission::onConnection)
        .requestHandler(req -> {
          admission.onRequest(req);
          fastPath.handle(req);
        })
        .invalidRequestHandler(NodeVerticle::rejectMalformed);
    return requeueUnacknowledged(meta, catchUp, restored != null)
        .compose(participant::resumeHandOff)
        .compose(v -> server.listen()).compose(s -> {
      gossip.start();
      kv.start();
      heartbeats.start();
      antiEntropy.start();
      quarantineRepair.start();
      return catchUp.bootstrap(restored != null);
    }).onSuccess(v -> logReady());
  }

  private PeerAuth peerAuth(NodeAddress self) {
    PeerAuth peerAuth = PeerAuth.of(config.security());
    if (peerAuth.enabled()) {
      LOG.info("event=peer-authentication node={} key-id={} accepted-keys={}", self,
          peerAuth.keyId(), config.security().clusterSecretPrevious().isPresent() ? 2 : 1);
    }
    return peerAuth;
  }

  /** The budgets every request passes and the tokens it must carry. */
  private void admitAndGate(NodeAddress self) {
    admission = new Admission(vertx, clock, config.clientRequestsInFlightMax(),
        config.peerRequestsInFlightMax(), config.connectionsMax(),
        config.requestReadTimeoutMs());
    gate = new AccessGate(self, BearerToken.of(config.security().adminToken()),
        BearerToken.of(config.security().clientToken()), clock);
  }

  private void warnIfOpen(NodeAddress self) {
    if (config.security().open()) {
      LOG.warn("event=open-cluster node={}: CLUSTER_SECRET is not set, so anyone who reaches this"
          + " port can act as a peer (change the view, replicate writes) and as an operator;"
          + " set CLUSTER_SECRET (and ADMIN_TOKEN) to close it", self);
    }
  }

  private void logReady() {
    ClusterConfig c = state.current();
    LOG.info("event=ready node={} epoch={} shard={} shards={}", config.address(),
        c.epoch(), c.shardOfNode(config.address()), c.layout().asMap());
  }

  private HttpServerOptions serverOptions() {
    return Tls.server(new HttpServerOptions()
        .setHost(config.bindHost())
        .setPort(config.address().port())
        .setMaxInitialLineLength(64 * 1024)
        .setTcpNoDelay(true)
        // HTTP/1.1 only: without the h2c upgrade a connection is an HTTP/1 connection from its
        // first byte, so the first-request deadline and the connection cap see it at once.
        .setHttp2ClearTextEnabled(false)
        // No WebSocket is served: without compression support Vert.x leaves the WebSocket
        // extension handler out of every connection's pipeline (it inspected each request and
        // answer).
        .setPerMessageWebSocketCompressionSupported(false)
        .setPerFrameWebSocketCompressionSupported(false)
        .setIdleTimeout((int) config.idleTimeoutMs())
        .setIdleTimeoutUnit(TimeUnit.MILLISECONDS), config.security());
  }

  /**
   * The router with the handlers every request passes: admission (budgets, read deadline),
   * tokens, bodies as JSON.
   */
  private Router router() {
    Router router = Router.router(vertx);
    new HealthRoutes(state).mount(router); // first: ahead of the in-flight bound and bodies
    new MetricsRoutes(metrics).mount(router); // likewise, and not counted itself
    router.route().handler(metrics.http()::observe); // request ids, request metrics
    router.route().handler(ctx -> {
      Admission.Ticket ticket = admission.admit(ctx.request());
      if (ticket == null) {
        ctx.fail(admission.overloaded(ctx.request()));
        return;
      }
      ctx.addEndHandler(done -> ticket.done());
      ctx.next();
    });
    gate.mount(router); // before any body is read
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
    // Peers' routes bound their own bodies (InternalRoutes); clients get BODY_BYTES_MAX.
    router.routeWithRegex("^(?!/internal/).*").handler(BodyHandler.create(false)
        .setBodyLimit(config.bodyBytesMax()));
    return router;
  }

  /**
   * A request Netty could not even parse (request line or headers too long, garbage line): a
   * JSON 400 like every other error, then the connection closes.
   */
  private static void rejectMalformed(HttpServerRequest request) {
    String method = request.method() == null ? "request" : request.method().name();
    byte[] body = Json.bytes(Json.object()
        .put("message", "Error in " + method)
        .put("error", "Bad request: malformed HTTP request"));
    request.response().setStatusCode(400)
        .putHeader("Content-Type", "application/json")
        .putHeader("Connection", "close")
        .end(io.vertx.core.buffer.Buffer.buffer(body));
  }

  /** Requests being served now (for tests). */
  int requestsInFlight() {
    return admission.inFlight();
  }

  /** Connections open now (for tests). */
  int connectionsOpen() {
    return admission.connections();
  }

  /**
   * After a restart with DATA_DIR: the replication queue was in memory, so every write this node
   * made above its persisted stable mark (the ones some peer may not have acknowledged) is
   * queued again for its shard's peers. Scanning the store runs on a worker thread. A node
   * {@code restored} on data not synced per write also holds its stability report
   * ({@link CatchUp#holdAfterUnsyncedRestart}). Completes with the writes it queued again.
   */
  private Future<List<Entry>> requeueUnacknowledged(NodeMeta meta, CatchUp catchUp,
      boolean restored) {
    if (durable == null) {
      return Future.succeededFuture(List.of());
    }
    long mark = meta.restoredStableMark();
    String self = config.address().toString();
    return vertx.executeBlocking(() -> KeyValueCore.unacknowledgedOwn(durable, self, mark))
        .map(own -> {
          int queued = catchUp.requeue(own, mark);
          if (config.durability() != DurabilityMode.SYNC && restored) {
            catchUp.holdAfterUnsyncedRestart(); // its unsynced tail may be gone
          }
          LOG.info("event=outbox-rebuilt node={} stable-mark={} own-writes-above-mark={}"
              + " queued={}", self, mark, own.size(), queued);
          return own;
        });
  }

  /** The cluster as the metrics read it: this node's state and failure detector. */
  private ClusterView clusterView(PeerLiveness liveness) {
    return new ClusterView() {
      @Override
      public long epoch() {
        return state.current().epoch();
      }

      @Override
      public List<NodeAddress> shardPeers() {
        return state.shardPeers();
      }

      @Override
      public List<NodeAddress> others() {
        return state.others();
      }

      @Override
      public boolean isLive(NodeAddress node) {
        return liveness.isLive(node);
      }
    };
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
    long start = clock.millis();
    Future<Void> closed = server == null ? Future.succeededFuture()
        : server.shutdown(java.time.Duration.ofMillis(SHUTDOWN_GRACE_MS));
    return closed
        .compose(v -> kv == null ? Future.<Void>succeededFuture()
            : kv.counts().drainReplication(clock.millis() + SHUTDOWN_DRAIN_MS))
        .transform(ar -> {
          long pending = kv == null ? 0 : kv.core().replica().queue().pendingTotal();
          LOG.info("event=shutdown node={} ms={} unacknowledged-writes={}", config.address(),
              clock.millis() - start, pending);
          for (Runnable stop : new Runnable[] {
              gossip == null ? null : gossip::stop, kv == null ? null : kv::stop,
              heartbeats == null ? null : heartbeats::stop,
              antiEntropy == null ? null : antiEntropy::stop,
              quarantineRepair == null ? null : quarantineRepair::stop}) {
            if (stop != null) {
              stop.run();
            }
          }
          if (metrics != null) {
            metrics.close();
          }
          return peers == null ? Future.succeededFuture() : peers.close();
        });
  }
}
