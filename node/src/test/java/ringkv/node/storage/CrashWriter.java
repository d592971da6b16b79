package ringkv.node.storage;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.Map;
import ringkv.gossip.CausalContext;
import ringkv.gossip.Entry;
import ringkv.gossip.Version;

/**
 * The child process of {@link RocksDbStoreTest#acknowledgedWritesSurviveSigkill}: opens a
 * {@link RocksDbStore} in {@code args[0]} (durability "os": nothing is synced), writes
 * {@code args[1]} entries plus metadata, prints "written", then keeps writing more entries,
 * printing "busy" after the first {@value #EXTRAS_BEFORE_BUSY} of them, until the test kills it
 * with SIGKILL. It never closes the store.
 */
public final class CrashWriter {
  /** Bound on the unacknowledged writes, should the kill never come. */
  static final int EXTRA_WRITES_MAX = 1_000_000;
  /** Extras written (and so acknowledged too) before the line "busy". */
  static final int EXTRAS_BEFORE_BUSY = 1_000;

  private CrashWriter() {}

  static String key(int i) {
    return String.format("key-%06d", i);
  }

  static String extraKey(int i) {
    return String.format("extra-%07d", i);
  }

  /** Entry i as the writer leaves it: every 7th a tombstone (over a value), others a value. */
  static Entry expected(int i) {
    CausalContext deps = new CausalContext(Map.of(key(Math.max(0, i - 1)), new Version(i + 1,
        "w")));
    return i % 7 == 0 ? Entry.tombstone(key(i), new Version(i + 2, "w"), deps)
        : Entry.value(key(i), "{\"i\":" + i + "}", new Version(i + 1, "w"), deps);
  }

  public static void main(String[] args) throws IOException {
    Path dir = Path.of(args[0]);
    int n = Integer.parseInt(args[1]);
    RocksDbStore store = new RocksDbStore(dir, StoreOptions.of(DurabilityMode.OS));
    for (int i = 0; i < n; i++) {
      Entry last = expected(i);
      if (last.isTombstone()) {
        store.put(Entry.value(key(i), "\"doomed\"", new Version(i + 1, "w"), last.deps()));
      }
      store.put(last);
    }
    store.putMeta("clock", ByteBuffer.allocate(Long.BYTES).putLong(n).array());
    System.out.println("written");
    System.out.flush();
    for (int i = 0; i < EXTRA_WRITES_MAX; i++) {
      store.put(Entry.value(extraKey(i), "1", new Version(n + i + 2, "w"), CausalContext.EMPTY));
      if (i + 1 == EXTRAS_BEFORE_BUSY) {
        System.out.println("busy"); // the kill now lands in the middle of writes
        System.out.flush();
      }
    }
    System.in.read(); // wait for the kill (EOF only if the test went away)
  }
}
