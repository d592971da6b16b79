package ringkv.node.storage;

import static java.nio.charset.StandardCharsets.US_ASCII;
import static ringkv.node.storage.StoreLayout.FORMAT_KEY;
import static ringkv.node.storage.StoreLayout.KEYS_END;
import static ringkv.node.storage.StoreLayout.LIVE_COUNT_KEY;
import static ringkv.node.storage.StoreLayout.META_NAME_PREFIX;
import static ringkv.node.storage.StoreLayout.NOTHING;
import static ringkv.node.storage.StoreLayout.SIZE_KEY;
import static ringkv.node.storage.StoreLayout.STORAGE_FORMAT;

import java.nio.ByteBuffer;
import org.rocksdb.RocksDB;
import org.rocksdb.RocksDBException;
import org.rocksdb.RocksIterator;
import org.rocksdb.WriteBatch;
import org.rocksdb.WriteOptions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import ringkv.gossip.Entry;

/**
 * What a {@link RocksDbStore} does when it opens: reads the counts, or rebuilds them, converting
 * an older store on the way.
 *
 * <p>A store of storage format 1 (no tombstone index) or 2 (records without checksums), written
 * by earlier releases, is converted in place: every record is rewritten with its checksum, in
 * batches, and the format is set last, so a conversion cut short by a crash resumes at the next
 * open. A store of the current format whose counts are missing or damaged is recounted the same
 * way. Damaged records met on the way are quarantined. Blocks for as long as the store takes to
 * read.
 */
final class FormatUpgrade {
  private static final Logger LOG = LoggerFactory.getLogger(RocksDbStore.class);
  /** Records rewritten per batch when converting or recounting a store on open. */
  static final int REBUILD_BATCH_RECORDS = 1024;

  private final StoreDatabase database;
  private final StoreCounts counts;

  private FormatUpgrade(StoreDatabase database, StoreCounts counts) {
    this.database = database;
    this.counts = counts;
  }

  /** Fills {@code counts} from the store just opened, converting or recounting it if needed. */
  static void load(StoreDatabase database, StoreCounts counts) throws RocksDBException {
    new FormatUpgrade(database, counts).loadOrRebuild();
  }

  /** Reads the counts; converts an older store, or recounts if the counts are missing or bad. */
  private void loadOrRebuild() throws RocksDBException {
    byte[] formatBytes = database.db().get(database.meta(), FORMAT_KEY);
    long format = formatBytes == null ? 0 : StoreLayout.decodeLong(formatBytes);
    if (format < 0 || format > STORAGE_FORMAT) {
      throw new StorageException("the store in " + database.dir() + " has format " + format
          + "; this build reads formats 1 to " + STORAGE_FORMAT);
    }
    if (format == STORAGE_FORMAT) {
      Long liveStored = readCount(LIVE_COUNT_KEY);
      Long sizeStored = readCount(SIZE_KEY);
      if (liveStored != null && sizeStored != null) {
        checkCounts(liveStored, sizeStored);
        counts.set(liveStored, sizeStored);
        counts.setQuarantined(countQuarantined());
        return;
      }
    }
    rebuild(format);
  }

  /** A stored count, or null if it is missing or fails its checksum. */
  private Long readCount(byte[] key) throws RocksDBException {
    byte[] sealed = database.db().get(database.meta(), key);
    byte[] bytes = sealed == null ? null : Checksums.unseal(key, sealed);
    if (sealed != null && (bytes == null || bytes.length != Long.BYTES)) {
      LOG.warn("event=count-damaged store={} key={}: recounting", database.dir(),
          new String(key, US_ASCII));
      return null;
    }
    return bytes == null ? null : ByteBuffer.wrap(bytes).getLong();
  }

  /**
   * Visits every record once: converts records of the format before checksums (only in a store
   * of an older format), quarantines damaged ones, rebuilds the tombstone index, counts; then
   * seals the metadata of an older store and writes the counts and the format, synced, in one
   * batch. Idempotent, so a rebuild cut short by a crash is simply run again at the next open.
   */
  private void rebuild(long format) throws RocksDBException {
    RocksDB db = database.db();
    boolean legacyAllowed = format < STORAGE_FORMAT;
    long liveCounted = 0;
    long sizeCounted = 0;
    long converted = 0;
    try (WriteBatch batch = new WriteBatch();
        RocksIterator it = db.newIterator(database.entries(), database.scanOptions())) {
      batch.deleteRange(database.tombstones(), NOTHING, KEYS_END); // rebuilt from the entries
      batch.delete(database.meta(), LIVE_COUNT_KEY);
      batch.delete(database.meta(), SIZE_KEY);
      db.write(database.writeOptions(), batch);
      batch.clear();
      for (it.seekToFirst(); it.isValid(); it.next()) {
        byte[] keyBytes = it.key();
        byte[] record = it.value();
        Entry e = rebuiltEntry(keyBytes, record, legacyAllowed);
        if (e == null) {
          batch.delete(database.entries(), keyBytes);
          batch.put(database.quarantine(), keyBytes, record);
          counts.corruptionFound();
        } else {
          if (EntryCodec.isLegacy(record)) {
            batch.put(database.entries(), keyBytes, EntryCodec.encode(e, keyBytes));
            converted++;
          }
          sizeCounted++;
          if (e.isTombstone()) {
            batch.put(database.tombstones(), keyBytes, NOTHING);
          } else {
            liveCounted++;
          }
        }
        if (batch.count() >= REBUILD_BATCH_RECORDS) {
          db.write(database.writeOptions(), batch);
          batch.clear();
        }
      }
      it.status();
      if (legacyAllowed) {
        sealMetadata(batch);
      }
      batch.put(database.meta(), FORMAT_KEY, StoreLayout.encodeLong(STORAGE_FORMAT));
      StoreCounts.put(batch, database.meta(), liveCounted, sizeCounted);
      try (WriteOptions synced = new WriteOptions().setSync(true)) {
        db.write(synced, batch); // also syncs every batch written before it
      }
    }
    counts.set(liveCounted, sizeCounted);
    long quarantined = countQuarantined();
    counts.setQuarantined(quarantined);
    if (format == 0 && sizeCounted == 0 && quarantined == 0) {
      return; // a new store
    }
    LOG.info("event=store-rebuilt store={} from-format={} format={} entries={} live={} "
        + "converted={} quarantined={}", database.dir(), format, STORAGE_FORMAT, sizeCounted,
        liveCounted, converted, quarantined);
  }

  /** The entry of a record met while rebuilding, or null if it is damaged (logged). */
  private Entry rebuiltEntry(byte[] keyBytes, byte[] record, boolean legacyAllowed) {
    String key = StoreLayout.keyOrNull(keyBytes);
    try {
      if (key == null) {
        throw new CorruptEntryException("key bytes are not WTF-8");
      }
      if (EntryCodec.isLegacy(record) && legacyAllowed) {
        return EntryCodec.decodeLegacy(key, record);
      }
      return EntryCodec.decode(key, keyBytes, record);
    } catch (CorruptEntryException e) {
      LOG.warn("event=record-quarantined store={} key={} defect=\"{}\"", database.dir(),
          StoreLayout.describeKey(keyBytes), e.getMessage());
      return null;
    }
  }

  /** Metadata of a store before checksums: the same values, sealed (in the final batch). */
  private void sealMetadata(WriteBatch batch) throws RocksDBException {
    byte[] prefix = META_NAME_PREFIX.getBytes(US_ASCII);
    try (RocksIterator it = database.db().newIterator(database.meta(),
        database.scanOptions())) {
      for (it.seek(prefix); it.isValid() && StoreLayout.startsWith(it.key(), prefix);
          it.next()) {
        batch.put(database.meta(), it.key(), Checksums.seal(it.key(), it.value()));
      }
      it.status();
    }
  }

  private long countQuarantined() throws RocksDBException {
    long n = 0;
    try (RocksIterator it = database.db().newIterator(database.quarantine(),
        database.scanOptions())) {
      for (it.seekToFirst(); it.isValid(); it.next()) {
        n++;
      }
      it.status();
    }
    if (n > 0) {
      LOG.warn("event=quarantine-open store={} quarantined={}: keys awaiting repair from a "
          + "replica", database.dir(), n);
    }
    return n;
  }

  private void checkCounts(long live, long size) {
    if (live < 0 || size < live) {
      throw new StorageException("the store in " + database.dir() + " has impossible counts "
          + "live=" + live + " size=" + size);
    }
  }
}
