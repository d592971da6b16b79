package ringkv.node.storage;

import static com.google.common.base.Preconditions.checkState;
import static ringkv.node.storage.StoreLayout.LIVE_COUNT_KEY;
import static ringkv.node.storage.StoreLayout.SIZE_KEY;
import static ringkv.node.storage.StoreLayout.encodeLong;

import org.rocksdb.ColumnFamilyHandle;
import org.rocksdb.RocksDBException;
import org.rocksdb.WriteBatch;

/**
 * The counts of a {@link RocksDbStore}: keys holding a value and entries (exact; written, sealed,
 * in every batch that changes them: {@link #put}), keys in quarantine, and damaged records found
 * since open.
 *
 * <p>{@link #live()}/{@link #size()} are guarded by the {@link StoreDatabase} monitor; the
 * quarantine and corruption counts are volatile, read without it (a read skips the quarantine
 * lookups while the quarantine is empty).
 */
final class StoreCounts {
  private long live;
  private long size;
  private volatile long quarantined;
  private volatile long corruptionsFound;

  long live() {
    return live;
  }

  long size() {
    return size;
  }

  long quarantined() {
    return quarantined;
  }

  long corruptionsFound() {
    return corruptionsFound;
  }

  /** After a batch that wrote these counts ({@link #put}) was applied. */
  void set(long liveAfter, long sizeAfter) {
    live = liveAfter;
    size = sizeAfter;
  }

  void setQuarantined(long keys) {
    quarantined = keys;
  }

  void quarantinedAdded() {
    quarantined++;
  }

  void quarantinedRemoved() {
    quarantined--;
  }

  void corruptionFound() {
    corruptionsFound++;
  }

  /**
   * Writes {@code batch} with the counts {@code liveAfter} and {@code sizeAfter} added, then
   * takes them: RocksDB applies the batch atomically. Call holding the database monitor.
   */
  void commit(StoreDatabase database, WriteBatch batch, long liveAfter, long sizeAfter)
      throws RocksDBException {
    put(batch, database.meta(), liveAfter, sizeAfter);
    database.db().write(database.writeOptions(), batch);
    set(liveAfter, sizeAfter);
  }

  /** Adds the sealed counts {@code liveAfter} and {@code sizeAfter} to {@code batch}. */
  static void put(WriteBatch batch, ColumnFamilyHandle meta, long liveAfter, long sizeAfter)
      throws RocksDBException {
    checkState(liveAfter >= 0 && sizeAfter >= liveAfter,
        "counts would become live=%s size=%s", liveAfter, sizeAfter);
    batch.put(meta, LIVE_COUNT_KEY, Checksums.seal(LIVE_COUNT_KEY, encodeLong(liveAfter)));
    batch.put(meta, SIZE_KEY, Checksums.seal(SIZE_KEY, encodeLong(sizeAfter)));
  }
}
