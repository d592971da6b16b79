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
import java.util.List;
import java.util.Objects;
import java.util.Optional;
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
import ringkv.gossip.Entry;
import ringkv.gossip.Store;
import ringkv.gossip.Wtf8;

/**
 * A durable {@link Store} on embedded RocksDB in one directory (the node's {@code DATA_DIR}),
 * plus a small durable metadata map ({@link #getMeta}/{@link #putMeta}) for the cluster
 * configuration and the Lamport clock.
 *
 * <p>Layout: column family {@value #ENTRIES_FAMILY} maps the key's UTF-8 bytes ({@link Wtf8}) to
 * the {@link EntryCodec} record, so RocksDB's bytewise order is {@link ringkv.gossip.KeyOrder},
 * the same order as {@link ringkv.gossip.MemoryStore}. Column family {@value #META_FAMILY} holds
 * the storage format, the live and total entry counts, and the metadata names (prefixed with
 * {@code meta/}).
 *
 * <p>Invariants: {@link #liveCount()} and {@link #size()} are exact. Every put or remove writes
 * the entry and both new counts in one {@link WriteBatch}, which RocksDB applies atomically, also
 * when recovering from a crash; the counts are recomputed on open if they are missing.
 *
 * <p>Durability: every write goes through the write-ahead log. With {@code syncWrites == false}
 * (the default) a write is in the OS page cache when it returns, so an acknowledged write survives
 * SIGKILL of the process, but not a power loss or kernel crash, which may lose the last writes.
 * With {@code syncWrites == true} each write also fsyncs the log: it survives a power loss too, at
 * the cost of one fsync (about a millisecond or more) per write. {@link #close()} syncs the log.
 *
 * <p>Blocking: point operations ({@code get}, {@code put}, {@code remove}, the meta calls, and
 * {@code scan} with a small limit) take microseconds on a warm cache and at worst one disk read,
 * so the event loop may call them directly (a synced write waits for an fsync: with
 * {@code syncWrites} call writes off the event loop). {@link #forEach} and scans of large pages
 * (thousands of entries or megabytes) read the disk for as long as the range takes: run them off
 * the event loop ({@code executeBlocking} or a worker), or page through with small scans. Opening
 * the store replays the write-ahead log and may recount, which also blocks: open it before
 * deploying the verticle.
 *
 * <p>Thread-safe: RocksDB calls may run concurrently, and mutations (which read, then write the
 * counts) are serialized on this object. {@link #close()} must come after every other call has
 * returned; a call after close throws {@link IllegalStateException}. Errors from RocksDB are
 * {@link StorageException}s; records that don't decode are {@link CorruptEntryException}s.
 */
public final class RocksDbStore implements Store, MetaStore, AutoCloseable {

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

  static final String ENTRIES_FAMILY = "entries";
  static final String META_FAMILY = "meta";
  /** Index of the keys whose entry is a tombstone (key -> empty), for tombstone sweeps. */
  static final String TOMBSTONES_FAMILY = "tombstones";
  private static final byte[] NOTHING = new byte[0];
  static final byte[] FORMAT_KEY = "format".getBytes(US_ASCII);
  static final byte[] LIVE_COUNT_KEY = "count/live".getBytes(US_ASCII);
  static final byte[] SIZE_KEY = "count/size".getBytes(US_ASCII);
  static final String META_NAME_PREFIX = "meta/";
  /**
   * Version of the layout above (families and meta keys); entries carry their own version.
   * Format 2 added the tombstone index; a format 1 store gets it built when opened.
   */
  static final long STORAGE_FORMAT = 2;

  static {
    RocksDB.loadLibrary();
  }

  private final Path dir;
  /** Native objects to close, most recently created first. */
  private final Deque<AutoCloseable> resources = new ArrayDeque<>();
  private final WriteOptions writeOptions;
  private final ReadOptions scanOptions;
  private final RocksDB db;
  private final ColumnFamilyHandle entries;
  private final ColumnFamilyHandle meta;
  private final ColumnFamilyHandle tombstones;
  private long live;
  private long size;
  private volatile boolean closed;

  /** Opens (creating if needed) the store in {@code dir}, with unsynced writes (see above). */
  public RocksDbStore(Path dir) {
    this(dir, false);
  }

  /**
   * Opens (creating if needed) the store in {@code dir}. {@code syncWrites}: fsync the
   * write-ahead log on every write (survives power loss) instead of leaving it to the OS
   * (survives SIGKILL). Throws {@link StorageException} if the directory can't be used, for
   * instance because another process has it open.
   */
  public RocksDbStore(Path dir, boolean syncWrites) {
    this.dir = Objects.requireNonNull(dir, "dir");
    try {
      Files.createDirectories(dir);
      writeOptions = own(new WriteOptions().setSync(syncWrites));
      scanOptions = own(new ReadOptions().setFillCache(false)); // bulk reads: keep hot blocks
      List<ColumnFamilyHandle> handles = new ArrayList<>();
      db = open(dir, handles);
      for (ColumnFamilyHandle h : handles) {
        resources.push(h); // handles close before the db (pushed after it)
      }
      entries = handles.get(1);
      meta = handles.get(2);
      tombstones = handles.get(3);
      loadCounts();
    } catch (IOException | RocksDBException | RuntimeException e) {
      closeResources();
      throw e instanceof StorageException se ? se
          : new StorageException("cannot open the store in " + dir + ": " + e.getMessage(), e);
    }
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
        new ColumnFamilyDescriptor(TOMBSTONES_FAMILY.getBytes(US_ASCII), metaOptions));
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

  /** Reads the counts, or recomputes and stores them if they are missing. */
  private void loadCounts() throws RocksDBException {
    byte[] format = db.get(meta, FORMAT_KEY);
    if (format != null && decodeLong(format) != STORAGE_FORMAT && decodeLong(format) != 1) {
      throw new StorageException("the store in " + dir + " has format " + decodeLong(format)
          + "; this build reads formats 1 and " + STORAGE_FORMAT);
    }
    byte[] liveBytes = db.get(meta, LIVE_COUNT_KEY);
    byte[] sizeBytes = db.get(meta, SIZE_KEY);
    if (format != null && decodeLong(format) == STORAGE_FORMAT && liveBytes != null
        && sizeBytes != null) {
      live = decodeLong(liveBytes);
      size = decodeLong(sizeBytes);
      checkCounts();
      return;
    }
    // A new store, or one written before the counts or the tombstone index: count and index
    // every entry once.
    long liveCounted = 0;
    long sizeCounted = 0;
    try (RocksIterator it = db.newIterator(entries, scanOptions);
        WriteBatch index = new WriteBatch()) {
      for (it.seekToFirst(); it.isValid(); it.next()) {
        sizeCounted++;
        if (!EntryCodec.isTombstone(Wtf8.decode(it.key()), it.value())) {
          liveCounted++;
        } else {
          index.put(tombstones, it.key(), NOTHING);
        }
      }
      it.status();
      db.write(writeOptions, index);
    }
    try (WriteBatch batch = new WriteBatch(); WriteOptions synced = new WriteOptions()) {
      batch.put(meta, FORMAT_KEY, encodeLong(STORAGE_FORMAT));
      batch.put(meta, LIVE_COUNT_KEY, encodeLong(liveCounted));
      batch.put(meta, SIZE_KEY, encodeLong(sizeCounted));
      db.write(synced.setSync(true), batch);
    }
    live = liveCounted;
    size = sizeCounted;
  }

  private void checkCounts() {
    if (live < 0 || size < live) {
      throw new StorageException("the store in " + dir + " has impossible counts live=" + live
          + " size=" + size);
    }
  }

  @Override
  public Entry get(String key) {
    checkOpen();
    try {
      byte[] record = db.get(entries, Wtf8.encode(key));
      return record == null ? null : EntryCodec.decode(key, record);
    } catch (RocksDBException e) {
      throw failed("get", e);
    }
  }

  @Override
  public synchronized void put(Entry entry) {
    checkOpen();
    byte[] key = Wtf8.encode(entry.key());
    byte[] record = EntryCodec.encode(entry);
    try {
      byte[] old = db.get(entries, key);
      long liveAfter = live + liveDelta(entry.key(), old, !entry.isTombstone());
      long sizeAfter = size + (old == null ? 1 : 0);
      try (WriteBatch batch = new WriteBatch()) {
        batch.put(entries, key, record);
        if (entry.isTombstone()) {
          batch.put(tombstones, key, NOTHING);
        } else if (old != null && EntryCodec.isTombstone(entry.key(), old)) {
          batch.delete(tombstones, key);
        }
        putCounts(batch, liveAfter, sizeAfter);
        db.write(writeOptions, batch);
      }
      live = liveAfter;
      size = sizeAfter;
    } catch (RocksDBException e) {
      throw failed("put", e);
    }
  }

  @Override
  public synchronized void remove(String key) {
    checkOpen();
    byte[] keyBytes = Wtf8.encode(key);
    try {
      byte[] old = db.get(entries, keyBytes);
      if (old == null) {
        return;
      }
      long liveAfter = live + liveDelta(key, old, false);
      try (WriteBatch batch = new WriteBatch()) {
        batch.delete(entries, keyBytes);
        if (EntryCodec.isTombstone(key, old)) {
          batch.delete(tombstones, keyBytes);
        }
        putCounts(batch, liveAfter, size - 1);
        db.write(writeOptions, batch);
      }
      live = liveAfter;
      size--;
    } catch (RocksDBException e) {
      throw failed("remove", e);
    }
  }

  private static int liveDelta(String key, byte[] old, boolean liveAfter) {
    int before = old != null && !EntryCodec.isTombstone(key, old) ? 1 : 0;
    return (liveAfter ? 1 : 0) - before;
  }

  private void putCounts(WriteBatch batch, long liveAfter, long sizeAfter)
      throws RocksDBException {
    checkState(liveAfter >= 0 && sizeAfter >= liveAfter,
        "counts would become live=%s size=%s", liveAfter, sizeAfter);
    batch.put(meta, LIVE_COUNT_KEY, encodeLong(liveAfter));
    batch.put(meta, SIZE_KEY, encodeLong(sizeAfter));
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

  /** Visits every entry in key order. Reads the whole store: off the event loop (see above). */
  @Override
  public void forEach(Consumer<Entry> visitor) {
    checkOpen();
    try (RocksIterator it = db.newIterator(entries, scanOptions)) {
      for (it.seekToFirst(); it.isValid(); it.next()) {
        visitor.accept(decode(it));
      }
      it.status();
    } catch (RocksDBException e) {
      throw failed("forEach", e);
    }
  }

  /**
   * Up to {@code limit} (at least 1) entries after {@code afterKey}, in key order, from a
   * consistent snapshot. Reads about {@code limit} records: see the class doc on blocking.
   */
  @Override
  public List<Entry> scan(String afterKey, int limit) {
    checkArgument(limit > 0, "limit must be > 0, got %s", limit);
    checkOpen();
    List<Entry> page = new ArrayList<>(Math.min(limit, SCAN_PAGE_CAPACITY_MAX));
    try (RocksIterator it = db.newIterator(entries, scanOptions)) {
      if (afterKey == null) {
        it.seekToFirst();
      } else {
        byte[] after = Wtf8.encode(afterKey);
        it.seek(after); // the first key >= after
        if (it.isValid() && Arrays.equals(it.key(), after)) {
          it.next();
        }
      }
      for (; it.isValid() && page.size() < limit; it.next()) {
        page.add(decode(it));
      }
      it.status();
    } catch (RocksDBException e) {
      throw failed("scan", e);
    }
    return page;
  }

  /**
   * Up to {@code limit} tombstones after {@code afterKey}, in key order, through the tombstone
   * index: reads about {@code limit} records however large the store is.
   */
  @Override
  public List<Entry> scanTombstones(String afterKey, int limit) {
    checkArgument(limit > 0, "limit must be > 0, got %s", limit);
    checkOpen();
    List<Entry> page = new ArrayList<>();
    try (RocksIterator it = db.newIterator(tombstones, scanOptions)) {
      if (afterKey == null) {
        it.seekToFirst();
      } else {
        byte[] after = Wtf8.encode(afterKey);
        it.seek(after);
        if (it.isValid() && Arrays.equals(it.key(), after)) {
          it.next();
        }
      }
      for (; it.isValid() && page.size() < limit; it.next()) {
        byte[] keyBytes = it.key();
        byte[] record = db.get(entries, keyBytes);
        if (record == null) {
          throw new CorruptEntryException("tombstone index names a missing key "
              + Arrays.toString(keyBytes));
        }
        page.add(EntryCodec.decode(Wtf8.decode(keyBytes), record));
      }
      it.status();
    } catch (RocksDBException e) {
      throw failed("scanTombstones", e);
    }
    return page;
  }

  private static Entry decode(RocksIterator it) {
    byte[] keyBytes = it.key();
    String key;
    try {
      key = Wtf8.decode(keyBytes);
    } catch (IllegalArgumentException e) {
      throw new CorruptEntryException("corrupt key " + Arrays.toString(keyBytes) + ": "
          + e.getMessage(), e);
    }
    return EntryCodec.decode(key, it.value());
  }

  /** The value last stored under metadata {@code name}, if any. */
  @Override
  public Optional<byte[]> getMeta(String name) {
    checkOpen();
    try {
      return Optional.ofNullable(db.get(meta, metaKey(name)));
    } catch (RocksDBException e) {
      throw failed("getMeta", e);
    }
  }

  /**
   * Stores {@code value} under metadata {@code name}, replacing any previous value, as durably
   * as an entry (see the class doc on {@code syncWrites}).
   */
  @Override
  public synchronized void putMeta(String name, byte[] value) {
    checkOpen();
    Objects.requireNonNull(value, "value");
    try {
      db.put(meta, writeOptions, metaKey(name), value);
    } catch (RocksDBException e) {
      throw failed("putMeta", e);
    }
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

  /**
   * Syncs the write-ahead log (so a clean shutdown survives power loss even without
   * {@code syncWrites}) and releases the database and its native memory. Idempotent. Call it
   * after every other call has returned.
   */
  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    StorageException failure = null;
    try {
      db.flushWal(true);
    } catch (RocksDBException e) {
      failure = failed("close", e);
    }
    closeResources();
    if (failure != null) {
      throw failure;
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
    return "RocksDbStore{" + dir + " live=" + live + " size=" + size + "}";
  }
}
