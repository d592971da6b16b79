package ringkv.bench;

/**
 * The fixed schedule of one open-loop load slot ({@code --rate}): operation {@code k} is due at
 * {@code firstNanos + k * intervalNanos}, whatever happened to the operations before it. The
 * slots of a run share the rate evenly and are staggered by {@code 1 / rate}, so together they
 * issue one operation every {@code 1 / rate} seconds.
 *
 * <p>A slot has at most one operation outstanding. When its previous operation answers, the slot
 * is <em>ready</em>: if the next operation is not due yet it waits for the due time (on time);
 * if the due time has passed, it issues at once and the operation is <em>late</em> (the target
 * did not keep up). Either way the operation's latency is measured from its due time, so the
 * time it spent waiting for the slot counts (coordinated omission is corrected). Operations
 * whose due time falls before the end of the phase but that were never issued are
 * <em>missed</em>.
 *
 * <p>Pure: times come in as {@code System.nanoTime()} values. Not thread-safe; a slot's calls
 * happen one after the other (each one after the previous operation answered).
 */
final class RateSchedule {
  /** What taking one operation gave: when it was due and how late it was issued. */
  record Ticket(long dueNanos, long lateNanos) {
    boolean late() {
      return lateNanos > 0;
    }
  }

  private final long firstNanos;
  private final long intervalNanos;
  private long next;

  RateSchedule(long firstNanos, long intervalNanos) {
    if (intervalNanos < 1) {
      throw new IllegalArgumentException("interval must be >= 1 ns, got " + intervalNanos);
    }
    this.firstNanos = firstNanos;
    this.intervalNanos = intervalNanos;
  }

  /**
   * The schedule of slot {@code slot} of {@code slots} sharing {@code opsPerSecond}, starting at
   * {@code startNanos}: each slot issues every {@code slots / rate} seconds, slot {@code i}
   * offset by {@code i / rate}.
   */
  static RateSchedule forSlot(int slot, int slots, double opsPerSecond, long startNanos) {
    if (slot < 0 || slot >= slots || !(opsPerSecond > 0)) {
      throw new IllegalArgumentException("slot " + slot + " of " + slots + " at "
          + opsPerSecond + " ops/s");
    }
    double gapNanos = 1e9 / opsPerSecond;
    long interval = Math.max(1, Math.round(gapNanos * slots));
    return new RateSchedule(startNanos + Math.round(gapNanos * slot), interval);
  }

  long intervalNanos() {
    return intervalNanos;
  }

  /** Operations taken so far. */
  long taken() {
    return next;
  }

  /** When the next operation is due. */
  long dueNanos() {
    return firstNanos + next * intervalNanos;
  }

  /** How long a slot ready at {@code readyNanos} waits before its next operation; 0 = now. */
  long waitNanos(long readyNanos) {
    return Math.max(0, dueNanos() - readyNanos);
  }

  /**
   * Issues the next operation of a slot that became ready at {@code readyNanos} (the answer of
   * its previous operation, not the moment a wait ended: timer jitter is not lateness).
   */
  Ticket take(long readyNanos) {
    long due = dueNanos();
    next++;
    return new Ticket(due, Math.max(0, readyNanos - due));
  }

  /** Operations due strictly before {@code endNanos} and not taken: missed at a phase's end. */
  long missedBefore(long endNanos) {
    long due = dueNanos();
    if (endNanos <= due) {
      return 0;
    }
    return (endNanos - due + intervalNanos - 1) / intervalNanos;
  }
}
