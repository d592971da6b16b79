package ringkv.gossip.sim;

import static com.google.common.base.Preconditions.checkArgument;

/**
 * Models the passage of time in a simulation: one global clock in milliseconds that only moves
 * when the simulation advances it. Nodes see it through a fixed per-node skew (see
 * {@link SimNode#localMs}), as real wall clocks disagree.
 *
 * <p>Not thread-safe; a simulation runs in one thread.
 */
public final class SimClock {
  private long nowMs;

  public long nowMs() {
    return nowMs;
  }

  public void advance(long ms) {
    checkArgument(ms > 0, "time only moves forward, got %s", ms);
    nowMs += ms;
  }

  @Override
  public String toString() {
    return "SimClock{" + nowMs + "ms}";
  }
}
