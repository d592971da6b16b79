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
 * Goal: RocksDbStore keeps the whole Store contract (StoreContract, shared with MemoryStore,
 * including its quarantine test), and it is durable: a reopen after close keeps entries, counts
 * and metadata; counts missing or damaged on disk are recomputed; a process killed with SIGKILL
 * loses no acknowledged write and leaves counts that match the data; bad directories fail with
 * clear exceptions. Damaged records (checksum, decoding, key bytes) found on open, on a read or
 * by the scrub are quarantined and stay so across a reopen; damaged metadata reads as absent.
 * whenDurable follows the durability mode (sync: after a sync; periodic and os: at once).
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

  /** Flips one bit in the middle of the stored record, under the store's nose. */
  @Override
  protected boolean damage(String key) {
    RocksDbStore s = (RocksDbStore) store;
    byte[] record = s.getRawForTest(key);
    record[record.length / 2] ^= 0x10;
    s.putRawForTest(key, record);
    return true;
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
      db.delete(meta, StoreLayout.LIVE_COUNT_KEY);
      db.delete(meta, StoreLayout.SIZE_KEY);
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
    withRawDb((db, meta) -> db.put(meta, StoreLayout.FORMAT_KEY, longBytes(1)));
    store = open();
    assertEquals(expected, store.scanTombstones(null, 100));
    assertCounts(90, 100);
    reopen();
    assertEquals(expected, store.scanTombstones(null, 100));
    ((RocksDbStore) store).close();
    withRawDb((db, meta) -> assertEquals(StoreLayout.STORAGE_FORMAT,
        java.nio.ByteBuffer.wrap(db.get(meta, StoreLayout.FORMAT_KEY)).getLong()));
    store = open();
  }

  @Test
  void unknownStorageFormatIsRefused() throws Exception {
    ((RocksDbStore) store).close();
    withRawDb((db, meta) -> db.put(meta, StoreLayout.FORMAT_KEY, longBytes(99)));
    StorageException e = assertThrows(StorageException.class, this::open);
    assertTrue(e.getMessage().contains("format 99"), e.getMessage());
  }

  @Test
  void aRecountOverDamagedRecordsQuarantinesThemAndOpens() throws Exception {
    store.put(value("good", "1", 1));
    store.put(tombstone("gone", 2));
    ((RocksDbStore) store).close();
    withRawDbEntries(
        (db, entries) -> db.put(entries, "bad".getBytes(US_ASCII), new byte[] {9, 9, 9}));
    withRawDbEntries(
        (db, entries) -> db.put(entries, new byte[] {(byte) 0xC0, 'x'}, new byte[] {2, 0}));
    withRawDb((db, meta) -> db.delete(meta, StoreLayout.SIZE_KEY));
    RocksDbStore s = open();
    store = s;
    assertCounts(1, 2);
    assertEquals(value("good", "1", 1), s.get("good"));
    assertNull(s.get("bad"));
    assertEquals(2, s.quarantinedCount(), "both damaged records");
    assertEquals(List.of("bad"), s.quarantinedKeys(null, 10), "a key that is not text is "
        + "counted, not listed");
    assertEquals(List.of(tombstone("gone", 2)), s.scanTombstones(null, 10));
  }

  @Test
  void aDamagedRecordIsQuarantinedOnReadAndStaysSoAcrossAReopen() throws Exception {
    store.put(value("good", "1", 1));
    store.put(value("bad", "1", 2));
    store.put(tombstone("worse", 3));
    ((RocksDbStore) store).close();
    withRawDbEntries(
        (db, entries) -> db.put(entries, "bad".getBytes(US_ASCII), new byte[] {1, 0, 0x7F}));
    withRawDbEntries((db, entries) -> {
      byte[] record = db.get(entries, "worse".getBytes(US_ASCII));
      record[2] ^= 1; // the counter: only the checksum can tell
      db.put(entries, "worse".getBytes(US_ASCII), record);
    });
    RocksDbStore s = open();
    store = s;
    assertEquals(value("good", "1", 1), s.get("good"));
    assertNull(s.get("bad"), "never served");
    assertEquals(List.of(value("good", "1", 1)), s.scan(null, 10));
    assertEquals(List.of("bad", "worse"), s.quarantinedKeys(null, 10));
    assertCounts(1, 1);
    assertEquals(2, s.corruptionsFound());
    RocksDbStore again = reopen();
    assertEquals(List.of("bad", "worse"), again.quarantinedKeys(null, 10));
    assertEquals(2, again.quarantinedCount());
    assertTrue(again.isQuarantined("worse"));
    assertCounts(1, 1);
    again.put(value("bad", "\"repaired\"", 2));
    assertEquals(List.of("worse"), reopen().quarantinedKeys(null, 10));
  }

  @Test
  void damagedCountsAreRecomputedAndDamagedMetadataReadsAsAbsent() throws Exception {
    for (int i = 0; i < 10; i++) {
      store.put(i % 5 == 0 ? tombstone("k" + i, i + 1) : value("k" + i, "1", i + 1));
    }
    ((RocksDbStore) store).putMeta("stable", "42".getBytes(US_ASCII));
    ((RocksDbStore) store).putMeta("config", "{}".getBytes(US_ASCII));
    ((RocksDbStore) store).close();
    withRawDb((db, meta) -> {
      byte[] count = db.get(meta, StoreLayout.LIVE_COUNT_KEY);
      count[Long.BYTES - 1] ^= 1; // live count 9 instead of 8, checksum now wrong
      db.put(meta, StoreLayout.LIVE_COUNT_KEY, count);
      byte[] key = "meta/stable".getBytes(US_ASCII);
      byte[] stable = db.get(meta, key);
      stable[0] = '9';
      db.put(meta, key, stable);
    });
    RocksDbStore s = open();
    store = s;
    assertCounts(8, 10);
    assertEquals(Optional.empty(), s.getMeta("stable"));
    assertArrayEquals("{}".getBytes(US_ASCII), s.getMeta("config").orElseThrow());
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
  void syncModeAnswersAfterASyncAndGroupsConcurrentWrites() throws Exception {
    RocksDbStore s = (RocksDbStore) store;
    assertEquals(DurabilityMode.SYNC, s.durabilityMode());
    assertTrue(s.whenDurable().toCompletableFuture().isDone(), "nothing written yet");
    s.put(value("a", "1", 1));
    s.whenDurable().toCompletableFuture().get(10, TimeUnit.SECONDS);
    SyncStats first = s.syncStats();
    assertTrue(first.syncs() >= 1 && first.syncedThrough() >= 1, first.toString());
    assertTrue(s.whenDurable().toCompletableFuture().isDone(), "nothing unsynced left");

    int threads = 8;
    int writesEach = 100;
    java.util.concurrent.ExecutorService pool =
        java.util.concurrent.Executors.newFixedThreadPool(threads);
    try {
      List<java.util.concurrent.Future<?>> done = new ArrayList<>();
      for (int t = 0; t < threads; t++) {
        int thread = t;
        done.add(pool.submit(() -> {
          for (int i = 0; i < writesEach; i++) {
            s.put(value("t" + thread + "-" + i, "1", 2 + i));
            s.whenDurable().toCompletableFuture().join();
          }
          return null;
        }));
      }
      for (java.util.concurrent.Future<?> f : done) {
        f.get(60, TimeUnit.SECONDS);
      }
    } finally {
      pool.shutdownNow();
    }
    SyncStats after = s.syncStats();
    long syncs = after.syncs() - first.syncs();
    System.out.printf("group commit: %d acknowledged writes, %d syncs, at most %d per sync%n",
        threads * writesEach, syncs, after.waitersPerSyncMax());
    assertTrue(syncs < threads * writesEach, "writes shared syncs: " + after);
    assertEquals(after.writes(), after.syncedThrough(), after.toString());
  }

  @Test
  void periodicAndOsModesAnswerAtOnce() throws Exception {
    ((RocksDbStore) store).close();
    try (RocksDbStore periodic = new RocksDbStore(dir.resolve("db"),
        new StoreOptions(DurabilityMode.PERIODIC, 20, 0, 0))) {
      periodic.put(value("a", "1", 1));
      periodic.putMeta("clock", longBytes(1));
      assertTrue(periodic.whenDurable().toCompletableFuture().isDone());
      org.awaitility.Awaitility.await("a background sync").atMost(java.time.Duration
          .ofSeconds(10)).until(() -> periodic.syncStats().syncedThrough() == 2);
    }
    try (RocksDbStore os = new RocksDbStore(dir.resolve("db"),
        StoreOptions.of(DurabilityMode.OS))) {
      os.put(value("b", "1", 2));
      assertTrue(os.whenDurable().toCompletableFuture().isDone());
      assertEquals(0, os.syncStats().syncs());
    }
    RocksDbStore s = open();
    store = s;
    assertEquals(value("a", "1", 1), s.get("a"));
    assertEquals(value("b", "1", 2), s.get("b"));
    assertArrayEquals(longBytes(1), s.getMeta("clock").orElseThrow());
  }

  @Test
  void theScrubFindsARecordDamagedWhileTheStoreRuns() throws Exception {
    ((RocksDbStore) store).close();
    RocksDbStore s = new RocksDbStore(dir.resolve("db"),
        StoreOptions.DEFAULTS.withScrub(10L << 20, 10));
    opened.add(s);
    store = s;
    for (int i = 0; i < 300; i++) {
      s.put(value(String.format("k%03d", i), "\"" + "v".repeat(i) + "\"", i + 1));
    }
    damage("k150");
    org.awaitility.Awaitility.await("the scrub quarantines k150").atMost(java.time.Duration
        .ofSeconds(20)).until(() -> s.quarantinedCount() == 1);
    assertEquals(List.of("k150"), s.quarantinedKeys(null, 10));
    assertEquals(1, s.scrubStats().quarantined());
    assertCounts(299, 299);
    org.awaitility.Awaitility.await("a full pass").atMost(java.time.Duration.ofSeconds(20))
        .until(() -> s.scrubStats().passes() >= 2);
    assertEquals(1, s.scrubStats().quarantined(), "found once");
    assertTrue(s.scrubStats().records() >= 299, s.scrubStats().toString());
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
        new ColumnFamilyDescriptor(StoreLayout.ENTRIES_FAMILY.getBytes(US_ASCII)),
        new ColumnFamilyDescriptor(StoreLayout.META_FAMILY.getBytes(US_ASCII)),
        new ColumnFamilyDescriptor(StoreLayout.TOMBSTONES_FAMILY.getBytes(US_ASCII)),
        new ColumnFamilyDescriptor(StoreLayout.QUARANTINE_FAMILY.getBytes(US_ASCII)));
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
