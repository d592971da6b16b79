package ringkv.gossip;

import static com.google.common.base.Preconditions.checkArgument;

import java.util.ArrayList;
import java.util.List;

/**
 * The highest Lamport counter a replica already knew of at least {@code settleMs} ago: the
 * horizon below which anti-entropy compares entries ({@link RepairScope}). A write above it may
 * have been made (or learned) too recently to have reached every replica through the replication
 * queues, which deliver it anyway; leaving it out keeps digests of a busy shard equal and keeps
 * a round from "repairing" what is merely in transit.
 *
 * <p>Why samples of the clock rather than {@code nowMs - settleMs}: counters are hybrid clocks
 * ({@code max(counter + 1, nowMs)}), so a node taking more than one write per millisecond runs
 * ahead of wall time (100,000 writes in 86 s put one 14 s ahead). A wall-time horizon would then
 * hold back the last writes until wall time catches up; a sampled horizon releases them
 * {@code settleMs} after they became known, however fast the counters ran.
 *
 * <p>Memory is bounded, at most {@code 2 * }{@value #SAMPLES_PER_SETTLE}{@code  + 3} samples: a
 * sample closer than {@code settleMs / }{@value #SAMPLES_PER_SETTLE} to the one before the newest
 * replaces the newest (so a counter is released at most that much later), and samples older than
 * the newest one that is old enough are dropped.
 *
 * <p>Not thread-safe; confine to one thread. Time is passed in.
 */
public final class SettleHorizon {
  /** Samples two apart are at least {@code settleMs / SAMPLES_PER_SETTLE} apart in time. */
  public static final int SAMPLES_PER_SETTLE = 16;

  private record Sample(long atMs, long counter) {}

  private final long settleMs;
  private final List<Sample> samples = new ArrayList<>();

  public SettleHorizon(long settleMs) {
    checkArgument(settleMs > 0, "settleMs must be > 0, got %s", settleMs);
    this.settleMs = settleMs;
  }

  /** Records that the replica's clock reads {@code counter} at {@code nowMs}. */
  public void sample(long nowMs, long counter) {
    int n = samples.size();
    if (n > 0) {
      Sample last = samples.get(n - 1);
      checkArgument(counter >= last.counter(), "a Lamport clock never goes back: %s after %s",
          counter, last.counter());
      long at = Math.max(nowMs, last.atMs()); // a wall clock stepping back never helps a counter
      if (n >= 2 && at - samples.get(n - 2).atMs() < gap()) {
        samples.set(n - 1, new Sample(at, counter)); // too dense: the newest sample replaces it
        return;
      }
      nowMs = at;
    }
    samples.add(new Sample(nowMs, counter));
    trim(nowMs);
  }

  private long gap() {
    return (settleMs + SAMPLES_PER_SETTLE - 1) / SAMPLES_PER_SETTLE; // rounded up
  }

  /** The highest counter sampled at least {@code settleMs} before {@code nowMs}; 0 if none. */
  public long horizon(long nowMs) {
    trim(nowMs);
    if (samples.isEmpty() || nowMs - samples.get(0).atMs() < settleMs) {
      return 0;
    }
    return samples.get(0).counter();
  }

  /** Keeps the newest old-enough sample first, dropping the older ones. */
  private void trim(long nowMs) {
    int oldEnough = 0;
    while (oldEnough + 1 < samples.size()
        && nowMs - samples.get(oldEnough + 1).atMs() >= settleMs) {
      oldEnough++;
    }
    samples.subList(0, oldEnough).clear();
  }

  /** Samples held (for tests of the bound). */
  int size() {
    return samples.size();
  }

  @Override
  public String toString() {
    return "SettleHorizon{settleMs=" + settleMs + " samples=" + samples + "}";
  }
}
