package ringkv.node.metrics;

/**
 * When this node's Lamport clock passed which counter: samples {@code (counter, timeMs)} taken
 * as the replication driver runs, so the age of a queued write can be told from its counter
 * alone (a write carries no time, and the hybrid clock's counters run ahead of the wall clock
 * under load, so a counter is no timestamp).
 *
 * <p>A sample {@code (C, t)} says every write with a counter at or below {@code C} was made at
 * or before {@code t}; so the age of a write with counter {@code c} is at least
 * {@code now - t} for the first sample with {@code C >= c}. That lower bound is what
 * {@link #ageMs} reports; it is exact to one turn of the event loop while samples are dense.
 * At most {@link #SAMPLES_MAX} samples are kept: when full, every second one is dropped (the
 * first kept), so old ages lose precision rather than being forgotten, and the bound holds.
 *
 * <p>Pure: no clock, no I/O. Not thread-safe; confine to the node's event loop.
 */
final class CounterTimeline {
  static final int SAMPLES_MAX = 4096;

  private final long[] counters = new long[SAMPLES_MAX];
  private final long[] timesMs = new long[SAMPLES_MAX];
  private int size;

  /** The clock read {@code counter} at {@code nowMs}; ignored unless the counter moved. */
  void sample(long counter, long nowMs) {
    if (size > 0 && counter <= counters[size - 1]) {
      return;
    }
    if (size == SAMPLES_MAX) {
      thin();
    }
    counters[size] = counter;
    timesMs[size] = nowMs;
    size++;
  }

  /** Drops samples no write at or above {@code oldest} needs (all of them when none waits). */
  void forgetBelow(long oldest) {
    int first = firstAtLeast(oldest);
    if (first == 0) {
      return;
    }
    System.arraycopy(counters, first, counters, 0, size - first);
    System.arraycopy(timesMs, first, timesMs, 0, size - first);
    size -= first;
  }

  void clear() {
    size = 0;
  }

  /**
   * How long ago, at least, the write with counter {@code counter} was made: 0 when no sample
   * has reached it yet (it is younger than the last sample).
   */
  long ageMs(long counter, long nowMs) {
    int i = firstAtLeast(counter);
    return i == size ? 0 : Math.max(0, nowMs - timesMs[i]);
  }

  int size() {
    return size;
  }

  /** Index of the first sample with a counter at or above {@code counter} ({@code size}: none). */
  private int firstAtLeast(long counter) {
    int lo = 0;
    int hi = size;
    while (lo < hi) {
      int mid = (lo + hi) >>> 1;
      if (counters[mid] < counter) {
        lo = mid + 1;
      } else {
        hi = mid;
      }
    }
    return lo;
  }

  /** Keeps samples 0, 2, 4, …: half the samples, the oldest kept. */
  private void thin() {
    int kept = 0;
    for (int i = 0; i < size; i += 2) {
      counters[kept] = counters[i];
      timesMs[kept] = timesMs[i];
      kept++;
    }
    size = kept;
  }
}
