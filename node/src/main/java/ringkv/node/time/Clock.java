package ringkv.node.time;

/**
 * The node's one source of time. Every reading of "now" in the node goes through it, so a test
 * can run the node on a clock it moves itself; timers still run on Vert.x.
 *
 * <p>Two readings, for two purposes: {@link #millis()} is the wall clock (it stamps and bounds
 * things other nodes see: Lamport counters, signatures, tokens) and may jump; {@link #nanos()} is
 * monotonic and only means something as the difference of two readings (durations: metrics,
 * pacing, timeouts measured here).
 */
public interface Clock {
  /** Milliseconds since the epoch (wall clock; may jump). */
  long millis();

  /** A monotonic reading in nanoseconds, for durations only: its origin is arbitrary. */
  long nanos();

  /** The machine's clocks: {@link System#currentTimeMillis()} and {@link System#nanoTime()}. */
  Clock SYSTEM = new Clock() {
    @Override
    public long millis() {
      return System.currentTimeMillis();
    }

    @Override
    public long nanos() {
      return System.nanoTime();
    }

    @Override
    public String toString() {
      return "Clock.SYSTEM";
    }
  };
}
