package ringkv.bench;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;
import ringkv.client.GetResult;
import ringkv.client.RingKvClient;
import ringkv.client.RingKvException;
import ringkv.client.Session;

/**
 * The load generator: {@code connections} slots, each with its own causal {@link Session} and
 * seeded random generator, each with at most one operation outstanding through the client
 * library. The same generator drives RingKV and the ceiling server.
 *
 * <p>Two ways to pace: a <b>closed loop</b> (rate 0) issues a slot's next operation as soon as
 * the previous one answered, which finds the maximum throughput; an <b>open loop</b>
 * ({@code --rate}) issues operations on one fixed schedule ({@link RateSchedule}) shared by
 * the slots (a ready slot takes the next operation and waits for its due time), and counts
 * operations issued late (every slot was busy when they were due) and missed (due before the
 * end, never issued).
 *
 * <p>Latency is measured per operation until its future completes (client retries included),
 * in microseconds, in HdrHistogram {@link Recorder}s (3 significant digits): in the closed loop
 * from the call to the client (service time, no correction for coordinated omission), in the
 * open loop from the operation's due time (coordinated omission corrected; the service time,
 * from the call, is kept apart). Failed operations are counted by status and not put in the
 * histograms. An operation belongs to the phase it started in.
 *
 * <p>Thread-safe where it must be: slots complete on the client's threads and record into
 * wait-free recorders and adders; the phase is switched by the calling thread through a
 * volatile field. One runner drives one target at a time.
 */
final class LoadRunner {
  /** Progress lines are printed this often. */
  static final long PROGRESS_INTERVAL_MS = 1_000;
  /** Distinct values written, pre-generated so that writing costs no string building. */
  static final int VALUES = 64;
  /**
   * Key names are built once when there are at most this many records (5 MB of strings), so
   * that the measured phase spends no CPU on them; beyond, each operation builds its own.
   */
  static final long KEY_NAMES_CACHED_MAX = 100_000;
  private static final int SIGNIFICANT_DIGITS = 3;

  /**
   * What one open-loop phase did with its schedule: its target rate, the operations it issued,
   * how many of them late, the latest one (ms after its due time), and the operations due
   * before its end that were never issued.
   */
  record RateStats(double targetOpsPerSec, long issued, long late, double lateMsMax,
      long missed) {
    double lateFraction() {
      return issued == 0 ? 0 : late / (double) issued;
    }
  }

  /**
   * What one phase measured. Immutable once returned. {@code all}, {@code reads} and
   * {@code updates} hold latencies (from the due time in an open loop), {@code service} the
   * time from the call to the client to its answer; {@code rate} is null for a closed loop.
   */
  record PhaseResult(String name, long ops, double seconds, Histogram all, Histogram reads,
      Histogram updates, Map<String, Long> errors, long notFound, Histogram service,
      RateStats rate) {
    double throughput() {
      return seconds <= 0 ? 0 : ops / seconds;
    }

    long errorCount() {
      return errors.values().stream().mapToLong(Long::longValue).sum();
    }
  }

  /** One operation to issue. */
  private record Op(boolean read, String key, String valueJson) {}

  /** Where the next operation comes from; null means this slot is done. */
  private interface OpSource {
    Op next(Slot slot);
  }

  /**
   * Hooks around the measured phase (the lag probe runs inside it). {@code open} is called when
   * the measured phase starts, {@code close} when it ends, from the runner's calling thread;
   * {@code progress} is appended to the progress lines, from the progress thread.
   */
  interface MeasureWindow {
    MeasureWindow NONE = new MeasureWindow() {
      @Override
      public void open() {}

      @Override
      public void close() {}
    };

    void open();

    void close();

    default String progress() {
      return "";
    }
  }

  /** One load client: its session and its randomness; one operation at a time. */
  private static final class Slot {
    final Session session = new Session();
    final SplittableRandom random;

    Slot(SplittableRandom random) {
      this.random = random;
    }
  }

  /**
   * Counters of one phase: written by the slots (any thread) through wait-free recorders and
   * adders, read once by {@link #result}.
   */
  static final class Phase {
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
    final LongAdder issued = new LongAdder();
    final LongAdder late = new LongAdder();
    final LongAdder missed = new LongAdder();
    final AtomicLong lateNanosMax = new AtomicLong();
    final Map<String, LongAdder> errors = new ConcurrentHashMap<>();
    final long startNanos = System.nanoTime();
    /** When the phase was ended (set before the slots are told to stop). */
    volatile long endNanos = Long.MAX_VALUE;

    /** A phase; {@code rate} is its open-loop target in ops/s, or 0 for a closed loop. */
    Phase(String name, double rate) {
      this.name = name;
      this.rate = rate;
    }

    /** An open-loop operation was issued with this ticket. */
    void issued(RateSchedule.Ticket ticket) {
      issued.increment();
      if (ticket.late()) {
        late.increment();
        lateNanosMax.accumulateAndGet(ticket.lateNanos(), Math::max);
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
      RateStats rateStats = rate <= 0 ? null : new RateStats(rate, issued.sum(), late.sum(),
          lateNanosMax.get() / 1e6, missed.sum());
      Histogram readHistogram = reads.getIntervalHistogram();
      Histogram updateHistogram = updates.getIntervalHistogram();
      Histogram all = readHistogram.copy();
      all.add(updateHistogram);
      return new PhaseResult(name, ops.sum(), (endNanos - startNanos) / 1e9, all,
          readHistogram, updateHistogram, Map.copyOf(e), notFound.sum(),
          rate > 0 ? service.getIntervalHistogram() : all, rateStats);
    }
  }

  private final RingKvClient client;
  private final BenchOptions options;
  private final String label;
  private final PrintStream out;
  private final List<String> values;
  /** {@code user0} ... for the records, or null when there are too many to keep. */
  private final String[] keyNames;
  private final SplittableRandom seeds;
  private volatile Phase current;
  /** The phase that ended last; written before {@link #current} becomes null. */
  private volatile Phase ended;
  /** Paces open-loop slots; null while no open loop runs. */
  private volatile ScheduledExecutorService pacer;

  LoadRunner(RingKvClient client, BenchOptions options, String label, PrintStream out) {
    this.client = client;
    this.options = options;
    this.label = label;
    this.out = out;
    this.seeds = new SplittableRandom(options.seed());
    this.values = values(options.valueSize(), seeds.split());
    this.keyNames = options.records() > KEY_NAMES_CACHED_MAX ? null
        : java.util.stream.LongStream.range(0, options.records()).mapToObj(BenchOptions::key)
            .toArray(String[]::new);
  }

  private String key(long record) {
    return keyNames != null ? keyNames[(int) record] : BenchOptions.key(record);
  }

  private static List<String> values(int size, SplittableRandom random) {
    String alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    List<String> out = new ArrayList<>(VALUES);
    for (int v = 0; v < VALUES; v++) {
      StringBuilder b = new StringBuilder(size + 2).append('"');
      for (int i = 0; i < size; i++) {
        b.append(alphabet.charAt(random.nextInt(alphabet.length())));
      }
      out.add(b.append('"').toString());
    }
    return List.copyOf(out);
  }

  static String label(Throwable failure) {
    Throwable t = failure;
    while (t instanceof CompletionException && t.getCause() != null) {
      t = t.getCause();
    }
    return t instanceof RingKvException e ? e.label() : t.getClass().getSimpleName();
  }

  /** Inserts every record once (records split among the slots); not part of the measure. */
  PhaseResult load() {
    AtomicLong nextRecord = new AtomicLong();
    OpSource source = slot -> {
      long n = nextRecord.getAndIncrement();
      return n >= options.records() ? null : new Op(false, key(n), value(slot));
    };
    Phase phase = new Phase("load", 0);
    current = phase;
    CountDownLatch done = startSlots(source, null);
    Progress progress = new Progress(MeasureWindow.NONE);
    try {
      awaitQuietly(done, Long.MAX_VALUE);
    } finally {
      progress.close();
    }
    return phase.result(System.nanoTime());
  }

  /** Warm-up, then the measured phase, at {@code --rate} (closed loop without it). */
  PhaseResult run() {
    return run(options.rate(), MeasureWindow.NONE);
  }

  /**
   * Warm-up, then the measured phase; returns the measured phase.
   *
   * @param rateOpsPerSec total open-loop rate, or 0 for a closed loop
   * @param window opened and closed around the measured phase
   */
  PhaseResult run(double rateOpsPerSec, MeasureWindow window) {
    KeyChooser keys = options.zipfian() ? KeyChooser.zipfian(options.records())
        : KeyChooser.uniform(options.records());
    Workload workload = options.workload();
    OpSource source = slot -> {
      if (current == null) {
        return null;
      }
      String key = key(keys.next(slot.random));
      boolean read = workload.isRead(slot.random.nextDouble());
      return new Op(read, key, read ? null : value(slot));
    };
    Phase measure;
    boolean windowOpen = false;
    ended = null;
    Progress progress = new Progress(window);
    if (rateOpsPerSec > 0) {
      pacer = daemonTimer("bench-pacer");
    }
    try {
      boolean warmup = options.warmupMs() > 0;
      current = new Phase(warmup ? "warmup" : "measure", rateOpsPerSec);
      if (!warmup) {
        window.open();
        windowOpen = true;
      }
      RateSchedule schedule = rateOpsPerSec > 0
          ? RateSchedule.of(rateOpsPerSec, System.nanoTime()) : null;
      CountDownLatch done = startSlots(source, schedule);
      if (warmup) {
        awaitQuietly(done, options.warmupMs());
        current = new Phase("measure", rateOpsPerSec);
        window.open();
        windowOpen = true;
      }
      measure = current;
      awaitQuietly(done, options.durationMs());
      measure.endNanos = System.nanoTime();
      ended = measure;
      current = null; // slots stop after their operation in flight
      windowOpen = false;
      window.close();
      awaitQuietly(done, Long.MAX_VALUE);
      if (schedule != null) {
        measure.missed.add(schedule.missedBefore(measure.endNanos));
      }
    } finally {
      progress.close();
      if (windowOpen) {
        window.close();
      }
      if (pacer != null) {
        pacer.shutdownNow();
        pacer = null;
      }
    }
    return measure.result(System.nanoTime());
  }

  private String value(Slot slot) {
    return values.get(slot.random.nextInt(values.size()));
  }

  /** Starts the slots: closed loops, or open loops on {@code schedule} when there is one. */
  private CountDownLatch startSlots(OpSource source, RateSchedule schedule) {
    int n = options.connections();
    CountDownLatch done = new CountDownLatch(n);
    List<Slot> slots = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      slots.add(new Slot(seeds.split()));
    }
    for (Slot s : slots) {
      if (schedule == null) {
        loop(s, source, done);
      } else {
        paced(s, source, done, schedule);
      }
    }
    return done;
  }

  private CompletableFuture<?> send(Slot slot, Op op) {
    try {
      return op.read() ? client.get(slot.session, op.key())
          : client.putJson(slot.session, op.key(), op.valueJson());
    } catch (RuntimeException e) {
      return CompletableFuture.failedFuture(e);
    }
  }

  /**
   * Closed loop: issues the slot's operations one after the other until its source is
   * exhausted. The next operation starts from the completion of the previous one; operations
   * that complete at once loop here instead of recursing.
   */
  private void loop(Slot slot, OpSource source, CountDownLatch done) {
    while (true) {
      Phase phase = current;
      Op op = phase == null ? null : source.next(slot);
      if (op == null) {
        done.countDown();
        return;
      }
      long start = System.nanoTime();
      CompletableFuture<?> future = send(slot, op);
      if (!future.isDone()) {
        future.whenComplete((r, e) -> {
          long nanos = System.nanoTime() - start;
          phase.record(op.read(), nanos, nanos, r, e);
          loop(slot, source, done);
        });
        return;
      }
      long nanos = System.nanoTime() - start;
      Throwable failure = future.handle((r, e) -> e).join();
      phase.record(op.read(), nanos, nanos, failure == null ? future.join() : null, failure);
    }
  }

  /**
   * Open loop: the slot is ready (its previous operation answered, or it just started). It takes
   * the schedule's next operation and waits on the pacer for its due time, or issues it at once
   * when that time has passed (late). Operations that complete at once loop here instead of
   * recursing.
   */
  private void paced(Slot slot, OpSource source, CountDownLatch done, RateSchedule schedule) {
    while (true) {
      if (current == null) {
        done.countDown();
        return;
      }
      long ready = System.nanoTime();
      RateSchedule.Ticket ticket = schedule.take(ready);
      long waitNanos = RateSchedule.waitNanos(ticket, ready);
      if (waitNanos > 0) {
        ScheduledExecutorService timer = pacer;
        try {
          if (timer == null) {
            throw new RejectedExecutionException("no pacer");
          }
          timer.schedule(() -> {
            if (issuePaced(slot, source, done, schedule, ticket)) {
              paced(slot, source, done, schedule);
            }
          }, waitNanos, TimeUnit.NANOSECONDS);
        } catch (RejectedExecutionException e) {
          done.countDown(); // the run is over
        }
        return;
      }
      if (!issuePaced(slot, source, done, schedule, ticket)) {
        return;
      }
    }
  }

  /**
   * Issues the slot's scheduled operation; returns true when it completed at once (the caller
   * continues the slot), false when the slot stopped or continues on completion. A slot that
   * finds the run over drops its ticket, missed if it was due before the end.
   */
  private boolean issuePaced(Slot slot, OpSource source, CountDownLatch done,
      RateSchedule schedule, RateSchedule.Ticket ticket) {
    Phase phase = current;
    Op op = phase == null ? null : source.next(slot);
    if (op == null) {
      Phase last = ended;
      if (last != null && ticket.dueNanos() - last.endNanos < 0) {
        last.missed.increment();
      }
      done.countDown();
      return false;
    }
    phase.issued(ticket);
    long sent = System.nanoTime();
    CompletableFuture<?> future = send(slot, op);
    if (!future.isDone()) {
      future.whenComplete((r, e) -> {
        long now = System.nanoTime();
        phase.record(op.read(), now - ticket.dueNanos(), now - sent, r, e);
        paced(slot, source, done, schedule);
      });
      return false;
    }
    long now = System.nanoTime();
    Throwable failure = future.handle((r, e) -> e).join();
    phase.record(op.read(), now - ticket.dueNanos(), now - sent,
        failure == null ? future.join() : null, failure);
    return true;
  }

  private static ScheduledExecutorService daemonTimer(String name) {
    return Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, name);
      t.setDaemon(true);
      return t;
    });
  }

  private static void awaitQuietly(CountDownLatch done, long ms) {
    try {
      if (ms == Long.MAX_VALUE) {
        done.await();
      } else {
        done.await(ms, TimeUnit.MILLISECONDS);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    }
  }

  /** Prints one progress line per second while open. */
  private final class Progress implements AutoCloseable {
    private final ScheduledExecutorService timer = daemonTimer("bench-progress");
    private final MeasureWindow window;
    private Phase lastPhase;
    private long lastOps;
    private long lastNanos = System.nanoTime();

    Progress(MeasureWindow window) {
      this.window = window;
      timer.scheduleAtFixedRate(this::print, PROGRESS_INTERVAL_MS, PROGRESS_INTERVAL_MS,
          TimeUnit.MILLISECONDS);
    }

    private void print() {
      Phase phase = current;
      if (phase == null) {
        return;
      }
      long now = System.nanoTime();
      long ops = phase.ops.sum();
      long delta = phase == lastPhase ? ops - lastOps : ops;
      long sinceNanos = phase == lastPhase ? now - lastNanos : now - phase.startNanos;
      double rate = sinceNanos <= 0 ? 0 : delta * 1e9 / sinceNanos;
      String late = phase.rate > 0 ? "  late " + phase.late.sum() : "";
      String extra = phase.name.equals("measure") ? window.progress() : "";
      out.printf("[%s] %-7s %4ds %9.0f ops/s  errors %d%s%s%n", label, phase.name,
          Math.round((now - phase.startNanos) / 1e9), rate, phase.errorCount(), late,
          extra.isEmpty() ? "" : "  " + extra);
      lastPhase = phase;
      lastOps = ops;
      lastNanos = now;
    }

    @Override
    public void close() {
      timer.shutdownNow();
    }
  }
}
