package ringkv.node.engine;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import ringkv.gossip.Version;
import ringkv.node.error.ErrorCode;
import ringkv.node.error.KvException;

/**
 * Requests parked until this replica holds a version of a key that their client has already seen.
 * Each wait is bounded in time (then it fails with {@link ErrorCode#CAUSAL_TIMEOUT}) and the
 * number of parked requests is bounded ({@link ErrorCode#OVERLOADED} beyond it).
 *
 * <p>Not thread-safe; confine to the node's event loop.
 */
final class Waiters {
  private record Waiter(Version needed, Promise<Void> promise, long timerId) {}

  private final Vertx vertx;
  private final int waitersMax;
  private final Map<String, List<Waiter>> byKey = new HashMap<>();
  private int count;

  Waiters(Vertx vertx, int waitersMax) {
    this.vertx = vertx;
    this.waitersMax = waitersMax;
  }

  /** Completes when {@link #onHeld} reports a version of {@code key} at least {@code needed}. */
  Future<Void> await(String key, Version needed, long waitMs) {
    if (count >= waitersMax) {
      return Future.failedFuture(new KvException(ErrorCode.OVERLOADED,
          "more than " + waitersMax + " requests waiting for causal dependencies"));
    }
    Promise<Void> promise = Promise.promise();
    long[] timer = new long[1];
    timer[0] = vertx.setTimer(Math.max(1, waitMs), id -> expire(key, promise));
    byKey.computeIfAbsent(key, k -> new ArrayList<>()).add(new Waiter(needed, promise, timer[0]));
    count++;
    return promise.future();
  }

  private void expire(String key, Promise<Void> promise) {
    List<Waiter> list = byKey.get(key);
    if (list != null && list.removeIf(w -> w.promise() == promise)) {
      count--;
      if (list.isEmpty()) {
        byKey.remove(key);
      }
    }
    promise.tryFail(new KvException(ErrorCode.CAUSAL_TIMEOUT,
        "a causal dependency of " + key + " did not arrive in time"));
  }

  /** This replica now holds {@code held} for {@code key}: release every wait it satisfies. */
  void onHeld(String key, Version held) {
    List<Waiter> list = byKey.get(key);
    if (list == null) {
      return;
    }
    Iterator<Waiter> it = list.iterator();
    while (it.hasNext()) {
      Waiter w = it.next();
      if (held.isAtLeast(w.needed())) {
        it.remove();
        count--;
        vertx.cancelTimer(w.timerId());
        w.promise().tryComplete();
      }
    }
    if (list.isEmpty()) {
      byKey.remove(key);
    }
  }

  int size() {
    return count;
  }
}
