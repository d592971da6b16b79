package ringkv.node.engine;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.Set;
import ringkv.gossip.AckWaits;
import ringkv.gossip.Entry;
import ringkv.node.error.ErrorCode;
import ringkv.node.error.KvException;
import ringkv.node.time.Clock;

/**
 * Runs {@link AckWaits} on the node's event loop: a write whose client sent
 * {@code RingKV-Acks: k} is answered once {@code k-1} other replicas of its shard acknowledged
 * it ({@link GossipDriver} reports every acknowledged batch here), or fails with
 * {@link ErrorCode#TOO_FEW_ACKS} at its deadline, saying how many held it. The write itself
 * stays either way and keeps spreading (as with Redis {@code WAIT}).
 *
 * <p>Not thread-safe; runs on the node's event loop.
 */
public final class ReplicaAcks {
  /** Writes that may wait for acknowledgements at once; beyond: 503. */
  static final int WAITS_MAX = 10_000;

  private final Vertx vertx;
  private final Clock clock;
  private final AckWaits waits = new AckWaits(WAITS_MAX);
  private final Map<Long, Promise<Integer>> pending = new HashMap<>();

  public ReplicaAcks(Vertx vertx, Clock clock) {
    this.vertx = vertx;
    this.clock = clock;
  }

  /**
   * Completes with the number of replicas holding {@code written} (itself included) once
   * {@code acks} do; fails with {@link ErrorCode#TOO_FEW_ACKS} after {@code waitMs}.
   */
  public Future<Integer> await(Entry written, Set<String> peers, int acks, long waitMs) {
    OptionalLong id = waits.await(written.key(), written.version(), peers, acks - 1,
        clock.millis() + waitMs);
    if (id.isEmpty()) {
      return Future.failedFuture(new KvException(ErrorCode.OVERLOADED,
          "more than " + WAITS_MAX + " writes waiting for replicas"));
    }
    Promise<Integer> promise = Promise.promise();
    pending.put(id.getAsLong(), promise);
    vertx.setTimer(Math.max(1, waitMs), t -> waits.expire(clock.millis()).forEach(this::end));
    return promise.future();
  }

  /** {@code peer} acknowledged a replication batch of {@code entries}. */
  public void acked(String peer, List<Entry> entries) {
    waits.onAcked(peer, entries).forEach(this::end);
  }

  private void end(AckWaits.Released r) {
    Promise<Integer> p = pending.remove(r.id());
    if (p == null) {
      return;
    }
    if (r.enough()) {
      p.complete(r.acked() + 1);
    } else {
      p.fail(new KvException(ErrorCode.TOO_FEW_ACKS, (r.acked() + 1) + " of the "
          + (r.needed() + 1) + " replicas asked for hold the write (it stays, and keeps"
          + " spreading to the others)"));
    }
  }
}
