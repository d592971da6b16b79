package ringkv.bench;

/**
 * The YCSB core workloads the bench runs, by their share of reads; the rest are updates of
 * existing records (YCSB's "update": a full new value).
 *
 * <p>Immutable; thread-safe.
 */
public enum Workload {
  /** Update heavy: 50% reads, 50% updates. */
  A(0.50),
  /** Read mostly: 95% reads, 5% updates. */
  B(0.95),
  /** Read only. */
  C(1.00),
  /** Write only: 100% updates. */
  W(0.00);

  private final double readFraction;

  Workload(double readFraction) {
    this.readFraction = readFraction;
  }

  public double readFraction() {
    return readFraction;
  }

  /** Whether the next operation is a read, given {@code u} uniform in [0, 1). */
  public boolean isRead(double u) {
    return u < readFraction;
  }

  /** For reports: {@code "C (100% read)"}. */
  public String describe() {
    long reads = Math.round(readFraction * 100);
    if (reads == 100) {
      return name() + " (100% read)";
    }
    if (reads == 0) {
      return name() + " (100% update)";
    }
    return name() + " (" + reads + "% read, " + (100 - reads) + "% update)";
  }
}
