package ringkv.node.storage;

import static ringkv.node.storage.StoreLayout.NOTHING;
import static ringkv.node.storage.StoreLayout.describeKey;

import org.rocksdb.RocksDB;
import org.rocksdb.RocksDBException;
import org.rocksdb.WriteBatch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import ringkv.gossip.Entry;
import ringkv.gossip.Wtf8;

/**
 * The writes of a {@link RocksDbStore}: every put or remove writes the entry, its tombstone index
 * record, the release of a quarantined record it repairs, and both new counts in one
 * {@link WriteBatch}, which RocksDB applies atomically, also when recovering from a crash. The
 * log is not synced here: the store's {@link WalSyncer} is told of each write.
 *
 * <p>Thread-safe: each write holds the {@link StoreDatabase} monitor (it reads, then writes the
 * counts) and fails once the store is closed.
 */
final class EntryWriter {
  private static final Logger LOG = LoggerFactory.getLogger(RocksDbStore.class);

  private final StoreDatabase database;
  private final StoreCounts counts;
  private final Quarantine quarantine;
  private final WalSyncer syncer;

  EntryWriter(StoreDatabase database, StoreCounts counts, Quarantine quarantine,
      WalSyncer syncer) {
    this.database = database;
    this.counts = counts;
    this.quarantine = quarantine;
    this.syncer = syncer;
  }

  /** What a key held before a write, as far as the counts and the index are concerned. */
  private enum Prior {
    NONE, LIVE, TOMBSTONE
  }

  /**
   * {@code old}'s kind. A damaged record is classified by the tombstone index, which the counts
   * agree with; it is about to be replaced, so it is counted and logged but not quarantined.
   */
  private Prior prior(String key, byte[] keyBytes, byte[] old) throws RocksDBException {
    if (old == null) {
      return Prior.NONE;
    }
    if (EntryCodec.checksumMatches(keyBytes, old)) {
      return EntryCodec.isTombstone(key, old) ? Prior.TOMBSTONE : Prior.LIVE;
    }
    counts.corruptionFound();
    LOG.warn("event=damaged-record-replaced store={} key={}", database.dir(),
        describeKey(keyBytes));
    return database.db().get(database.tombstones(), keyBytes) != null
        ? Prior.TOMBSTONE : Prior.LIVE;
  }

  /** Stores {@code entry}, repairing a quarantined record of its key. */
  void put(Entry entry) {
    database.locked("put", () -> putLocked(entry));
  }

  private void putLocked(Entry entry) throws RocksDBException {
    RocksDB db = database.db();
    byte[] key = Wtf8.encode(entry.key());
    byte[] record = EntryCodec.encode(entry, key);
    Prior prior = prior(entry.key(), key, db.get(database.entries(), key));
    long liveAfter = counts.live() + (entry.isTombstone() ? 0 : 1)
        - (prior == Prior.LIVE ? 1 : 0);
    long sizeAfter = counts.size() + (prior == Prior.NONE ? 1 : 0);
    boolean repairs = quarantine.contains(key);
    commit(key, record, entry.isTombstone(), prior, repairs, liveAfter, sizeAfter);
    if (repairs) {
      LOG.info("event=record-repaired store={} key={} version={} quarantined={}",
          database.dir(), describeKey(key), entry.version(), counts.quarantined());
    }
  }

  /** Forgets {@code key}: its entry, or its quarantined record (nothing left to repair). */
  void remove(String key) {
    database.locked("remove", () -> removeLocked(key));
  }

  private void removeLocked(String key) throws RocksDBException {
    byte[] keyBytes = Wtf8.encode(key);
    RocksDB db = database.db();
    byte[] old = db.get(database.entries(), keyBytes);
    boolean wasQuarantined = quarantine.contains(keyBytes);
    if (old == null && !wasQuarantined) {
      return;
    }
    Prior prior = prior(key, keyBytes, old);
    long liveAfter = counts.live() - (prior == Prior.LIVE ? 1 : 0);
    long sizeAfter = counts.size() - (prior == Prior.NONE ? 0 : 1);
    commit(keyBytes, null, false, prior, wasQuarantined, liveAfter, sizeAfter);
  }

  /**
   * Writes the new state of {@code key} in one batch with the counts: its {@code record} (null:
   * none), its tombstone index record, and the release of its quarantined record.
   */
  private void commit(byte[] key, byte[] record, boolean tombstone, Prior prior,
      boolean releases, long liveAfter, long sizeAfter) throws RocksDBException {
    try (WriteBatch batch = new WriteBatch()) {
      if (record != null) {
        batch.put(database.entries(), key, record);
      } else if (prior != Prior.NONE) {
        batch.delete(database.entries(), key);
      }
      if (tombstone) {
        batch.put(database.tombstones(), key, NOTHING);
      } else if (prior == Prior.TOMBSTONE) {
        batch.delete(database.tombstones(), key);
      }
      if (releases) {
        batch.delete(database.quarantine(), key);
      }
      counts.commit(database, batch, liveAfter, sizeAfter);
    }
    syncer.noteWrite();
    if (releases) {
      counts.quarantinedRemoved();
    }
  }

  /**
   * Drops the tombstone index record of {@code keyBytes}, met naming no tombstone (it can only
   * come from damage), unless the key became a tombstone meanwhile.
   */
  void dropStaleIndexRecord(byte[] keyBytes) throws RocksDBException {
    synchronized (database) {
      byte[] record = database.db().get(database.entries(), keyBytes);
      String key = StoreLayout.keyOrNull(keyBytes);
      if (record != null && key != null && EntryCodec.checksumMatches(keyBytes, record)
          && EntryCodec.isTombstone(key, record)) {
        return; // became a tombstone meanwhile
      }
      database.db().delete(database.tombstones(), database.writeOptions(), keyBytes);
      LOG.warn("event=tombstone-index-repaired store={} key={}", database.dir(),
          describeKey(keyBytes));
    }
  }

  /** Test support: stores {@code record} under {@code key} as is, as a damaged disk would. */
  void putRaw(String key, byte[] record) {
    database.locked("putRawForTest", () -> database.db().put(database.entries(),
        database.writeOptions(), Wtf8.encode(key), record));
  }
}
