package ringkv.bench;

import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;
import ringkv.bench.LoadRunner.PhaseResult;
import ringkv.bench.LoadRunner.RateStats;
import ringkv.client.GetResult;
import ringkv.client.RingKvException;

/**
 * Counters of one phase of a {@link LoadRunner}: written by the slots (any thread) through
 * wait-free recorders and adders, read once by {@link #result}. Failed operations are counted
 * by status ({@link #label}) and not put in the histograms.
 */
final class LoadPhase {
  private static final int SIGNIFICANT_DIGITS = 3;

  final String name;
  final double rate;
  // One histogram write per operation: "all" is reads plus updates, summed at the end, and
  // in a closed loop the service time is the latency itself. (Three writes per operation
  // were 6% of the load generator's CPU.)
  final Recorder reads = new Recorder(SIGNIFICANT_DIGITS);
  final Recorder updates = new Recorder(SIGNIFICANT_DIGITS);
  final Recorder service = new Recorder(SIGNIFICANT_DIGITS);
  final LongAdder ops = new LongAdder();
  final LongAdder notFound = new LongAdder();
  /** How the open loop kept to its schedule (untouched in a closed loop). */
  final Schedule schedule = new Schedule();
  final Map<String, LongAdder> errors = new ConcurrentHashMap<>();
  final long startNanos = System.nanoTime();
  /** When the phase was ended (set before the slots are told to stop). */
  volatile long endNanos = Long.MAX_VALUE;

  /** A phase; {@code rate} is its open-loop target in ops/s, or 0 for a closed loop. */
  LoadPhase(String name, double rate) {
    this.name = name;
    this.rate = rate;
  }

  /** Counters of an open loop: operations issued, issued late, and due but never issued. */
  static final class Schedule {
    final LongAdder issued = new LongAdder();
    final LongAdder late = new LongAdder();
    final LongAdder missed = new LongAdder();
    final AtomicLong lateNanosMax = new AtomicLong();

    /** An open-loop operation was issued with this ticket. */
    void issued(RateSchedule.Ticket ticket) {
      issued.increment();
      if (ticket.late()) {
        late.increment();
        lateNanosMax.accumulateAndGet(ticket.lateNanos(), Math::max);
      }
    }

    RateStats stats(double rate) {
      return new RateStats(rate, issued.sum(), late.sum(), lateNanosMax.get() / 1e6,
          missed.sum());
    }
  }

  void record(boolean read, long nanos, long serviceNanos, Object result, Throwable failure) {
    if (result instanceof GetResult g && !g.found()) {
      notFound.increment();
    }
    if (failure != null) {
      errors.computeIfAbsent(label(failure), k -> new LongAdder()).increment();
      return;
    }
    long micros = Math.max(1, nanos / 1_000);
    (read ? reads : updates).recordValue(micros);
    if (rate > 0) {
      service.recordValue(Math.max(1, serviceNanos / 1_000));
    }
    ops.increment();
  }

  long errorCount() {
    return errors.values().stream().mapToLong(LongAdder::sum).sum();
  }

  PhaseResult result(long endNanos) {
    Map<String, Long> e = new TreeMap<>();
    errors.forEach((k, v) -> e.put(k, v.sum()));
    RateStats rateStats = rate <= 0 ? null : schedule.stats(rate);
    Histogram readHistogram = reads.getIntervalHistogram();
    Histogram updateHistogram = updates.getIntervalHistogram();
    Histogram all = readHistogram.copy();
    all.add(updateHistogram);
    return new PhaseResult(name, ops.sum(), (endNanos - startNanos) / 1e9, all,
        readHistogram, updateHistogram, Map.copyOf(e), notFound.sum(),
        rate > 0 ? service.getIntervalHistogram() : all, rateStats);
  }

  /** The status a failure is counted under: the client's label, else the exception's class. */
  static String label(Throwable failure) {
    Throwable t = failure;
    while (t instanceof CompletionException && t.getCause() != null) {
      t = t.getCause();
    }
    return t instanceof RingKvException e ? e.label() : t.getClass().getSimpleName();
  }
}
