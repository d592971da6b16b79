package ringkv.gossip.sim;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.OptionalInt;
import java.util.TreeMap;
import java.util.function.ToIntFunction;
import ringkv.gossip.CausalContext;
import ringkv.gossip.Entry;
import ringkv.gossip.FailureDetector;
import ringkv.gossip.KeyValueCore;
import ringkv.gossip.LamportClock;
import ringkv.gossip.MemoryStore;
import ringkv.gossip.NodeStability;
import ringkv.gossip.Replica;
import ringkv.gossip.ReplicationQueue;
import ringkv.gossip.ReplicationQueue.Batch;
import ringkv.gossip.ShardMap;
import ringkv.gossip.Store;
import ringkv.gossip.sim.SimMessage.AntiEntropyReply;
import ringkv.gossip.sim.SimMessage.AntiEntropyRequest;
import ringkv.gossip.sim.SimMessage.Heartbeat;
import ringkv.gossip.sim.SimMessage.PullRequest;
import ringkv.gossip.sim.SimMessage.PullResponse;
import ringkv.gossip.sim.SimMessage.ReplicateAck;
import ringkv.gossip.sim.SimMessage.ReplicateRequest;
import ringkv.gossip.sim.SimMessage.ScanPage;
import ringkv.gossip.sim.SimMessage.ScanRequest;
import ringkv.gossip.sim.SimNetwork.Delivery;

/**
 * Models one node as the real node runs it: the production protocol core — {@link Replica}
 * (store, {@link ReplicationQueue}, {@link LamportClock}), {@link NodeStability} (incarnations,
 * the bootstrap and hold rules, stable time), {@link KeyValueCore} (admission, execution,
 * reply contexts, what peers' entries may be applied, tombstone sweeps, requeue after a restart)
 * and the production {@link FailureDetector} — plus a thin driver in place of the Vert.x one:
 * every tick it reports batches unacknowledged for {@code batchTimeoutMs} as failed and sends
 * what the queue hands out; deliveries are applied through the core and acknowledged.
 *
 * <p>Processes die and come back: {@link #crash} loses the queue (and, without durable data,
 * the store); {@link #restart} starts a new incarnation which, with durable data, queues again
 * its writes above its saved stable mark ({@link KeyValueCore#requeue}), then copies its shard
 * from a peer page by page (catch-up) before it serves. Anti-entropy rounds exchange a shard's
 * entries with a peer and count towards releasing stable-time holds.
 *
 * <p>A {@link ReplicaBug} other than NONE swaps in a deliberately broken behaviour around the
 * core. The node's wall clock is the global clock plus a fixed skew.
 *
 * <p>Not thread-safe; a simulation runs in one thread.
 */
final class SimNode {

  /** The batch in flight to one peer and when (local time) it was sent. */
  private record InFlight(long batchId, long sentAtMs) {}

  /** Whether a process runs, and whether it serves yet. */
  enum Phase { UP, DOWN, CATCHING_UP }

  /** Entries per catch-up page. */
  static final int SCAN_PAGE_ENTRIES = 3;
  /** A catch-up page or anti-entropy answer not received within this is asked again. */
  static final long EXCHANGE_TIMEOUT_MS = 400;
  /** Silence after which a peer is down (the node's FAILURE_TIMEOUT_MS is 1,500). */
  static final long FAILURE_TIMEOUT_MS = 1_500;

  private final String id;
  private final int shard;
  private final List<String> peers;
  private final List<String> others;
  private final ShardMap shards;
  private final ReplicationQueue.Limits limits;
  private final long skewMs;
  private final long batchTimeoutMs;
  private final boolean durable;
  private final ReplicaBug bug;
  private final SimNetwork network;
  private final Map<String, InFlight> inFlight = new TreeMap<>();
  private final FailureDetector detector = new FailureDetector(FAILURE_TIMEOUT_MS);
  private Replica replica;
  private NodeStability stability;
  private KeyValueCore core;
  private Phase phase = Phase.UP;
  private long incarnation;
  /** The stable mark saved on "disk" (durable nodes), as NodeMeta saves it. */
  private long savedStable;
  private long restarts;
  // Catch-up: the peer copied from, where the next page starts, when it was asked for.
  private int catchUpSource;
  private String catchUpAfter;
  private long catchUpAskedMs = -1;
  private long copied;
  // Anti-entropy: the round in progress (its peer) and when it started; the next peer.
  private String aeRoundPeer;
  private long aeStartedMs;
  private int aeCursor;

  SimNode(String id, int shard, ShardMap shards, ReplicationQueue.Limits limits, long skewMs,
      long batchTimeoutMs, boolean durable, ReplicaBug bug, SimNetwork network) {
    this.id = id;
    this.shard = shard;
    this.shards = Objects.requireNonNull(shards, "shards");
    this.peers = shards.shardPeersOf(id);
    this.others = shards.nodes().stream().filter(p -> !p.equals(id)).toList();
    this.limits = limits;
    this.skewMs = skewMs;
    this.batchTimeoutMs = batchTimeoutMs;
    this.durable = durable;
    this.bug = Objects.requireNonNull(bug, "bug");
    this.network = Objects.requireNonNull(network, "network");
    newProcess(new MemoryStore(), skewMs);
    stability.onBootstrapped(); // the cluster starts at once: nothing to copy
    detector.track(others, skewMs);
  }

  private void newProcess(Store store, long localMs) {
    incarnation = localMs;
    replica = new Replica(id, store, new ReplicationQueue(limits), new LamportClock());
    stability = new NodeStability(id, incarnation, durable, shards);
    core = new KeyValueCore(id, replica, stability, 1_000);
  }

  String id() {
    return id;
  }

  int shard() {
    return shard;
  }

  boolean durable() {
    return durable;
  }

  Phase phase() {
    return phase;
  }

  /** Whether clients may be served here: up and caught up. */
  boolean serves() {
    return phase == Phase.UP;
  }

  long restarts() {
    return restarts;
  }

  /** The other replicas of this node's shard. */
  List<String> peers() {
    return peers;
  }

  Replica replica() {
    return replica;
  }

  KeyValueCore core() {
    return core;
  }

  NodeStability stability() {
    return stability;
  }

  /** This node's wall clock at global time {@code nowMs}. */
  long localMs(long nowMs) {
    return nowMs + skewMs;
  }

  // ---------------------------------------------------------------- process life

  /**
   * The process dies: its queue, its waits and its connections go; without durable data its
   * store goes too.
   */
  void crash() {
    phase = Phase.DOWN;
    inFlight.clear();
    aeRoundPeer = null;
    catchUpAskedMs = -1;
    network.purge(id);
  }

  /**
   * A new process starts (a new incarnation): with durable data it keeps its store and saved
   * stable mark and queues again its own writes above the mark; then it copies its shard from
   * a peer before it serves.
   */
  void restart(long nowMs) {
    long local = localMs(nowMs);
    Store store = durable ? replica.store() : new MemoryStore();
    newProcess(store, local);
    restarts++;
    if (durable) {
      List<Entry> own = new ArrayList<>();
      store.forEach(e -> {
        if (e.version().node().equals(id) && e.version().counter() > savedStable) {
          own.add(e);
        }
      });
      core.requeue(own, savedStable, k -> true);
    }
    phase = Phase.CATCHING_UP;
    catchUpSource = 0;
    catchUpAfter = null;
    copied = 0;
    catchUpAskedMs = -1;
    detector.track(others, local);
  }

  // ---------------------------------------------------------------- timers

  /** The driver's periodic timer: fail timed-out exchanges, then send what is due. */
  void onTick(long nowMs) {
    if (phase == Phase.DOWN) {
      return;
    }
    long local = localMs(nowMs);
    Iterator<Map.Entry<String, InFlight>> it = inFlight.entrySet().iterator();
    while (it.hasNext()) {
      Map.Entry<String, InFlight> e = it.next();
      if (local - e.getValue().sentAtMs() >= batchTimeoutMs) {
        replica.queue().onSendFailed(e.getKey(), e.getValue().batchId(), local);
        it.remove();
      }
    }
    for (Batch batch : replica.queue().onTick(local, detector::isUp)) {
      network.send(id, batch.peer(), new ReplicateRequest(batch, incarnation));
      inFlight.put(batch.peer(), new InFlight(batch.id(), local));
    }
    if (phase == Phase.CATCHING_UP) {
      catchUpStep(local);
    }
    if (aeRoundPeer != null && local - aeStartedMs >= EXCHANGE_TIMEOUT_MS) {
      aeRoundPeer = null; // the round failed; the next starts on schedule
    }
  }

  /** The heartbeat timer: report stability to every other node, mark silent peers down. */
  void heartbeat(long nowMs) {
    if (phase == Phase.DOWN) {
      return;
    }
    long local = localMs(nowMs);
    detector.onTick(local);
    stability.releaseIfRepaired(peers.stream().filter(detector::isUp).toList());
    long stable = stability.localStable(replica);
    if (durable) {
      savedStable = stable;
    }
    for (String other : others) {
      network.send(id, other, new Heartbeat(stable, incarnation));
    }
  }

  /** The anti-entropy timer: one round at a time, with the next live peer in turn. */
  void antiEntropy(long nowMs) {
    if (phase != Phase.UP || aeRoundPeer != null || peers.isEmpty()) {
      return;
    }
    for (int i = 0; i < peers.size(); i++) {
      String peer = peers.get(Math.floorMod(aeCursor++, peers.size()));
      if (detector.isUp(peer)) {
        aeRoundPeer = peer;
        aeStartedMs = localMs(nowMs);
        network.send(id, peer, new AntiEntropyRequest(shardEntries(), incarnation));
        return;
      }
    }
  }

  /** Every entry of this node's shard it holds (the sim's key sets are small). */
  private List<Entry> shardEntries() {
    List<Entry> out = new ArrayList<>();
    replica.store().forEach(out::add);
    return out;
  }

  private void catchUpStep(long local) {
    if (catchUpAskedMs >= 0 && local - catchUpAskedMs < EXCHANGE_TIMEOUT_MS) {
      return; // waiting for the page
    }
    if (catchUpAskedMs >= 0) {
      catchUpSource++; // no answer: try the next peer, from where we were
    }
    if (peers.isEmpty() || (stability.maySkipCatchUp() && catchUpSource >= 3 * peers.size())) {
      caughtUp(); // nobody answers: serve with what it kept (catch-up skipped)
      return;
    }
    String source = peers.get(catchUpSource % peers.size());
    catchUpAskedMs = local;
    network.send(id, source, new ScanRequest(catchUpAfter, incarnation));
  }

  private void caughtUp() {
    stability.onCaughtUp(copied);
    phase = Phase.UP;
    catchUpAskedMs = -1;
  }

  /**
   * The tombstone sweep: a tombstone goes once it and each of its dependencies is at or below
   * the stable time of its own key's shard. Returns how many were removed.
   */
  int sweep() {
    if (phase != Phase.UP) {
      return 0;
    }
    if (bug == ReplicaBug.COLLECTS_WITH_UNSTABLE_DEPS) {
      long own = stability.stableTime(shard, replica);
      // Only the tombstone's own shard is consulted (dependencies of own-shard keys are older
      // than the tombstone, so they pass; other shards' dependencies are ignored).
      return replica.collectTombstones(k -> shards.shardOf(k) == shard ? own : Long.MAX_VALUE);
    }
    int removed = 0;
    String after = null;
    do {
      Replica.Sweep page = core.sweepTombstones(after, 16);
      removed += page.removed();
      after = page.resumeAfter();
    } while (after != null);
    return removed;
  }

  // ---------------------------------------------------------------- messages

  /** Handles one message the network delivered to this node. */
  void onDelivery(Delivery delivery, long nowMs) {
    if (phase == Phase.DOWN) {
      return;
    }
    long local = localMs(nowMs);
    String from = delivery.from();
    FailureDetector.Transition up = detector.onHeard(from, local);
    if (up != null) {
      replica.queue().onPeerUp(from, local); // send what it missed now
    }
    SimMessage message = delivery.message();
    if (message instanceof ReplicateRequest request) {
      applyFromPeers(request.batch().entries());
      network.send(id, from, new ReplicateAck(request.batch().id(), request.incarnation()));
    } else if (message instanceof ReplicateAck ack) {
      if (ack.incarnation() == incarnation) {
        replica.queue().onAck(from, ack.batchId(), local);
        InFlight sent = inFlight.get(from);
        if (sent != null && sent.batchId() == ack.batchId()) {
          inFlight.remove(from);
        }
      }
    } else if (message instanceof PullRequest pull) {
      Entry entry = replica.store().get(pull.key());
      if (entry != null && phase == Phase.UP) {
        network.send(id, from, new PullResponse(entry));
      }
    } else if (message instanceof PullResponse response) {
      applyPulled(response.entry());
    } else if (message instanceof Heartbeat heartbeat) {
      stability.onReport(from, heartbeat.incarnation(), heartbeat.stable());
    } else {
      onExchange(from, message, local);
    }
  }

  /** Catch-up pages and anti-entropy rounds. */
  private void onExchange(String from, SimMessage message, long local) {
    if (message instanceof ScanRequest scan) {
      if (phase == Phase.UP) {
        List<Entry> page = new ArrayList<>(replica.store().scan(scan.after(), SCAN_PAGE_ENTRIES));
        String last = page.size() < SCAN_PAGE_ENTRIES ? null : page.get(page.size() - 1).key();
        network.send(id, from, new ScanPage(page, last, scan.incarnation()));
      }
    } else if (message instanceof ScanPage page) {
      if (page.incarnation() == incarnation && phase == Phase.CATCHING_UP
          && catchUpAskedMs >= 0) {
        core.applyFromPeers(page.entries(), false, k -> true);
        copied += page.entries().size();
        catchUpAfter = page.last();
        catchUpAskedMs = -1;
        if (page.last() == null) {
          caughtUp();
        } else {
          catchUpStep(local);
        }
      }
    } else if (message instanceof AntiEntropyRequest request) {
      if (phase == Phase.UP) {
        applyFromPeers(request.entries());
        network.send(id, from, new AntiEntropyReply(shardEntries(), request.incarnation()));
      }
    } else if (message instanceof AntiEntropyReply reply) {
      if (reply.incarnation() == incarnation && from.equals(aeRoundPeer)) {
        applyFromPeers(reply.entries());
        stability.onAntiEntropyRound(from);
        aeRoundPeer = null;
      }
    } else {
      throw new IllegalStateException("unknown message " + message);
    }
  }

  /** Merges writes from a peer's queue or an anti-entropy round. */
  private void applyFromPeers(List<Entry> entries) {
    switch (bug) {
      case FORGETS_DEPENDENCIES -> entries.forEach(e -> replica.apply(new Entry(
          e.key(), e.value(), e.version(), CausalContext.EMPTY)));
      case APPLIES_OLDER_VERSIONS -> entries.forEach(e -> {
        replica.clock().observe(e.version().counter());
        replica.store().put(e);
      });
      default -> core.applyFromPeers(entries, true, k -> true);
    }
  }

  /**
   * Merges a pulled write, stale-checked like a replicated one: a pull answer may be delayed
   * past the collection of a newer tombstone of its key. {@link ReplicaBug#PULLS_IGNORE_STABILITY}
   * merges it unconditionally instead.
   */
  private void applyPulled(Entry entry) {
    if (bug == ReplicaBug.PULLS_IGNORE_STABILITY) {
      replica.apply(entry);
    } else {
      applyFromPeers(List.of(entry));
    }
  }

  /** Whether a client with {@code context} may be served {@code key} here now. */
  boolean canServe(String key, CausalContext context) {
    return bug == ReplicaBug.SERVES_WITHOUT_DEPENDENCIES
        || core.missing(key, context).isEmpty();
  }

  /** Asks every other replica of the shard for its entry of {@code key}. */
  void pull(String key) {
    for (String peer : peers) {
      network.send(id, peer, new PullRequest(key));
    }
  }

  /** Whether nothing is queued or in flight to any peer. */
  boolean isDrained() {
    return replica.queue().isDrained();
  }

  /** A status line per node plus one per peer queue, for failure reports. */
  String describe() {
    StringBuilder sb = new StringBuilder()
        .append(replica).append(" shard=").append(shard).append(" skewMs=").append(skewMs)
        .append(" phase=").append(phase).append(" durable=").append(durable)
        .append(" restarts=").append(restarts).append(" incarnation=").append(incarnation)
        .append(" live=").append(replica.store().liveCount())
        .append(" localStable=").append(stability.localStable(replica)).append(' ')
        .append(stability).append(" awaitingAck=").append(inFlight.keySet()).append('\n');
    replica.queue().describe().lines().forEach(l -> sb.append("    -> ").append(l).append('\n'));
    return sb.toString();
  }

  /** The simulation's layout as the core sees it: keys {@code k<i>}, shards of ids. */
  record Layout(List<List<String>> members, ToIntFunction<String> shardOfKey)
      implements ShardMap {
    @Override
    public int shardOf(String key) {
      return shardOfKey.applyAsInt(key);
    }

    @Override
    public List<String> membersOf(int shardIndex) {
      return shardIndex >= 0 && shardIndex < members.size() ? members.get(shardIndex)
          : List.of();
    }

    @Override
    public OptionalInt shardOfNode(String node) {
      for (int s = 0; s < members.size(); s++) {
        if (members.get(s).contains(node)) {
          return OptionalInt.of(s);
        }
      }
      return OptionalInt.empty();
    }

    @Override
    public List<String> nodes() {
      return members.stream().flatMap(List::stream).toList();
    }
  }
}
