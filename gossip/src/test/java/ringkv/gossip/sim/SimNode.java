package ringkv.gossip.sim;

import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import ringkv.gossip.CausalContext;
import ringkv.gossip.Entry;
import ringkv.gossip.LamportClock;
import ringkv.gossip.MemoryStore;
import ringkv.gossip.Replica;
import ringkv.gossip.ReplicationQueue;
import ringkv.gossip.ReplicationQueue.Batch;
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

  SimNode(String id, int shard, List<String> peers, ReplicationQueue.Limits limits, long skewMs,
      long batchTimeoutMs, ReplicaBug bug, SimNetwork network) {
    this.id = id;
    this.shard = shard;
    this.peers = List.copyOf(peers);
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

  /** Handles one message the network delivered to this node. */
  void onDelivery(Delivery delivery, long nowMs) {
    SimMessage message = delivery.message();
    if (message instanceof ReplicateRequest request) {
      request.batch().entries().forEach(this::apply);
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
      apply(response.entry());
    } else {
      throw new IllegalStateException("unknown message " + message);
    }
  }

  /** Merges a replicated or pulled write; the broken variants differ here. */
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
        .append(" awaitingAck=").append(inFlight.keySet()).append('\n');
    replica.queue().describe().lines().forEach(l -> sb.append("    -> ").append(l).append('\n'));
    return sb.toString();
  }
}
