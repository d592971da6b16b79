package ringkv.bench;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.LongStream;

/**
 * The keys and values a {@link LoadRunner} sends, built before the run so that the measured
 * phase spends no CPU on them: {@link #VALUES} distinct values of the option's size, and the key
 * names of the records when there are at most {@link #KEY_NAMES_CACHED_MAX} (5 MB of strings);
 * beyond, each operation builds its own key. Immutable; shared by the slots.
 */
final class LoadData {
  /** Distinct values written, pre-generated so that writing costs no string building. */
  static final int VALUES = 64;
  /** Key names are built once when there are at most this many records. */
  static final long KEY_NAMES_CACHED_MAX = 100_000;
  private static final String ALPHABET =
      "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

  private final List<String> values;
  /** {@code user0} ... for the records, or null when there are too many to keep. */
  private final String[] keyNames;

  /** Values of {@code valueSize} characters (JSON strings) drawn from {@code random}. */
  LoadData(long records, int valueSize, SplittableRandom random) {
    this.values = values(valueSize, random);
    this.keyNames = records > KEY_NAMES_CACHED_MAX ? null
        : LongStream.range(0, records).mapToObj(BenchOptions::key).toArray(String[]::new);
  }

  /** The key of record {@code record}. */
  String key(long record) {
    return keyNames != null ? keyNames[(int) record] : BenchOptions.key(record);
  }

  /** One of the values, chosen with {@code random}. */
  String value(SplittableRandom random) {
    return values.get(random.nextInt(values.size()));
  }

  private static List<String> values(int size, SplittableRandom random) {
    List<String> out = new ArrayList<>(VALUES);
    for (int v = 0; v < VALUES; v++) {
      StringBuilder b = new StringBuilder(size + 2).append('"');
      for (int i = 0; i < size; i++) {
        b.append(ALPHABET.charAt(random.nextInt(ALPHABET.length())));
      }
      out.add(b.append('"').toString());
    }
    return List.copyOf(out);
  }
}
