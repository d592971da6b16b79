package ringkv.bench;

import java.util.random.RandomGenerator;

/**
 * Chooses which record an operation touches: a record number in {@code [0, records)}.
 *
 * <p>Implementations are immutable and thread-safe; the randomness comes from the caller's
 * generator (one per load slot), so a seeded run repeats.
 */
public interface KeyChooser {
  /** The next record number, in {@code [0, records())}. */
  long next(RandomGenerator random);

  long records();

  /** Uniform over all records. */
  static KeyChooser uniform(long records) {
    if (records < 1) {
      throw new IllegalArgumentException("records must be >= 1");
    }
    return new KeyChooser() {
      @Override
      public long next(RandomGenerator random) {
        return random.nextLong(records);
      }

      @Override
      public long records() {
        return records;
      }
    };
  }

  /** The YCSB "zipfian" request distribution: {@link ScrambledZipfianGenerator}. */
  static KeyChooser zipfian(long records) {
    return new ScrambledZipfianGenerator(records);
  }
}
