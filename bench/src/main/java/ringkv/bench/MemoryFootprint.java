package ringkv.bench;

import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.lang.ref.Reference;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.TreeMap;
import ringkv.gossip.CausalContext;
import ringkv.gossip.Entry;
import ringkv.gossip.KeyOrder;
import ringkv.gossip.MemoryStore;
import ringkv.gossip.Version;

/**
 * Heap bytes a stored record costs: fills a {@link MemoryStore} the way a node does (the bench's
 * keys {@code user0, user1, ...}; per record its own value, a JSON string of {@code --value-bytes}
 * random letters and digits between quotes, as the bench writes; versions from one writer; no
 * dependencies), forces garbage collections and prints the heap it holds per record. In the
 * same run it does the same for a baseline, a {@code TreeMap<String, byte[]>} of the same keys
 * (same order) and the values' UTF-8 bytes, so the figure also reads as a ratio to "a sorted
 * map of the raw data".
 *
 * <pre>
 * java -XX:+UseSerialGC -cp bench/target/kvs-bench.jar ringkv.bench.MemoryFootprint \
 *     --records 1000000 --value-bytes 100
 * </pre>
 *
 * <p>Heap in use is read after {@code System.gc()} (a full, compacting collection with the
 * serial collector, which is what the node runs with) until two readings agree; every record's
 * strings and arrays are created one by one, as a node decoding requests would. The figure is a
 * property of the object layout (compressed oops, 8-byte alignment), so it does not depend on
 * the machine's load. A tool that prints figures, not a test. Single-threaded.
 */
public final class MemoryFootprint {
  private static final String ALPHABET =
      "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
  /** The writer of every version, as a node names itself. */
  private static final String WRITER = "127.0.0.1:7001";
  private static final int GC_ROUNDS_MAX = 10;

  private MemoryFootprint() {}

  public static void main(String[] args) {
    int records = 1_000_000;
    int valueBytes = 100;
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--records" -> records = Integer.parseInt(args[++i]);
        case "--value-bytes" -> valueBytes = Integer.parseInt(args[++i]);
        case "--help", "-h" -> {
          System.out.println("usage: MemoryFootprint [--records N] [--value-bytes N]");
          return;
        }
        default -> {
          System.err.println("MemoryFootprint: unknown option " + args[i]);
          System.exit(2);
        }
      }
    }
    if (records <= 0 || valueBytes < 0) {
      System.err.println("MemoryFootprint: --records must be > 0 and --value-bytes >= 0");
      System.exit(2);
    }
    run(records, valueBytes);
  }

  private static void run(int records, int valueBytes) {
    List<String> gcs = new ArrayList<>();
    for (GarbageCollectorMXBean gc : ManagementFactory.getGarbageCollectorMXBeans()) {
      gcs.add(gc.getName());
    }
    System.out.printf(Locale.ROOT, "%,d records, values of %d bytes of text between quotes;"
            + " Java %s, max heap %,d MB, collectors %s%n", records, valueBytes,
        Runtime.version(), Runtime.getRuntime().maxMemory() >> 20, gcs);

    Values values = new Values(valueBytes);
    // The store first, then the baseline: each measured from a collected, empty heap.
    double store = measure("MemoryStore (node)", records, () -> {
      MemoryStore s = new MemoryStore();
      values.reset();
      for (int i = 0; i < records; i++) {
        String key = BenchOptions.key(i);
        String json = new String(values.next(), StandardCharsets.UTF_8);
        s.put(Entry.value(key, json, new Version(i + 1L, WRITER), CausalContext.EMPTY));
      }
      return s;
    });
    double baseline = measure("TreeMap<String, byte[]> (baseline)", records, () -> {
      TreeMap<String, byte[]> m = new TreeMap<>(KeyOrder.COMPARATOR);
      values.reset();
      for (int i = 0; i < records; i++) {
        m.put(BenchOptions.key(i), values.next());
      }
      return m;
    });
    System.out.printf(Locale.ROOT, "ratio MemoryStore / baseline: %.3f%n", store / baseline);
  }

  /** Heap bytes per record that what {@code fill} builds holds (kept alive while measured). */
  private static double measure(String label, int records, Fill fill) {
    long before = settledHeapUsed();
    Object held = fill.build();
    long after = settledHeapUsed();
    double perRecord = (double) (after - before) / records;
    System.out.printf(Locale.ROOT, "%-36s %,14d bytes  %8.1f bytes per record%n", label,
        after - before, perRecord);
    Reference.reachabilityFence(held);
    return perRecord;
  }

  private interface Fill {
    Object build();
  }

  /** Heap in use after full collections, once two readings in a row agree (or after a bound). */
  private static long settledHeapUsed() {
    long previous = -1;
    for (int i = 0; i < GC_ROUNDS_MAX; i++) {
      System.gc();
      long used = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
      if (used == previous) {
        return used;
      }
      previous = used;
    }
    return previous;
  }

  /** Fresh value bytes per record: {@code "} + random letters and digits + {@code "}. */
  private static final class Values {
    private final int size;
    private SplittableRandom random;

    Values(int size) {
      this.size = size;
    }

    void reset() {
      random = new SplittableRandom(42);
    }

    byte[] next() {
      byte[] b = new byte[size + 2];
      b[0] = '"';
      for (int i = 1; i <= size; i++) {
        b[i] = (byte) ALPHABET.charAt(random.nextInt(ALPHABET.length()));
      }
      b[size + 1] = '"';
      return b;
    }
  }
}
