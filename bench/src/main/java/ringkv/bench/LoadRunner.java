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
 * The load generator: {@code connections} closed-loop slots, each with its own causal
 * {@link Session} and seeded random generator, each issuing its next operation through the
 * client library as soon as the previous one answered. The same generator drives RingKV and the
 * ceiling server.
 *
 * <p>Latency is measured per operation from the call to the client until its future completes
 * (client retries included), in microseconds, in HdrHistogram {@link Recorder}s (3 significant
 * digits). A closed loop measures service time as the clients see it; it does not correct for
 * coordinated omission. Failed operations are counted by status and not put in the histograms.
 * An operation belongs to the phase it started in.
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
  private static final int SIGNIFICANT_DIGITS = 3;

  /** What one phase measured. Immutable once returned. */
  record PhaseResult(String name, long ops, double seconds, Histogram all, Histogram reads,
      Histogram updates, Map<String, Long> errors, long notFound) {
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

  /** One closed-loop client: its session and its randomness; one operation at a time. */
  private static final class Slot {
    final Session session = new Session();
    final SplittableRandom random;

    Slot(SplittableRandom random) {
      this.random = random;
    }
  }

  /** Counters of one phase. */
  private static final class Phase {
    final String name;
    final Recorder all = new Recorder(SIGNIFICANT_DIGITS);
    final Recorder reads = new Recorder(SIGNIFICANT_DIGITS);
    final Recorder updates = new Recorder(SIGNIFICANT_DIGITS);
    final LongAdder ops = new LongAdder();
    final LongAdder notFound = new LongAdder();
    final Map<String, LongAdder> errors = new ConcurrentHashMap<>();
    final long startNanos = System.nanoTime();

    Phase(String name) {
      this.name = name;
    }

    void record(boolean read, long nanos, Object result, Throwable failure) {
      if (result instanceof GetResult g && !g.found()) {
        notFound.increment();
      }
      if (failure != null) {
        errors.computeIfAbsent(label(failure), k -> new LongAdder()).increment();
        return;
      }
      long micros = Math.max(1, nanos / 1_000);
      all.recordValue(micros);
      (read ? reads : updates).recordValue(micros);
      ops.increment();
    }

    long errorCount() {
      return errors.values().stream().mapToLong(LongAdder::sum).sum();
    }

    PhaseResult result(long endNanos) {
      Map<String, Long> e = new TreeMap<>();
      errors.forEach((k, v) -> e.put(k, v.sum()));
      return new PhaseResult(name, ops.sum(), (endNanos - startNanos) / 1e9,
          all.getIntervalHistogram(), reads.getIntervalHistogram(),
          updates.getIntervalHistogram(), Map.copyOf(e), notFound.sum());
    }
  }

  private final RingKvClient client;
  private final BenchOptions options;
  private final String label;
  private final PrintStream out;
  private final List<String> values;
  private final SplittableRandom seeds;
  private volatile Phase current;

  LoadRunner(RingKvClient client, BenchOptions options, String label, PrintStream out) {
    this.client = client;
    this.options = options;
    this.label = label;
    this.out = out;
    this.seeds = new SplittableRandom(options.seed());
    this.values = values(options.valueSize(), seeds.split());
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
      return n >= options.records() ? null : new Op(false, BenchOptions.key(n), value(slot));
    };
    Phase phase = new Phase("load");
    current = phase;
    CountDownLatch done = startSlots(source);
    Progress progress = new Progress();
    try {
      awaitQuietly(done, Long.MAX_VALUE);
    } finally {
      progress.close();
    }
    return phase.result(System.nanoTime());
  }

  /** Warm-up, then the measured phase; returns the measured phase. */
  PhaseResult run() {
    KeyChooser keys = options.zipfian() ? KeyChooser.zipfian(options.records())
        : KeyChooser.uniform(options.records());
    Workload workload = options.workload();
    OpSource source = slot -> {
      if (current == null) {
        return null;
      }
      String key = BenchOptions.key(keys.next(slot.random));
      boolean read = workload.isRead(slot.random.nextDouble());
      return new Op(read, key, read ? null : value(slot));
    };
    Phase measure;
    Progress progress = new Progress();
    try {
      if (options.warmupMs() > 0) {
        current = new Phase("warmup");
      } else {
        current = new Phase("measure");
      }
      CountDownLatch done = startSlots(source);
      if (options.warmupMs() > 0) {
        awaitQuietly(done, options.warmupMs());
        current = new Phase("measure");
      }
      measure = current;
      awaitQuietly(done, options.durationMs());
      current = null; // slots stop after their operation in flight
      awaitQuietly(done, Long.MAX_VALUE);
    } finally {
      progress.close();
    }
    return measure.result(System.nanoTime());
  }

  private String value(Slot slot) {
    return values.get(slot.random.nextInt(values.size()));
  }

  private CountDownLatch startSlots(OpSource source) {
    CountDownLatch done = new CountDownLatch(options.connections());
    List<Slot> slots = new ArrayList<>();
    for (int i = 0; i < options.connections(); i++) {
      slots.add(new Slot(seeds.split()));
    }
    slots.forEach(s -> loop(s, source, done));
    return done;
  }

  /**
   * Issues the slot's operations one after the other until its source is exhausted. The next
   * operation starts from the completion of the previous one; operations that complete at
   * once loop here instead of recursing.
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
      CompletableFuture<?> future;
      try {
        future = op.read() ? client.get(slot.session, op.key())
            : client.putJson(slot.session, op.key(), op.valueJson());
      } catch (RuntimeException e) {
        future = CompletableFuture.failedFuture(e);
      }
      if (!future.isDone()) {
        future.whenComplete((r, e) -> {
          phase.record(op.read(), System.nanoTime() - start, r, e);
          loop(slot, source, done);
        });
        return;
      }
      long nanos = System.nanoTime() - start;
      Throwable failure = future.handle((r, e) -> e).join();
      phase.record(op.read(), nanos, failure == null ? future.join() : null, failure);
    }
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
    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(
        r -> {
          Thread t = new Thread(r, "bench-progress");
          t.setDaemon(true);
          return t;
        });
    private Phase lastPhase;
    private long lastOps;
    private long lastNanos = System.nanoTime();

    Progress() {
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
      out.printf("[%s] %-7s %4ds %9.0f ops/s  errors %d%n", label, phase.name,
          Math.round((now - phase.startNanos) / 1e9), rate, phase.errorCount());
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
