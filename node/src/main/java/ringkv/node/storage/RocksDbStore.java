package ringkv.node.storage;

import static com.google.common.base.Preconditions.checkArgument;
import static ringkv.node.storage.StoreLayout.keyOrNull;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletionStage;
import java.util.function.Consumer;
import org.rocksdb.RocksDBException;
import org.rocksdb.RocksIterator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import ringkv.gossip.Entry;
import ringkv.gossip.Store;
import ringkv.gossip.Wtf8;
import ringkv.node.time.Clock;

/**
 * A durable {@link Store} on embedded RocksDB in one directory (the node's {@code DATA_DIR}),
 * plus a small durable metadata map ({@link #getMeta}/{@link #putMeta}) for the cluster
 * configuration and the stable mark ({@link MetaRecords}). The layout of the data is
 * {@link StoreLayout}'s; the database and its tuning are {@link StoreDatabase}'s.
 *
 * <p>Invariants: {@link #liveCount()} and {@link #size()} are exact (quarantined records are not
 * entries). Every put or remove writes the entry, its index record and both new counts in one
 * batch, which RocksDB applies atomically ({@link EntryWriter}); the counts are recomputed on
 * open if they are missing or damaged ({@link FormatUpgrade}).
 *
 * <p><b>Durability</b> ({@link StoreOptions#durability()}): every write goes to the write-ahead
 * log unsynced, so it survives SIGKILL of the process once the call returns. What makes it
 * survive a power loss is a sync of the log, run by a {@link WalSyncer} off the caller's thread:
 * in {@link DurabilityMode#SYNC} the caller answers its client when {@link #whenDurable()}
 * completes (group commit: one sync covers every write made before it started); in
 * {@link DurabilityMode#PERIODIC} a sync runs every interval; in {@link DurabilityMode#OS} the
 * operating system writes the log back when it likes. {@link #putMeta} follows the mode too (in
 * SYNC it asks for a sync without waiting; callers that must know wait on
 * {@link #whenDurable()}). Note that a write is visible to reads as soon as {@link #put} returns,
 * before it is synced. {@link #close()} syncs the log.
 *
 * <p><b>Checksums and quarantine</b> ({@link Quarantine}): every record read is checked; a record
 * that fails is moved aside, and from then on the key is absent (see {@link Store}'s quarantine
 * contract). Start-up goes on whatever it finds. A background scrub
 * ({@link StoreOptions#scrubBytesPerSec()}, {@link Scrubber}) verifies every record at a bounded
 * rate. RocksDB's own block checksums guard the table files underneath; a block that fails them
 * makes the read fail with a {@link StorageException}.
 *
 * <p><b>Upgrade</b>: a store of an older storage format, written by earlier releases, is
 * converted in place when opened ({@link FormatUpgrade}).
 *
 * <p>Blocking: point operations ({@code get}, {@code put}, {@code remove}, the meta calls, and
 * {@code scan} with a small limit) take microseconds on a warm cache and at worst one disk read,
 * so the event loop may call them directly; none of them waits for a sync.
 * {@link #forEach} and scans of large pages read the disk for as long as the range takes: run
 * them off the event loop, or page through with small scans. Opening the store replays the
 * write-ahead log and may recount or convert, which also blocks: open it before deploying the
 * verticle.
 *
 * <p>Thread-safe: RocksDB calls may run concurrently, and mutations (which read, then write the
 * counts) are serialized on the {@link StoreDatabase}. The syncer and the scrub run on their own
 * threads. {@link #close()} must come after every other call has returned; a call after close
 * throws {@link IllegalStateException}. Errors from RocksDB are {@link StorageException}s.
 */
public final class RocksDbStore implements Store, MetaStore, Durability, AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(RocksDbStore.class);

  private final Path dir;
  private final StoreOptions options;
  private final StoreDatabase database;
  private final StoreCounts counts;
  private final WalSyncer syncer;
  private final Quarantine quarantine;
  private final EntryWriter writer;
  private final MetaRecords meta;
  private final Scrubber scrubber;
  /** Guarded by the {@link StoreDatabase} monitor. */
  private boolean closing;

  /** Opens (creating if needed) the store in {@code dir} with {@link StoreOptions#DEFAULTS}. */
  public RocksDbStore(Path dir) {
    this(dir, StoreOptions.DEFAULTS);
  }

  /**
   * Opens (creating if needed, converting if older) the store in {@code dir}. Throws
   * {@link StorageException} if the directory can't be used, for instance because another
   * process has it open.
   */
  public RocksDbStore(Path dir, StoreOptions options) {
    this(dir, options, Clock.SYSTEM);
  }

  /** As above; the syncer and the scrub time themselves on {@code clock}. */
  public RocksDbStore(Path dir, StoreOptions options, Clock clock) {
    this.dir = Objects.requireNonNull(dir, "dir");
    this.options = Objects.requireNonNull(options, "options");
    StoreCounts loaded = new StoreCounts();
    database = StoreDatabase.open(dir, opened -> FormatUpgrade.load(opened, loaded));
    counts = loaded;
    syncer = new WalSyncer(options.durability(), options.fsyncIntervalMs(),
        database.db()::syncWal, dir.toString(), clock);
    quarantine = new Quarantine(database, counts, syncer);
    writer = new EntryWriter(database, counts, quarantine, syncer);
    meta = new MetaRecords(database, counts, syncer);
    scrubber = options.scrubBytesPerSec() > 0 ? new Scrubber(quarantine, dir,
        options.scrubBytesPerSec(), options.scrubPassPauseMs(), clock) : null;
  }

  // ---- reads ----------------------------------------------------------------------------------

  @Override
  public Entry get(String key) {
    database.checkOpen();
    byte[] keyBytes = Wtf8.encode(key);
    try {
      byte[] record = database.db().get(database.entries(), keyBytes);
      return record == null ? null : quarantine.verified(keyBytes, key, record);
    } catch (RocksDBException e) {
      throw database.failed("get", e);
    }
  }

  /** Visits every entry in key order. Reads the whole store: off the event loop (see above). */
  @Override
  public void forEach(Consumer<Entry> visitor) {
    database.checkOpen();
    try (RocksIterator it = database.db().newIterator(database.entries(),
        database.scanOptions())) {
      for (it.seekToFirst(); it.isValid(); it.next()) {
        Entry e = quarantine.verified(it);
        if (e != null) {
          visitor.accept(e);
        }
      }
      it.status();
    } catch (RocksDBException e) {
      throw database.failed("forEach", e);
    }
  }

  /**
   * Up to {@code limit} (at least 1) entries after {@code afterKey}, in key order, from a
   * consistent snapshot; damaged records are skipped (quarantined) and the page still fills.
   * Reads about {@code limit} records: see the class doc on blocking.
   */
  @Override
  public List<Entry> scan(String afterKey, int limit) {
    checkPage(limit);
    return database.page(database.entries(), afterKey, limit, "scan", quarantine::verified);
  }

  /**
   * Up to {@code limit} tombstones after {@code afterKey}, in key order, through the tombstone
   * index: reads about {@code limit} records however large the store is. An index record that
   * names no tombstone (it can only come from damage) is dropped as it is met.
   */
  @Override
  public List<Entry> scanTombstones(String afterKey, int limit) {
    checkPage(limit);
    List<Entry> page = new ArrayList<>();
    try (RocksIterator it = database.db().newIterator(database.tombstones(),
        database.scanOptions())) {
      StoreLayout.seekAfter(it, afterKey);
      for (; it.isValid() && page.size() < limit; it.next()) {
        byte[] keyBytes = it.key();
        byte[] record = database.db().get(database.entries(), keyBytes);
        Entry e = record == null ? null
            : quarantine.verified(keyBytes, keyOrNull(keyBytes), record);
        if (e != null && e.isTombstone()) {
          page.add(e);
        } else if (e != null || record == null) {
          writer.dropStaleIndexRecord(keyBytes);
        }
      }
      it.status();
    } catch (RocksDBException e) {
      throw database.failed("scanTombstones", e);
    }
    return page;
  }

  @Override
  public long liveCount() {
    synchronized (database) {
      database.checkOpen();
      return counts.live();
    }
  }

  @Override
  public long size() {
    synchronized (database) {
      database.checkOpen();
      return counts.size();
    }
  }

  // ---- writes ---------------------------------------------------------------------------------

  /**
   * Stores {@code entry}; it is readable (and survives SIGKILL) on return. A quarantined key is
   * repaired by it. See {@link #whenDurable()} for power loss.
   */
  @Override
  public void put(Entry entry) {
    writer.put(entry);
  }

  /** Forgets {@code key}: its entry, or its quarantined record (nothing left to repair). */
  @Override
  public void remove(String key) {
    writer.remove(key);
  }

  // ---- durability -----------------------------------------------------------------------------

  /**
   * Completes once every write that returned before this call (entries and metadata) is as
   * durable as the store's {@link DurabilityMode} promises: in SYNC, after a sync of the log
   * that started after those writes (group commit; at once if nothing is unsynced); in PERIODIC
   * and OS, at once. Fails with a {@link StorageException} if a sync failed. Never blocks; the
   * stage completes on the syncer's thread.
   */
  @Override
  public CompletionStage<Void> whenDurable() {
    database.checkOpen();
    return syncer.whenDurable();
  }

  /** The durability mode this store was opened with. */
  public DurabilityMode durabilityMode() {
    return options.durability();
  }

  /** What the log syncer has done since open. */
  public SyncStats syncStats() {
    return syncer.stats();
  }

  // ---- quarantine and scrub -------------------------------------------------------------------

  @Override
  public long quarantinedCount() {
    database.checkOpen();
    return counts.quarantined();
  }

  @Override
  public boolean isQuarantined(String key) {
    database.checkOpen();
    try {
      return quarantine.contains(Wtf8.encode(key));
    } catch (RocksDBException e) {
      throw database.failed("isQuarantined", e);
    }
  }

  /**
   * Quarantined keys after {@code afterKey}, in key order. Keys whose bytes were damaged too (not
   * WTF-8) cannot be named, so no replica can be asked for them: they are counted, not listed.
   */
  @Override
  public List<String> quarantinedKeys(String afterKey, int limit) {
    checkPage(limit);
    return quarantine.keys(afterKey, limit);
  }

  /** Damaged records found since open (quarantined, or overwritten before they were read). */
  public long corruptionsFound() {
    return counts.corruptionsFound();
  }

  /** What the scrub has done since open (zeros when it is off). */
  public ScrubStats scrubStats() {
    return scrubber == null ? new ScrubStats(0, 0, 0, 0, 0) : scrubber.stats();
  }

  /** Test support: stores {@code record} under {@code key} as is, as a damaged disk would. */
  void putRawForTest(String key, byte[] record) {
    writer.putRaw(key, record);
  }

  /** Test support: the record stored under {@code key}, as is. */
  byte[] getRawForTest(String key) {
    try {
      return database.db().get(database.entries(), Wtf8.encode(key));
    } catch (RocksDBException e) {
      throw database.failed("getRawForTest", e);
    }
  }

  // ---- metadata -------------------------------------------------------------------------------

  /** The value stored under metadata {@code name}, if any; a damaged one reads as absent. */
  @Override
  public Optional<byte[]> getMeta(String name) {
    return meta.getMeta(name);
  }

  /**
   * Stores {@code value} under metadata {@code name}, as durably as an entry: in SYNC mode it
   * asks for a sync at once (without waiting for it).
   */
  @Override
  public void putMeta(String name, byte[] value) {
    meta.putMeta(name, value);
  }

  /** The directory this store lives in. */
  public Path dir() {
    return dir;
  }

  // ---- closing --------------------------------------------------------------------------------

  /**
   * Stops the scrub and the syncer (after it served every waiter), syncs the write-ahead log (so
   * a clean shutdown survives power loss in every mode) and releases the database and its native
   * memory. Idempotent. Call it after every other call has returned.
   */
  @Override
  public void close() {
    synchronized (database) {
      if (closing) {
        return;
      }
      closing = true;
    }
    if (scrubber != null) {
      scrubber.close(); // outside the lock: the scrub may be waiting for it to quarantine
    }
    syncer.stop();
    synchronized (database) {
      database.markClosed();
      StorageException failure = null;
      try {
        database.db().flushWal(true);
      } catch (RocksDBException e) {
        failure = database.failed("close", e);
      }
      syncer.finish(failure == null);
      SyncStats sync = syncer.stats();
      LOG.info("event=store-closed store={} durability={} writes={} syncs={} sync-us-mean={} "
          + "acks-per-sync-max={} quarantined={} scrubbed-records={}", dir,
          options.durability().label(), sync.writes(), sync.syncs(),
          sync.syncs() == 0 ? 0 : sync.syncMicrosTotal() / sync.syncs(),
          sync.waitersPerSyncMax(), counts.quarantined(), scrubStats().records());
      database.release();
      if (failure != null) {
        throw failure;
      }
    }
  }

  // ------------------------------------------------ for GET /metrics (issue 18); nothing else

  /**
   * A numeric RocksDB property of the entries column family, such as
   * {@code rocksdb.estimate-num-keys} or {@code rocksdb.total-sst-files-size}; -1 once the store
   * is closed. These read statistics RocksDB keeps in memory: short enough for the event loop.
   */
  public long entriesProperty(String name) {
    return database.entriesProperty(name);
  }

  @Override
  public String toString() {
    return "RocksDbStore{" + dir + " live=" + counts.live() + " size=" + counts.size()
        + " quarantined=" + counts.quarantined() + " durability="
        + options.durability().label() + "}";
  }

  /** A paged read's precondition: a positive {@code limit} and an open store. */
  private void checkPage(int limit) {
    checkArgument(limit > 0, "limit must be > 0, got %s", limit);
    database.checkOpen();
  }
}
