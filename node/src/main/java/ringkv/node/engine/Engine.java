package ringkv.node.engine;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import ringkv.gossip.CausalContext;
import ringkv.gossip.ContextBound;
import ringkv.gossip.Entry;
import ringkv.gossip.FailureDetector;
import ringkv.gossip.Stability;
import ringkv.gossip.Replica;
import ringkv.gossip.Version;
import ringkv.node.config.NodeConfig;
import ringkv.node.error.ErrorCode;
import ringkv.node.json.Json;
import ringkv.node.error.KvException;
import ringkv.node.api.Wire;
import ringkv.node.engine.KvReply.Outcome;
import ringkv.ring.ClusterConfig;
import ringkv.ring.NodeAddress;

/**
 * The one engine behind both HTTP dialects: routes a key-value request to its owning shard
 * (serving it here or forwarding it to a live member, which checks ownership again), validates it
 * at the owner, waits (bounded) for causal dependencies the client has seen but this replica
 * lacks — pulling them from the shard's other replicas meanwhile — and applies it to the
 * {@link Replica}, whose queue the {@link GossipDriver} drains to the other replicas.
 *
 * <p>Not thread-safe; every method runs on the node's event loop.
 */
public final class Engine {
  private static final Logger LOG = LoggerFactory.getLogger(Engine.class);
  /** A request is forwarded at most this many times (a stale route may need one re-route). */
  public static final int FORWARD_HOPS_MAX = 2;
  public static final int KEY_CODE_POINTS_MAX = 50;

  private final NodeConfig config;
  private final NodeAddress self;
  private final Replica replica;
  private final Peers peers;
  private final Waiters waiters;
  private final GossipDriver driver;
  private final AntiEntropyDriver antiEntropy;
  private final FailureDetector detector;
  private final Stability stability = new Stability();
  private final Vertx vertx;
  private ClusterConfig cluster;
  private final Forwarder forwarder;
  private long heartbeatTimer = -1;
  private long tombstoneTimer = -1;
  /** The configuration being installed by a view change, while one is in progress. */
  private ClusterConfig pending;
  private Membership membership;
  private long pendingSinceMs;
  /** True until a (re)started replica has copied its shard's data from a live peer. */
  private boolean catchingUp;

  /** Metadata names in DATA_DIR. */
  public static final String META_CONFIG = "config";
  public static final String META_STABLE = "stable";

  /** Durable metadata (DATA_DIR), or null when the node keeps everything in memory. */
  private final ringkv.node.storage.MetaStore meta;
  private long persistedStable = -1;

  public Engine(Vertx vertx, Context context, NodeConfig config, ClusterConfig cluster,
      Replica replica, Peers peers, ringkv.node.storage.MetaStore meta) {
    this.meta = meta;
    this.vertx = vertx;
    this.config = config;
    this.self = config.address();
    this.detector = new FailureDetector(config.failureTimeoutMs());
    this.cluster = cluster;
    this.replica = replica;
    this.peers = peers;
    this.waiters = new Waiters(vertx, config.waitersMax());
    this.driver = new GossipDriver(vertx, context, replica.queue(), peers, self.toString(),
        config.replicationTickMs(), config.forwardTimeoutMs());
    this.forwarder = new Forwarder(peers, config.forwardTimeoutMs(), self, this::isLive);
    this.antiEntropy = new AntiEntropyDriver(vertx, context, this,
        config.antiEntropyIntervalMs(), config.forwardTimeoutMs());
  }

  public void start() {
    persistConfig(cluster);
    driver.skipUnreachable(peer -> detector.isUp(peer));
    driver.start();
    antiEntropy.start();
    detector.track(otherNodes(), System.currentTimeMillis());
    heartbeatTimer = vertx.setPeriodic(config.heartbeatIntervalMs(), id -> heartbeat());
    tombstoneTimer = vertx.setPeriodic(TOMBSTONE_SWEEP_MS, id -> collectTombstones());
  }

  public void stop() {
    driver.stop();
    antiEntropy.stop();
    for (long timer : new long[] {heartbeatTimer, tombstoneTimer}) {
      if (timer >= 0) {
        vertx.cancelTimer(timer);
      }
    }
  }

  /** How often tombstones every replica holds are collected. */
  static final long TOMBSTONE_SWEEP_MS = 2_000;

  /** Entries a tombstone sweep looks at per turn of the event loop. */
  static final int SWEEP_PAGE_ENTRIES = 1024;
  private boolean sweeping;

  /** Starts a sweep (one page per turn of the event loop) unless one is running. */
  private void collectTombstones() {
    if (!sweeping) {
      sweeping = true;
      sweepPage(null, 0);
    }
  }

  private void sweepPage(String after, int removedSoFar) {
    OptionalInt shard = cluster.shardOfNode(self);
    if (shard.isEmpty() || pending != null || catchingUp) {
      sweeping = false;
      return;
    }
    java.util.Map<Integer, Long> stableByShard = new java.util.HashMap<>();
    // A tombstone goes only when it and its causes are stable in their own shards.
    Replica.Sweep sweep = replica.collectTombstones(
        k -> stableByShard.computeIfAbsent(cluster.shardOf(k), this::stableTime), after,
        SWEEP_PAGE_ENTRIES);
    int removed = removedSoFar + sweep.removed();
    if (sweep.resumeAfter() == null) {
      sweeping = false;
      if (removed > 0) {
        LOG.debug("event=tombstones-collected node={} count={}", self, removed);
      }
      return;
    }
    vertx.runOnContext(v -> sweepPage(sweep.resumeAfter(), removed));
  }


  private List<String> otherNodes() {
    List<String> out = new ArrayList<>();
    for (NodeAddress a : cluster.view()) {
      if (!a.equals(self)) {
        out.add(a.toString());
      }
    }
    return out;
  }

  /** Pings every other node of the view; silent ones are marked down (SPEC §3: within 3 s). */
  private void heartbeat() {
    long now = System.currentTimeMillis();
    List<String> others = otherNodes();
    detector.track(others, now);
    for (String peer : others) {
      String ping = "/internal/ping?from=" + self + "&epoch=" + cluster.epoch();
      peers.get(NodeAddress.parse(peer), ping, config.failureTimeoutMs())
          .onSuccess(r -> onPingReply(peer, r));
    }
    for (FailureDetector.Transition t : detector.onTick(now)) {
      LOG.info("event=peer-down node={} peer={}", self, t.peer());
    }
    persistStable();
  }

  private void onPingReply(String peer, Peers.PeerReply reply) {
    if (reply.status() != 200) {
      return;
    }
    heard(peer);
    JsonNode b = reply.body();
    if (b.has("stable")) {
      stability.report(peer, b.path("incarnation").asLong(0), b.get("stable").asLong());
    }
    long epoch = b.path("epoch").asLong(0);
    if (epoch > cluster.epoch()) {
      fetchConfig(NodeAddress.parse(peer));
    }
  }

  /** Adopts {@code peer}'s configuration if it is newer: nodes converge to the highest epoch. */
  void fetchConfig(NodeAddress peer) {
    syncConfig(peer);
  }

  /**
   * Fetches and adopts {@code peer}'s configuration if it is newer; completes when done (or when
   * the peer did not answer). Used before serving a request routed with a newer epoch.
   */
  public Future<Void> syncConfig(NodeAddress peer) {
    return peers.get(peer, "/internal/config", config.forwardTimeoutMs()).onSuccess(r -> {
      if (r.status() == 200) {
        ClusterConfig theirs = Wire.decodeConfig(r.body());
        if (pending != null && theirs.epoch() == pending.epoch()) {
          membership.commit(theirs.epoch()); // committed elsewhere; our data already moved
        } else if (theirs.isNewerThan(cluster)) {
          LOG.info("event=config-learned node={} from={} epoch={}", self, peer, theirs.epoch());
          adopt(theirs);
          membership.catchUp(); // we missed the transfer: copy our shard from a peer
        }
      }
    }).<Void>mapEmpty().recover(err -> Future.succeededFuture());
  }

  /** This process's start time: peers tell a restarted node's reports from its old ones. */
  private final long incarnation = System.currentTimeMillis();

  public long incarnation() {
    return incarnation;
  }

  /**
   * True while this node, restarted without DATA_DIR into a shard whose peers hold data, may
   * have lost writes its previous process acknowledged but never delivered to every peer: it
   * cannot vouch for them, so it holds its shard's stable time back until anti-entropy has run
   * two full passes over its live peers (the first gathers what any peer has, the second hands
   * it to every peer).
   */
  private boolean holdingStable;
  static final int HOLD_STABLE_PASSES = 2;

  void holdStableUntilRepaired() {
    if (meta == null) {
      holdingStable = true;
      LOG.info("event=stable-held node={} reason=restarted-without-data-dir", self);
    }
  }

  /**
   * False until bootstrap (discovery and catch-up) is over. A node without DATA_DIR cannot tell
   * a first start from a restart that lost its outbox before catch-up finds whether its shard
   * holds data, so until then it vouches for nothing: a report taken from its fresh clock would
   * claim writes its previous process never delivered, and peers keep the highest report of a
   * process, so a later hold could not take that claim back.
   */
  private boolean bootstrapped;

  /** Bootstrap is over (caught up, skipped or idle): stable-time reports may start. */
  void bootstrapped() {
    bootstrapped = true;
  }

  /** This node's stable-time report for the ping reply. */
  public long localStable() {
    if (meta == null && !bootstrapped) {
      return 0;
    }
    if (holdingStable) {
      List<NodeAddress> live = new ArrayList<>();
      for (String p : myShardPeers()) {
        NodeAddress a = NodeAddress.parse(p);
        if (isLive(a)) {
          live.add(a);
        }
      }
      if (live.isEmpty() || antiEntropy.completedRoundsWithEach(live) < HOLD_STABLE_PASSES) {
        return 0;
      }
      holdingStable = false;
      LOG.info("event=stable-released node={} anti-entropy-passes={}", self, HOLD_STABLE_PASSES);
    }
    return replica.localStable(myShardPeers());
  }

  private List<String> myShardPeers() {
    OptionalInt shard = cluster.shardOfNode(self);
    return shard.isPresent() ? otherMembers(shard.getAsInt()) : List.of();
  }

  /** The stable time of {@code shardId} as this node knows it. */
  public long stableTime(int shardId) {
    List<NodeAddress> members = cluster.membersOf(shardId);
    long min = Long.MAX_VALUE;
    List<String> others = new ArrayList<>();
    for (NodeAddress m : members) {
      if (m.equals(self)) {
        min = Math.min(min, localStable());
      } else {
        others.add(m.toString());
      }
    }
    return others.isEmpty() ? (min == Long.MAX_VALUE ? 0 : min)
        : Math.min(min, stability.stableTime(others));
  }

  /**
   * The context without entries every replica of their shard already holds: what a write stores
   * as its dependencies and what a request waits for (a collected tombstone's key must not make
   * a reader wait for ever). Replies do not prune: see {@link #answered}.
   */
  public CausalContext prune(CausalContext ctx) {
    if (ctx.isEmpty()) {
      return ctx;
    }
    return ctx.without(stablePredicate());
  }

  /**
   * A ping from {@code from}, which holds configuration {@code epoch}: a node that missed a
   * change (restarted without data, partitioned) learns the newer configuration from it.
   */
  public void onPing(String from, long epoch) {
    heard(from);
    if (epoch > cluster.epoch() && (pending == null || pending.epoch() <= epoch)) {
      try {
        syncConfig(NodeAddress.parse(from));
      } catch (IllegalArgumentException e) {
        LOG.debug("event=bad-ping from={}", from);
      }
    }
  }

  /** Any message from {@code peer} proves it alive. */
  public void heard(String peer) {
    FailureDetector.Transition t = detector.onHeard(peer, System.currentTimeMillis());
    if (t != null) {
      LOG.info("event=peer-up node={} peer={}", self, t.peer());
      driver.onPeerUp(t.peer());
    }
  }

  public boolean isLive(NodeAddress node) {
    return node.equals(self) || detector.isUp(node.toString());
  }

  /** Members of {@code shardId} that answer heartbeats. */
  public List<NodeAddress> liveMembersOf(int shardId) {
    return cluster.membersOf(shardId).stream().filter(this::isLive).toList();
  }

  /** Nodes of the view that answer heartbeats (this one included). */
  public List<NodeAddress> liveView() {
    return cluster.view().stream().filter(this::isLive).toList();
  }

  public NodeAddress self() {
    return self;
  }

  public ClusterConfig cluster() {
    return cluster;
  }

  public Replica replica() {
    return replica;
  }

  /** Anti-entropy with the shard's other replicas (its endpoints serve peers' rounds). */
  public AntiEntropyDriver antiEntropy() {
    return antiEntropy;
  }

  /** The largest Lamport counter a client may send (see {@link Wire#CLOCK_AHEAD_MS_MAX}). */
  public long clockLimit() {
    return Math.max(replica.clock().current(), System.currentTimeMillis())
        + Wire.CLOCK_AHEAD_MS_MAX;
  }

  /** Serves {@code request} here if this node owns the key, else forwards it to the owner. */
  public Future<KvReply> execute(KvRequest request, int hops) {
    return execute(request, hops, false);
  }

  /**
   * As {@link #execute(KvRequest, int)}; {@code fromCatchingUp} marks a request forwarded by a
   * replica of the owning shard that is still copying its data: served here even if this replica
   * is catching up too (a cluster starting at once has nothing to copy).
   */
  public Future<KvReply> execute(KvRequest request, int hops, boolean fromCatchingUp) {
    if (pending != null) {
      return Future.failedFuture(new KvException(ErrorCode.VIEW_CHANGE,
          "view change to epoch " + pending.epoch() + " in progress"));
    }
    ClusterConfig c = cluster;
    int shard = c.shardOf(request.key());
    List<NodeAddress> members = c.membersOf(shard);
    if (members.contains(self) && (!catchingUp || fromCatchingUp)) {
      return executeLocal(request, shard).map(r -> answered(request.context(), r));
    }
    boolean handingOff = members.contains(self);
    if (handingOff) {
      // Still copying this shard's data: let a caught-up replica answer.
      members = members.stream().filter(m -> !m.equals(self)).toList();
    }
    if (hops >= FORWARD_HOPS_MAX) {
      return Future.failedFuture(new KvException(ErrorCode.UNAVAILABLE,
          "request for " + request.key() + " forwarded " + hops + " times without an owner"));
    }
    return forwarder.forward(request, members, hops + 1, handingOff, cluster.epoch())
        .map(KvReply::asProxied);
  }

  /**
   * The reply with the client's context as it sent it, raised by what serving the request taught
   * it, bounded as {@link ContextBound} says (the metadata round-trips; SPEC §6).
   */
  private KvReply answered(CausalContext sent, KvReply r) {
    CausalContext out = ContextBound.reply(sent, r.context(), ContextBound.ENTRIES_MAX,
        stablePredicate());
    return new KvReply(r.outcome(), r.valueJson(), out, r.shardId(), r.servedBy(), r.proxied());
  }

  /** Whether an entry is at or below the stable time of its key's shard (every replica has it). */
  private java.util.function.BiPredicate<String, Version> stablePredicate() {
    java.util.Map<Integer, Long> stableByShard = new java.util.HashMap<>();
    return (k, v) -> v.counter()
        <= stableByShard.computeIfAbsent(cluster.shardOf(k), this::stableTime);
  }

  /** Decodes a request forwarded by a peer ({@code POST /internal/kv}). */
  public KvRequest decodeForwarded(JsonNode b) {
    return Forwarder.decodeRequest(b, clockLimit());
  }

  private Future<KvReply> executeLocal(KvRequest request, int shard) {
    String key = request.key();
    if (key.isEmpty()) {
      return Future.failedFuture(new KvException(ErrorCode.KEY_MISSING));
    }
    if (key.codePointCount(0, key.length()) > KEY_CODE_POINTS_MAX) {
      return Future.failedFuture(new KvException(ErrorCode.KEY_TOO_LONG));
    }
    if (request.op() == KvOp.PUT && request.valueJson() == null) {
      return Future.failedFuture(new KvException(ErrorCode.VALUE_MISSING));
    }
    KvRequest pruned = new KvRequest(request.op(), key, request.valueJson(),
        prune(request.context()), request.waitMs());
    // Every operation first waits (bounded) for a version of the key the client has seen, so
    // that its answer (found, "Updated", 404 after a delete) reflects what the client knows. A
    // read that cannot get it fails; a write goes ahead anyway once the wait is over — its new
    // version supersedes the missing one wherever that arrives, and a partition must not stop
    // writes.
    Optional<Version> missing = replica.missing(key, pruned.context());
    Future<Void> ready = missing.isEmpty()
        ? Future.succeededFuture() : awaitVersion(key, missing.get(), shard, request.waitMs());
    if (request.op() != KvOp.GET) {
      ready = ready.recover(err -> err instanceof KvException k
          && k.code() == ErrorCode.CAUSAL_TIMEOUT
          ? Future.succeededFuture() : Future.failedFuture(err));
    }
    return ready.map(v -> perform(pruned, shard));
  }

  private KvReply perform(KvRequest request, int shard) {
    String key = request.key();
    CausalContext ctx = request.context();
    String me = self.toString();
    switch (request.op()) {
      case GET -> {
        Replica.ReadResult r = replica.read(key, ctx);
        return r.found()
            ? new KvReply(Outcome.FOUND, r.entry().value(), r.context(), shard, me, false)
            : new KvReply(Outcome.NOT_FOUND, null, r.context(), shard, me, false);
      }
      case PUT -> {
        List<String> targets = otherMembers(shard);
        if (!replica.hasRoomFor(key, targets)) {
          throw new KvException(ErrorCode.QUEUE_FULL);
        }
        Replica.WriteResult w = replica.put(key, request.valueJson(), ctx, targets,
            System.currentTimeMillis());
        afterWrite(w);
        return new KvReply(w.existed() ? Outcome.UPDATED : Outcome.CREATED, null, w.context(),
            shard, me, false);
      }
      case DELETE -> {
        List<String> targets = otherMembers(shard);
        if (!replica.hasRoomFor(key, targets)) {
          throw new KvException(ErrorCode.QUEUE_FULL);
        }
        Replica.WriteResult w = replica.delete(key, ctx, targets, System.currentTimeMillis());
        if (w.entry() == null) {
          return new KvReply(Outcome.NOT_FOUND, null, w.context(), shard, me, false);
        }
        afterWrite(w);
        return new KvReply(Outcome.DELETED, null, w.context(), shard, me, false);
      }
      default -> throw new IllegalStateException("unknown op " + request.op());
    }
  }

  private void afterWrite(Replica.WriteResult w) {
    waiters.onHeld(w.entry().key(), w.entry().version());
    driver.flushSoon();
  }

  private List<String> otherMembers(int shard) {
    List<String> out = new ArrayList<>();
    for (NodeAddress a : cluster.membersOf(shard)) {
      if (!a.equals(self)) {
        out.add(a.toString());
      }
    }
    return out;
  }

  /** Parks until the replica holds {@code needed}; asks the other replicas for it meanwhile. */
  private Future<Void> awaitVersion(String key, Version needed, int shard, long waitMs) {
    Future<Void> arrived = waiters.await(key, needed, waitMs);
    ObjectNode body = Json.object();
    body.putArray("keys").add(key);
    for (NodeAddress peer : cluster.membersOf(shard)) {
      if (!peer.equals(self)) {
        peers.post(peer, "/internal/pull", body, Math.max(1, waitMs))
            .onSuccess(reply -> {
              if (reply.status() == 200) {
                // A late answer must not resurrect a key whose tombstone was since collected.
                applyAll(Wire.decodeEntries(reply.body().get("entries")), true);
              }
            })
            .onFailure(err -> LOG.debug("event=pull-failed peer={} key={} cause={}", peer, key,
                err.toString()));
      }
    }
    return arrived;
  }

  /**
   * Merges entries from peers; returns how many were newer. Entries from a replication queue
   * ({@code fromQueue}) at or below the shard's stable time are stale duplicates of writes whose
   * tombstone may already be collected; transferred and pulled entries are always merged.
   */
  public int applyAll(List<Entry> entries, boolean fromQueue) {
    int applied = 0;
    java.util.Map<Integer, Long> stableByShard = new java.util.HashMap<>();
    for (Entry e : entries) {
      if (fromQueue && !owns(cluster, e.key()) && (pending == null || !owns(pending, e.key()))) {
        continue; // a stale sender's write for a shard this node left: its owners have it
      }
      boolean fresh = fromQueue
          ? replica.applyReplicated(e, stableByShard.computeIfAbsent(cluster.shardOf(e.key()),
              this::stableTime))
          : replica.apply(e);
      if (fresh) {
        applied++;
      }
      waiters.onHeld(e.key(), replica.held(e.key()));
    }
    return applied;
  }

  /** The entries this replica holds for {@code keys} (for a peer's pull). */
  public List<Entry> entriesFor(List<String> keys) {
    List<Entry> out = new ArrayList<>();
    for (String k : keys) {
      Entry e = replica.store().get(k);
      if (e != null) {
        out.add(e);
      }
    }
    return out;
  }

  /**
   * Live keys of shard {@code shardId}, counting every write any live member acknowledged before
   * this call: counted here after {@link #settle()} if this node is a caught-up member, else
   * asked of a member (which settles likewise). So a count taken right after writes does not
   * depend on which replica answers it.
   */
  public Future<Long> keyCount(int shardId) {
    List<NodeAddress> members = cluster.membersOf(shardId);
    if (members.contains(self) && !catchingUp) {
      return localKeyCount();
    }
    members = members.stream().filter(m -> !m.equals(self)).toList();
    List<NodeAddress> order = new ArrayList<>(members);
    order.sort(java.util.Comparator.comparing(a -> isLive(a) ? 0 : 1));
    return askKeyCount(shardId, order, 0);
  }

  /** This node's live keys, once {@link #settle()} is over. */
  public Future<Long> localKeyCount() {
    return settle().map(v -> replica.store().liveCount());
  }

  /** How long a count waits for the shard's peers to deliver what they acknowledged. */
  static final long SETTLE_WAIT_MS = 1_000;

  /**
   * Completes once every live peer of this node's shard has delivered to this node every write
   * it had made when it got the request ({@code POST /internal/settle}), or after
   * {@link #SETTLE_WAIT_MS}: what this node holds then includes every write the shard
   * acknowledged before the call (its own are here already). Never fails.
   */
  public Future<Void> settle() {
    List<Future<Peers.PeerReply>> asked = new ArrayList<>();
    ObjectNode body = Json.object();
    body.put("to", self.toString());
    body.put("wait-ms", SETTLE_WAIT_MS);
    for (String p : myShardPeers()) {
      NodeAddress peer = NodeAddress.parse(p);
      if (isLive(peer)) {
        asked.add(peers.post(peer, "/internal/settle", body, SETTLE_WAIT_MS + 500));
      }
    }
    return Future.join(asked).<Void>mapEmpty().recover(err -> Future.succeededFuture());
  }

  /**
   * Completes once {@code peer} has acknowledged every write this node had made at the call (or
   * at {@code waitMs}, or at once when {@code peer} is no replica of this node's shard). Never
   * fails. Serves a peer's {@link #settle()}.
   */
  public Future<Void> deliveredTo(String peer, long waitMs) {
    if (!myShardPeers().contains(peer)) {
      return Future.succeededFuture();
    }
    long upTo = replica.clock().current();
    long deadlineMs = System.currentTimeMillis() + waitMs;
    driver.flushSoon();
    io.vertx.core.Promise<Void> done = io.vertx.core.Promise.promise();
    pollDelivered(peer, upTo, deadlineMs, done);
    return done.future();
  }

  private void pollDelivered(String peer, long upTo, long deadlineMs,
      io.vertx.core.Promise<Void> done) {
    java.util.OptionalLong oldest = replica.queue().oldestUnackedCounter(peer);
    if (oldest.isEmpty() || oldest.getAsLong() > upTo
        || System.currentTimeMillis() >= deadlineMs) {
      done.complete();
      return;
    }
    vertx.setTimer(DRAIN_POLL_MS, id -> pollDelivered(peer, upTo, deadlineMs, done));
  }

  private Future<Long> askKeyCount(int shardId, List<NodeAddress> members, int index) {
    if (index >= members.size()) {
      return Future.failedFuture(new KvException(ErrorCode.UNAVAILABLE,
          "no member of shard " + shardId + " answered"));
    }
    return peers.get(members.get(index),
            "/key-value-store-shard/shard-id-key-count/" + shardId, config.forwardTimeoutMs())
        .compose(r -> r.status() == 200
            ? Future.succeededFuture(r.body().path("shard-id-key-count").asLong())
            : Future.failedFuture(new IllegalStateException("status " + r.status())))
        .recover(err -> askKeyCount(shardId, members, index + 1));
  }

  private void persistConfig(ClusterConfig c) {
    if (meta != null) {
      meta.putMeta(META_CONFIG, Json.bytes(Wire.config(c)));
    }
  }

  /**
   * Records this node's stable mark: every peer acknowledged all its writes at or below it, so a
   * restart needs to re-send only the writes above it (the queue itself lives in memory).
   */
  private void persistStable() {
    if (meta == null) {
      return;
    }
    long stable = localStable();
    if (stable != persistedStable) {
      meta.putMeta(META_STABLE,
          Long.toString(stable).getBytes(java.nio.charset.StandardCharsets.US_ASCII));
      persistedStable = stable;
    }
  }

  /**
   * Queues again, for this node's shard peers, writes it made before a restart that some peer
   * may not have acknowledged. Returns how many were queued. Writes a full queue cannot take
   * are left to anti-entropy, and the node holds its stable time until that has run (its report
   * must not vouch for writes no queue delivers).
   */
  public int requeue(List<Entry> own) {
    List<String> targets = myShardPeers();
    int queued = 0;
    int overflow = 0;
    for (Entry e : own) {
      if (!owns(cluster, e.key())) {
        continue;
      }
      replica.clock().observe(e.version().counter());
      if (!replica.hasRoomFor(e.key(), targets)) {
        overflow++;
        continue;
      }
      replica.queue().enqueue(e, targets);
      queued++;
    }
    if (overflow > 0) {
      // Writes no queue holds any more: this node cannot vouch for them until anti-entropy
      // has handed them to every peer (as after a restart without DATA_DIR).
      holdingStable = true;
      LOG.info("event=stable-held node={} reason=outbox-overflow writes-not-requeued={}", self,
          overflow);
    }
    if (queued > 0) {
      driver.flushSoon();
    }
    return queued;
  }

  // ---- state shared with Membership (same event loop) ----

  void setMembership(Membership m) {
    membership = m;
  }

  NodeConfig nodeConfig() {
    return config;
  }

  Peers peers() {
    return peers;
  }

  public ClusterConfig pending() {
    return pending;
  }

  void setPending(ClusterConfig next) {
    pending = next;
    pendingSinceMs = System.currentTimeMillis();
  }

  long pendingSinceMs() {
    return pendingSinceMs;
  }

  boolean catchingUp() {
    return catchingUp;
  }

  /** Whether this node has its shard's data (not still starting up or catching up). */
  public boolean isReady() {
    return !catchingUp;
  }

  void setCatchingUp(boolean value) {
    catchingUp = value;
  }

  void flushReplication() {
    driver.flushSoon();
  }

  /** Poll interval while waiting for the replication queue to drain. */
  static final long DRAIN_POLL_MS = 5;

  /**
   * Completes when every live peer of this node's shard has acknowledged everything queued for
   * it; fails at {@code deadlineMs}. Used before a view change moves data and on shutdown.
   */
  public Future<Void> drainReplication(long deadlineMs) {
    boolean empty = true;
    for (String peer : myShardPeers()) {
      if (isLive(NodeAddress.parse(peer)) && replica.queue().pending(peer) > 0) {
        empty = false;
      }
    }
    if (empty) {
      return Future.succeededFuture();
    }
    if (System.currentTimeMillis() > deadlineMs) {
      return Future.failedFuture(new IllegalStateException(
          replica.queue().pendingTotal() + " writes still unacknowledged"));
    }
    driver.flushSoon();
    io.vertx.core.Promise<Void> later = io.vertx.core.Promise.promise();
    vertx.setTimer(DRAIN_POLL_MS, id -> drainReplication(deadlineMs).onComplete(later));
    return later.future();
  }

  /** Whether this node holds {@code key} under {@code c}. */
  boolean owns(ClusterConfig c, String key) {
    return c.membersOf(c.shardOf(key)).contains(self);
  }

  /**
   * Installs {@code next}: routing switches to it, keys this node no longer owns are dropped
   * (their new owners received them before the change committed), replication follows the new
   * shard peers.
   */
  Future<Integer> adopt(ClusterConfig next) {
    ClusterConfig previous = cluster;
    cluster = next;
    pending = null;
    persistConfig(next);
    replica.queue().retainPeers(new java.util.HashSet<>(myShardPeers()));
    List<String> everyone = next.view().stream().map(Object::toString).toList();
    stability.retain(everyone);
    detector.track(otherNodes(), System.currentTimeMillis());
    LOG.info("event=config-installed node={} epoch={} previous={} shard={} shards={}", self,
        next.epoch(), previous.epoch(), next.shardOfNode(self), next.layout().asMap());
    io.vertx.core.Promise<Integer> dropped = io.vertx.core.Promise.promise();
    dropForeignKeys(null, 0, dropped);
    return dropped.future().onSuccess(n -> {
      if (n > 0) {
        LOG.info("event=foreign-keys-dropped node={} epoch={} keys={}", self, next.epoch(), n);
      }
    });
  }

  /** Keys removed per turn of the event loop while dropping keys this node no longer owns. */
  static final int DROP_PAGE_ENTRIES = 1024;

  /**
   * Removes, one page per turn of the event loop (a large store never stalls it), the keys the
   * current configuration no longer gives this node — checked against the configuration at
   * each page, so a newer one adopted meanwhile is respected.
   */
  private void dropForeignKeys(String after, int droppedSoFar, io.vertx.core.Promise<Integer> done) {
    List<Entry> page = replica.store().scan(after, DROP_PAGE_ENTRIES);
    if (page.isEmpty()) {
      done.complete(droppedSoFar);
      return;
    }
    int dropped = droppedSoFar;
    for (Entry e : page) {
      if (!owns(cluster, e.key())) {
        replica.store().remove(e.key());
        dropped++;
      }
    }
    String last = page.get(page.size() - 1).key();
    int total = dropped;
    vertx.runOnContext(v -> dropForeignKeys(last, total, done));
  }
}
