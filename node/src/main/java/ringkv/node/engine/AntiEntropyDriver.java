package ringkv.node.engine;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import java.util.OptionalInt;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import ringkv.gossip.AntiEntropyPolicy;
import ringkv.gossip.Entry;
import ringkv.gossip.KeyVersion;
import ringkv.gossip.NodeStability;
import ringkv.gossip.RangeDigest;
import ringkv.gossip.RepairScope;
import ringkv.gossip.Replica;
import ringkv.gossip.ReplicationQueue;
import ringkv.gossip.SettleHorizon;
import ringkv.gossip.VersionMerge;
import ringkv.node.error.ErrorCode;
import ringkv.node.error.KvException;
import ringkv.node.metrics.NodeMetrics;
import ringkv.node.peer.AntiEntropyMessages.DigestReply;
import ringkv.node.peer.AntiEntropyMessages.DigestRequest;
import ringkv.node.peer.AntiEntropyMessages.Scope;
import ringkv.node.peer.AntiEntropyMessages.VersionsPage;
import ringkv.node.peer.AntiEntropyMessages.VersionsRequest;
import ringkv.node.peer.KvMessages.EntriesRequest;
import ringkv.node.peer.PeerClient;
import ringkv.node.peer.PeerProtocol;
import ringkv.node.peer.ReplicationMessages.Batch;
import ringkv.node.time.Clock;
import ringkv.ring.ClusterConfig;
import ringkv.ring.NodeAddress;

/**
 * Anti-entropy: every {@code ANTI_ENTROPY_INTERVAL_MS} this node reconciles its shard's data with
 * one live peer of its shard (round robin), so replicas that diverged for any reason (a replica
 * restarted from an old or wiped DATA_DIR, an author's replication queue lost with its process)
 * converge without a client or an operator doing anything.
 *
 * <p>A round, run by the initiator against one peer:
 * <ol>
 *   <li>Both sides digest their entries of the shard at or below a horizon — the highest Lamport
 *       counter either side knew of {@link #SETTLE_MS} ago ({@link SettleHorizon}): younger
 *       writes are the replication queues' business — into a {@link RangeDigest} of 4096
 *       token-prefix leaves ({@link PeerProtocol#DIGEST}, the peer's first).
 *   <li>If leaves differ, both sides stream their (key, version) pairs of those leaves in key
 *       order — the peer's page by page ({@link PeerProtocol#VERSIONS}) — into a
 *       {@link VersionMerge}, which names the keys each side must send.
 *   <li>Pulled entries come from {@link PeerProtocol#ENTRIES} and merge like replicated writes
 *       (higher version wins; an entry at or below the shard's stable time whose key this node
 *       no longer holds is a write a collected tombstone superseded, never resurrected). Pushed
 *       entries go to the peer's {@link PeerProtocol#REPLICATE}, which merges them the same way.
 * </ol>
 *
 * <p>Bounds: one round at a time per initiator; the store is read {@link #SCAN_PAGE_ENTRIES}
 * entries per event-loop turn; memory is two pages of versions plus two batches of
 * {@link #REPAIR_BATCH_KEYS_MAX} keys, each transfer bounded by bytes; a peer computes at most
 * {@link #DIGESTS_IN_FLIGHT_MAX} digests at once. Rounds are skipped, and requests refused,
 * while a view change is pending, while catching up, or when the two nodes' epochs differ. Only
 * the shard's own keys count. A completed round counts towards releasing a stable-time hold
 * ({@link NodeStability#onAntiEntropyRound}).
 *
 * <p>Logs at INFO only a round that repaired something. Not thread-safe; runs on the node's
 * event loop.
 */
public final class AntiEntropyDriver {
  private static final Logger LOG = LoggerFactory.getLogger(AntiEntropyDriver.class);
  /** Entries read from the store per event-loop turn (digests and version streams). */
  static final int SCAN_PAGE_ENTRIES = 1024;
  /** Pairs a peer sends per page of versions. */
  static final int VERSION_PAGE_ENTRIES_MAX = 4096;
  /** Keys per pull or push batch (each batch is also bounded by bytes). */
  static final int REPAIR_BATCH_KEYS_MAX = 2048;
  /** Writes known for less than this are left to the replication queues. */
  static final long SETTLE_MS = 5_000;
  /** Digests this node computes for peers at once; more are refused (503). */
  static final int DIGESTS_IN_FLIGHT_MAX = 4;

  private final Vertx vertx;
  private final Context context;
  private final Clock clock;
  private final ClusterState state;
  private final NodeStability stability;
  private final Replica replica;
  private final KvService kv;
  private final PeerLiveness liveness;
  private final PeerClient peers;
  private final long intervalMs;
  private final long timeoutMs;
  private final NodeMetrics metrics;
  private long timer = -1;
  /** The round this node is running as initiator, or null. */
  private Round current;
  private int digestsInFlight;
  private final AntiEntropyPolicy policy;
  private final SettleHorizon settled = new SettleHorizon(SETTLE_MS);

  public AntiEntropyDriver(Vertx vertx, Context context, Clock clock, ClusterState state,
      NodeStability stability, KvService kv, PeerLiveness liveness, PeerClient peers,
      long intervalMs, long timeoutMs, NodeMetrics metrics) {
    this.vertx = vertx;
    this.context = context;
    this.clock = clock;
    this.state = state;
    this.stability = stability;
    this.replica = kv.core().replica();
    this.kv = kv;
    this.liveness = liveness;
    this.peers = peers;
    this.intervalMs = intervalMs;
    this.timeoutMs = timeoutMs;
    this.policy = new AntiEntropyPolicy(state.self().toString(), intervalMs);
    this.metrics = metrics;
  }

  public void start() {
    timer = vertx.setPeriodic(intervalMs, id -> {
      settled.sample(clock.millis(), replica.clock().current());
      round();
    });
  }

  public void stop() {
    if (timer >= 0) {
      vertx.cancelTimer(timer);
      timer = -1;
    }
  }

  /** The state of one round; confined to the event loop like the driver. */
  private final class Round {
    final NodeAddress peer;
    final int shard;
    final long epoch;
    final long startMs = clock.millis();
    final long startNanos = System.nanoTime();
    final Promise<Void> done = Promise.promise();
    final VersionMerge merge = new VersionMerge(REPAIR_BATCH_KEYS_MAX);
    RepairScope scope;
    String mineAfter;
    String theirsAfter;
    int leaves;
    long sent;
    long received;

    Round(NodeAddress peer, int shard, long epoch, RepairScope scope) {
      this.peer = peer;
      this.shard = shard;
      this.epoch = epoch;
      this.scope = scope;
    }

    Scope header() {
      return new Scope(state.self(), shard, epoch, scope.horizon());
    }
  }

  // ---------------------------------------------------------------- initiator

  private boolean quiet() {
    return state.pending().isEmpty() && !state.catchingUp();
  }

  private void round() {
    ClusterConfig c = state.current();
    OptionalInt shard = c.shardOfNode(state.self());
    if (current != null || !quiet() || shard.isEmpty()) {
      return;
    }
    List<String> members = c.membersOf(shard.getAsInt()).stream().map(NodeAddress::toString)
        .toList();
    NodeAddress peer = policy.nextPeer(members,
        m -> PeerLiveness.address(m).map(liveness::isLive).orElse(false), clock.millis())
        .map(NodeAddress::parse).orElse(null);
    if (peer == null) {
      return;
    }
    Round r = new Round(peer, shard.getAsInt(), c.epoch(),
        RepairScope.upTo(settled.horizon(clock.millis())));
    current = r;
    r.done.future().onComplete(ar -> finished(r, ar.cause()));
    try {
      compareDigests(r);
    } catch (RuntimeException e) {
      r.done.tryFail(e);
    }
  }

  private void finished(Round r, Throwable failure) {
    current = null;
    long ms = clock.millis() - r.startMs;
    metrics.antiEntropyRound(failure == null, System.nanoTime() - r.startNanos, r.sent,
        r.received);
    if (failure == null) {
      stability.onAntiEntropyRound(r.peer.toString());
      if (r.sent + r.received > 0) {
        LOG.info("event=anti-entropy-repaired node={} peer={} sent={} received={} leaves={} "
            + "ms={}", state.self(), r.peer, r.sent, r.received, r.leaves, ms);
      } else {
        LOG.debug("event=anti-entropy-round node={} peer={} leaves={} ms={}", state.self(),
            r.peer, r.leaves, ms);
      }
    } else if (failure instanceof IllegalStateException
        || failure instanceof IllegalArgumentException) {
      LOG.error("event=anti-entropy-failed node={} peer={} ms={}", state.self(), r.peer, ms,
          failure);
    } else {
      LOG.debug("event=anti-entropy-failed node={} peer={} ms={} cause={}", state.self(),
          r.peer, ms, failure.toString());
    }
  }

  /**
   * Asks the peer for its digest (it raises the horizon to its own if that is higher: a counter
   * either side knew of long enough ago is settled), then digests this side at that horizon.
   */
  private void compareDigests(Round r) {
    Future<DigestReply> theirs = peers.call(r.peer, PeerProtocol.DIGEST,
        new DigestRequest(r.header(), RangeDigest.LEAF_BITS), timeoutMs).map(reply -> {
          r.scope = RepairScope.upTo(AntiEntropyPolicy.horizon(r.scope.horizon(),
              reply.horizon()));
          return reply;
        });
    Future<RangeDigest> mine = theirs.compose(d -> digest(r.shard, r.epoch, r.scope));
    mine.onComplete(ar -> {
      if (ar.failed()) {
        r.done.tryFail(ar.cause());
        return;
      }
      BitSet differing = mine.result().differingLeaves(theirs.result().digest());
      r.leaves = differing.cardinality();
      if (differing.isEmpty()) {
        r.done.tryComplete();
        return;
      }
      r.scope = r.scope.within(differing);
      step(r);
    });
  }

  /**
   * Drives the merge one need at a time. Each step continues from an I/O completion or a fresh
   * event-loop turn, so neither the stack nor the loop's turn grows with the number of keys.
   */
  private void step(Round r) {
    try {
      if (!quiet() || state.current().epoch() != r.epoch) {
        r.done.tryFail(new KvException(ErrorCode.UNAVAILABLE, "view changed during the round"));
        return;
      }
      switch (r.merge.advance()) {
        case MINE -> {
          List<Entry> page = replica.store().scan(r.mineAfter, SCAN_PAGE_ENTRIES);
          r.merge.addMine(versionsOf(page, r.shard, r.scope), page.size() < SCAN_PAGE_ENTRIES);
          r.mineAfter = page.isEmpty() ? r.mineAfter : page.get(page.size() - 1).key();
          context.runOnContext(v -> step(r));
        }
        case THEIRS -> continueWith(r, fetchVersions(r));
        case DRAIN -> {
          List<String> push = r.merge.takePush();
          continueWith(r, pull(r, r.merge.takePull(), 0).compose(v -> push(r, push, 0)));
        }
        case DONE -> r.done.tryComplete();
        default -> throw new IllegalStateException("unknown need");
      }
    } catch (RuntimeException e) {
      r.done.tryFail(e);
    }
  }

  private void continueWith(Round r, Future<?> io) {
    io.onComplete(ar -> {
      if (ar.failed()) {
        r.done.tryFail(ar.cause());
      } else {
        step(r);
      }
    });
  }

  private Future<Void> fetchVersions(Round r) {
    VersionsRequest request = new VersionsRequest(r.header(), r.scope.leaves(), r.theirsAfter,
        VERSION_PAGE_ENTRIES_MAX);
    return peers.call(r.peer, PeerProtocol.VERSIONS, request, timeoutMs).map(page -> {
      boolean exhausted = page.last() == null;
      r.merge.addTheirs(page.versions(), exhausted);
      if (!exhausted) {
        r.theirsAfter = page.last();
      }
      return null;
    });
  }

  /** Fetches the entries of {@code keys} from {@code index} on, as many batches as it takes. */
  private Future<Void> pull(Round r, List<String> keys, int index) {
    if (index >= keys.size()) {
      return Future.succeededFuture();
    }
    int end = Math.min(keys.size(), index + REPAIR_BATCH_KEYS_MAX);
    EntriesRequest request = new EntriesRequest(state.self(), keys.subList(index, end));
    return peers.call(r.peer, PeerProtocol.ENTRIES, request, timeoutMs).compose(reply -> {
      if (reply.served() < 1) {
        return Future.failedFuture(new KvException(ErrorCode.UNAVAILABLE,
            r.peer + " served no key of " + (keys.size() - index)));
      }
      r.received += kv.applyFromPeers(reply.entries(), true);
      return pull(r, keys, index + reply.served());
    });
  }

  /** Sends the current entries of {@code keys} from {@code index} on, a bounded batch at a time. */
  private Future<Void> push(Round r, List<String> keys, int index) {
    List<Entry> batch = new ArrayList<>();
    long bytes = 0;
    int next = index;
    while (next < keys.size() && bytes < ReplicationQueue.Limits.BATCH_BYTES_MAX_DEFAULT) {
      Entry e = replica.store().get(keys.get(next++));
      if (e != null && state.current().shardOf(e.key()) == r.shard) {
        batch.add(e);
        bytes += e.sizeEstimateBytes();
      }
    }
    if (batch.isEmpty()) {
      return Future.succeededFuture();
    }
    int resume = next;
    return peers.call(r.peer, PeerProtocol.REPLICATE, new Batch(state.self(), false, batch),
        timeoutMs).compose(applied -> {
          r.sent += applied.applied();
          return push(r, keys, resume);
        });
  }

  // ---------------------------------------------------------------- both sides

  /** This node's pairs of {@code shard} in {@code scope}, from one page of its store. */
  private List<KeyVersion> versionsOf(List<Entry> page, int shard, RepairScope scope) {
    ClusterConfig c = state.current();
    List<KeyVersion> out = new ArrayList<>();
    for (Entry e : page) {
      if (scope.includes(e) && c.shardOf(e.key()) == shard) {
        out.add(KeyVersion.of(e));
      }
    }
    return out;
  }

  /** Digests this node's entries of {@code shard} in {@code scope}, one page per loop turn. */
  private Future<RangeDigest> digest(int shard, long epoch, RepairScope scope) {
    Promise<RangeDigest> done = Promise.promise();
    digestPage(shard, epoch, scope, null, new RangeDigest(), done);
    return done.future();
  }

  private void digestPage(int shard, long epoch, RepairScope scope, String after,
      RangeDigest digest, Promise<RangeDigest> done) {
    try {
      if (state.current().epoch() != epoch || !quiet()) {
        done.tryFail(new KvException(ErrorCode.UNAVAILABLE, "view changed during a digest"));
        return;
      }
      List<Entry> page = replica.store().scan(after, SCAN_PAGE_ENTRIES);
      versionsOf(page, shard, scope).forEach(kv -> digest.add(kv.key(), kv.version()));
      if (page.size() < SCAN_PAGE_ENTRIES) {
        done.tryComplete(digest);
        return;
      }
      String last = page.get(page.size() - 1).key();
      context.runOnContext(v -> digestPage(shard, epoch, scope, last, digest, done));
    } catch (RuntimeException e) {
      done.tryFail(e);
    }
  }

  // ---------------------------------------------------------------- responder

  /** A peer's round asks for this node's digest. */
  public Future<DigestReply> serveDigest(DigestRequest request) {
    Scope s = request.scope();
    if (!policy.yieldsTo(current == null ? null : current.peer.toString(), s.from().toString())) {
      // Both started a round with each other: one round repairs both ways, the lower one's.
      throw new KvException(ErrorCode.UNAVAILABLE, "already reconciling with " + s.from());
    }
    checkServing(s);
    if (request.leafBits() != RangeDigest.LEAF_BITS) {
      throw new KvException(ErrorCode.BAD_REQUEST, "leaf-bits " + request.leafBits()
          + " is not " + RangeDigest.LEAF_BITS);
    }
    if (digestsInFlight >= DIGESTS_IN_FLIGHT_MAX) {
      throw new KvException(ErrorCode.OVERLOADED, "already computing " + digestsInFlight
          + " digests");
    }
    digestsInFlight++;
    long horizon = AntiEntropyPolicy.horizon(settled.horizon(clock.millis()), s.horizon());
    return digest(s.shard(), s.epoch(), RepairScope.upTo(horizon))
        .map(d -> new DigestReply(d, horizon))
        .andThen(ar -> digestsInFlight--);
  }

  /** A peer's round asks for one page of this node's pairs in its scope. */
  public VersionsPage serveVersions(VersionsRequest request) {
    Scope s = request.scope();
    checkServing(s);
    RepairScope scope = new RepairScope(s.horizon(), request.leaves());
    List<Entry> page = replica.store().scan(request.after(), request.limit());
    return new VersionsPage(versionsOf(page, s.shard(), scope),
        page.size() < request.limit() ? null : page.get(page.size() - 1).key());
  }

  /** Checks this node can answer a round for the requested shard. */
  private void checkServing(Scope s) {
    ClusterConfig c = state.current();
    policy.refusal(s.from().toString(), s.shard(), s.epoch(), quiet(), c.epoch(),
        c.membersOf(s.shard()).stream().map(NodeAddress::toString).toList(), clock.millis())
        .ifPresent(why -> {
          throw new KvException(ErrorCode.UNAVAILABLE, why);
        });
  }
}
