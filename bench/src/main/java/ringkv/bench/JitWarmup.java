package ringkv.bench;

import java.util.List;
import java.util.Map;

/**
 * When the comparison's warm-up may end: it runs in cycles of three slices (half GETs and half
 * PUTs, GETs only, PUTs only, 5 s each or a third of a shorter minimum: every code path the
 * measured phases take, under each phase's own profile), at least {@code minMs} and at most
 * {@code maxMs}, and ends after the first cycle, past the minimum, in which the servers' JIT
 * compiler threads used at most {@code settledPercent} of the servers' CPU. Six JVMs that
 * start together on two cores compile for minutes under load; a phase measured while they do
 * charges their compilers to every operation, so the comparison waits for steady state and
 * says how long that took (a server with no JIT, such as Redis, is settled after the minimum).
 *
 * <p>Pure: the caller runs the slices and reads the CPU. Immutable; thread-safe.
 *
 * @param minMs least warm-up (0: none at all)
 * @param maxMs most warm-up; at least {@code minMs} ({@code maxMs == minMs}: a fixed warm-up)
 * @param settledPercent the compilers' share of the servers' CPU in a cycle, in percent, at or
 *     below which the JIT counts as settled
 */
record JitWarmup(long minMs, long maxMs, double settledPercent) {
  /** One slice's length at most (a short warm-up has shorter slices: three in its minimum). */
  static final long SLICE_MS_MAX = 5_000;
  /** One slice's length at least. */
  static final long SLICE_MS_MIN = 100;
  /** The slices of one cycle, in order. */
  static final List<LoadGenerator.Mode> CYCLE = List.of(LoadGenerator.Mode.MIX,
      LoadGenerator.Mode.GET, LoadGenerator.Mode.PUT);
  /** Thread names of HotSpot's compiler threads, as Linux shows them (cut to 15 chars). */
  static final List<String> COMPILER_THREAD_PREFIXES = List.of("C1 CompilerThre",
      "C2 CompilerThre", "JVMCI");

  JitWarmup {
    if (minMs < 0 || maxMs < minMs) {
      throw new IllegalArgumentException("warm-up bounds must be 0 <= min <= max, got " + minMs
          + " and " + maxMs);
    }
    if (!(settledPercent >= 0 && settledPercent <= 100)) {
      throw new IllegalArgumentException("the settled share must be a percentage, got "
          + settledPercent);
    }
  }

  /** One slice's length: a third of the minimum, within its bounds. */
  long sliceMs() {
    return Math.max(SLICE_MS_MIN, Math.min(SLICE_MS_MAX, minMs / CYCLE.size()));
  }

  /** One cycle's length. */
  long cycleMs() {
    return sliceMs() * CYCLE.size();
  }

  /** Whether there is any warm-up. */
  boolean any() {
    return minMs > 0;
  }

  /** The compilers' share of the servers' CPU in a window, in percent (0 without CPU). */
  static double compilerPercent(Map<String, Long> nanosByThreadGroup) {
    long all = 0;
    long compilers = 0;
    for (Map.Entry<String, Long> e : nanosByThreadGroup.entrySet()) {
      all += e.getValue();
      if (COMPILER_THREAD_PREFIXES.stream().anyMatch(e.getKey()::startsWith)) {
        compilers += e.getValue();
      }
    }
    return all <= 0 ? 0 : 100.0 * compilers / all;
  }

  /** What the rule says after a cycle. */
  enum Verdict {
    /** Run another cycle. */
    GO_ON,
    /** The minimum is past and the JIT has settled. */
    SETTLED,
    /** The maximum is reached and the JIT has not settled. */
    NOT_SETTLED
  }

  /**
   * After a cycle that ended {@code elapsedMs} into the warm-up, with the compilers at
   * {@code compilerPercent} of the servers' CPU during it.
   */
  Verdict after(long elapsedMs, double compilerPercent) {
    if (elapsedMs < minMs) {
      return Verdict.GO_ON;
    }
    if (compilerPercent <= settledPercent) {
      return Verdict.SETTLED;
    }
    // Another cycle would overrun the bound (a fixed warm-up, max == min, ends here too).
    return elapsedMs + cycleMs() > maxMs ? Verdict.NOT_SETTLED : Verdict.GO_ON;
  }

  /**
   * How a side's warm-up went: its length, whether the JIT settled, and the compilers' share
   * in each cycle (percent), in order.
   */
  record Outcome(double seconds, boolean settled, List<Double> compilerPercentByCycle) {
    Outcome {
      compilerPercentByCycle = List.copyOf(compilerPercentByCycle);
    }

    static Outcome none() {
      return new Outcome(0, true, List.of());
    }

    /** The last cycle's share, or NaN without a cycle. */
    double lastCompilerPercent() {
      return compilerPercentByCycle.isEmpty() ? Double.NaN
          : compilerPercentByCycle.get(compilerPercentByCycle.size() - 1);
    }
  }
}
