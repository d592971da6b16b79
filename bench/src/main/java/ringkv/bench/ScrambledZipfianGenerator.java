package ringkv.bench;

import java.util.random.RandomGenerator;

/**
 * YCSB's {@code ScrambledZipfianGenerator}, what its core workloads use for
 * {@code requestdistribution=zipfian}: a zipfian (constant 0.99) over 10^10 items whose item
 * numbers are hashed with 64-bit FNV-1 and folded into the record range, so the popular records
 * are scattered over the key space instead of being the first ones.
 *
 * <p>Immutable; thread-safe (the random generator is the caller's).
 */
public final class ScrambledZipfianGenerator implements KeyChooser {
  /** YCSB's item count of the underlying zipfian (it draws from 0..ITEM_COUNT). */
  static final long ITEM_COUNT = 10_000_000_000L;
  /** YCSB's precomputed zeta(10^10, 0.99). */
  static final double ZETAN = 26.46902820178302;

  private static final long FNV_OFFSET_BASIS_64 = 0xCBF29CE484222325L;
  private static final long FNV_PRIME_64 = 1099511628211L;
  private static final ZipfianGenerator UNDERLYING =
      new ZipfianGenerator(ITEM_COUNT + 1, ZipfianGenerator.ZIPFIAN_CONSTANT, ZETAN);

  private final long records;

  public ScrambledZipfianGenerator(long records) {
    if (records < 1) {
      throw new IllegalArgumentException("records must be >= 1");
    }
    this.records = records;
  }

  @Override
  public long next(RandomGenerator random) {
    return Math.floorMod(fnvHash64(UNDERLYING.next(random)), records);
  }

  @Override
  public long records() {
    return records;
  }

  /** YCSB's {@code Utils.fnvhash64}: FNV-1 over the 8 bytes, low byte first, made positive. */
  static long fnvHash64(long value) {
    long v = value;
    long hash = FNV_OFFSET_BASIS_64;
    for (int i = 0; i < 8; i++) {
      long octet = v & 0xff;
      v = v >> 8;
      hash = hash ^ octet;
      hash = hash * FNV_PRIME_64;
    }
    return Math.abs(hash);
  }
}
