package ringkv.node.engine;

import java.util.HashSet;
import java.util.List;
import java.util.OptionalLong;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import ringkv.gossip.ReplicationQueue;
import ringkv.gossip.ReplicationQueue.Batch;
import ringkv.node.peer.PeerProtocol;
import ringkv.node.peer.ReplicationMessages;
import ringkv.ring.NodeAddress;

/**
 * Drives the pure {@link ReplicationQueue}: a periodic timer (and an immediate flush after each
 * write) asks it for due batches, sends each over {@link PeerProtocol#REPLICATE}, and feeds the
 * result back as {@code onAck} or {@code onSendFailed}. Peers the failure detector holds down
 * are skipped until they answer again. Logs only state transitions (a peer becoming unreachable
 * or recovering), never one line per retry.
 *
 * <p>Not thread-safe; confine to the node's event loop.
 */
public final class GossipDriver {
  private static final Logger LOG = LoggerFactory.getLogger(GossipDriver.class);

  private final NodeServices node;
  private final ReplicationQueue queue;
  private final NodeAddress self;
  private final Set<String> failing = new HashSet<>();
  private boolean flushScheduled;
  private long timerId = -1;
  /** The one-shot timer for a batch held back by its interval, and when it fires. */
  private long dueTimerId = -1;
  private long dueTimerAtMs;

  private final ReplicaAcks acks;

  /** Sends every REPLICATION_TICK_MS; each batch's call times out after FORWARD_TIMEOUT_MS. */
  public GossipDriver(NodeServices node, ReplicationQueue queue, ReplicaAcks acks) {
    this.acks = acks;
    this.node = node;
    this.queue = queue;
    this.self = node.state().self();
  }

  public void start() {
    timerId = node.vertx().setPeriodic(node.config().replicationTickMs(), id -> flush());
  }

  public void stop() {
    if (timerId >= 0) {
      node.vertx().cancelTimer(timerId);
      timerId = -1;
    }
    if (dueTimerId >= 0) {
      node.vertx().cancelTimer(dueTimerId);
      dueTimerId = -1;
    }
  }

  /** {@code peer} answers again: send what it missed now. */
  void onPeerUp(NodeAddress peer) {
    queue.onPeerUp(peer.toString(), node.clock().millis());
    flushSoon();
  }

  /** Sends due batches on the next turn of the event loop (coalescing bursts of writes). */
  public void flushSoon() {
    if (!flushScheduled) {
      flushScheduled = true;
      node.context().runOnContext(v -> {
        flushScheduled = false;
        flush();
      });
    }
  }

  private void flush() {
    long now = node.clock().millis();
    node.metrics().replicationFlushed(now);
    List<Batch> due = queue.onTick(now,
        peer -> PeerLiveness.address(peer).map(node.liveness()::isLive).orElse(false));
    for (Batch batch : due) {
      send(batch);
    }
    armForNextDue(now);
  }

  /**
   * A one-shot timer for the next batch the queue holds back (its peer's batch interval or
   * backoff), so the last writes of a burst go when it ends rather than at the periodic tick.
   */
  private void armForNextDue(long now) {
    OptionalLong next = queue.nextDueMs(now);
    if (next.isEmpty() || (dueTimerId >= 0 && dueTimerAtMs <= next.getAsLong())) {
      return;
    }
    if (dueTimerId >= 0) {
      node.vertx().cancelTimer(dueTimerId);
    }
    dueTimerAtMs = next.getAsLong();
    dueTimerId = node.vertx().setTimer(Math.max(1, dueTimerAtMs - now), id -> {
      dueTimerId = -1;
      flush();
    });
  }

  private void send(Batch batch) {
    NodeAddress to = NodeAddress.parse(batch.peer());
    ReplicationMessages.Batch message =
        ReplicationMessages.Batch.replicated(self, node.state().current().epoch(), batch.entries());
    node.ask(to, PeerProtocol.REPLICATE, message).onComplete(ar -> {
      long now = node.clock().millis();
      if (ar.succeeded()) {
        queue.onAck(batch.peer(), batch.id(), now);
        acks.acked(batch.peer(), batch.entries());
        node.metrics().batchAcknowledged(batch.peer(), batch.entries().size());
        if (failing.remove(batch.peer())) {
          LOG.info("event=replication-recovered node={} peer={}", self, batch.peer());
        }
        if (queue.pending(batch.peer()) > 0) {
          flushSoon();
        }
      } else {
        queue.onSendFailed(batch.peer(), batch.id(), now);
        node.metrics().batchFailed(batch.peer());
        if (failing.add(batch.peer())) {
          LOG.info("event=replication-failing node={} peer={} pending={} cause={}", self,
              batch.peer(), queue.pending(batch.peer()), ar.cause().toString());
        }
      }
    });
  }
}
