package ringkv.gossip.sim;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.TreeMap;
import ringkv.gossip.CausalContext;
import ringkv.gossip.ChangeTermination;
import ringkv.gossip.Entry;
import ringkv.gossip.FailureDetector;
import ringkv.gossip.HandOff;
import ringkv.gossip.KeptKeys;
import ringkv.gossip.KeyValueCore;
import ringkv.gossip.LamportClock;
import ringkv.gossip.MemoryStore;
import ringkv.gossip.NodeStability;
import ringkv.gossip.Replica;
import ringkv.gossip.ReplicationQueue;
import ringkv.gossip.ReplicationQueue.Batch;
import ringkv.gossip.ShardMap;
import ringkv.gossip.Store;
import ringkv.gossip.ViewChangeParticipant;
import ringkv.gossip.sim.SimMessage.ConfigReply;
import ringkv.gossip.sim.SimMessage.ConfigRequest;
import ringkv.gossip.sim.SimMessage.Heartbeat;
import ringkv.gossip.sim.SimMessage.PullRequest;
import ringkv.gossip.sim.SimMessage.PullResponse;
import ringkv.gossip.sim.SimMessage.ReplicateAck;
import ringkv.gossip.sim.SimMessage.ReplicateRequest;
import ringkv.gossip.sim.SimNetwork.Delivery;
import ringkv.ring.ClusterConfig;
import ringkv.ring.NodeAddress;

/**
 * Models one node as the real node runs it: the production protocol core — {@link Replica}
 * (store, {@link ReplicationQueue}, {@link LamportClock}), {@link NodeStability} (incarnations,
 * bootstrap and hold rules, stable time), {@link KeyValueCore} (admission, execution, reply
 * contexts, what peers' entries may be applied, tombstone sweeps, requeue after a restart), the
 * {@link FailureDetector}, anti-entropy ({@link SimAntiEntropy}: the production AntiEntropy and
 * AntiEntropyRound), view changes ({@link SimChangeParticipant}: ViewChangeParticipant and
 * TransferPlan; {@link SimCoordinator} when it coordinates one) and catch-up ({@link SimCatchUp})
 * — plus a thin driver in place of the Vert.x one: every tick it reports batches unacknowledged
 * for {@code batchTimeoutMs} as failed and sends what the queue hands out; deliveries are
 * applied through the core and acknowledged. The node knows a {@link ClusterConfig} (the real
 * ring) and learns a newer one from a heartbeat naming a newer epoch (the node's ConfigSync;
 * which epoch is news is {@link ViewChangeParticipant#isNews}, the node's own rule).
 *
 * <p>Processes die and come back: {@link #crash} loses the queue and the view-change state (and,
 * without durable data, the store); {@link #restart} starts a new incarnation which, with
 * durable data, queues again its writes above its saved stable mark, then catches up before it
 * serves; which writes it queues again is {@link KeyValueCore#unacknowledgedOwn}, the selection
 * the node's outbox rebuild makes. The installed configuration survives a restart (NodeMeta
 * keeps it). A {@link ReplicaBug} other than NONE swaps in a deliberately broken behaviour
 * around the core. The node's wall clock is the global clock plus a fixed skew.
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
  private final long skewMs;
  private final long batchTimeoutMs;
  private final boolean durable;
  private final ReplicaBug bug;
  private final SimNetwork network;
  private final ReplicationQueue.Limits limits;
  private final long aeIntervalMs;
  private final Map<String, InFlight> inFlight = new TreeMap<>();
  private final FailureDetector detector = new FailureDetector(FAILURE_TIMEOUT_MS);
  /** Keys dropped because the configuration no longer gives them here (for the checker). */
  private final List<String> dropped = new ArrayList<>();
  /** A durable node's hand-off not delivered yet ("on disk": it survives a crash), or null. */
  private HandOff savedHandOff;
  /** Keys kept in the store until delivered (lost with the process: found again at restart). */
  private KeptKeys kept;
  private ClusterConfig config;
  private ShardMap shards;
  private Replica replica;
  private NodeStability stability;
  private KeyValueCore core;
  private SimAntiEntropy antiEntropy;
  private SimChangeParticipant change;
  private SimCoordinator coordinator;
  /** Changes this process coordinated and decided, by epoch (lost with the process). */
  private final Map<Long, SimCoordinator> decided = new HashMap<>();
  private Phase phase = Phase.UP;
  private long incarnation;
  /** The stable mark saved on "disk" (durable nodes), as NodeMeta saves it. */
  private long savedStable;
  private long restarts;
  private final SimCatchUp catchUp = new SimCatchUp(this);

  SimNode(String id, ClusterConfig config, ReplicationQueue.Limits limits, long skewMs,
      long batchTimeoutMs, long aeIntervalMs, boolean durable, ReplicaBug bug,
      SimNetwork network) {
    this.id = id;
    this.config = Objects.requireNonNull(config, "config");
    this.shards = new SimLayout(config);
    this.limits = limits;
    this.skewMs = skewMs;
    this.batchTimeoutMs = batchTimeoutMs;
    this.aeIntervalMs = aeIntervalMs;
    this.durable = durable;
    this.bug = Objects.requireNonNull(bug, "bug");
    this.network = Objects.requireNonNull(network, "network");
    newProcess(new MemoryStore(), skewMs);
    stability.onBootstrapped(); // the cluster starts at once: nothing to copy
    detector.track(others(), skewMs);
  }

  private void newProcess(Store store, long localMs) {
    incarnation = localMs;
    replica = new Replica(id, store, new ReplicationQueue(limits), new LamportClock());
    stability = new NodeStability(id, incarnation, durable, shards, config.epoch());
    core = new KeyValueCore(id, replica, stability, 1_000);
    antiEntropy = new SimAntiEntropy(this, aeIntervalMs);
    change = new SimChangeParticipant(this);
    kept = new KeptKeys(durable);
    coordinator = null;
    decided.clear();
  }

  String id() {
    return id;
  }

  /** The shard this node serves under its configuration, or -1. */
  int shard() {
    OptionalInt s = shards.shardOfNode(id);
    return s.isPresent() ? s.getAsInt() : -1;
  }

  ClusterConfig config() {
    return config;
  }

  ShardMap shards() {
    return shards;
  }

  boolean durable() {
    return durable;
  }

  Phase phase() {
    return phase;
  }

  void setPhase(Phase next) {
    phase = next;
  }

  /** Whether clients may be served here: up, caught up, and not stopped by a view change. */
  boolean serves() {
    return phase == Phase.UP && change.participant().pending().isEmpty();
  }

  /** Whether this node serves {@code key} now (its configuration gives it the key's shard). */
  boolean servesKey(String key) {
    return serves() && shards.shardOf(key) == shard();
  }

  /**
   * Whether this node serves {@code key} to a client with {@code context}: as
   * {@link #servesKey(String)}, or, still copying its shard and hearing no peer of it, to a
   * client that observed nothing ({@link KeyValueCore#servesBeforeCopy}: the node's KvService
   * serves such a request itself when no replica answers its forward).
   */
  boolean servesKey(String key, CausalContext context) {
    return servesKey(key) || (phase == Phase.CATCHING_UP
        && change.participant().pending().isEmpty() && shards.shardOf(key) == shard()
        && KeyValueCore.servesBeforeCopy(context)
        && peers().stream().noneMatch(detector::isUp));
  }

  /**
   * Whether this node serves {@code op} on {@code key} to a client with {@code context}: as
   * {@link #servesKey(String, CausalContext)}, or, stopped by a view change, a read of a key it
   * still holds ({@link KeyValueCore#servesInStop}, the node's KvService's rule).
   */
  boolean servesKey(String key, CausalContext context, KeyValueCore.Op op) {
    return servesKey(key, context) || servesInStop(key, context, op);
  }

  /** Whether this node is stopped by a view change and serves {@code op} on {@code key}. */
  boolean servesInStop(String key, CausalContext context, KeyValueCore.Op op) {
    Optional<ClusterConfig> next = change.participant().pending();
    return phase == Phase.UP && next.isPresent() && core.servesInStop(op, key, context,
        shards.shardOf(key) == shard(),
        next.get().shardOfNode(NodeAddress.parse(id)).isPresent());
  }

  /** No view change stopped this node and it is not catching up (anti-entropy may run). */
  boolean quiet() {
    return phase == Phase.UP && change.participant().pending().isEmpty();
  }

  long incarnation() {
    return incarnation;
  }

  /** The other replicas of this node's shard. */
  List<String> peers() {
    return shards.shardPeersOf(id);
  }

  private List<String> others() {
    return shards.nodes().stream().filter(p -> !p.equals(id)).toList();
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

  FailureDetector detector() {
    return detector;
  }

  SimNetwork network() {
    return network;
  }

  SimChangeParticipant change() {
    return change;
  }

  SimCoordinator coordinator() {
    return coordinator;
  }

  void coordinate(SimCoordinator c) {
    if (coordinator != null && coordinator.outcome() != SimCoordinator.Outcome.RUNNING) {
      decided.put(coordinator.next().epoch(), coordinator); // kept for in-doubt participants
    }
    coordinator = c;
  }

  /** What this node knows of the change to {@code pending} as its coordinator (ViewChanges). */
  ChangeTermination.Standing standing(ClusterConfig pending) {
    SimCoordinator c = coordinator != null && coordinator.next().equals(pending) ? coordinator
        : decided.get(pending.epoch());
    if (c == null || !c.next().equals(pending)) {
      return ChangeTermination.Standing.UNKNOWN;
    }
    return switch (c.outcome()) {
      case RUNNING -> ChangeTermination.Standing.RUNNING;
      case COMMITTED -> ChangeTermination.Standing.COMMITTED;
      case ABORTED -> ChangeTermination.Standing.ABORTED;
    };
  }

  /** This node's wall clock at global time {@code nowMs}. */
  long localMs(long nowMs) {
    return nowMs + skewMs;
  }

  /** Whether a peer's write of {@code key} belongs here now or after the change prepared. */
  boolean acceptsReplicated(String key) {
    if (shards.shardOf(key) == shard()) {
      return true;
    }
    return change.participant().pending().map(p -> p.membersOf(p.shardOf(key))
        .contains(NodeAddress.parse(id))).orElse(false);
  }

  /** Keys dropped since the last call (the configuration no longer gives them here). */
  List<String> takeDropped() {
    List<String> out = List.copyOf(dropped);
    dropped.clear();
    return out;
  }

  // ---------------------------------------------------------------- configuration

  /**
   * Installs {@code next} (the node's ChangeParticipant.adopt): routing and replication follow
   * the new shard (queued writes of keys that left it are dropped), stability forgets nodes that
   * left, keys no longer owned are dropped.
   */
  void install(ClusterConfig next) {
    install(next, null);
  }

  /**
   * Installs {@code next} learned from a peer (this node missed the change): as
   * {@link #install}, and the writes of keys that leave this node and may not be stable for
   * their new owners are handed to them ({@link HandOff}, the node's
   * LayoutInstaller.adoptLearned); a durable node keeps them in its store until delivered
   * ({@link KeptKeys}).
   */
  void installLearned(ClusterConfig next) {
    install(next, HandOff.before(id, stability, replica, new SimLayout(next)));
  }

  private void install(ClusterConfig next, HandOff handOff) {
    if (handOff != null && durable) {
      savedHandOff = handOff; // the node's LayoutInstaller saves it before the new layout
    }
    config = next;
    shards = new SimLayout(next);
    change.participant().onInstalled(next);
    stability.onLayout(shards, next.epoch());
    replica.queue().retain((peer, k) -> shards.membersOf(shards.shardOf(k)).contains(peer));
    inFlight.keySet().retainAll(others()); // a write may still be owed outside the shard
    detector.track(others(), 0);
    leaveForeignKeys(handOff);
    if (handOff != null && kept.isEmpty()) {
      savedHandOff = null; // nothing kept: nothing for a restart to hand over again
    }
  }

  /**
   * A durable node's kept keys go once nobody is owed them (the node's LayoutInstaller release
   * loop); when none is left, the saved hand-off is forgotten.
   */
  private void releaseKept() {
    if (kept.isEmpty()) {
      return;
    }
    List<String> release = kept.release(replica.queue(), k -> shards.shardOf(k) == shard());
    release.forEach(k -> replica.store().remove(k));
    dropped.addAll(release);
    if (kept.isEmpty()) {
      savedHandOff = null;
    }
  }

  /** Removes every key this node's configuration does not give it, but those it keeps. */
  void dropForeignKeys() {
    List<String> foreign = new ArrayList<>();
    replica.store().forEach(e -> {
      if (shards.shardOf(e.key()) != shard() && !kept.keeps(e.key())) {
        foreign.add(e.key());
      }
    });
    foreign.forEach(k -> replica.store().remove(k));
    dropped.addAll(foreign);
  }

  /**
   * Removes every key this node's configuration does not give it, after handing it off by
   * {@code handOff} (null: none), but those it keeps ({@link KeptKeys}).
   */
  private void leaveForeignKeys(HandOff handOff) {
    List<String> foreign = new ArrayList<>();
    replica.store().forEach(e -> {
      if (shards.shardOf(e.key()) != shard() && !kept.leave(e, handOff, replica.queue()).kept()) {
        foreign.add(e.key());
      }
    });
    foreign.forEach(k -> replica.store().remove(k));
    dropped.addAll(foreign);
  }

  // ---------------------------------------------------------------- process life

  /**
   * The process dies: its queue, its waits, its view-change state and its connections go;
   * without durable data its store goes too.
   */
  void crash() {
    phase = Phase.DOWN;
    inFlight.clear();
    coordinator = null;
    decided.clear();
    catchUp.stop();
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
      List<Entry> own = KeyValueCore.unacknowledgedOwn(store, id, savedStable);
      core.requeue(own, savedStable, this::acceptsReplicated);
      if (savedHandOff != null) {
        // The node's LayoutInstaller.resumeHandOff: handed over again before it serves.
        leaveForeignKeys(savedHandOff);
        if (kept.isEmpty()) {
          savedHandOff = null;
        }
      } else {
        // Its keepOwed: the requeued writes of keys that left it stay until delivered.
        own.stream().filter(e -> shards.shardOf(e.key()) != shard())
            .forEach(e -> kept.leave(e, null, replica.queue()));
      }
    } else {
      savedHandOff = null;
    }
    catchUp.startAfterRestart(local);
    detector.track(others(), local);
  }

  /** Copies this node's shard from a peer before it serves again. */
  void startCatchUp() {
    catchUp.start();
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
      network.send(id, batch.peer(), new ReplicateRequest(batch, incarnation, config.epoch()));
      inFlight.put(batch.peer(), new InFlight(batch.id(), local));
    }
    if (phase == Phase.CATCHING_UP) {
      catchUp.step(local);
    }
    releaseKept();
    antiEntropy.onTick(local);
    change.onTick(local);
    if (coordinator != null) {
      coordinator.onTick(local);
    }
  }

  /** The heartbeat timer: report stability to every other node, mark silent peers down. */
  void heartbeat(long nowMs) {
    if (phase == Phase.DOWN) {
      return;
    }
    long local = localMs(nowMs);
    detector.onTick(local);
    stability.releaseIfRepaired(peers().stream().filter(detector::isUp).toList());
    long stable = stability.localStable(replica);
    if (durable) {
      savedStable = stable;
    }
    for (String other : others()) {
      network.send(id, other, new Heartbeat(stable, incarnation, config.epoch()));
    }
  }

  /** The anti-entropy timer: one round at a time, with the next live peer in turn. */
  void antiEntropy(long nowMs) {
    if (phase != Phase.DOWN) {
      antiEntropy.onTimer(localMs(nowMs));
    }
  }

  /**
   * The tombstone sweep: a tombstone goes once it and each of its dependencies is at or below
   * the stable time of its own key's shard; never during a view change or catch-up
   * ({@link KeyValueCore#maySweepTombstones}, the node's TombstoneSweeper's rule). Returns how
   * many were removed.
   */
  int sweep() {
    if (phase == Phase.DOWN || !KeyValueCore.maySweepTombstones(shard() >= 0,
        change.participant().underWay().isPresent(), phase == Phase.CATCHING_UP)) {
      return 0;
    }
    if (bug == ReplicaBug.COLLECTS_WITH_UNSTABLE_DEPS) {
      int shard = shard();
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
      if (!change.participant().takesReplicatedWrites()
          || !ViewChangeParticipant.takesBatchAt(config.epoch(), request.epoch())) {
        return; // unacknowledged: the sender retries after the change ends, at one epoch
      }
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
        network.send(id, from, new PullResponse(entry, pull.epoch()));
      }
    } else if (message instanceof PullResponse response) {
      if (response.epoch() == config.epoch()) {
        applyPulled(response.entry()); // else asked under another layout: dropped (KvService)
      }
    } else if (message instanceof Heartbeat heartbeat) {
      stability.onReport(from, heartbeat.incarnation(), heartbeat.epoch(), heartbeat.stable());
      if (ViewChangeParticipant.isNews(config.epoch(), change.participant().pending(),
          heartbeat.epoch())) {
        network.send(id, from, new ConfigRequest());
      }
    } else if (message instanceof ConfigRequest) {
      network.send(id, from, new ConfigReply(config));
    } else if (message instanceof ConfigReply reply) {
      if (catchUp.discovering()) {
        catchUp.onDiscovered(from, reply.config());
      } else {
        change.learn(reply.config(), local);
      }
    } else if (!antiEntropy.onMessage(from, message, local)
        && !change.onMessage(from, message, local)
        && !(coordinator != null && coordinator.onMessage(from, message, local))) {
      catchUp.onMessage(from, message, local);
    }
  }

  /** Merges writes from a peer's queue or an anti-entropy round; returns how many were newer. */
  int applyFromPeers(List<Entry> entries) {
    switch (bug) {
      case FORGETS_DEPENDENCIES -> entries.forEach(e -> replica.apply(new Entry(
          e.key(), e.value(), e.version(), CausalContext.EMPTY)));
      case APPLIES_OLDER_VERSIONS -> entries.forEach(e -> {
        replica.clock().observe(e.version().counter());
        replica.store().put(e);
      });
      default -> {
        return core.applyFromPeers(entries, true, this::acceptsReplicated).fresh();
      }
    }
    return entries.size();
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
    for (String peer : peers()) {
      network.send(id, peer, new PullRequest(key, config.epoch()));
    }
  }

  /** Whether nothing is queued or in flight to any peer. */
  boolean isDrained() {
    return replica.queue().isDrained();
  }

  /** A status line per node plus one per peer queue, for failure reports. */
  String describe() {
    StringBuilder sb = new StringBuilder()
        .append(replica).append(" shard=").append(shard()).append(" epoch=")
        .append(config.epoch()).append(" skewMs=").append(skewMs)
        .append(" phase=").append(phase).append(" durable=").append(durable)
        .append(" restarts=").append(restarts).append(" incarnation=").append(incarnation)
        .append(" live=").append(replica.store().liveCount())
        .append(" localStable=").append(stability.localStable(replica)).append(' ')
        .append(stability).append(' ').append(change).append(' ').append(antiEntropy)
        .append(coordinator == null ? "" : " " + coordinator)
        .append(" awaitingAck=").append(inFlight.keySet()).append('\n');
    replica.queue().describe().lines().forEach(l -> sb.append("    -> ").append(l).append('\n'));
    return sb.toString();
  }
}
