package ringkv.node.storage;

import static com.google.common.base.Preconditions.checkArgument;
import static com.google.common.base.Preconditions.checkState;
import static java.nio.charset.StandardCharsets.US_ASCII;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Deque;
import java.util.HexFormat;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletionStage;
import java.util.function.Consumer;
import org.rocksdb.BlockBasedTableConfig;
import org.rocksdb.BloomFilter;
import org.rocksdb.ColumnFamilyDescriptor;
import org.rocksdb.ColumnFamilyHandle;
import org.rocksdb.ColumnFamilyOptions;
import org.rocksdb.CompressionType;
import org.rocksdb.DBOptions;
import org.rocksdb.LRUCache;
import org.rocksdb.ReadOptions;
import org.rocksdb.RocksDB;
import org.rocksdb.RocksDBException;
import org.rocksdb.RocksIterator;
import org.rocksdb.WriteBatch;
import org.rocksdb.WriteOptions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import ringkv.gossip.Entry;
import ringkv.gossip.Store;
import ringkv.gossip.Wtf8;

/**
 * A durable {@link Store} on embedded RocksDB in one directory (the node's {@code DATA_DIR}),
 * plus a small durable metadata map ({@link #getMeta}/{@link #putMeta}) for the cluster
 * configuration and the stable mark.
 *
 * <p>Layout: column family {@value #ENTRIES_FAMILY} maps the key's UTF-8 bytes ({@link Wtf8}) to
 * the {@link EntryCodec} record (checksummed), so RocksDB's bytewise order is
 * {@link ringkv.gossip.KeyOrder}, the same order as {@link ringkv.gossip.MemoryStore}. Column
 * family {@value #META_FAMILY} holds the storage format, the live and total entry counts, and the
 * metadata names (prefixed with {@code meta/}); counts and metadata values carry a CRC32C of
 * their key and value ({@link Checksums}). {@value #TOMBSTONES_FAMILY} indexes the keys whose
 * entry is a tombstone; {@value #QUARANTINE_FAMILY} keeps damaged records aside (key -> the
 * bytes found).
 *
 * <p>Invariants: {@link #liveCount()} and {@link #size()} are exact (quarantined records are not
 * entries). Every put or remove writes the entry, its index record and both new counts in one
 * {@link WriteBatch}, which RocksDB applies atomically, also when recovering from a crash; the
 * counts are recomputed on open if they are missing or damaged.
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
 * <p><b>Checksums and quarantine</b>: every record read is checked (its CRC32C, then a strict
 * decode). A record that fails is moved to the quarantine family in one batch (the counts and the
 * tombstone index follow), logged once with its key, counted, and from then on the key is absent
 * (see {@link Store}'s quarantine contract). Start-up goes on whatever it finds. A background
 * scrub ({@link StoreOptions#scrubBytesPerSec()}) verifies every record at a bounded rate.
 * RocksDB's own block checksums guard the table files underneath; a block that fails them makes
 * the read fail with a {@link StorageException}.
 *
 * <p><b>Upgrade</b>: a store of storage format 1 (no tombstone index) or 2 (records without
 * checksums), written by earlier releases, is converted in place when opened: every record is
 * rewritten with its checksum, in batches, and the format is set last, so a conversion cut short
 * by a crash resumes at the next open.
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
 * counts) are serialized on this object. The syncer and the scrub run on their own threads.
 * {@link #close()} must come after every other call has returned; a call after close throws
 * {@link IllegalStateException}. Errors from RocksDB are {@link StorageException}s.
 */
public final class RocksDbStore implements Store, MetaStore, Durability, AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(RocksDbStore.class);

  /** Block cache shared by both column families (data, index and filter blocks). */
  public static final long BLOCK_CACHE_BYTES = 64L << 20;
  /** Open table files kept by RocksDB (file descriptors). */
  public static final int OPEN_FILES_MAX = 256;
  /** Memtable size of the entries family before it is flushed to a table file. */
  public static final long ENTRIES_WRITE_BUFFER_BYTES = 16L << 20;
  /** Memtable size of the (tiny) meta family. */
  public static final long META_WRITE_BUFFER_BYTES = 1L << 20;
  /** Memtables per family (one being written, one being flushed). */
  public static final int WRITE_BUFFERS_PER_FAMILY_MAX = 2;
  /** Write-ahead log bytes kept before RocksDB forces flushes to let old logs go. */
  public static final long WAL_TOTAL_BYTES_MAX = 64L << 20;
  /** RocksDB's own LOG files: size of one, and how many are kept. */
  public static final long INFO_LOG_FILE_BYTES_MAX = 1L << 20;
  public static final int INFO_LOG_FILES_MAX = 3;
  /** Initial capacity bound of a scan's page list (the page grows past it if asked to). */
  private static final int SCAN_PAGE_CAPACITY_MAX = 1024;
  /** Records rewritten per batch when converting or recounting a store on open. */
  static final int REBUILD_BATCH_RECORDS = 1024;

  static final String ENTRIES_FAMILY = "entries";
  static final String META_FAMILY = "meta";
  /** Index of the keys whose entry is a tombstone (key -> empty), for tombstone sweeps. */
  static final String TOMBSTONES_FAMILY = "tombstones";
  /** Damaged records, moved aside (key -> the bytes found), until the key is repaired. */
  static final String QUARANTINE_FAMILY = "quarantine";
  private static final byte[] NOTHING = new byte[0];
  static final byte[] FORMAT_KEY = "format".getBytes(US_ASCII);
  static final byte[] LIVE_COUNT_KEY = "count/live".getBytes(US_ASCII);
  static final byte[] SIZE_KEY = "count/size".getBytes(US_ASCII);
  static final String META_NAME_PREFIX = "meta/";
  /** Above every key: valid UTF-8 and WTF-8 never contain the byte 0xFF. */
  private static final byte[] KEYS_END = {(byte) 0xFF};
  /**
   * Version of the layout above (families and meta keys). Format 2 added the tombstone index;
   * format 3 checksums (entry records of {@link EntryCodec#FORMAT_VERSION} 2, sealed counts and
   * metadata) and the quarantine family. Older stores are converted when opened.
   */
  static final long STORAGE_FORMAT = 3;

  static {
    RocksDB.loadLibrary();
  }

  private final Path dir;
  private final StoreOptions options;
  /** Native objects to close, most recently created first. */
  private final Deque<AutoCloseable> resources = new ArrayDeque<>();
  private final WriteOptions writeOptions;
  private final ReadOptions scanOptions;
  private final RocksDB db;
  private final ColumnFamilyHandle entries;
  private final ColumnFamilyHandle meta;
  private final ColumnFamilyHandle tombstones;
  private final ColumnFamilyHandle quarantine;
  private final WalSyncer syncer;
  private final Scrubber scrubber;
  private long live;
  private long size;
  /** Keys in the quarantine family; read without the lock to skip its lookups when 0. */
  private volatile long quarantined;
  /** Damaged records found since open (quarantined, or overwritten before they were read). */
  private volatile long corruptionsFound;
  private boolean closing;
  private volatile boolean closed;

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
    this.dir = Objects.requireNonNull(dir, "dir");
    this.options = Objects.requireNonNull(options, "options");
    try {
      Files.createDirectories(dir);
      writeOptions = own(new WriteOptions().setSync(false)); // synced by the WalSyncer
      scanOptions = own(new ReadOptions().setFillCache(false)); // bulk reads: keep hot blocks
      List<ColumnFamilyHandle> handles = new ArrayList<>();
      db = open(dir, handles);
      for (ColumnFamilyHandle h : handles) {
        resources.push(h); // handles close before the db (pushed after it)
      }
      entries = handles.get(1);
      meta = handles.get(2);
      tombstones = handles.get(3);
      quarantine = handles.get(4);
      loadOrRebuild();
    } catch (IOException | RocksDBException | RuntimeException e) {
      try {
        closeResources();
      } catch (RuntimeException suppressed) {
        e.addSuppressed(suppressed);
      }
      throw e instanceof StorageException se ? se
          : new StorageException("cannot open the store in " + dir + ": " + e.getMessage(), e);
    }
    syncer = new WalSyncer(options.durability(), options.fsyncIntervalMs(), db::syncWal,
        dir.toString());
    scrubber = options.scrubBytesPerSec() > 0
        ? new Scrubber(this, options.scrubBytesPerSec(), options.scrubPassPauseMs()) : null;
  }

  private RocksDB open(Path dir, List<ColumnFamilyHandle> handles) throws RocksDBException {
    LRUCache cache = own(new LRUCache(BLOCK_CACHE_BYTES));
    BloomFilter bloom = own(new BloomFilter(10));
    ColumnFamilyOptions entryOptions = own(new ColumnFamilyOptions()
        .setWriteBufferSize(ENTRIES_WRITE_BUFFER_BYTES)
        .setMaxWriteBufferNumber(WRITE_BUFFERS_PER_FAMILY_MAX)
        .setCompressionType(CompressionType.LZ4_COMPRESSION)
        .setTableFormatConfig(tableConfig(cache, bloom)));
    ColumnFamilyOptions metaOptions = own(new ColumnFamilyOptions()
        .setWriteBufferSize(META_WRITE_BUFFER_BYTES)
        .setMaxWriteBufferNumber(WRITE_BUFFERS_PER_FAMILY_MAX)
        .setTableFormatConfig(tableConfig(cache, bloom)));
    // The default family is required by RocksDB; nothing is stored in it.
    ColumnFamilyOptions defaultOptions = own(new ColumnFamilyOptions()
        .setWriteBufferSize(META_WRITE_BUFFER_BYTES));
    DBOptions options = own(new DBOptions()
        .setCreateIfMissing(true)
        .setCreateMissingColumnFamilies(true)
        .setMaxOpenFiles(OPEN_FILES_MAX)
        .setMaxTotalWalSize(WAL_TOTAL_BYTES_MAX)
        .setMaxLogFileSize(INFO_LOG_FILE_BYTES_MAX)
        .setKeepLogFileNum(INFO_LOG_FILES_MAX));
    List<ColumnFamilyDescriptor> families = List.of(
        new ColumnFamilyDescriptor(RocksDB.DEFAULT_COLUMN_FAMILY, defaultOptions),
        new ColumnFamilyDescriptor(ENTRIES_FAMILY.getBytes(US_ASCII), entryOptions),
        new ColumnFamilyDescriptor(META_FAMILY.getBytes(US_ASCII), metaOptions),
        new ColumnFamilyDescriptor(TOMBSTONES_FAMILY.getBytes(US_ASCII), metaOptions),
        new ColumnFamilyDescriptor(QUARANTINE_FAMILY.getBytes(US_ASCII), metaOptions));
    return own(RocksDB.open(options, dir.toString(), families, handles));
  }

  private static BlockBasedTableConfig tableConfig(LRUCache cache, BloomFilter bloom) {
    return new BlockBasedTableConfig()
        .setBlockCache(cache)
        .setFilterPolicy(bloom)
        .setCacheIndexAndFilterBlocks(true); // bounded by the cache, not by the data size
  }

  private <T extends AutoCloseable> T own(T resource) {
    resources.push(resource);
    return resource;
  }

  // ---- opening: counts, conversion ------------------------------------------------------------

  /** Reads the counts; converts an older store, or recounts if the counts are missing or bad. */
  private void loadOrRebuild() throws RocksDBException {
    byte[] formatBytes = db.get(meta, FORMAT_KEY);
    long format = formatBytes == null ? 0 : decodeLong(formatBytes);
    if (format < 0 || format > STORAGE_FORMAT) {
      throw new StorageException("the store in " + dir + " has format " + format
          + "; this build reads formats 1 to " + STORAGE_FORMAT);
    }
    if (format == STORAGE_FORMAT) {
      Long liveStored = readCount(LIVE_COUNT_KEY);
      Long sizeStored = readCount(SIZE_KEY);
      if (liveStored != null && sizeStored != null) {
        live = liveStored;
        size = sizeStored;
        checkCounts();
        quarantined = countQuarantined();
        return;
      }
    }
    rebuild(format);
  }

  /** A stored count, or null if it is missing or fails its checksum. */
  private Long readCount(byte[] key) throws RocksDBException {
    byte[] sealed = db.get(meta, key);
    byte[] bytes = sealed == null ? null : Checksums.unseal(key, sealed);
    if (sealed != null && (bytes == null || bytes.length != Long.BYTES)) {
      LOG.warn("event=count-damaged store={} key={}: recounting", dir,
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
    boolean legacyAllowed = format < STORAGE_FORMAT;
    long liveCounted = 0;
    long sizeCounted = 0;
    long converted = 0;
    try (WriteBatch batch = new WriteBatch(); RocksIterator it = db.newIterator(entries,
        scanOptions)) {
      batch.deleteRange(tombstones, NOTHING, KEYS_END); // rebuilt below, from the entries
      batch.delete(meta, LIVE_COUNT_KEY);
      batch.delete(meta, SIZE_KEY);
      db.write(writeOptions, batch);
      batch.clear();
      for (it.seekToFirst(); it.isValid(); it.next()) {
        byte[] keyBytes = it.key();
        byte[] record = it.value();
        Entry e = rebuiltEntry(keyBytes, record, legacyAllowed);
        if (e == null) {
          batch.delete(entries, keyBytes);
          batch.put(quarantine, keyBytes, record);
          corruptionsFound++;
        } else {
          if (EntryCodec.isLegacy(record)) {
            batch.put(entries, keyBytes, EntryCodec.encode(e, keyBytes));
            converted++;
          }
          sizeCounted++;
          if (e.isTombstone()) {
            batch.put(tombstones, keyBytes, NOTHING);
          } else {
            liveCounted++;
          }
        }
        if (batch.count() >= REBUILD_BATCH_RECORDS) {
          db.write(writeOptions, batch);
          batch.clear();
        }
      }
      it.status();
      if (legacyAllowed) {
        sealMetadata(batch);
      }
      batch.put(meta, FORMAT_KEY, encodeLong(STORAGE_FORMAT));
      putCounts(batch, liveCounted, sizeCounted);
      try (WriteOptions synced = new WriteOptions().setSync(true)) {
        db.write(synced, batch); // also syncs every batch written before it
      }
    }
    live = liveCounted;
    size = sizeCounted;
    quarantined = countQuarantined();
    if (format == 0 && sizeCounted == 0 && quarantined == 0) {
      return; // a new store
    }
    LOG.info("event=store-rebuilt store={} from-format={} format={} entries={} live={} "
        + "converted={} quarantined={}", dir, format, STORAGE_FORMAT, sizeCounted, liveCounted,
        converted, quarantined);
  }

  /** The entry of a record met while rebuilding, or null if it is damaged (logged). */
  private Entry rebuiltEntry(byte[] keyBytes, byte[] record, boolean legacyAllowed) {
    String key = keyOrNull(keyBytes);
    try {
      if (key == null) {
        throw new CorruptEntryException("key bytes are not WTF-8");
      }
      if (EntryCodec.isLegacy(record) && legacyAllowed) {
        return EntryCodec.decodeLegacy(key, record);
      }
      return EntryCodec.decode(key, keyBytes, record);
    } catch (CorruptEntryException e) {
      LOG.warn("event=record-quarantined store={} key={} defect=\"{}\"", dir,
          describeKey(keyBytes), e.getMessage());
      return null;
    }
  }

  /** Metadata of a store before checksums: the same values, sealed (in the final batch). */
  private void sealMetadata(WriteBatch batch) throws RocksDBException {
    byte[] prefix = META_NAME_PREFIX.getBytes(US_ASCII);
    try (RocksIterator it = db.newIterator(meta, scanOptions)) {
      for (it.seek(prefix); it.isValid() && startsWith(it.key(), prefix); it.next()) {
        batch.put(meta, it.key(), Checksums.seal(it.key(), it.value()));
      }
      it.status();
    }
  }

  private long countQuarantined() throws RocksDBException {
    long n = 0;
    try (RocksIterator it = db.newIterator(quarantine, scanOptions)) {
      for (it.seekToFirst(); it.isValid(); it.next()) {
        n++;
      }
      it.status();
    }
    if (n > 0) {
      LOG.warn("event=quarantine-open store={} quarantined={}: keys awaiting repair from a "
          + "replica", dir, n);
    }
    return n;
  }

  private void checkCounts() {
    if (live < 0 || size < live) {
      throw new StorageException("the store in " + dir + " has impossible counts live=" + live
          + " size=" + size);
    }
  }

  // ---- reads ----------------------------------------------------------------------------------

  @Override
  public Entry get(String key) {
    checkOpen();
    byte[] keyBytes = Wtf8.encode(key);
    try {
      byte[] record = db.get(entries, keyBytes);
      return record == null ? null : verified(keyBytes, key, record);
    } catch (RocksDBException e) {
      throw failed("get", e);
    }
  }

  /** The entry {@code record} holds, or null if it is damaged: then it is quarantined. */
  private Entry verified(byte[] keyBytes, String key, byte[] record) {
    if (key == null) {
      quarantine(keyBytes, null, "key bytes are not WTF-8");
      return null;
    }
    try {
      return EntryCodec.decode(key, keyBytes, record);
    } catch (CorruptEntryException e) {
      quarantine(keyBytes, key, e.getMessage());
      return null;
    }
  }

  private Entry verified(RocksIterator it) {
    byte[] keyBytes = it.key();
    return verified(keyBytes, keyOrNull(keyBytes), it.value());
  }

  /** Visits every entry in key order. Reads the whole store: off the event loop (see above). */
  @Override
  public void forEach(Consumer<Entry> visitor) {
    checkOpen();
    try (RocksIterator it = db.newIterator(entries, scanOptions)) {
      for (it.seekToFirst(); it.isValid(); it.next()) {
        Entry e = verified(it);
        if (e != null) {
          visitor.accept(e);
        }
      }
      it.status();
    } catch (RocksDBException e) {
      throw failed("forEach", e);
    }
  }

  /**
   * Up to {@code limit} (at least 1) entries after {@code afterKey}, in key order, from a
   * consistent snapshot; damaged records are skipped (quarantined) and the page still fills.
   * Reads about {@code limit} records: see the class doc on blocking.
   */
  @Override
  public List<Entry> scan(String afterKey, int limit) {
    checkArgument(limit > 0, "limit must be > 0, got %s", limit);
    checkOpen();
    List<Entry> page = new ArrayList<>(Math.min(limit, SCAN_PAGE_CAPACITY_MAX));
    try (RocksIterator it = db.newIterator(entries, scanOptions)) {
      seekAfter(it, afterKey);
      for (; it.isValid() && page.size() < limit; it.next()) {
        Entry e = verified(it);
        if (e != null) {
          page.add(e);
        }
      }
      it.status();
    } catch (RocksDBException e) {
      throw failed("scan", e);
    }
    return page;
  }

  private static void seekAfter(RocksIterator it, String afterKey) {
    if (afterKey == null) {
      it.seekToFirst();
      return;
    }
    byte[] after = Wtf8.encode(afterKey);
    it.seek(after); // the first key >= after
    if (it.isValid() && Arrays.equals(it.key(), after)) {
      it.next();
    }
  }

  /**
   * Up to {@code limit} tombstones after {@code afterKey}, in key order, through the tombstone
   * index: reads about {@code limit} records however large the store is. An index record that
   * names no tombstone (it can only come from damage) is dropped as it is met.
   */
  @Override
  public List<Entry> scanTombstones(String afterKey, int limit) {
    checkArgument(limit > 0, "limit must be > 0, got %s", limit);
    checkOpen();
    List<Entry> page = new ArrayList<>();
    try (RocksIterator it = db.newIterator(tombstones, scanOptions)) {
      seekAfter(it, afterKey);
      for (; it.isValid() && page.size() < limit; it.next()) {
        byte[] keyBytes = it.key();
        byte[] record = db.get(entries, keyBytes);
        Entry e = record == null ? null : verified(keyBytes, keyOrNull(keyBytes), record);
        if (e != null && e.isTombstone()) {
          page.add(e);
        } else if (e != null || record == null) {
          dropStaleIndexRecord(keyBytes);
        }
      }
      it.status();
    } catch (RocksDBException e) {
      throw failed("scanTombstones", e);
    }
    return page;
  }

  private synchronized void dropStaleIndexRecord(byte[] keyBytes) throws RocksDBException {
    byte[] record = db.get(entries, keyBytes);
    String key = keyOrNull(keyBytes);
    if (record != null && key != null && EntryCodec.checksumMatches(keyBytes, record)
        && EntryCodec.isTombstone(key, record)) {
      return; // became a tombstone meanwhile
    }
    db.delete(tombstones, writeOptions, keyBytes);
    LOG.warn("event=tombstone-index-repaired store={} key={}", dir, describeKey(keyBytes));
  }

  // ---- writes ---------------------------------------------------------------------------------

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
    corruptionsFound++;
    LOG.warn("event=damaged-record-replaced store={} key={}", dir, describeKey(keyBytes));
    return db.get(tombstones, keyBytes) != null ? Prior.TOMBSTONE : Prior.LIVE;
  }

  /**
   * Stores {@code entry}; it is readable (and survives SIGKILL) on return. A quarantined key is
   * repaired by it. See {@link #whenDurable()} for power loss.
   */
  @Override
  public synchronized void put(Entry entry) {
    checkOpen();
    byte[] key = Wtf8.encode(entry.key());
    byte[] record = EntryCodec.encode(entry, key);
    try {
      Prior prior = prior(entry.key(), key, db.get(entries, key));
      long liveAfter = live + (entry.isTombstone() ? 0 : 1) - (prior == Prior.LIVE ? 1 : 0);
      long sizeAfter = size + (prior == Prior.NONE ? 1 : 0);
      boolean repairs = isQuarantined(key);
      try (WriteBatch batch = new WriteBatch()) {
        batch.put(entries, key, record);
        if (entry.isTombstone()) {
          batch.put(tombstones, key, NOTHING);
        } else if (prior == Prior.TOMBSTONE) {
          batch.delete(tombstones, key);
        }
        if (repairs) {
          batch.delete(quarantine, key);
        }
        putCounts(batch, liveAfter, sizeAfter);
        db.write(writeOptions, batch);
      }
      syncer.noteWrite();
      live = liveAfter;
      size = sizeAfter;
      if (repairs) {
        quarantined--;
        LOG.info("event=record-repaired store={} key={} version={} quarantined={}", dir,
            describeKey(key), entry.version(), quarantined);
      }
    } catch (RocksDBException e) {
      throw failed("put", e);
    }
  }

  /** Forgets {@code key}: its entry, or its quarantined record (nothing left to repair). */
  @Override
  public synchronized void remove(String key) {
    checkOpen();
    byte[] keyBytes = Wtf8.encode(key);
    try {
      byte[] old = db.get(entries, keyBytes);
      boolean wasQuarantined = isQuarantined(keyBytes);
      if (old == null && !wasQuarantined) {
        return;
      }
      Prior prior = prior(key, keyBytes, old);
      long liveAfter = live - (prior == Prior.LIVE ? 1 : 0);
      long sizeAfter = size - (prior == Prior.NONE ? 0 : 1);
      try (WriteBatch batch = new WriteBatch()) {
        if (old != null) {
          batch.delete(entries, keyBytes);
        }
        if (prior == Prior.TOMBSTONE) {
          batch.delete(tombstones, keyBytes);
        }
        if (wasQuarantined) {
          batch.delete(quarantine, keyBytes);
        }
        putCounts(batch, liveAfter, sizeAfter);
        db.write(writeOptions, batch);
      }
      syncer.noteWrite();
      live = liveAfter;
      size = sizeAfter;
      if (wasQuarantined) {
        quarantined--;
      }
    } catch (RocksDBException e) {
      throw failed("remove", e);
    }
  }

  private void putCounts(WriteBatch batch, long liveAfter, long sizeAfter)
      throws RocksDBException {
    checkState(liveAfter >= 0 && sizeAfter >= liveAfter,
        "counts would become live=%s size=%s", liveAfter, sizeAfter);
    batch.put(meta, LIVE_COUNT_KEY, Checksums.seal(LIVE_COUNT_KEY, encodeLong(liveAfter)));
    batch.put(meta, SIZE_KEY, Checksums.seal(SIZE_KEY, encodeLong(sizeAfter)));
  }

  @Override
  public synchronized long liveCount() {
    checkOpen();
    return live;
  }

  @Override
  public synchronized long size() {
    checkOpen();
    return size;
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
    checkOpen();
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
    checkOpen();
    return quarantined;
  }

  @Override
  public boolean isQuarantined(String key) {
    checkOpen();
    try {
      return isQuarantined(Wtf8.encode(key));
    } catch (RocksDBException e) {
      throw failed("isQuarantined", e);
    }
  }

  private boolean isQuarantined(byte[] keyBytes) throws RocksDBException {
    return quarantined > 0 && db.get(quarantine, keyBytes) != null;
  }

  /**
   * Quarantined keys after {@code afterKey}, in key order. Keys whose bytes were damaged too (not
   * WTF-8) cannot be named, so no replica can be asked for them: they are counted, not listed.
   */
  @Override
  public List<String> quarantinedKeys(String afterKey, int limit) {
    checkArgument(limit > 0, "limit must be > 0, got %s", limit);
    checkOpen();
    List<String> page = new ArrayList<>();
    if (quarantined == 0) {
      return page;
    }
    try (RocksIterator it = db.newIterator(quarantine, scanOptions)) {
      seekAfter(it, afterKey);
      for (; it.isValid() && page.size() < limit; it.next()) {
        String key = keyOrNull(it.key());
        if (key != null) {
          page.add(key);
        }
      }
      it.status();
    } catch (RocksDBException e) {
      throw failed("quarantinedKeys", e);
    }
    return page;
  }

  /** Damaged records found since open (quarantined, or overwritten before they were read). */
  public long corruptionsFound() {
    return corruptionsFound;
  }

  /** What the scrub has done since open (zeros when it is off). */
  public ScrubStats scrubStats() {
    return scrubber == null ? new ScrubStats(0, 0, 0, 0, 0) : scrubber.stats();
  }

  /**
   * Moves the damaged record of {@code keyBytes} aside, unless it was replaced by a sound one
   * since it was read. Atomic with the counts and the index.
   */
  private synchronized boolean quarantine(byte[] keyBytes, String key, String defect) {
    if (closed) {
      return false;
    }
    try {
      byte[] current = db.get(entries, keyBytes);
      if (current == null || key != null && isSound(key, keyBytes, current)) {
        return false; // replaced or removed since it was read
      }
      boolean wasTombstone = db.get(tombstones, keyBytes) != null;
      boolean already = db.get(quarantine, keyBytes) != null;
      long liveAfter = live - (wasTombstone ? 0 : 1);
      try (WriteBatch batch = new WriteBatch()) {
        batch.delete(entries, keyBytes);
        if (wasTombstone) {
          batch.delete(tombstones, keyBytes);
        }
        batch.put(quarantine, keyBytes, current);
        putCounts(batch, liveAfter, size - 1);
        db.write(writeOptions, batch);
      }
      syncer.noteWrite();
      live = liveAfter;
      size--;
      corruptionsFound++;
      if (!already) {
        quarantined++;
      }
      LOG.warn("event=record-quarantined store={} key={} defect=\"{}\" quarantined={}", dir,
          describeKey(keyBytes), defect, quarantined);
      return true;
    } catch (RocksDBException e) {
      throw failed("quarantine", e);
    }
  }

  private static boolean isSound(String key, byte[] keyBytes, byte[] record) {
    try {
      EntryCodec.decode(key, keyBytes, record);
      return true;
    } catch (CorruptEntryException e) {
      return false;
    }
  }

  /**
   * One page of the scrub: verifies the records after {@code afterKey} (null: from the first)
   * until {@code recordsMax} records or {@code bytesMax} bytes, quarantining damaged ones.
   * Holds no lock while reading; runs on the scrub's thread.
   */
  ScrubPage scrubPage(byte[] afterKey, int recordsMax, long bytesMax) {
    checkOpen();
    long bytes = 0;
    int records = 0;
    int bad = 0;
    byte[] last = afterKey;
    try (ReadOptions read = new ReadOptions().setFillCache(false).setVerifyChecksums(true);
        RocksIterator it = db.newIterator(entries, read)) {
      if (afterKey == null) {
        it.seekToFirst();
      } else {
        it.seek(afterKey);
        if (it.isValid() && Arrays.equals(it.key(), afterKey)) {
          it.next();
        }
      }
      for (; it.isValid() && records < recordsMax && bytes < bytesMax; it.next()) {
        byte[] keyBytes = it.key();
        byte[] record = it.value();
        last = keyBytes;
        records++;
        bytes += keyBytes.length + record.length;
        String key = keyOrNull(keyBytes);
        if ((key == null || !isSound(key, keyBytes, record))
            && quarantine(keyBytes, key, key == null ? "key bytes are not WTF-8"
                : defectOf(key, keyBytes, record))) {
          bad++;
        }
      }
      it.status();
      return new ScrubPage(last, records, bytes, bad, !it.isValid());
    } catch (RocksDBException e) {
      throw failed("scrub", e);
    }
  }

  private static String defectOf(String key, byte[] keyBytes, byte[] record) {
    try {
      EntryCodec.decode(key, keyBytes, record);
      return "none";
    } catch (CorruptEntryException e) {
      return e.getMessage();
    }
  }

  /** One page of the scrub: where it stopped, what it read, whether it reached the end. */
  record ScrubPage(byte[] lastKey, int records, long bytes, int quarantined, boolean end) {}

  /** Test support: stores {@code record} under {@code key} as is, as a damaged disk would. */
  synchronized void putRawForTest(String key, byte[] record) {
    try {
      db.put(entries, writeOptions, Wtf8.encode(key), record);
    } catch (RocksDBException e) {
      throw failed("putRawForTest", e);
    }
  }

  /** Test support: the record stored under {@code key}, as is. */
  byte[] getRawForTest(String key) {
    try {
      return db.get(entries, Wtf8.encode(key));
    } catch (RocksDBException e) {
      throw failed("getRawForTest", e);
    }
  }

  // ---- metadata -------------------------------------------------------------------------------

  /**
   * The value last stored under metadata {@code name}, if any. A value that fails its checksum
   * is reported (WARN) and read as absent: the configuration then comes from the cluster, and a
   * missing stable mark only makes the node re-send more of its writes.
   */
  @Override
  public Optional<byte[]> getMeta(String name) {
    checkOpen();
    byte[] key = metaKey(name);
    try {
      byte[] sealed = db.get(meta, key);
      if (sealed == null) {
        return Optional.empty();
      }
      byte[] value = Checksums.unseal(key, sealed);
      if (value == null) {
        corruptionsFound++;
        LOG.warn("event=meta-damaged store={} name={}: read as absent", dir, name);
      }
      return Optional.ofNullable(value);
    } catch (RocksDBException e) {
      throw failed("getMeta", e);
    }
  }

  /**
   * Stores {@code value} under metadata {@code name}, replacing any previous value, as durably
   * as an entry: in SYNC mode it asks for a sync at once (without waiting for it).
   */
  @Override
  public synchronized void putMeta(String name, byte[] value) {
    checkOpen();
    Objects.requireNonNull(value, "value");
    byte[] key = metaKey(name);
    try {
      db.put(meta, writeOptions, key, Checksums.seal(key, value));
    } catch (RocksDBException e) {
      throw failed("putMeta", e);
    }
    syncer.noteWrite();
    syncer.requestSync();
  }

  private static byte[] metaKey(String name) {
    Objects.requireNonNull(name, "name");
    checkArgument(!name.isEmpty(), "metadata name must not be empty");
    return Wtf8.encode(META_NAME_PREFIX + name);
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
    synchronized (this) {
      if (closing) {
        return;
      }
      closing = true;
    }
    if (scrubber != null) {
      scrubber.close(); // outside the lock: the scrub may be waiting for it to quarantine
    }
    syncer.stop();
    synchronized (this) {
      closed = true;
      StorageException failure = null;
      try {
        db.flushWal(true);
      } catch (RocksDBException e) {
        failure = failed("close", e);
      }
      syncer.finish(failure == null);
      SyncStats sync = syncer.stats();
      LOG.info("event=store-closed store={} durability={} writes={} syncs={} sync-us-mean={} "
          + "acks-per-sync-max={} quarantined={} scrubbed-records={}", dir,
          options.durability().label(), sync.writes(), sync.syncs(),
          sync.syncs() == 0 ? 0 : sync.syncMicrosTotal() / sync.syncs(),
          sync.waitersPerSyncMax(), quarantined, scrubStats().records());
      closeResources();
      if (failure != null) {
        throw failure;
      }
    }
  }

  private void closeResources() {
    IllegalStateException failure = null;
    while (!resources.isEmpty()) {
      try {
        resources.pop().close();
      } catch (Exception e) { // only on a bug; the rest must still be released
        if (failure == null) {
          failure = new IllegalStateException("closing the store in " + dir + " failed", e);
        }
      }
    }
    if (failure != null) {
      throw failure;
    }
  }

  private void checkOpen() {
    checkState(!closed, "the store in %s is closed", dir);
  }

  private StorageException failed(String operation, RocksDBException e) {
    return new StorageException(operation + " failed in " + dir + ": " + e.getMessage(), e);
  }

  // ---- helpers --------------------------------------------------------------------------------

  private static String keyOrNull(byte[] keyBytes) {
    try {
      return Wtf8.decode(keyBytes);
    } catch (IllegalArgumentException e) {
      return null;
    }
  }

  /** A key for a log line: quoted text, or hex bytes if they are not text. */
  private static String describeKey(byte[] keyBytes) {
    String key = keyOrNull(keyBytes);
    return key != null ? "'" + key + "'" : "0x" + HexFormat.of().formatHex(keyBytes);
  }

  private static boolean startsWith(byte[] bytes, byte[] prefix) {
    return bytes.length >= prefix.length
        && Arrays.equals(bytes, 0, prefix.length, prefix, 0, prefix.length);
  }

  private static byte[] encodeLong(long v) {
    return ByteBuffer.allocate(Long.BYTES).putLong(v).array();
  }

  private static long decodeLong(byte[] bytes) {
    if (bytes.length != Long.BYTES) {
      throw new StorageException("bad counter record of " + bytes.length + " bytes");
    }
    return ByteBuffer.wrap(bytes).getLong();
  }

  // ------------------------------------------------ for GET /metrics (issue 18); nothing else

  /**
   * A numeric RocksDB property of the entries column family, such as
   * {@code rocksdb.estimate-num-keys} or {@code rocksdb.total-sst-files-size}; -1 once the store
   * is closed. These read statistics RocksDB keeps in memory: short enough for the event loop.
   */
  public synchronized long entriesProperty(String name) {
    if (closed) {
      return -1;
    }
    try {
      return db.getLongProperty(entries, name);
    } catch (RocksDBException e) {
      throw failed("reading property " + name, e);
    }
  }

  @Override
  public String toString() {
    return "RocksDbStore{" + dir + " live=" + live + " size=" + size + " quarantined="
        + quarantined + " durability=" + options.durability().label() + "}";
  }
}
