package ringkv.bench;

/**
 * The YCSB core workloads the bench runs, by their share of reads; the rest are updates of
 * existing records (YCSB's "update": a full new value).
 *
 * <p>Immutable; thread-safe.
 */
public enum Workload {
  /** Update heavy: 50% reads, 50% updates. */
  A(50),
  /** Read mostly: 95% reads, 5% updates. */
  B(95),
  /** Read only. */
  C(100),
  /** Write only: 100% updates. */
  W(0);

  /** Reads in every 100 operations. */
  private final int readPercent;

  Workload(int readPercent) {
    this.readPercent = readPercent;
  }

  /** The share of reads, from 0 to 1. */
  public double readFraction() {
    return readPercent / 100.0;
  }

  /** Whether the next operation is a read, given {@code u} uniform in [0, 1). */
  public boolean isRead(double u) {
    return u < readFraction();
  }

  /** For reports: {@code "C (100% read)"}. */
  public String describe() {
    if (readPercent == 100) {
      return name() + " (100% read)";
    }
    if (readPercent == 0) {
      return name() + " (100% update)";
    }
    return name() + " (" + readPercent + "% read, " + (100 - readPercent) + "% update)";
  }
}
