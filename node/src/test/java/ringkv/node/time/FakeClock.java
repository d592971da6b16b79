package ringkv.node.time;

import java.util.concurrent.atomic.AtomicLong;

/**
 * A {@link Clock} that a test moves by hand: both readings stand still until {@link #advanceMs}
 * or {@link #advanceNanos} moves them (together, so a duration read either way agrees).
 * Thread-safe: the code under test may read it from its own threads.
 */
public final class FakeClock implements Clock {
  private final AtomicLong nanos = new AtomicLong();
  private final long originMs;

  /** A clock that reads {@code originMs} until it is moved. */
  public FakeClock(long originMs) {
    this.originMs = originMs;
  }

  /** The wall clock of the machine, moved by {@code offsetMs}; its monotonic reading is real. */
  public static Clock systemShiftedBy(long offsetMs) {
    return new Clock() {
      @Override
      public long millis() {
        return Clock.SYSTEM.millis() + offsetMs;
      }

      @Override
      public long nanos() {
        return Clock.SYSTEM.nanos();
      }
    };
  }

  @Override
  public long millis() {
    return originMs + nanos.get() / 1_000_000L;
  }

  @Override
  public long nanos() {
    return nanos.get();
  }

  public void advanceMs(long ms) {
    advanceNanos(ms * 1_000_000L);
  }

  public void advanceNanos(long delta) {
    if (delta < 0) {
      throw new IllegalArgumentException("a clock does not go back: " + delta);
    }
    nanos.addAndGet(delta);
  }
}
