package ringkv.node.storage;

import static com.google.common.base.Preconditions.checkState;
import static java.nio.charset.StandardCharsets.US_ASCII;
import static ringkv.node.storage.StoreLayout.ENTRIES_FAMILY;
import static ringkv.node.storage.StoreLayout.META_FAMILY;
import static ringkv.node.storage.StoreLayout.QUARANTINE_FAMILY;
import static ringkv.node.storage.StoreLayout.TOMBSTONES_FAMILY;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.function.Function;
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
import org.rocksdb.WriteOptions;

/**
 * The open RocksDB database under a {@link RocksDbStore}: opened with the store's tuning (one
 * block cache for every family, bloom filters, bounded memtables, write-ahead log and info logs),
 * with the handles of the {@link StoreLayout} families and the native objects to release.
 *
 * <p>Thread-safe as RocksDB is. Its monitor serializes the store's mutations and its close:
 * every class that writes holds it, and checks {@link #checkOpen()} under it. A call after
 * {@link #release()} throws {@link IllegalStateException}.
 */
final class StoreDatabase {
  /** Block cache shared by both column families (data, index and filter blocks). */
  static final long BLOCK_CACHE_BYTES = 64L << 20;
  /** Open table files kept by RocksDB (file descriptors). */
  static final int OPEN_FILES_MAX = 256;
  /** Memtable size of the entries family before it is flushed to a table file. */
  static final long ENTRIES_WRITE_BUFFER_BYTES = 16L << 20;
  /** Memtable size of the (tiny) meta family. */
  static final long META_WRITE_BUFFER_BYTES = 1L << 20;
  /** Memtables per family (one being written, one being flushed). */
  static final int WRITE_BUFFERS_PER_FAMILY_MAX = 2;
  /** Write-ahead log bytes kept before RocksDB forces flushes to let old logs go. */
  static final long WAL_TOTAL_BYTES_MAX = 64L << 20;
  /** RocksDB's own LOG files: size of one, and how many are kept. */
  static final long INFO_LOG_FILE_BYTES_MAX = 1L << 20;
  static final int INFO_LOG_FILES_MAX = 3;
  /** Initial capacity bound of a page's list (the page grows past it if asked to). */
  private static final int PAGE_CAPACITY_MAX = 1024;

  static {
    RocksDB.loadLibrary();
  }

  /** A write to run under the monitor ({@link #locked}). */
  interface LockedWrite {
    void run() throws RocksDBException;
  }

  /** What runs on a database just opened, before it is handed out (counts, conversion). */
  interface OpenStep {
    void run(StoreDatabase opened) throws RocksDBException;
  }

  private final Path dir;
  /** Native objects to close, most recently created first. */
  private final Deque<AutoCloseable> resources;
  private final RocksDB db;
  private final ColumnFamilyHandle entries;
  private final ColumnFamilyHandle meta;
  private final ColumnFamilyHandle tombstones;
  private final ColumnFamilyHandle quarantine;
  /** Unsynced writes: the log is synced by the store's {@link WalSyncer}. */
  private final WriteOptions writeOptions;
  /** Bulk reads, which must not push hot blocks out of the cache. */
  private final ReadOptions scanOptions;
  private volatile boolean closed;

  private StoreDatabase(Path dir, Deque<AutoCloseable> resources, RocksDB db,
      List<ColumnFamilyHandle> handles, WriteOptions writeOptions, ReadOptions scanOptions) {
    this.dir = dir;
    this.resources = resources;
    this.db = db;
    this.entries = handles.get(1);
    this.meta = handles.get(2);
    this.tombstones = handles.get(3);
    this.quarantine = handles.get(4);
    this.writeOptions = writeOptions;
    this.scanOptions = scanOptions;
  }

  /**
   * Opens (creating if needed) the database in {@code dir}, then runs {@code then} on it. If
   * either fails, releases whatever was opened and throws a {@link StorageException}, for
   * instance because another process has the directory open.
   */
  static StoreDatabase open(Path dir, OpenStep then) {
    Deque<AutoCloseable> resources = new ArrayDeque<>();
    try {
      Files.createDirectories(dir);
      WriteOptions writeOptions = own(resources, new WriteOptions().setSync(false));
      ReadOptions scanOptions = own(resources, new ReadOptions().setFillCache(false));
      List<ColumnFamilyHandle> handles = new ArrayList<>();
      RocksDB db = openDb(dir, handles, resources);
      for (ColumnFamilyHandle h : handles) {
        resources.push(h); // handles close before the db (pushed after it)
      }
      StoreDatabase opened =
          new StoreDatabase(dir, resources, db, handles, writeOptions, scanOptions);
      then.run(opened);
      return opened;
    } catch (IOException | RocksDBException | RuntimeException e) {
      try {
        closeAll(resources, dir);
      } catch (RuntimeException suppressed) {
        e.addSuppressed(suppressed);
      }
      throw e instanceof StorageException se ? se
          : new StorageException("cannot open the store in " + dir + ": " + e.getMessage(), e);
    }
  }

  private static RocksDB openDb(Path dir, List<ColumnFamilyHandle> handles,
      Deque<AutoCloseable> resources) throws RocksDBException {
    LRUCache cache = own(resources, new LRUCache(BLOCK_CACHE_BYTES));
    BloomFilter bloom = own(resources, new BloomFilter(10));
    ColumnFamilyOptions entryOptions = own(resources, new ColumnFamilyOptions()
        .setWriteBufferSize(ENTRIES_WRITE_BUFFER_BYTES)
        .setMaxWriteBufferNumber(WRITE_BUFFERS_PER_FAMILY_MAX)
        .setCompressionType(CompressionType.LZ4_COMPRESSION)
        .setTableFormatConfig(tableConfig(cache, bloom)));
    ColumnFamilyOptions metaOptions = own(resources, new ColumnFamilyOptions()
        .setWriteBufferSize(META_WRITE_BUFFER_BYTES)
        .setMaxWriteBufferNumber(WRITE_BUFFERS_PER_FAMILY_MAX)
        .setTableFormatConfig(tableConfig(cache, bloom)));
    // The default family is required by RocksDB; nothing is stored in it.
    ColumnFamilyOptions defaultOptions = own(resources, new ColumnFamilyOptions()
        .setWriteBufferSize(META_WRITE_BUFFER_BYTES));
    DBOptions options = own(resources, new DBOptions()
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
    return own(resources, RocksDB.open(options, dir.toString(), families, handles));
  }

  private static BlockBasedTableConfig tableConfig(LRUCache cache, BloomFilter bloom) {
    return new BlockBasedTableConfig()
        .setBlockCache(cache)
        .setFilterPolicy(bloom)
        .setCacheIndexAndFilterBlocks(true); // bounded by the cache, not by the data size
  }

  private static <T extends AutoCloseable> T own(Deque<AutoCloseable> resources, T resource) {
    resources.push(resource);
    return resource;
  }

  Path dir() {
    return dir;
  }

  RocksDB db() {
    return db;
  }

  ColumnFamilyHandle entries() {
    return entries;
  }

  ColumnFamilyHandle meta() {
    return meta;
  }

  ColumnFamilyHandle tombstones() {
    return tombstones;
  }

  ColumnFamilyHandle quarantine() {
    return quarantine;
  }

  WriteOptions writeOptions() {
    return writeOptions;
  }

  ReadOptions scanOptions() {
    return scanOptions;
  }

  void checkOpen() {
    checkState(!closed, "the store in %s is closed", dir);
  }

  boolean isClosed() {
    return closed;
  }

  /** From now on every call fails; the database stays usable until {@link #release()}. */
  void markClosed() {
    closed = true;
  }

  StorageException failed(String operation, RocksDBException e) {
    return new StorageException(operation + " failed in " + dir + ": " + e.getMessage(), e);
  }

  /**
   * A numeric RocksDB property of the entries column family; -1 once the store is closed. These
   * read statistics RocksDB keeps in memory: short enough for the event loop.
   */
  synchronized long entriesProperty(String name) {
    if (closed) {
      return -1;
    }
    try {
      return db.getLongProperty(entries, name);
    } catch (RocksDBException e) {
      throw failed("reading property " + name, e);
    }
  }

  /**
   * Runs {@code write} holding the monitor, once the store is checked open; a RocksDB error
   * becomes a {@link StorageException} naming {@code operation}.
   */
  void locked(String operation, LockedWrite write) {
    synchronized (this) {
      checkOpen();
      try {
        write.run();
      } catch (RocksDBException e) {
        throw failed(operation, e);
      }
    }
  }

  /**
   * Up to {@code limit} items of {@code family} after {@code afterKey}, in key order: what
   * {@code item} makes of each record it is on, records it makes null of skipped.
   */
  <T> List<T> page(ColumnFamilyHandle family, String afterKey, int limit, String operation,
      Function<RocksIterator, T> item) {
    List<T> page = new ArrayList<>(Math.min(limit, PAGE_CAPACITY_MAX));
    try (RocksIterator it = db.newIterator(family, scanOptions)) {
      StoreLayout.seekAfter(it, afterKey);
      for (; it.isValid() && page.size() < limit; it.next()) {
        T t = item.apply(it);
        if (t != null) {
          page.add(t);
        }
      }
      it.status();
    } catch (RocksDBException e) {
      throw failed(operation, e);
    }
    return page;
  }

  /** Marks the database closed and releases it and its native memory. */
  void release() {
    closed = true;
    closeAll(resources, dir);
  }

  private static void closeAll(Deque<AutoCloseable> resources, Path dir) {
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
}
