package ringkv.bench;

import java.io.PrintStream;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import ringkv.bench.LoadRunner.MeasureWindow;

/**
 * Prints one progress line per {@link #PROGRESS_INTERVAL_MS} while open, on its own daemon
 * thread: the phase running, its throughput since the last line, its errors, the late
 * operations of an open loop, and what the measure window adds during the measured phase.
 */
final class ProgressPrinter implements AutoCloseable {
  /** Progress lines are printed this often. */
  static final long PROGRESS_INTERVAL_MS = 1_000;

  private final ScheduledExecutorService timer = LoadRunner.daemonTimer("bench-progress");
  private final Supplier<LoadPhase> current;
  private final PrintStream out;
  private final String label;
  private final MeasureWindow window;
  /** Confined to the timer's thread. */
  private LoadPhase lastPhase;
  private long lastOps;
  private long lastNanos = System.nanoTime();

  /** Starts printing the phase {@code current} gives (none while it gives null). */
  ProgressPrinter(Supplier<LoadPhase> current, PrintStream out, String label,
      MeasureWindow window) {
    this.current = current;
    this.out = out;
    this.label = label;
    this.window = window;
    timer.scheduleAtFixedRate(this::print, PROGRESS_INTERVAL_MS, PROGRESS_INTERVAL_MS,
        TimeUnit.MILLISECONDS);
  }

  private void print() {
    LoadPhase phase = current.get();
    if (phase == null) {
      return;
    }
    long now = System.nanoTime();
    long ops = phase.ops.sum();
    long delta = phase == lastPhase ? ops - lastOps : ops;
    long sinceNanos = phase == lastPhase ? now - lastNanos : now - phase.startNanos;
    double rate = sinceNanos <= 0 ? 0 : delta * 1e9 / sinceNanos;
    String late = phase.rate > 0 ? "  late " + phase.schedule.late.sum() : "";
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
