package ringkv.node.engine;

import io.vertx.core.Context;
import io.vertx.core.Vertx;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import ringkv.gossip.ReplicationQueue;
import ringkv.gossip.ReplicationQueue.Batch;
import ringkv.node.api.ReplicationWire;
import ringkv.ring.NodeAddress;

/**
 * Drives the pure {@link ReplicationQueue}: a periodic timer (and an immediate flush after each
 * write) asks it for due batches, sends each with {@code POST /internal/replicate}, and feeds the
 * result back as {@code onAck} or {@code onSendFailed}. Logs only state transitions (a peer
 * becoming unreachable or recovering, the queue draining), never one line per retry.
 *
 * <p>Not thread-safe; confine to the node's event loop.
 */
final class GossipDriver {
  private static final Logger LOG = LoggerFactory.getLogger(GossipDriver.class);

  private final Vertx vertx;
  private final Context context;
  private final ReplicationQueue queue;
  private final Peers peers;
  private final String self;
  private final long tickMs;
  private final long timeoutMs;
  private final java.util.Set<String> failing = new java.util.HashSet<>();
  private boolean flushScheduled;
  /** Peers the failure detector considers up; replication skips the others. */
  private java.util.function.Predicate<String> reachable = peer -> true;
  private long timerId = -1;

  GossipDriver(Vertx vertx, Context context, ReplicationQueue queue, Peers peers, String self,
      long tickMs, long timeoutMs) {
    this.vertx = vertx;
    this.context = context;
    this.queue = queue;
    this.peers = peers;
    this.self = self;
    this.tickMs = tickMs;
    this.timeoutMs = timeoutMs;
  }

  /** Replication skips peers {@code reachable} rejects until they are up again. */
  void skipUnreachable(java.util.function.Predicate<String> reachablePeers) {
    this.reachable = reachablePeers;
  }

  /** {@code peer} answers again: send what it missed now. */
  void onPeerUp(String peer) {
    queue.onPeerUp(peer, System.currentTimeMillis());
    flushSoon();
  }

  void start() {
    timerId = vertx.setPeriodic(tickMs, id -> flush());
  }

  void stop() {
    if (timerId >= 0) {
      vertx.cancelTimer(timerId);
    }
  }

  /** Sends due batches on the next turn of the event loop (coalescing bursts of writes). */
  void flushSoon() {
    if (!flushScheduled) {
      flushScheduled = true;
      context.runOnContext(v -> {
        flushScheduled = false;
        flush();
      });
    }
  }

  private void flush() {
    List<Batch> due = queue.onTick(System.currentTimeMillis(), reachable);
    for (Batch batch : due) {
      send(batch);
    }
  }

  private void send(Batch batch) {
    byte[] body = ReplicationWire.encode(self, batch.entries());
    NodeAddress to = NodeAddress.parse(batch.peer());
    peers.postRaw(to, "/internal/replicate", body, timeoutMs).onComplete(ar -> {
      long now = System.currentTimeMillis();
      if (ar.succeeded() && ar.result().status() == 200) {
        queue.onAck(batch.peer(), batch.id(), now);
        if (failing.remove(batch.peer())) {
          LOG.info("event=replication-recovered node={} peer={}", self, batch.peer());
        }
        if (queue.pending(batch.peer()) > 0) {
          flushSoon();
        }
      } else {
        queue.onSendFailed(batch.peer(), batch.id(), now);
        if (failing.add(batch.peer())) {
          String why = ar.succeeded() ? "status " + ar.result().status() : ar.cause().toString();
          LOG.info("event=replication-failing node={} peer={} pending={} cause={}", self,
              batch.peer(), queue.pending(batch.peer()), why);
        }
      }
    });
  }
}
