package ringkv.node.storage;

import static ringkv.node.storage.StoreLayout.describeKey;
import static ringkv.node.storage.StoreLayout.keyOrNull;

import java.util.ArrayList;
import java.util.List;
import org.rocksdb.ReadOptions;
import org.rocksdb.RocksDB;
import org.rocksdb.RocksDBException;
import org.rocksdb.RocksIterator;
import org.rocksdb.WriteBatch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import ringkv.gossip.Entry;

/**
 * Record checks and the quarantine of a {@link RocksDbStore}: every record read is checked (its
 * CRC32C, then a strict decode); a record that fails is moved to the quarantine family in one
 * batch (the counts and the tombstone index follow), logged once with its key, counted, and from
 * then on the key is absent (see {@link ringkv.gossip.Store}'s quarantine contract) until a put
 * or a remove of it. Also the pages of the background {@link Scrubber}.
 *
 * <p>Thread-safe: reads hold no lock; moving a record aside holds the {@link StoreDatabase}
 * monitor, like every mutation, and does nothing once the store is closed.
 */
record Quarantine(StoreDatabase database, StoreCounts counts, WalSyncer syncer) {
  private static final Logger LOG = LoggerFactory.getLogger(RocksDbStore.class);

  /** Whether {@code keyBytes} has a quarantined record (no lookup while none is). */
  boolean contains(byte[] keyBytes) throws RocksDBException {
    return counts.quarantined() > 0
        && database.db().get(database.quarantine(), keyBytes) != null;
  }

  /**
   * Quarantined keys after {@code afterKey}, in key order. Keys whose bytes were damaged too (not
   * WTF-8) cannot be named, so no replica can be asked for them: they are counted, not listed.
   */
  List<String> keys(String afterKey, int limit) {
    return counts.quarantined() == 0 ? new ArrayList<>() : database.page(database.quarantine(),
        afterKey, limit, "quarantinedKeys", it -> keyOrNull(it.key()));
  }

  /** The entry {@code record} holds, or null if it is damaged: then it is quarantined. */
  Entry verified(byte[] keyBytes, String key, byte[] record) {
    if (key == null) {
      moveAside(keyBytes, null, "key bytes are not WTF-8");
      return null;
    }
    try {
      return EntryCodec.decode(key, keyBytes, record);
    } catch (CorruptEntryException e) {
      moveAside(keyBytes, key, e.getMessage());
      return null;
    }
  }

  /** The entry at {@code it}, or null if its record is damaged (then quarantined). */
  Entry verified(RocksIterator it) {
    byte[] keyBytes = it.key();
    return verified(keyBytes, keyOrNull(keyBytes), it.value());
  }

  /**
   * Moves the damaged record of {@code keyBytes} aside, unless it was replaced by a sound one
   * since it was read. Atomic with the counts and the index.
   */
  private boolean moveAside(byte[] keyBytes, String key, String defect) {
    synchronized (database) {
      if (database.isClosed()) {
        return false;
      }
      try {
        return moveAsideLocked(keyBytes, key, defect);
      } catch (RocksDBException e) {
        throw database.failed("quarantine", e);
      }
    }
  }

  private boolean moveAsideLocked(byte[] keyBytes, String key, String defect)
      throws RocksDBException {
    RocksDB db = database.db();
    byte[] current = db.get(database.entries(), keyBytes);
    if (current == null || key != null && isSound(key, keyBytes, current)) {
      return false; // replaced or removed since it was read
    }
    boolean wasTombstone = db.get(database.tombstones(), keyBytes) != null;
    boolean already = db.get(database.quarantine(), keyBytes) != null;
    long liveAfter = counts.live() - (wasTombstone ? 0 : 1);
    long sizeAfter = counts.size() - 1;
    try (WriteBatch batch = new WriteBatch()) {
      batch.delete(database.entries(), keyBytes);
      if (wasTombstone) {
        batch.delete(database.tombstones(), keyBytes);
      }
      batch.put(database.quarantine(), keyBytes, current);
      counts.commit(database, batch, liveAfter, sizeAfter);
    }
    syncer.noteWrite();
    counts.corruptionFound();
    if (!already) {
      counts.quarantinedAdded();
    }
    LOG.warn("event=record-quarantined store={} key={} defect=\"{}\" quarantined={}",
        database.dir(), describeKey(keyBytes), defect, counts.quarantined());
    return true;
  }

  private static boolean isSound(String key, byte[] keyBytes, byte[] record) {
    return defectOf(key, keyBytes, record) == null;
  }

  /** What is wrong with {@code record}, or null if it decodes. */
  private static String defectOf(String key, byte[] keyBytes, byte[] record) {
    try {
      EntryCodec.decode(key, keyBytes, record);
      return null;
    } catch (CorruptEntryException e) {
      return e.getMessage();
    }
  }

  /**
   * One page of the scrub: verifies the records after {@code afterKey} (null: from the first)
   * until {@code recordsMax} records or {@code bytesMax} bytes, quarantining damaged ones.
   * Holds no lock while reading; runs on the scrub's thread.
   */
  ScrubPage scrubPage(byte[] afterKey, int recordsMax, long bytesMax) {
    database.checkOpen();
    long bytes = 0;
    int records = 0;
    int bad = 0;
    byte[] last = afterKey;
    try (ReadOptions read = new ReadOptions().setFillCache(false).setVerifyChecksums(true);
        RocksIterator it = database.db().newIterator(database.entries(), read)) {
      StoreLayout.seekAfter(it, afterKey);
      for (; it.isValid() && records < recordsMax && bytes < bytesMax; it.next()) {
        byte[] keyBytes = it.key();
        byte[] record = it.value();
        last = keyBytes;
        records++;
        bytes += keyBytes.length + record.length;
        String key = keyOrNull(keyBytes);
        String defect = key == null ? "key bytes are not WTF-8"
            : defectOf(key, keyBytes, record);
        if (defect != null && moveAside(keyBytes, key, defect)) {
          bad++;
        }
      }
      it.status();
      return new ScrubPage(last, records, bytes, bad, !it.isValid());
    } catch (RocksDBException e) {
      throw database.failed("scrub", e);
    }
  }

  /** One page of the scrub: where it stopped, what it read, whether it reached the end. */
  record ScrubPage(byte[] lastKey, int records, long bytes, int quarantined, boolean end) {}
}
