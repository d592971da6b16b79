package ringkv.node.storage;

import static java.nio.charset.StandardCharsets.US_ASCII;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.rocksdb.ColumnFamilyDescriptor;
import org.rocksdb.ColumnFamilyHandle;
import org.rocksdb.DBOptions;
import org.rocksdb.RocksDB;
import org.rocksdb.RocksIterator;
import ringkv.gossip.CausalContext;
import ringkv.gossip.Entry;
import ringkv.gossip.Store;
import ringkv.gossip.StoreContract;
import ringkv.gossip.Version;

/*
 * Goal: RocksDbStore keeps the whole Store contract (StoreContract, shared with MemoryStore),
 * and it is durable: a reopen after close keeps entries, counts and metadata; counts missing on
 * disk are recomputed; a process killed with SIGKILL loses no acknowledged write and leaves
 * counts that match the data; bad directories and corrupt records fail with clear exceptions.
 * Method: each test gets a fresh @TempDir. The crash test runs CrashWriter in a child JVM
 * (same classpath), waits for its "written" line (and "busy": it is writing more), kills it
 * with destroyForcibly, reopens the directory and checks every acknowledged entry. Raw RocksDB
 * handles damage the data on purpose.
 */
class RocksDbStoreTest extends StoreContract {
  @TempDir
  Path dir;

  private final List<RocksDbStore> opened = new ArrayList<>();
  private Process child;

  @Override
  protected Store newStore() {
    return open();
  }

  private RocksDbStore open() {
    RocksDbStore s = new RocksDbStore(dir.resolve("db"));
    opened.add(s);
    return s;
  }

  @Override
  protected void closeStore(Store s) {
    ((RocksDbStore) s).close();
  }

  @AfterEach
  void closeEverything() {
    opened.forEach(RocksDbStore::close);
    if (child != null) {
      child.destroyForcibly();
    }
  }

  /** The test's store, closed, and a new one on the same directory. */
  private RocksDbStore reopen() {
    ((RocksDbStore) store).close();
    RocksDbStore reopened = open();
    store = reopened;
    return reopened;
  }

  private static byte[] longBytes(long v) {
    return ByteBuffer.allocate(Long.BYTES).putLong(v).array();
  }

  @Test
  void reopenKeepsEntriesCountsAndMeta() {
    Entry withDeps = Entry.value("b\u00e9", "{\"x\":1}", new Version(9, "n2"),
        new CausalContext(Map.of("a", new Version(3, "n1"))));
    store.put(value("a", "1", 1));
    store.put(withDeps);
    store.put(tombstone("c", 3));
    store.put(value("d", "4", 4));
    store.remove("d");
    RocksDbStore s = (RocksDbStore) store;
    s.putMeta("config", "{\"epoch\":3}".getBytes(US_ASCII));
    s.putMeta("clock", longBytes(42));

    RocksDbStore again = reopen();
    assertCounts(2, 3);
    assertEquals(value("a", "1", 1), again.get("a"));
    assertEquals(withDeps, again.get("b\u00e9"));
    assertEquals(tombstone("c", 3), again.get("c"));
    assertNull(again.get("d"));
    assertEquals(List.of(value("a", "1", 1), withDeps, tombstone("c", 3)), again.scan(null, 10));
    assertArrayEquals("{\"epoch\":3}".getBytes(US_ASCII), again.getMeta("config").orElseThrow());
    assertArrayEquals(longBytes(42), again.getMeta("clock").orElseThrow());
    again.put(value("e", "5", 5));
    assertCounts(3, 4);
  }

  @Test
  void metaIsSeparateFromEntriesAndReplaceable() {
    RocksDbStore s = (RocksDbStore) store;
    assertEquals(Optional.empty(), s.getMeta("clock"));
    s.putMeta("clock", new byte[] {1});
    s.putMeta("clock", new byte[] {2, 0, (byte) 0xFF});
    s.putMeta("a", new byte[0]);
    assertArrayEquals(new byte[] {2, 0, (byte) 0xFF}, s.getMeta("clock").orElseThrow());
    assertArrayEquals(new byte[0], s.getMeta("a").orElseThrow());
    assertEquals(Optional.empty(), s.getMeta("count/live"), "no clash with internal keys");
    assertCounts(0, 0);
    assertEquals(List.of(), s.scan(null, 10));
    s.put(value("clock", "1", 1));
    assertArrayEquals(new byte[] {2, 0, (byte) 0xFF}, s.getMeta("clock").orElseThrow());
    assertThrows(IllegalArgumentException.class, () -> s.putMeta("", new byte[] {1}));
    assertThrows(NullPointerException.class, () -> s.putMeta("x", null));
  }

  @Test
  void countsMissingOnDiskAreRecomputed() throws Exception {
    for (int i = 0; i < 100; i++) {
      store.put(i % 4 == 0 ? tombstone("k" + i, i + 1) : value("k" + i, "1", i + 1));
    }
    ((RocksDbStore) store).close();
    withRawDb((db, meta) -> {
      db.delete(meta, RocksDbStore.LIVE_COUNT_KEY);
      db.delete(meta, RocksDbStore.SIZE_KEY);
    });
    store = open();
    assertCounts(75, 100);
    reopen();
    assertCounts(75, 100);
  }

  @Test
  void aFormatOneStoreGetsItsTombstoneIndexBuiltWhenOpened() throws Exception {
    for (int i = 0; i < 100; i++) {
      store.put(i % 10 == 3 ? tombstone("k" + i, i + 1) : value("k" + i, "1", i + 1));
    }
    List<Entry> expected = store.scanTombstones(null, 100);
    assertEquals(10, expected.size());
    ((RocksDbStore) store).close();
    // What a store written by a build before the index looks like: format 1, no index.
    withRawDb((db, index) -> {
      try (RocksIterator it = db.newIterator(index)) {
        for (it.seekToFirst(); it.isValid(); it.next()) {
          db.delete(index, it.key());
        }
      }
    }, 3);
    withRawDb((db, meta) -> db.put(meta, RocksDbStore.FORMAT_KEY, longBytes(1)));
    store = open();
    assertEquals(expected, store.scanTombstones(null, 100));
    assertCounts(90, 100);
    reopen();
    assertEquals(expected, store.scanTombstones(null, 100));
    ((RocksDbStore) store).close();
    withRawDb((db, meta) -> assertEquals(RocksDbStore.STORAGE_FORMAT,
        java.nio.ByteBuffer.wrap(db.get(meta, RocksDbStore.FORMAT_KEY)).getLong()));
    store = open();
  }

  @Test
  void unknownStorageFormatIsRefused() throws Exception {
    ((RocksDbStore) store).close();
    withRawDb((db, meta) -> db.put(meta, RocksDbStore.FORMAT_KEY, longBytes(99)));
    StorageException e = assertThrows(StorageException.class, this::open);
    assertTrue(e.getMessage().contains("format 99"), e.getMessage());
  }

  @Test
  void recountOverACorruptRecordFailsTheOpenClearly() throws Exception {
    store.put(value("good", "1", 1));
    ((RocksDbStore) store).close();
    withRawDbEntries(
        (db, entries) -> db.put(entries, "bad".getBytes(US_ASCII), new byte[] {9, 9, 9}));
    withRawDb((db, meta) -> db.delete(meta, RocksDbStore.SIZE_KEY));
    StorageException e = assertThrows(StorageException.class, this::open);
    assertTrue(e.getMessage().contains("key 'bad'"), e.getMessage());
    assertTrue(e.getMessage().contains("format version 9"), e.getMessage());
  }

  @Test
  void corruptRecordFailsReadsNamingTheKey() throws Exception {
    store.put(value("good", "1", 1));
    store.put(value("bad", "1", 2));
    ((RocksDbStore) store).close();
    withRawDbEntries(
        (db, entries) -> db.put(entries, "bad".getBytes(US_ASCII), new byte[] {1, 0, 0x7F}));
    RocksDbStore s = open();
    store = s;
    assertEquals(value("good", "1", 1), s.get("good"));
    CorruptEntryException e = assertThrows(CorruptEntryException.class, () -> s.get("bad"));
    assertTrue(e.getMessage().startsWith("corrupt entry for key 'bad'"), e.getMessage());
    assertThrows(CorruptEntryException.class, () -> s.scan(null, 10));
  }

  @Test
  void secondOpenOfTheSameDirectoryFailsClearly() {
    StorageException e = assertThrows(StorageException.class, this::open);
    assertTrue(e.getMessage().contains(dir.resolve("db").toString()), e.getMessage());
    store.put(value("a", "1", 1)); // the first one still works
    assertEquals(value("a", "1", 1), store.get("a"));
  }

  @Test
  void closeIsIdempotentAndUseAfterCloseIsRefused() {
    RocksDbStore s = (RocksDbStore) store;
    s.close();
    s.close();
    assertThrows(IllegalStateException.class, () -> s.get("a"));
    assertThrows(IllegalStateException.class, () -> s.put(value("a", "1", 1)));
    assertThrows(IllegalStateException.class, () -> s.scan(null, 1));
    assertThrows(IllegalStateException.class, () -> s.getMeta("a"));
  }

  @Test
  void syncedWritesAreReadBack() {
    ((RocksDbStore) store).close();
    try (RocksDbStore synced = new RocksDbStore(dir.resolve("db"), true)) {
      synced.put(value("a", "1", 1));
      synced.putMeta("clock", longBytes(1));
    }
    RocksDbStore s = open();
    store = s;
    assertEquals(value("a", "1", 1), s.get("a"));
    assertArrayEquals(longBytes(1), s.getMeta("clock").orElseThrow());
  }

  @Test
  @Timeout(value = 120, unit = TimeUnit.SECONDS)
  void acknowledgedWritesSurviveSigkill() throws Exception {
    ((RocksDbStore) store).close();
    int n = 5_000;
    Path java = Path.of(System.getProperty("java.home"), "bin", "java");
    ProcessBuilder pb = new ProcessBuilder(java.toString(), "-cp",
        System.getProperty("java.class.path"), CrashWriter.class.getName(),
        dir.resolve("db").toString(), Integer.toString(n));
    pb.redirectError(ProcessBuilder.Redirect.INHERIT);
    child = pb.start();
    try (BufferedReader out = new BufferedReader(new InputStreamReader(child.getInputStream(),
        US_ASCII))) {
      assertEquals("written", out.readLine(), "the child's first line");
      assertEquals("busy", out.readLine(), "the child's second line");
      child.destroyForcibly(); // SIGKILL, in the middle of writing extras
      assertTrue(child.waitFor(60, TimeUnit.SECONDS), "the child died");
    }
    assertEquals(137, child.exitValue(), "killed by SIGKILL (128 + 9)");

    RocksDbStore s = open();
    store = s;
    for (int i = 0; i < n; i++) {
      assertEquals(CrashWriter.expected(i), s.get(CrashWriter.key(i)), "entry " + i);
    }
    assertArrayEquals(longBytes(n), s.getMeta("clock").orElseThrow());
    // The extras written until the kill form a prefix (no holes), and the counts match the data.
    List<String> extras = new ArrayList<>();
    long[] counted = new long[2];
    s.forEach(e -> {
      counted[0] += e.isTombstone() ? 0 : 1;
      counted[1]++;
      if (e.key().startsWith("extra-")) {
        extras.add(e.key());
      }
    });
    for (int i = 0; i < extras.size(); i++) {
      assertEquals(CrashWriter.extraKey(i), extras.get(i));
    }
    assertTrue(extras.size() >= CrashWriter.EXTRAS_BEFORE_BUSY, "extras: " + extras.size());
    assertCounts(counted[0], counted[1]);
    assertEquals(n + extras.size(), s.size());
    System.out.println("crash test: " + extras.size() + " extras survived the kill");
  }

  private interface RawDbAction {
    void run(RocksDB db, ColumnFamilyHandle family) throws Exception;
  }

  private void withRawDb(RawDbAction action) throws Exception {
    withRawDb(action, 2);
  }

  private void withRawDbEntries(RawDbAction action) throws Exception {
    withRawDb(action, 1);
  }

  /** Opens the directory with plain RocksDB and runs {@code action} on one family. */
  private void withRawDb(RawDbAction action, int family) throws Exception {
    List<ColumnFamilyDescriptor> families = List.of(
        new ColumnFamilyDescriptor(RocksDB.DEFAULT_COLUMN_FAMILY),
        new ColumnFamilyDescriptor(RocksDbStore.ENTRIES_FAMILY.getBytes(US_ASCII)),
        new ColumnFamilyDescriptor(RocksDbStore.META_FAMILY.getBytes(US_ASCII)),
        new ColumnFamilyDescriptor(RocksDbStore.TOMBSTONES_FAMILY.getBytes(US_ASCII)));
    List<ColumnFamilyHandle> handles = new ArrayList<>();
    try (DBOptions options = new DBOptions();
        RocksDB db = RocksDB.open(options, dir.resolve("db").toString(), families, handles)) {
      try {
        action.run(db, handles.get(family));
      } finally {
        handles.forEach(ColumnFamilyHandle::close);
      }
    }
  }
}
