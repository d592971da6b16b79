package ringkv.gossip.sim;

import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.function.ToIntFunction;
import java.util.function.ToLongFunction;
import ringkv.gossip.CausalContext;
import ringkv.gossip.Entry;
import ringkv.gossip.LamportClock;
import ringkv.gossip.MemoryStore;
import ringkv.gossip.Replica;
import ringkv.gossip.ReplicationQueue;
import ringkv.gossip.ReplicationQueue.Batch;
import ringkv.gossip.Stability;
import ringkv.gossip.sim.SimMessage.Heartbeat;
import ringkv.gossip.sim.SimMessage.PullRequest;
import ringkv.gossip.sim.SimMessage.PullResponse;
import ringkv.gossip.sim.SimMessage.ReplicateAck;
import ringkv.gossip.sim.SimMessage.ReplicateRequest;
import ringkv.gossip.sim.SimNetwork.Delivery;

/**
 * Models one node: a {@link Replica} (MemoryStore, ReplicationQueue, LamportClock) plus the thin
 * driver the real node wraps around it. Every tick the driver reports batches unacknowledged for
 * {@code batchTimeoutMs} as failed ({@code onSendFailed}), then sends what
 * {@code queue.onTick} returns; a delivered batch is applied entry by entry and acknowledged; an
 * ack goes to {@code onAck}; a pull request is answered with the stored entry. The node's wall
 * clock is the global clock plus a fixed skew. A {@link ReplicaBug} other than NONE swaps in a
 * deliberately broken behaviour.
 *
 * <p>Stability mirrors the real node's {@code Engine}: every heartbeat the node sends its
 * {@code localStable} over its shard peers to every other node, which records it in its
 * {@link Stability}; {@link #stableTime} and {@link #prune} are {@code Engine.stableTime} and
 * {@code Engine.prune}; {@link #sweep} is the tombstone sweep; replicated (queue) entries go
 * through {@code applyReplicated} at the stable time of their key's shard
 * ({@code Engine.applyAll(entries, true)}). Two things are modelled as the node should do them,
 * not as it does today: pulled entries also go through {@code applyReplicated} (the node merges
 * them with {@code apply}: {@link ReplicaBug#PULLS_IGNORE_STABILITY}), and the sweep calls
 * {@code collectTombstones(stableTimeOfKey)} so that a tombstone's dependencies on other shards
 * are stable too (the node calls the own-shard-only form).
 *
 * <p>Not thread-safe; a simulation runs in one thread.
 */
final class SimNode {

  /** The batch in flight to one peer and when (local time) it was sent. */
  private record InFlight(long batchId, long sentAtMs) {}

  private final String id;
  private final int shard;
  private final List<String> peers;
  private final Replica replica;
  private final long skewMs;
  private final long batchTimeoutMs;
  private final ReplicaBug bug;
  private final SimNetwork network;
  private final Map<String, InFlight> inFlight = new TreeMap<>();
  private final Stability stability = new Stability();
  /** Member ids of every shard, by shard index. */
  private final List<List<String>> shards;
  private final ToIntFunction<String> shardOf;
  private final List<String> others;

  SimNode(String id, int shard, List<List<String>> shards, ToIntFunction<String> shardOf,
      ReplicationQueue.Limits limits, long skewMs, long batchTimeoutMs, ReplicaBug bug,
      SimNetwork network) {
    this.id = id;
    this.shard = shard;
    this.shards = List.copyOf(shards);
    this.shardOf = Objects.requireNonNull(shardOf, "shardOf");
    this.peers = shards.get(shard).stream().filter(p -> !p.equals(id)).toList();
    this.others = shards.stream().flatMap(List::stream).filter(p -> !p.equals(id)).toList();
    this.replica = new Replica(id, new MemoryStore(), new ReplicationQueue(limits),
        new LamportClock());
    this.skewMs = skewMs;
    this.batchTimeoutMs = batchTimeoutMs;
    this.bug = Objects.requireNonNull(bug, "bug");
    this.network = Objects.requireNonNull(network, "network");
  }

  String id() {
    return id;
  }

  int shard() {
    return shard;
  }

  /** The other replicas of this node's shard. */
  List<String> peers() {
    return peers;
  }

  Replica replica() {
    return replica;
  }

  /** This node's wall clock at global time {@code nowMs}. */
  long localMs(long nowMs) {
    return nowMs + skewMs;
  }

  /** The driver's periodic timer: fail timed-out batches, then send the batches now due. */
  void onTick(long nowMs) {
    long local = localMs(nowMs);
    Iterator<Map.Entry<String, InFlight>> it = inFlight.entrySet().iterator();
    while (it.hasNext()) {
      Map.Entry<String, InFlight> e = it.next();
      if (local - e.getValue().sentAtMs() >= batchTimeoutMs) {
        replica.queue().onSendFailed(e.getKey(), e.getValue().batchId(), local);
        it.remove();
      }
    }
    for (Batch batch : replica.queue().onTick(local)) {
      network.send(id, batch.peer(), new ReplicateRequest(batch));
      inFlight.put(batch.peer(), new InFlight(batch.id(), local));
    }
  }

  /** The heartbeat timer: report this node's {@code localStable} to every other node. */
  void heartbeat() {
    long stable = localStable();
    for (String other : others) {
      network.send(id, other, new Heartbeat(stable));
    }
  }

  /** This node's contribution to its shard's stable time ({@code Engine.localStable}). */
  long localStable() {
    return replica.localStable(peers);
  }

  /**
   * The stable time of shard {@code shardIndex} as this node knows it ({@code Engine.stableTime}):
   * its own {@code localStable} if it is a member, the others' latest reports.
   */
  long stableTime(int shardIndex) {
    List<String> members = shards.get(shardIndex);
    long min = Long.MAX_VALUE;
    List<String> reporters = new java.util.ArrayList<>();
    for (String m : members) {
      if (m.equals(id)) {
        min = Math.min(min, localStable());
      } else {
        reporters.add(m);
      }
    }
    return reporters.isEmpty() ? (min == Long.MAX_VALUE ? 0 : min)
        : Math.min(min, stability.stableTime(reporters));
  }

  /** {@code Engine.prune}: drops entries at or below their shard's stable time. */
  CausalContext prune(CausalContext context) {
    if (context.isEmpty()) {
      return context;
    }
    Map<Integer, Long> stableByShard = new java.util.HashMap<>();
    return context.without((k, v) -> v.counter()
        <= stableByShard.computeIfAbsent(shardOf.applyAsInt(k), this::stableTime));
  }

  /**
   * The tombstone sweep ({@code Engine.collectTombstones}): a tombstone goes once it and each of
   * its dependencies is at or below the stable time of its own key's shard. Returns how many
   * were removed.
   */
  int sweep() {
    Map<Integer, Long> stableByShard = new java.util.HashMap<>();
    ToLongFunction<String> stableOfKey =
        k -> stableByShard.computeIfAbsent(shardOf.applyAsInt(k), this::stableTime);
    if (bug == ReplicaBug.COLLECTS_WITH_UNSTABLE_DEPS) {
      long own = stableTime(shard);
      // Only the tombstone's own shard is consulted (dependencies of own-shard keys are older
      // than the tombstone, so they pass; other shards' dependencies are ignored).
      return replica.collectTombstones(k -> shardOf.applyAsInt(k) == shard ? own : Long.MAX_VALUE);
    }
    return replica.collectTombstones(stableOfKey);
  }

  /** Handles one message the network delivered to this node. */
  void onDelivery(Delivery delivery, long nowMs) {
    SimMessage message = delivery.message();
    if (message instanceof ReplicateRequest request) {
      Map<Integer, Long> stableByShard = new java.util.HashMap<>();
      for (Entry entry : request.batch().entries()) {
        applyReplicated(entry, stableByShard.computeIfAbsent(
            shardOf.applyAsInt(entry.key()), this::stableTime));
      }
      network.send(id, delivery.from(), new ReplicateAck(request.batch().id()));
    } else if (message instanceof ReplicateAck ack) {
      replica.queue().onAck(delivery.from(), ack.batchId(), localMs(nowMs));
      InFlight sent = inFlight.get(delivery.from());
      if (sent != null && sent.batchId() == ack.batchId()) {
        inFlight.remove(delivery.from());
      }
    } else if (message instanceof PullRequest pull) {
      Entry entry = replica.store().get(pull.key());
      if (entry != null) {
        network.send(id, delivery.from(), new PullResponse(entry));
      }
    } else if (message instanceof PullResponse response) {
      applyPulled(response.entry());
    } else if (message instanceof Heartbeat heartbeat) {
      stability.report(delivery.from(), heartbeat.stable());
    } else {
      throw new IllegalStateException("unknown message " + message);
    }
  }

  /** Merges a write from a peer's replication queue ({@code applyAll(entries, true)}). */
  private void applyReplicated(Entry entry, long stableTime) {
    if (bug == ReplicaBug.NONE || bug == ReplicaBug.COLLECTS_WITH_UNSTABLE_DEPS
        || bug == ReplicaBug.PULLS_IGNORE_STABILITY) {
      replica.applyReplicated(entry, stableTime);
    } else {
      apply(entry);
    }
  }

  /**
   * Merges a pulled write, stale-checked like a replicated one: a pull answer may be delayed
   * past the collection of a newer tombstone of its key. {@link ReplicaBug#PULLS_IGNORE_STABILITY}
   * merges it unconditionally instead.
   */
  private void applyPulled(Entry entry) {
    if (bug == ReplicaBug.NONE || bug == ReplicaBug.COLLECTS_WITH_UNSTABLE_DEPS) {
      replica.applyReplicated(entry, stableTime(shardOf.applyAsInt(entry.key())));
    } else if (bug == ReplicaBug.PULLS_IGNORE_STABILITY) {
      replica.apply(entry);
    } else {
      apply(entry);
    }
  }

  /** Merges a write unconditionally (last writer wins); the broken variants differ here. */
  private void apply(Entry entry) {
    switch (bug) {
      case FORGETS_DEPENDENCIES -> replica.apply(new Entry(
          entry.key(), entry.value(), entry.version(), CausalContext.EMPTY));
      case APPLIES_OLDER_VERSIONS -> {
        replica.clock().observe(entry.version().counter());
        replica.store().put(entry);
      }
      default -> replica.apply(entry);
    }
  }

  /** Whether a client with {@code context} may be served {@code key} here now. */
  boolean canServe(String key, CausalContext context) {
    return bug == ReplicaBug.SERVES_WITHOUT_DEPENDENCIES
        || replica.missing(key, context).isEmpty();
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
        .append(" live=").append(replica.store().liveCount())
        .append(" localStable=").append(localStable()).append(' ').append(stability)
        .append(" awaitingAck=").append(inFlight.keySet()).append('\n');
    replica.queue().describe().lines().forEach(l -> sb.append("    -> ").append(l).append('\n'));
    return sb.toString();
  }
}
