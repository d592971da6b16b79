package ringkv.node.engine;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.OptionalLong;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import ringkv.gossip.CausalContext;
import ringkv.gossip.CounterBound;
import ringkv.gossip.Entry;
import ringkv.gossip.KeyValueCore;
import ringkv.gossip.Version;
import ringkv.node.config.NodeConfig;
import ringkv.node.error.ErrorCode;
import ringkv.node.error.KvException;
import ringkv.node.metrics.NodeMetrics;
import ringkv.node.peer.KvMessages.Count;
import ringkv.node.peer.KvMessages.CountRequest;
import ringkv.node.peer.KvMessages.EntriesReply;
import ringkv.node.peer.KvMessages.EntriesRequest;
import ringkv.node.peer.KvMessages.ForwardReply;
import ringkv.node.peer.KvMessages.ForwardRequest;
import ringkv.node.peer.KvMessages.SettleRequest;
import ringkv.node.peer.PeerClient;
import ringkv.node.peer.PeerProtocol;
import ringkv.node.time.Clock;
import ringkv.ring.ClusterConfig;
import ringkv.ring.NodeAddress;

/**
 * The key-value path of the node around the pure {@link KeyValueCore}: routes a request to its
 * owning shard (serving it here, or forwarding it to a live member, which checks ownership
 * again), parks a request whose causal dependency this replica lacks while pulling it from the
 * shard's other replicas, merges what peers send, counts keys, and sweeps tombstones. The rules
 * are the core's; this class turns its answers into futures, timers and messages.
 *
 * <p>Not thread-safe; every method runs on the node's event loop.
 */
public final class KvService {
  private static final Logger LOG = LoggerFactory.getLogger(KvService.class);
  /** A request is forwarded at most this many times (a stale route may need one re-route). */
  public static final int FORWARD_HOPS_MAX = 2;
  public static final int KEY_CODE_POINTS_MAX = 50;
  /** How long a count waits for the shard's peers to deliver what they acknowledged. */
  static final long SETTLE_WAIT_MS = 1_000;
  /** Poll interval while waiting for a replication queue to drain. */
  static final long DRAIN_POLL_MS = 5;
  /** How often tombstones every replica holds are collected. */
  static final long TOMBSTONE_SWEEP_MS = 2_000;
  /** Entries a tombstone sweep looks at per turn of the event loop. */
  static final int SWEEP_PAGE_ENTRIES = 1024;
  /** Bytes of entries one answer to an entries request carries (then the caller asks again). */
  static final long ENTRIES_REPLY_BYTES_MAX = 4L << 20;

  private final Vertx vertx;
  private final Clock clock;
  private final NodeConfig config;
  private final ClusterState state;
  private final KeyValueCore core;
  private final PeerLiveness liveness;
  private final PeerClient peers;
  private final GossipDriver gossip;
  private final Forwarder forwarder;
  private final NodeMetrics metrics;
  private final Map<Long, Promise<Void>> parked = new HashMap<>();
  private long sweepTimer = -1;
  private boolean sweeping;

  private final ReplicaAcks acks;

  public KvService(Vertx vertx, Clock clock, NodeConfig config, ClusterState state,
      KeyValueCore core, PeerLiveness liveness, PeerClient peers, GossipDriver gossip,
      NodeMetrics metrics, ReplicaAcks acks) {
    this.acks = acks;
    this.vertx = vertx;
    this.clock = clock;
    this.config = config;
    this.state = state;
    this.core = core;
    this.liveness = liveness;
    this.peers = peers;
    this.gossip = gossip;
    this.metrics = metrics;
    this.forwarder = new Forwarder(peers, liveness, config.forwardTimeoutMs(), metrics);
  }

  public void start() {
    sweepTimer = vertx.setPeriodic(TOMBSTONE_SWEEP_MS, id -> sweepTombstones());
  }

  public void stop() {
    if (sweepTimer >= 0) {
      vertx.cancelTimer(sweepTimer);
      sweepTimer = -1;
    }
  }

  public KeyValueCore core() {
    return core;
  }

  /**
   * The largest Lamport counter this node accepts from a client or a peer: its wall clock plus
   * {@code CLOCK_AHEAD_MS_MAX} ({@link CounterBound}).
   */
  public long clockLimit() {
    return CounterBound.limit(clock.millis(), config.clockAheadMsMax());
  }

  /**
   * Refuses (400) a causal context a peer sent with a counter beyond {@link #clockLimit()}: a
   * forwarded client context is checked again by the node that serves it.
   */
  public void checkCounters(CausalContext context) {
    long limit = clockLimit();
    if (context.maxCounter() > limit) {
      throw beyond("a causal context", context.maxCounter(), limit);
    }
  }

  private KvException beyond(String what, long counter, long limit) {
    long nowMs = clock.millis();
    if (nowMs - lastRefusalLoggedMs >= REFUSAL_LOG_INTERVAL_MS) {
      lastRefusalLoggedMs = nowMs;
      LOG.warn("event=counter-refused node={} what=\"{}\" counter={} limit={} (a forgery, or a "
          + "clock more than CLOCK_AHEAD_MS_MAX={} ms off)", state.self(), what, counter, limit,
          config.clockAheadMsMax());
    }
    return new KvException(ErrorCode.BAD_REQUEST, what + " carries counter " + counter
        + ", beyond this node's clock plus CLOCK_AHEAD_MS_MAX (" + limit + ")");
  }

  /** At most one refusal is logged per this interval (a flood must not flood the log). */
  static final long REFUSAL_LOG_INTERVAL_MS = 10_000;
  private long lastRefusalLoggedMs = Long.MIN_VALUE / 2;

  /**
   * Serves {@code request} here if this node owns the key, else forwards it to the owner.
   * {@code fromCatchingUp} marks a request forwarded by a replica of the owning shard that is
   * still copying its data: served here even if this replica is catching up too (a cluster
   * starting at once has nothing to copy).
   */
  public Future<KvReply> execute(KvRequest request, int hops, boolean fromCatchingUp) {
    Optional<ClusterConfig> pending = state.pending();
    if (pending.isPresent()) {
      return Future.failedFuture(new KvException(ErrorCode.VIEW_CHANGE,
          "view change to epoch " + pending.get().epoch() + " in progress"));
    }
    ClusterConfig c = state.current();
    int shard = c.shardOf(request.key());
    List<NodeAddress> members = c.membersOf(shard);
    boolean member = members.contains(state.self());
    if (member && (!state.catchingUp() || fromCatchingUp)) {
      return executeLocal(request, shard);
    }
    if (member) {
      // Still copying this shard's data: let a caught-up replica answer.
      members = members.stream().filter(m -> !m.equals(state.self())).toList();
    }
    if (hops >= FORWARD_HOPS_MAX) {
      return Future.failedFuture(new KvException(ErrorCode.UNAVAILABLE,
          "request for " + request.key() + " forwarded " + hops + " times without an owner"));
    }
    ForwardRequest forward = new ForwardRequest(request.op(), request.key(),
        request.valueJson(), request.context(), request.waitMs(), hops + 1, c.epoch(),
        state.self(), member, request.requestId(), request.acks());
    // A replica still catching up answers for its own shard: the client asked a replica of the
    // key and gets no "address" (SPEC: only a node outside the key's shard names the owner).
    boolean proxied = !member;
    return forwarder.forward(forward, members).map(r -> new KvReply(r.outcome(), r.valueJson(),
        r.context(), r.shardId(), r.servedBy(), proxied));
  }

  /** The answer to a forwarded request, in its wire form. */
  public static ForwardReply forwardReply(KvReply r) {
    return new ForwardReply(r.outcome(), r.valueJson(), r.context(), r.shardId(), r.servedBy());
  }

  private Future<KvReply> executeLocal(KvRequest request, int shard) {
    String key = request.key();
    if (key.isEmpty()) {
      return Future.failedFuture(new KvException(ErrorCode.KEY_MISSING));
    }
    if (key.codePointCount(0, key.length()) > KEY_CODE_POINTS_MAX) {
      return Future.failedFuture(new KvException(ErrorCode.KEY_TOO_LONG));
    }
    if (request.op() == KeyValueCore.Op.PUT && request.valueJson() == null) {
      return Future.failedFuture(new KvException(ErrorCode.VALUE_MISSING));
    }
    int replicas = state.current().membersOf(shard).size();
    if (request.acks() > replicas) {
      return Future.failedFuture(new KvException(ErrorCode.BAD_REQUEST, ACKS_HEADER + ": "
          + request.acks() + ", but the key's shard has " + replicas + " replicas"));
    }
    Optional<Version> missing = core.missing(key, request.context());
    Future<Void> ready = missing.isEmpty()
        ? Future.succeededFuture() : observed(request.op(),
            awaitVersion(key, missing.get(), shard, request.waitMs()));
    if (KeyValueCore.goesAheadWithoutDependency(request.op())) {
      ready = ready.recover(err -> err instanceof KvException k
          && k.code() == ErrorCode.CAUSAL_TIMEOUT
          ? Future.succeededFuture() : Future.failedFuture(err));
    }
    return ready.compose(v -> perform(request, shard));
  }

  /**
   * The request header a write sends to be answered only once this many replicas of its shard
   * hold it (1, the default, is the replica that serves it).
   */
  public static final String ACKS_HEADER = "RingKV-Acks";

  private Future<KvReply> perform(KvRequest request, int shard) {
    KeyValueCore.Result r = core.perform(request.op(), request.key(), request.valueJson(),
        request.context(), clock.millis());
    if (r.outcome() == KeyValueCore.Outcome.QUEUE_FULL) {
      throw new KvException(ErrorCode.QUEUE_FULL);
    }
    release(r.released());
    if (r.wrote()) {
      gossip.flushSoon();
    }
    KvReply reply = new KvReply(r.outcome(), r.valueJson(), r.context(), shard,
        state.self().toString(), false);
    if (request.acks() <= 1 || !r.wrote()) {
      return Future.succeededFuture(reply);
    }
    Set<String> others = new HashSet<>();
    for (NodeAddress m : state.current().membersOf(shard)) {
      if (!m.equals(state.self())) {
        others.add(m.toString());
      }
    }
    return acks.await(r.entry(), others, request.acks(), config.acksWaitMs()).map(reply);
  }

  /** Records how a causal wait of a request of {@code op} ended, once it ends. */
  private Future<Void> observed(KeyValueCore.Op op, Future<Void> wait) {
    long start = System.nanoTime();
    return wait.onComplete(ar -> {
      NodeMetrics.CausalWait outcome;
      if (ar.succeeded()) {
        outcome = NodeMetrics.CausalWait.RELEASED;
      } else if (ar.cause() instanceof KvException k && k.code() == ErrorCode.CAUSAL_TIMEOUT) {
        outcome = KeyValueCore.goesAheadWithoutDependency(op)
            ? NodeMetrics.CausalWait.WENT_AHEAD : NodeMetrics.CausalWait.TIMED_OUT;
      } else {
        outcome = NodeMetrics.CausalWait.REFUSED; // too many waiting: the only other failure
      }
      metrics.causalWait(outcome, System.nanoTime() - start);
    });
  }

  /** Parks until this replica holds {@code needed}; asks the other replicas for it meanwhile. */
  private Future<Void> awaitVersion(String key, Version needed, int shard, long waitMs) {
    OptionalLong id = core.await(key, needed, clock.millis() + waitMs);
    if (id.isEmpty()) {
      return Future.failedFuture(new KvException(ErrorCode.OVERLOADED,
          "more than " + config.waitersMax() + " requests waiting for causal dependencies"));
    }
    Promise<Void> promise = Promise.promise();
    parked.put(id.getAsLong(), promise);
    vertx.setTimer(Math.max(1, waitMs), t -> {
      if (core.cancelWait(id.getAsLong())) {
        parked.remove(id.getAsLong());
        promise.tryFail(new KvException(ErrorCode.CAUSAL_TIMEOUT,
            "a causal dependency of " + key + " did not arrive in time"));
      }
    });
    EntriesRequest pull = new EntriesRequest(state.self(), List.of(key));
    for (NodeAddress peer : state.current().membersOf(shard)) {
      if (!peer.equals(state.self())) {
        peers.call(peer, PeerProtocol.ENTRIES, pull, Math.max(1, waitMs))
            .map(reply -> applyFromPeers(reply.entries(), true))
            .onFailure(err -> LOG.debug("event=pull-failed peer={} key={} cause={}", peer, key,
                err.toString()));
      }
    }
    return promise.future();
  }

  private void release(List<Long> ids) {
    for (long id : ids) {
      Promise<Void> p = parked.remove(id);
      if (p != null) {
        p.tryComplete();
      }
    }
  }

  /**
   * Merges entries from peers; returns how many were newer. {@code fromQueue}: replicated,
   * pulled or repaired writes (see {@link KeyValueCore#applyFromPeers}); otherwise copied data.
   * Every path by which entries arrive (replication, pulls, catch-up pages, view-change
   * transfers, anti-entropy) comes through here: a message holding an entry whose version or
   * dependencies lie beyond {@link #clockLimit()} is refused whole (400), nothing of it applied.
   */
  public int applyFromPeers(List<Entry> entries, boolean fromQueue) {
    long limit = clockLimit();
    Optional<Entry> forged = CounterBound.firstBeyond(entries, limit);
    if (forged.isPresent()) {
      Entry e = forged.get();
      throw beyond("an entry of " + e.key(), Math.max(e.version().counter(),
          e.deps().maxCounter()), limit);
    }
    KeyValueCore.Applied applied = core.applyFromPeers(entries, fromQueue,
        state::acceptsReplicated);
    release(applied.released());
    return applied.fresh();
  }

  /** The entries this replica holds for a prefix of the requested keys, bounded by bytes. */
  public EntriesReply entriesFor(EntriesRequest request) {
    List<Entry> out = new ArrayList<>();
    long bytes = 0;
    int served = 0;
    for (String k : request.keys()) {
      if (bytes >= ENTRIES_REPLY_BYTES_MAX) {
        break;
      }
      served++;
      Entry e = core.replica().store().get(k);
      if (e != null) {
        out.add(e);
        bytes += e.sizeEstimateBytes();
      }
    }
    return new EntriesReply(out, served);
  }

  /**
   * Live keys of shard {@code shardId}, counting every write any live member acknowledged before
   * this call: counted here after {@link #settle()} if this node is a caught-up member, else
   * asked of a member (which settles likewise). So a count taken right after writes does not
   * depend on which replica answers it.
   */
  public Future<Long> keyCount(int shardId) {
    List<NodeAddress> members = state.current().membersOf(shardId);
    if (members.contains(state.self()) && !state.catchingUp()) {
      return localKeyCount();
    }
    List<NodeAddress> order = new ArrayList<>(members);
    order.remove(state.self());
    order.sort(java.util.Comparator.comparing(a -> liveness.isLive(a) ? 0 : 1));
    return askKeyCount(new CountRequest(shardId), order, 0);
  }

  private Future<Long> askKeyCount(CountRequest request, List<NodeAddress> members, int index) {
    if (index >= members.size()) {
      return Future.failedFuture(new KvException(ErrorCode.UNAVAILABLE,
          "no member of shard " + request.shard() + " answered"));
    }
    return peers.call(members.get(index), PeerProtocol.COUNT, request, config.forwardTimeoutMs())
        .map(Count::keys)
        .recover(err -> askKeyCount(request, members, index + 1));
  }

  /** A peer asks for the key count of {@code request.shard()} (this node is a member). */
  public Future<Count> onCountRequest(CountRequest request) {
    if (!state.current().membersOf(request.shard()).contains(state.self())
        || state.catchingUp()) {
      return Future.failedFuture(new KvException(ErrorCode.UNAVAILABLE,
          state.self() + " does not serve shard " + request.shard()));
    }
    return localKeyCount().map(Count::new);
  }

  /**
   * This node's live keys of the shards it serves, once {@link #settle()} is over (keys copied
   * in for a view change not installed yet do not count).
   */
  public Future<Long> localKeyCount() {
    return settle().map(v -> core.replica().store().liveCount() - state.foreignLive());
  }

  /**
   * Merges keys a view change moves to this node (copied data, merged as is), counting those of
   * shards it does not serve yet apart. Returns how many were newer.
   */
  public int applyTransfer(List<Entry> entries) {
    ClusterConfig c = state.current();
    long before = liveForeign(entries, c);
    int fresh = applyFromPeers(entries, false);
    state.addForeignLive(liveForeign(entries, c) - before);
    return fresh;
  }

  /** How many of {@code entries}' keys this replica holds alive while {@code c} gives it none. */
  private long liveForeign(List<Entry> entries, ClusterConfig c) {
    long live = 0;
    for (Entry e : entries) {
      if (!state.owns(c, e.key())) {
        Entry held = core.replica().store().get(e.key());
        live += held != null && !held.isTombstone() ? 1 : 0;
      }
    }
    return live;
  }

  /**
   * Completes once every live peer of this node's shard has delivered to this node every write
   * it had made when it got the request ({@link PeerProtocol#SETTLE}), or after
   * {@link #SETTLE_WAIT_MS}: what this node holds then includes every write the shard
   * acknowledged before the call (its own are here already). Never fails.
   */
  public Future<Void> settle() {
    List<Future<?>> asked = new ArrayList<>();
    SettleRequest request = new SettleRequest(state.self(), SETTLE_WAIT_MS);
    for (NodeAddress peer : liveness.live(state.shardPeers())) {
      asked.add(peers.call(peer, PeerProtocol.SETTLE, request, SETTLE_WAIT_MS + 500));
    }
    return Future.join(asked).<Void>mapEmpty().recover(err -> Future.succeededFuture());
  }

  /**
   * Completes once {@code peer} has acknowledged every write this node had made at the call (or
   * at {@code waitMs}, or at once when {@code peer} is no replica of this node's shard). Never
   * fails. Serves a peer's {@link #settle()}.
   */
  public Future<Void> deliveredTo(NodeAddress peer, long waitMs) {
    if (!state.shardPeers().contains(peer)) {
      return Future.succeededFuture();
    }
    long upTo = core.replica().clock().current();
    long deadlineMs = clock.millis() + waitMs;
    gossip.flushSoon();
    return poll(() -> {
      OptionalLong oldest = core.replica().queue().oldestUnackedCounter(peer.toString());
      return oldest.isEmpty() || oldest.getAsLong() > upTo;
    }, deadlineMs).recover(err -> Future.succeededFuture());
  }

  /**
   * Completes when every live peer of this node's shard has acknowledged everything queued for
   * it; fails at {@code deadlineMs}. Used before a view change moves data and on shutdown.
   */
  public Future<Void> drainReplication(long deadlineMs) {
    gossip.flushSoon();
    return poll(() -> {
      for (NodeAddress peer : liveness.live(state.shardPeers())) {
        if (core.replica().queue().pending(peer.toString()) > 0) {
          return false;
        }
      }
      return true;
    }, deadlineMs).recover(err -> Future.failedFuture(new IllegalStateException(
        core.replica().queue().pendingTotal() + " writes still unacknowledged")));
  }

  /** Completes when {@code done} holds, checked every {@link #DRAIN_POLL_MS}; fails after. */
  private Future<Void> poll(java.util.function.BooleanSupplier done, long deadlineMs) {
    if (done.getAsBoolean()) {
      return Future.succeededFuture();
    }
    if (clock.millis() > deadlineMs) {
      return Future.failedFuture(new IllegalStateException("deadline passed"));
    }
    Promise<Void> later = Promise.promise();
    vertx.setTimer(DRAIN_POLL_MS, id -> poll(done, deadlineMs).onComplete(later));
    return later.future();
  }

  /** Starts a sweep (one page per turn of the event loop) unless one is running. */
  private void sweepTombstones() {
    if (!sweeping) {
      sweeping = true;
      sweepPage(null, 0);
    }
  }

  private void sweepPage(String after, int removedSoFar) {
    OptionalInt shard = state.current().shardOfNode(state.self());
    // Not during a view change: a delete collected after its key was copied would leave the
    // copy's older value at the new owner.
    if (shard.isEmpty() || state.underWay().isPresent() || state.catchingUp()) {
      sweeping = false;
      return;
    }
    var sweep = core.sweepTombstones(after, SWEEP_PAGE_ENTRIES);
    int removed = removedSoFar + sweep.removed();
    if (sweep.resumeAfter() == null) {
      sweeping = false;
      if (removed > 0) {
        LOG.debug("event=tombstones-collected node={} count={}", state.self(), removed);
      }
      return;
    }
    vertx.runOnContext(v -> sweepPage(sweep.resumeAfter(), removed));
  }
}
