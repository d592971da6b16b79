package ringkv.bench;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.HdrHistogram.Histogram;
import ringkv.client.RingKvClient;
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
 * in microseconds, in HdrHistogram recorders (3 significant digits; {@link LoadPhase}): in the
 * closed loop from the call to the client (service time, no correction for coordinated
 * omission), in the open loop from the operation's due time (coordinated omission corrected;
 * the service time, from the call, is kept apart). Failed operations are counted by status and
 * not put in the histograms. An operation belongs to the phase it started in. Keys and values
 * are built before the run ({@link LoadData}); {@link ProgressPrinter} prints a line a second.
 *
 * <p>Thread-safe where it must be: slots complete on the client's threads and record into
 * wait-free recorders and adders; the phase is switched by the calling thread through a
 * volatile field. One runner drives one target at a time.
 */
final class LoadRunner {
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

  private final RingKvClient client;
  private final BenchOptions options;
  private final String label;
  private final PrintStream out;
  private final LoadData data;
  private final SplittableRandom seeds;
  private volatile LoadPhase current;
  /** The phase that ended last; written before {@link #current} becomes null. */
  private volatile LoadPhase ended;
  /** Paces open-loop slots; null while no open loop runs. */
  private volatile ScheduledExecutorService pacer;

  LoadRunner(RingKvClient client, BenchOptions options, String label, PrintStream out) {
    this.client = client;
    this.options = options;
    this.label = label;
    this.out = out;
    this.seeds = new SplittableRandom(options.seed());
    this.data = new LoadData(options.records(), options.valueSize(), seeds.split());
  }

  /** Inserts every record once (records split among the slots); not part of the measure. */
  PhaseResult load() {
    AtomicLong nextRecord = new AtomicLong();
    OpSource source = slot -> {
      long n = nextRecord.getAndIncrement();
      return n >= options.records() ? null : new Op(false, data.key(n), value(slot));
    };
    LoadPhase phase = new LoadPhase("load", 0);
    current = phase;
    CountDownLatch done = startSlots(source, null);
    ProgressPrinter progress =
        new ProgressPrinter(() -> current, out, label, MeasureWindow.NONE);
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
      String key = data.key(keys.next(slot.random));
      boolean read = workload.isRead(slot.random.nextDouble());
      return new Op(read, key, read ? null : value(slot));
    };
    LoadPhase measure;
    boolean windowOpen = false;
    ended = null;
    ProgressPrinter progress = new ProgressPrinter(() -> current, out, label, window);
    if (rateOpsPerSec > 0) {
      pacer = daemonTimer("bench-pacer");
    }
    try {
      boolean warmup = options.warmupMs() > 0;
      current = new LoadPhase(warmup ? "warmup" : "measure", rateOpsPerSec);
      if (!warmup) {
        window.open();
        windowOpen = true;
      }
      RateSchedule schedule = rateOpsPerSec > 0
          ? RateSchedule.of(rateOpsPerSec, System.nanoTime()) : null;
      CountDownLatch done = startSlots(source, schedule);
      if (warmup) {
        awaitQuietly(done, options.warmupMs());
        current = new LoadPhase("measure", rateOpsPerSec);
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
        measure.schedule.missed.add(schedule.missedBefore(measure.endNanos));
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
    return data.value(slot.random);
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
      LoadPhase phase = current;
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
    LoadPhase phase = current;
    Op op = phase == null ? null : source.next(slot);
    if (op == null) {
      LoadPhase last = ended;
      if (last != null && ticket.dueNanos() - last.endNanos < 0) {
        last.schedule.missed.increment();
      }
      done.countDown();
      return false;
    }
    phase.schedule.issued(ticket);
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

  static ScheduledExecutorService daemonTimer(String name) {
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
}
