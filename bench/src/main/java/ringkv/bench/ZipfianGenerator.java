package ringkv.bench;

import java.util.random.RandomGenerator;

/**
 * YCSB's {@code ZipfianGenerator} (Gray et al., "Quickly Generating Billion-Record Synthetic
 * Databases", SIGMOD 1994): item 0 is the most popular, item i has probability proportional to
 * {@code 1 / (i + 1)^theta}. Same constants and arithmetic as YCSB, so runs are comparable.
 *
 * <p>Invariants: {@code items >= 1}, {@code 0 < theta < 1}. Immutable; thread-safe (the random
 * generator is the caller's).
 */
public final class ZipfianGenerator implements KeyChooser {
  /** YCSB's default skew. */
  public static final double ZIPFIAN_CONSTANT = 0.99;

  private final long items;
  private final double theta;
  private final double zetan;
  private final double alpha;
  private final double eta;
  private final double halfPowTheta;

  /** Zipfian over {@code items} items with YCSB's constant 0.99. */
  public ZipfianGenerator(long items) {
    this(items, ZIPFIAN_CONSTANT);
  }

  public ZipfianGenerator(long items, double theta) {
    this(items, theta, zeta(items, theta));
  }

  /** With a precomputed {@code zetan} = zeta(items, theta) (YCSB does this for 10^10 items). */
  ZipfianGenerator(long items, double theta, double zetan) {
    if (items < 1 || !(theta > 0 && theta < 1)) {
      throw new IllegalArgumentException("zipfian needs items >= 1 and 0 < theta < 1");
    }
    this.items = items;
    this.theta = theta;
    this.zetan = zetan;
    this.alpha = 1.0 / (1.0 - theta);
    double zeta2theta = zeta(2, theta);
    this.eta = (1 - Math.pow(2.0 / items, 1 - theta)) / (1 - zeta2theta / zetan);
    this.halfPowTheta = Math.pow(0.5, theta);
  }

  /** The generalized harmonic number: sum over i in 1..n of 1 / i^theta. */
  static double zeta(long n, double theta) {
    double sum = 0;
    for (long i = 0; i < n; i++) {
      sum += 1 / Math.pow(i + 1, theta);
    }
    return sum;
  }

  @Override
  public long next(RandomGenerator random) {
    double u = random.nextDouble();
    double uz = u * zetan;
    if (uz < 1.0) {
      return 0;
    }
    if (uz < 1.0 + halfPowTheta) {
      return Math.min(1, items - 1);
    }
    long ret = (long) (items * Math.pow(eta * u - eta + 1, alpha));
    return Math.min(Math.max(ret, 0), items - 1);
  }

  @Override
  public long records() {
    return items;
  }

  /** Probability of item 0, {@code 1 / zeta(items, theta)}. */
  double probabilityOfFirst() {
    return 1 / zetan;
  }

  double theta() {
    return theta;
  }
}
