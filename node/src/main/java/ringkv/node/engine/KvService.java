package ringkv.node.engine;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import ringkv.gossip.CausalContext;
import ringkv.gossip.CounterBound;
import ringkv.gossip.Entry;
import ringkv.gossip.KeyValueCore;
import ringkv.gossip.Version;
import ringkv.node.error.ErrorCode;
import ringkv.node.error.KvException;
import ringkv.node.metrics.NodeMetrics;
import ringkv.node.peer.KvMessages.EntriesReply;
import ringkv.node.peer.KvMessages.EntriesRequest;
import ringkv.node.peer.KvMessages.ForwardReply;
import ringkv.node.peer.KvMessages.ForwardRequest;
import ringkv.node.peer.PeerProtocol;
import ringkv.node.storage.Durability;
import ringkv.ring.ClusterConfig;
import ringkv.ring.NodeAddress;

/**
 * The key-value path of the node around the pure {@link KeyValueCore}: routes a request to its
 * owning shard (serving it here, or forwarding it to a live member, which checks ownership
 * again), parks a request whose causal dependency this replica lacks while pulling it from the
 * shard's other replicas, merges what peers send ({@link CounterGuard} checks their counters),
 * and sweeps tombstones ({@link TombstoneSweeper}); key counts are {@link KeyCounts}'. The rules
 * are the core's; this class turns its answers into futures, timers and messages.
 *
 * <p>Not thread-safe; every method runs on the node's event loop.
 */
public final class KvService {
  private static final Logger LOG = LoggerFactory.getLogger(KvService.class);
  /** A request is forwarded at most this many times (a stale route may need one re-route). */
  public static final int FORWARD_HOPS_MAX = 2;
  public static final int KEY_CODE_POINTS_MAX = 50;
  /** Bytes of entries one answer to an entries request carries (then the caller asks again). */
  static final long ENTRIES_REPLY_BYTES_MAX = 4L << 20;

  private final NodeServices node;
  private final KeyValueCore core;
  private final GossipDriver gossip;
  private final Forwarder forwarder;
  private final CounterGuard counters;
  private final KeyCounts counts;
  /** What a write's answer waits for (DURABILITY), and the context it resumes on (issue 15). */
  private final Durability durability;
  private final Map<Long, Promise<Void>> parked = new HashMap<>();
  private final TombstoneSweeper sweeper;
  private final LostKeys lost;

  private final ReplicaAcks acks;

  public KvService(NodeServices node, KeyValueCore core, GossipDriver gossip,
      Durability durability, ReplicaAcks acks) {
    this.acks = acks;
    this.node = node;
    this.durability = java.util.Objects.requireNonNull(durability, "durability");
    this.core = core;
    this.gossip = gossip;
    this.forwarder = new Forwarder(node, node.config().forwardTimeoutMs());
    this.counters = new CounterGuard(node);
    this.counts = new KeyCounts(node, core, gossip);
    this.sweeper = new TombstoneSweeper(node, core);
    this.lost = new LostKeys(core.replica().store());
  }

  /** Keys quarantined here that no replica could give back ({@link QuarantineRepair}). */
  public LostKeys lostKeys() {
    return lost;
  }

  public void start() {
    sweeper.start();
  }

  public void stop() {
    sweeper.stop();
  }

  public KeyValueCore core() {
    return core;
  }

  /** Key counts, settling with the shard's peers, and draining the replication queue. */
  public KeyCounts counts() {
    return counts;
  }

  /**
   * The largest Lamport counter this node accepts from a client or a peer: its wall clock plus
   * {@code CLOCK_AHEAD_MS_MAX} ({@link CounterBound}).
   */
  public long clockLimit() {
    return counters.limit();
  }

  /**
   * Refuses (400) a causal context a peer sent with a counter beyond {@link #clockLimit()}: a
   * forwarded client context is checked again by the node that serves it.
   */
  public void checkCounters(CausalContext context) {
    counters.check(context);
  }

  /**
   * Serves {@code request} here if this node owns the key, else forwards it to the owner.
   * {@code fromCatchingUp} marks a request forwarded by a replica of the owning shard that is
   * still copying its data: served here even if this replica is catching up too (a cluster
   * starting at once has nothing to copy).
   */
  public Future<KvReply> execute(KvRequest request, int hops, boolean fromCatchingUp) {
    Optional<ClusterConfig> pending = node.state().pending();
    if (pending.isPresent()) {
      return executeInStop(request, hops, pending.get());
    }
    ClusterConfig c = node.state().current();
    int shard = c.shardOf(request.key());
    List<NodeAddress> members = c.membersOf(shard);
    boolean member = members.contains(node.state().self());
    // A read of a key whose record here was found damaged (quarantined until a peer's copy
    // repairs it) goes to another replica, unless one sent it here for the same reason; so
    // does a read that finds the damage itself (it read as absent).
    boolean mayRedirect = member && !fromCatchingUp && members.size() > 1
        && request.op() == KeyValueCore.Op.GET;
    if (member && request.op() == KeyValueCore.Op.GET && lost.isLost(request.key())) {
      // Not "absent": this replica held the key, its record is damaged, and no replica of the
      // shard had a copy when asked. A new write replaces it.
      return Future.failedFuture(new KvException(ErrorCode.KEY_LOST, "key " + request.key()
          + " is lost: its stored record on " + node.state().self()
          + " is damaged and no replica of shard " + shard
          + " holds a copy; a new write of the key replaces it"));
    }
    if (member && (!node.state().catchingUp() || fromCatchingUp)
        && !(mayRedirect && damaged(request.key()))) {
      Future<KvReply> local = executeLocal(request, shard, hops, fromCatchingUp);
      return !mayRedirect ? local : local.compose(r ->
          r.outcome() == KeyValueCore.Outcome.NOT_FOUND && damaged(request.key())
              ? forward(request, hops, c, others(members), true)
              : Future.succeededFuture(r));
    }
    Future<KvReply> forwarded =
        forward(request, hops, c, member ? others(members) : members, member);
    if (!member || !node.state().catchingUp()
        || !KeyValueCore.servesBeforeCopy(request.context())) {
      return forwarded;
    }
    // Still copying its shard and no replica holding it answered (a partition since start): a
    // client that observed nothing is served here (KeyValueCore.servesBeforeCopy).
    return forwarded.recover(err -> err instanceof Forwarder.Unanswered
        ? execute(request, hops, true) : Future.failedFuture(err));
  }

  /**
   * A request while this node is stopped by the view change to {@code next}: a read of a key it
   * holds is served from its store when it holds what the client saw
   * ({@link KeyValueCore#servesInStop}); a read of a key it does not hold is forwarded to the
   * key's owners under the installed layout; everything else is refused (500) until the change
   * commits or aborts.
   */
  private Future<KvReply> executeInStop(KvRequest request, int hops, ClusterConfig next) {
    ClusterConfig c = node.state().current();
    String key = request.key();
    int shard = c.shardOf(key);
    // Only a well-formed request (anything executeLocal would refuse is refused as before).
    boolean wellFormed = !key.isEmpty()
        && key.codePointCount(0, key.length()) <= KEY_CODE_POINTS_MAX
        && request.acks() <= c.membersOf(shard).size();
    boolean owns = wellFormed && c.membersOf(shard).contains(node.state().self())
        && !node.state().catchingUp() && !lost.isLost(key) && !damaged(key);
    if (core.servesInStop(request.op(), key, request.context(), owns,
        next.shardOfNode(node.state().self()).isPresent())) {
      return perform(request, shard);
    }
    List<NodeAddress> members = c.membersOf(shard);
    if (wellFormed && request.op() == KeyValueCore.Op.GET && hops < FORWARD_HOPS_MAX
        && !members.contains(node.state().self())) {
      // A read of a key this node does not hold goes to its owners, as it would without the
      // stop: each answers it by the rules of its own state (servesInStop when stopped too), as
      // it would answer the client directly, so the client's read waits for no stop but that of
      // the owner it reaches.
      return forward(request, hops, c, members, false);
    }
    return Future.failedFuture(new KvException(ErrorCode.VIEW_CHANGE,
        "view change to epoch " + next.epoch() + " in progress"));
  }

  private boolean damaged(String key) {
    return core.replica().store().isQuarantined(key);
  }

  private List<NodeAddress> others(List<NodeAddress> members) {
    return members.stream().filter(m -> !m.equals(node.state().self())).toList();
  }

  /**
   * Forwards to {@code targets}: the owners, or (for a {@code member}: still copying its data,
   * or the key damaged here) the other replicas of the key's shard.
   */
  private Future<KvReply> forward(KvRequest request, int hops, ClusterConfig c,
      List<NodeAddress> targets, boolean member) {
    if (hops >= FORWARD_HOPS_MAX) {
      return Future.failedFuture(new KvException(ErrorCode.UNAVAILABLE,
          "request for " + request.key() + " forwarded " + hops + " times without an owner"));
    }
    ForwardRequest forward = new ForwardRequest(request.op(), request.key(),
        request.valueJson(), request.context(), request.waitMs(), hops + 1, c.epoch(),
        node.state().self(), member, request.requestId(), request.acks(),
        request.contextEntries());
    // A replica of the key's shard answers for its own shard: the client asked a replica of the
    // key and gets no "address" (SPEC: only a node outside the key's shard names the owner).
    boolean proxied = !member;
    return forwarder.forward(forward, targets).map(r -> new KvReply(r.outcome(), r.valueJson(),
        r.context(), r.shardId(), r.servedBy(), proxied));
  }

  /** The answer to a forwarded request, in its wire form. */
  public static ForwardReply forwardReply(KvReply r) {
    return new ForwardReply(r.outcome(), r.valueJson(), r.context(), r.shardId(), r.servedBy());
  }

  private Future<KvReply> executeLocal(KvRequest request, int shard, int hops,
      boolean fromCatchingUp) {
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
    int replicas = node.state().current().membersOf(shard).size();
    if (request.acks() > replicas) {
      return Future.failedFuture(new KvException(ErrorCode.BAD_REQUEST, ACKS_HEADER + ": "
          + request.acks() + ", but the key's shard has " + replicas + " replicas"));
    }
    Optional<Version> missing = core.missing(key, request.context());
    if (missing.isEmpty()) {
      return Future.succeededFuture().compose(v -> perform(request, shard))
          .compose(this::afterDurable);
    }
    ClusterConfig routedBy = node.state().current();
    return observed(request.op(), awaitVersion(key, missing.get(), shard, request.waitMs()))
        .transform(waited -> {
          if (node.state().current() != routedBy || node.state().pending().isPresent()) {
            // The layout changed, or a change stopped this node, while the request waited: the
            // key may have moved away and this node dropped it (a write performed here now
            // would stay as a key it no longer owns, counted in its new shard; a read would be
            // answered from what is left), so the request is routed again (chaos seed
            // 529014448885, WaitAcrossViewChangeTest).
            return execute(request, hops, fromCatchingUp);
          }
          if (waited.failed() && !(KeyValueCore.goesAheadWithoutDependency(request.op())
              && waited.cause() instanceof KvException k
              && k.code() == ErrorCode.CAUSAL_TIMEOUT)) {
            return Future.failedFuture(waited.cause());
          }
          return perform(request, shard).compose(this::afterDurable);
        });
  }

  /**
   * A new layout is installed: every request waiting here for a causal dependency goes through
   * {@link #execute} again at once ({@link #executeLocal} sees the change) rather than when its
   * wait ends, on this node's context after the install.
   */
  void rerouteWaiting() {
    if (parked.isEmpty()) {
      return;
    }
    List<Promise<Void>> waiting = new ArrayList<>();
    parked.forEach((id, promise) -> {
      if (core.cancelWait(id)) {
        waiting.add(promise);
      }
    });
    parked.clear();
    node.context().runOnContext(v -> waiting.forEach(p -> p.tryFail(new KvException(
        ErrorCode.VIEW_CHANGE, "the layout changed while the request waited"))));
  }

  /**
   * A write is answered once the store holds it as durably as {@code DURABILITY} says (issue
   * 15): in {@code sync} mode after a group-committed sync of the log. Reads answer at once. A
   * forwarded write waits here too, on the node that performed it, before its answer goes back.
   */
  private Future<KvReply> afterDurable(KvReply reply) {
    boolean wrote = reply.outcome() == KeyValueCore.Outcome.CREATED
        || reply.outcome() == KeyValueCore.Outcome.UPDATED
        || reply.outcome() == KeyValueCore.Outcome.DELETED;
    return wrote ? whenDurable().map(reply) : Future.succeededFuture(reply);
  }

  /**
   * Completes on this node's context once every write this node's store took so far is as
   * durable as {@code DURABILITY} says; fails if the disk could not make it so. Answers that let
   * a sender forget a write (a client's, a replicated or transferred batch's acknowledgement)
   * wait for it.
   */
  public Future<Void> whenDurable() {
    java.util.concurrent.CompletionStage<Void> stage = durability.whenDurable();
    java.util.concurrent.CompletableFuture<Void> f = stage.toCompletableFuture();
    if (f.isDone() && !f.isCompletedExceptionally()) {
      // Nothing to wait for (memory, os and periodic modes, nothing unsynced): no extra hop.
      return Future.succeededFuture();
    }
    return Future.fromCompletionStage(stage, node.context());
  }

  /**
   * The request header a write sends to be answered only once this many replicas of its shard
   * hold it (1, the default, is the replica that serves it).
   */
  public static final String ACKS_HEADER = "RingKV-Acks";

  /**
   * The request header that bounds the entries a reply's causal metadata keeps without looking
   * at stability (1 to {@link ringkv.gossip.ContextBound#ENTRIES_MAX}, the default): the
   * client library sends 1, so its sessions carry only what some replica may still lack.
   */
  public static final String CONTEXT_ENTRIES_HEADER = "RingKV-Context-Entries";

  private Future<KvReply> perform(KvRequest request, int shard) {
    KeyValueCore.Result r = core.perform(request.op(), request.key(), request.valueJson(),
        request.context(), node.clock().millis(), request.contextEntries());
    if (r.outcome() == KeyValueCore.Outcome.QUEUE_FULL) {
      throw new KvException(ErrorCode.QUEUE_FULL);
    }
    release(r.released());
    if (r.wrote()) {
      gossip.flushSoon();
    }
    KvReply reply = new KvReply(r.outcome(), r.valueJson(), r.context(), shard,
        node.state().self().toString(), false);
    if (request.acks() <= 1 || !r.wrote()) {
      return Future.succeededFuture(reply);
    }
    Set<String> others = new HashSet<>();
    for (NodeAddress m : node.state().current().membersOf(shard)) {
      if (!m.equals(node.state().self())) {
        others.add(m.toString());
      }
    }
    return acks.await(r.entry(), others, request.acks(), node.config().acksWaitMs()).map(reply);
  }

  /** Records how a causal wait of a request of {@code op} ended, once it ends. */
  private Future<Void> observed(KeyValueCore.Op op, Future<Void> wait) {
    long start = node.clock().nanos();
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
      node.metrics().causalWait(outcome, node.clock().nanos() - start);
    });
  }

  /** Parks until this replica holds {@code needed}; asks the other replicas for it meanwhile. */
  private Future<Void> awaitVersion(String key, Version needed, int shard, long waitMs) {
    OptionalLong id = core.await(key, needed, node.clock().millis() + waitMs);
    if (id.isEmpty()) {
      return Future.failedFuture(new KvException(ErrorCode.OVERLOADED,
          "more than " + node.config().waitersMax() + " requests waiting for causal dependencies"));
    }
    Promise<Void> promise = Promise.promise();
    parked.put(id.getAsLong(), promise);
    node.vertx().setTimer(Math.max(1, waitMs), t -> {
      if (core.cancelWait(id.getAsLong())) {
        parked.remove(id.getAsLong());
        promise.tryFail(new KvException(ErrorCode.CAUSAL_TIMEOUT,
            "a causal dependency of " + key + " did not arrive in time"));
      }
    });
    EntriesRequest pull = new EntriesRequest(node.state().self(), List.of(key));
    long askedAt = node.state().current().epoch();
    for (NodeAddress peer : node.state().current().membersOf(shard)) {
      if (!peer.equals(node.state().self())) {
        // An answer that comes back after this node installed another configuration is dropped:
        // the new layout's stable time starts from 0, so a stale version the peer held (older
        // than a tombstone collected here under the old one) would not be taken for the stale
        // duplicate it is (simulation seed 66847).
        node.peers().call(peer, PeerProtocol.ENTRIES, pull, Math.max(1, waitMs))
            .map(reply -> node.state().current().epoch() == askedAt
                ? applyFromPeers(reply.entries(), true) : 0)
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
    counters.check(entries);
    KeyValueCore.Applied applied = core.applyFromPeers(entries, fromQueue,
        node.state()::acceptsReplicated);
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
   * Merges keys a view change moves to this node (copied data, merged as is), counting those of
   * shards it does not serve yet apart. Returns how many were newer.
   */
  public int applyTransfer(List<Entry> entries) {
    ClusterConfig c = node.state().current();
    long before = liveForeign(entries, c);
    counters.check(entries);
    KeyValueCore.Applied applied = core.applyTransferred(entries);
    release(applied.released());
    int fresh = applied.fresh();
    node.state().addForeignLive(liveForeign(entries, c) - before);
    return fresh;
  }

  /** How many of {@code entries}' keys this replica holds alive while {@code c} gives it none. */
  private long liveForeign(List<Entry> entries, ClusterConfig c) {
    long live = 0;
    for (Entry e : entries) {
      if (!node.state().owns(c, e.key())) {
        Entry held = core.replica().store().get(e.key());
        live += held != null && !held.isTombstone() ? 1 : 0;
      }
    }
    return live;
  }
}
