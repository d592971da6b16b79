package ringkv.gossip;

import static com.google.common.base.Preconditions.checkArgument;

/**
 * A Lamport clock whose ticks never fall below the caller's physical time in milliseconds.
 *
 * <p>Plain Lamport counters restart at zero when a node restarts without its data; a write it then
 * makes could get a version older than one it made before the crash and silently lose under last
 * writer wins. Taking {@code max(counter + 1, nowMs)} (as hybrid logical clocks do) keeps every
 * Lamport property — a tick is above everything observed — while a restarted node starts above
 * anything it wrote before (its wall clock has moved on). Time is passed in, never read here.
 *
 * <p>Not thread-safe; confine to one event loop.
 */
public final class LamportClock {
  private long counter;

  public LamportClock() {
    this(0);
  }

  public LamportClock(long start) {
    checkArgument(start >= 0, "start must be >= 0");
    this.counter = start;
  }

  /** The highest counter issued or observed so far. */
  public long current() {
    return counter;
  }

  /**
   * Advances the clock for a new local event and returns the version naming it. Overflow is
   * checked, not saturated (a saturated clock would name two writes alike): every counter that
   * reaches a clock passes {@link CounterBound} first, so the check fires only on a bug.
   */
  public Version tick(String node, long nowMs) {
    counter = Math.max(Math.addExact(counter, 1), nowMs);
    return new Version(counter, node);
  }

  /** Merges a counter seen in a message, a stored version or a client's context. */
  public void observe(long seen) {
    if (seen > counter) {
      counter = seen;
    }
  }

  @Override
  public String toString() {
    return "LamportClock{" + counter + "}";
  }
}
