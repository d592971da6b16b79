package ringkv.bench;

import java.util.concurrent.atomic.AtomicLong;

/**
 * The fixed schedule of an open-loop run ({@code --rate}): operation {@code k} is due at
 * {@code firstNanos + k * intervalNanos}, whatever happened to the operations before it.
 *
 * <p>The load slots share one schedule. A slot with no operation outstanding is <em>ready</em>;
 * it takes the next operation of the schedule at once, and if that operation is not due yet it
 * waits for its due time (on time). If the due time has passed, every slot was busy when it
 * came (the target, with at most {@code connections} operations outstanding, did not keep up):
 * the slot issues it at once and it is <em>late</em>. Either way its latency is measured from
 * its due time, so the time it waited for a slot counts (coordinated omission is corrected).
 * Because slots take operations in order as they become ready, one slow operation delays only
 * its own slot, not the operations after it. Operations due before the end of a phase that were
 * never issued are <em>missed</em>.
 *
 * <p>Pure: times come in as {@code System.nanoTime()} values. Thread-safe: {@link #take} hands
 * each operation to exactly one caller.
 */
final class RateSchedule {
  /** One operation of the schedule: when it was due and how late its slot was ready. */
  record Ticket(long index, long dueNanos, long lateNanos) {
    boolean late() {
      return lateNanos > 0;
    }
  }

  private final long firstNanos;
  private final long intervalNanos;
  private final AtomicLong next = new AtomicLong();

  RateSchedule(long firstNanos, long intervalNanos) {
    if (intervalNanos < 1) {
      throw new IllegalArgumentException("interval must be >= 1 ns, got " + intervalNanos);
    }
    this.firstNanos = firstNanos;
    this.intervalNanos = intervalNanos;
  }

  /** {@code opsPerSecond} evenly spaced operations a second, the first at {@code startNanos}. */
  static RateSchedule of(double opsPerSecond, long startNanos) {
    if (!(opsPerSecond > 0)) {
      throw new IllegalArgumentException("rate must be positive, got " + opsPerSecond);
    }
    return new RateSchedule(startNanos, Math.max(1, Math.round(1e9 / opsPerSecond)));
  }

  long intervalNanos() {
    return intervalNanos;
  }

  /** Operations taken so far. */
  long taken() {
    return next.get();
  }

  /**
   * Takes the next operation for a slot that became ready at {@code readyNanos} (the answer of
   * its previous operation, or its start). The slot waits until the ticket's due time if that
   * is later; a ticket due before {@code readyNanos} is late by the difference.
   */
  Ticket take(long readyNanos) {
    long index = next.getAndIncrement();
    long due = firstNanos + index * intervalNanos;
    return new Ticket(index, due, Math.max(0, readyNanos - due));
  }

  /** How long a slot ready at {@code nowNanos} waits before issuing {@code ticket}; 0 = now. */
  static long waitNanos(Ticket ticket, long nowNanos) {
    return Math.max(0, ticket.dueNanos() - nowNanos);
  }

  /**
   * Operations due strictly before {@code endNanos} that no slot took: missed at the end of a
   * phase, once every slot has stopped.
   */
  long missedBefore(long endNanos) {
    long due = firstNanos + next.get() * intervalNanos;
    if (endNanos <= due) {
      return 0;
    }
    return (endNanos - due + intervalNanos - 1) / intervalNanos;
  }
}
