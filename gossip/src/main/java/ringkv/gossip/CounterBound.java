package ringkv.gossip;

import static com.google.common.base.Preconditions.checkArgument;

import java.util.Optional;

/**
 * The largest Lamport counter a node accepts from anyone — a client's causal metadata, a peer's
 * replicated, pulled, copied, transferred or repaired entries and their dependencies, a peer's
 * stable-time report: its own wall clock plus a bound ({@code CLOCK_AHEAD_MS_MAX}, a day by
 * default). Counters follow the wall clocks of the nodes (a tick is {@code max(counter + 1,
 * nowMs)}), so an honest node's counters are ahead of another's clock by no more than their
 * clocks differ; a counter a day ahead is a forgery or a broken clock, and accepting it would pin
 * its key (no later write could win) or walk the Lamport clock towards overflow.
 *
 * <p>The bound is relative to the wall clock only, never to the Lamport clock: a bound of
 * "highest counter seen plus a day" would let a sender ratchet the clock forward a day per
 * message. The sum saturates at {@link Long#MAX_VALUE} (a bound past the end of time admits
 * everything up to it, it does not wrap to refuse everything).
 *
 * <p>Pure; thread-safe.
 */
public final class CounterBound {
  /** The default of {@code CLOCK_AHEAD_MS_MAX}: a day. */
  public static final long AHEAD_MS_MAX_DEFAULT = 24L * 3600 * 1000;

  private CounterBound() {}

  /** The largest counter accepted at {@code nowMs}: {@code nowMs + aheadMs}, saturating. */
  public static long limit(long nowMs, long aheadMs) {
    checkArgument(aheadMs >= 0, "aheadMs must be >= 0, got %s", aheadMs);
    long sum = nowMs + aheadMs;
    return ((nowMs ^ sum) & (aheadMs ^ sum)) < 0 ? Long.MAX_VALUE : sum;
  }

  /** Whether {@code e}'s version and every dependency it carries are at or below {@code limit}. */
  public static boolean admits(Entry e, long limit) {
    return e.version().counter() <= limit && e.deps().maxCounter() <= limit;
  }

  /** The first of {@code entries} that {@link #admits} refuses, if any. */
  public static Optional<Entry> firstBeyond(Iterable<Entry> entries, long limit) {
    for (Entry e : entries) {
      if (!admits(e, limit)) {
        return Optional.of(e);
      }
    }
    return Optional.empty();
  }
}
