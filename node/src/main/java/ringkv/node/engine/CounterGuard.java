package ringkv.node.engine;

import java.util.List;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import ringkv.gossip.CausalContext;
import ringkv.gossip.CounterBound;
import ringkv.gossip.Entry;
import ringkv.node.error.ErrorCode;
import ringkv.node.error.KvException;

/**
 * The node's side of {@link CounterBound}: refuses (400) counters from a client or a peer beyond
 * this node's clock plus {@code CLOCK_AHEAD_MS_MAX}, logging at most one refusal per
 * {@link #REFUSAL_LOG_INTERVAL_MS} (a flood must not flood the log).
 *
 * <p>Not thread-safe; every method runs on the node's event loop.
 */
final class CounterGuard {
  private static final Logger LOG = LoggerFactory.getLogger(KvService.class);
  /** At most one refusal is logged per this interval. */
  static final long REFUSAL_LOG_INTERVAL_MS = 10_000;

  /** The node whose clock, address and CLOCK_AHEAD_MS_MAX the guard reads. */
  private final NodeServices node;
  private long lastRefusalLoggedMs = Long.MIN_VALUE / 2;

  CounterGuard(NodeServices node) {
    this.node = node;
  }

  /** The largest Lamport counter this node accepts: its wall clock plus the allowance. */
  long limit() {
    return CounterBound.limit(node.clock().millis(), node.config().clockAheadMsMax());
  }

  /** Refuses a causal context with a counter beyond {@link #limit()}. */
  void check(CausalContext context) {
    long limit = limit();
    if (context.maxCounter() > limit) {
      throw beyond("a causal context", context.maxCounter(), limit);
    }
  }

  /** Refuses {@code entries} whole if one's version or dependencies lie beyond the limit. */
  void check(List<Entry> entries) {
    long limit = limit();
    Optional<Entry> forged = CounterBound.firstBeyond(entries, limit);
    if (forged.isPresent()) {
      Entry e = forged.get();
      throw beyond("an entry of " + e.key(), Math.max(e.version().counter(),
          e.deps().maxCounter()), limit);
    }
  }

  private KvException beyond(String what, long counter, long limit) {
    long nowMs = node.clock().millis();
    if (nowMs - lastRefusalLoggedMs >= REFUSAL_LOG_INTERVAL_MS) {
      lastRefusalLoggedMs = nowMs;
      LOG.warn("event=counter-refused node={} what=\"{}\" counter={} limit={} (a forgery, or a "
          + "clock more than CLOCK_AHEAD_MS_MAX={} ms off)", node.state().self(), what, counter,
          limit, node.config().clockAheadMsMax());
    }
    return new KvException(ErrorCode.BAD_REQUEST, what + " carries counter " + counter
        + ", beyond this node's clock plus CLOCK_AHEAD_MS_MAX (" + limit + ")");
  }
}
