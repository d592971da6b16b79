package ringkv.node.engine;

import io.vertx.core.Context;
import io.vertx.core.Vertx;
import java.util.HashSet;
import java.util.List;
import java.util.OptionalLong;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import ringkv.gossip.ReplicationQueue;
import ringkv.gossip.ReplicationQueue.Batch;
import ringkv.node.metrics.NodeMetrics;
import ringkv.node.peer.PeerClient;
import ringkv.node.peer.PeerProtocol;
import ringkv.node.peer.ReplicationMessages;
import ringkv.node.time.Clock;
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

  private final Vertx vertx;
  private final Context context;
  private final Clock clock;
  private final ReplicationQueue queue;
  private final PeerClient peers;
  private final PeerLiveness liveness;
  private final NodeAddress self;
  private final ClusterState state;
  private final long tickMs;
  private final long timeoutMs;
  private final NodeMetrics metrics;
  private final Set<String> failing = new HashSet<>();
  private boolean flushScheduled;
  private long timerId = -1;
  /** The one-shot timer for a batch held back by its interval, and when it fires. */
  private long dueTimerId = -1;
  private long dueTimerAtMs;

  private final ReplicaAcks acks;

  public GossipDriver(Vertx vertx, Context context, Clock clock, ReplicationQueue queue,
      PeerClient peers, PeerLiveness liveness, ClusterState state, long tickMs, long timeoutMs,
      NodeMetrics metrics, ReplicaAcks acks) {
    this.acks = acks;
    this.vertx = vertx;
    this.context = context;
    this.clock = clock;
    this.queue = queue;
    this.peers = peers;
    this.liveness = liveness;
    this.state = state;
    this.self = state.self();
    this.tickMs = tickMs;
    this.timeoutMs = timeoutMs;
    this.metrics = metrics;
  }

  public void start() {
    timerId = vertx.setPeriodic(tickMs, id -> flush());
  }

  public void stop() {
    if (timerId >= 0) {
      vertx.cancelTimer(timerId);
      timerId = -1;
    }
    if (dueTimerId >= 0) {
      vertx.cancelTimer(dueTimerId);
      dueTimerId = -1;
    }
  }

  /** {@code peer} answers again: send what it missed now. */
  void onPeerUp(NodeAddress peer) {
    queue.onPeerUp(peer.toString(), clock.millis());
    flushSoon();
  }

  /** Sends due batches on the next turn of the event loop (coalescing bursts of writes). */
  public void flushSoon() {
    if (!flushScheduled) {
      flushScheduled = true;
      context.runOnContext(v -> {
        flushScheduled = false;
        flush();
      });
    }
  }

  private void flush() {
    long now = clock.millis();
    metrics.replicationFlushed(now);
    List<Batch> due = queue.onTick(now,
        peer -> PeerLiveness.address(peer).map(liveness::isLive).orElse(false));
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
      vertx.cancelTimer(dueTimerId);
    }
    dueTimerAtMs = next.getAsLong();
    dueTimerId = vertx.setTimer(Math.max(1, dueTimerAtMs - now), id -> {
      dueTimerId = -1;
      flush();
    });
  }

  private void send(Batch batch) {
    NodeAddress to = NodeAddress.parse(batch.peer());
    ReplicationMessages.Batch message =
        ReplicationMessages.Batch.replicated(self, state.current().epoch(), batch.entries());
    peers.call(to, PeerProtocol.REPLICATE, message, timeoutMs).onComplete(ar -> {
      long now = clock.millis();
      if (ar.succeeded()) {
        queue.onAck(batch.peer(), batch.id(), now);
        acks.acked(batch.peer(), batch.entries());
        metrics.batchAcknowledged(batch.peer(), batch.entries().size());
        if (failing.remove(batch.peer())) {
          LOG.info("event=replication-recovered node={} peer={}", self, batch.peer());
        }
        if (queue.pending(batch.peer()) > 0) {
          flushSoon();
        }
      } else {
        queue.onSendFailed(batch.peer(), batch.id(), now);
        metrics.batchFailed(batch.peer());
        if (failing.add(batch.peer())) {
          LOG.info("event=replication-failing node={} peer={} pending={} cause={}", self,
              batch.peer(), queue.pending(batch.peer()), ar.cause().toString());
        }
      }
    });
  }
}
