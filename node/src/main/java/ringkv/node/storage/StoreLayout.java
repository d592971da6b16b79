package ringkv.node.storage;

import static java.nio.charset.StandardCharsets.US_ASCII;

import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.HexFormat;
import org.rocksdb.RocksIterator;
import ringkv.gossip.Wtf8;

/**
 * How a {@link RocksDbStore} lays its data out in RocksDB, and the byte helpers of the classes
 * that read it.
 *
 * <p>Column family {@value #ENTRIES_FAMILY} maps the key's UTF-8 bytes ({@link Wtf8}) to the
 * {@link EntryCodec} record (checksummed), so RocksDB's bytewise order is
 * {@link ringkv.gossip.KeyOrder}, the same order as {@link ringkv.gossip.MemoryStore}. Column
 * family {@value #META_FAMILY} holds the storage format, the live and total entry counts, and the
 * metadata names (prefixed with {@value #META_NAME_PREFIX}); counts and metadata values carry a
 * CRC32C of their key and value ({@link Checksums}). {@value #TOMBSTONES_FAMILY} indexes the keys
 * whose entry is a tombstone; {@value #QUARANTINE_FAMILY} keeps damaged records aside (key -> the
 * bytes found).
 */
final class StoreLayout {
  static final String ENTRIES_FAMILY = "entries";
  static final String META_FAMILY = "meta";
  /** Index of the keys whose entry is a tombstone (key -> empty), for tombstone sweeps. */
  static final String TOMBSTONES_FAMILY = "tombstones";
  /** Damaged records, moved aside (key -> the bytes found), until the key is repaired. */
  static final String QUARANTINE_FAMILY = "quarantine";
  static final byte[] NOTHING = new byte[0];
  static final byte[] FORMAT_KEY = "format".getBytes(US_ASCII);
  static final byte[] LIVE_COUNT_KEY = "count/live".getBytes(US_ASCII);
  static final byte[] SIZE_KEY = "count/size".getBytes(US_ASCII);
  static final String META_NAME_PREFIX = "meta/";
  /** Above every key: valid UTF-8 and WTF-8 never contain the byte 0xFF. */
  static final byte[] KEYS_END = {(byte) 0xFF};
  /**
   * Version of the layout above (families and meta keys). Format 2 added the tombstone index;
   * format 3 checksums (entry records of {@link EntryCodec#FORMAT_VERSION} 2, sealed counts and
   * metadata) and the quarantine family. Older stores are converted when opened
   * ({@link FormatUpgrade}).
   */
  static final long STORAGE_FORMAT = 3;

  private StoreLayout() {}

  /** The key {@code keyBytes} name, or null if they are not WTF-8 (damaged). */
  static String keyOrNull(byte[] keyBytes) {
    try {
      return Wtf8.decode(keyBytes);
    } catch (IllegalArgumentException e) {
      return null;
    }
  }

  /** A key for a log line: quoted text, or hex bytes if they are not text. */
  static String describeKey(byte[] keyBytes) {
    String key = keyOrNull(keyBytes);
    return key != null ? "'" + key + "'" : "0x" + HexFormat.of().formatHex(keyBytes);
  }

  static boolean startsWith(byte[] bytes, byte[] prefix) {
    return bytes.length >= prefix.length
        && Arrays.equals(bytes, 0, prefix.length, prefix, 0, prefix.length);
  }

  static byte[] encodeLong(long v) {
    return ByteBuffer.allocate(Long.BYTES).putLong(v).array();
  }

  static long decodeLong(byte[] bytes) {
    if (bytes.length != Long.BYTES) {
      throw new StorageException("bad counter record of " + bytes.length + " bytes");
    }
    return ByteBuffer.wrap(bytes).getLong();
  }

  /** Positions {@code it} on the first key strictly after {@code afterKey} (null: the first). */
  static void seekAfter(RocksIterator it, String afterKey) {
    seekAfter(it, afterKey == null ? null : Wtf8.encode(afterKey));
  }

  /** Positions {@code it} on the first key strictly after {@code after} (null: the first). */
  static void seekAfter(RocksIterator it, byte[] after) {
    if (after == null) {
      it.seekToFirst();
      return;
    }
    it.seek(after); // the first key >= after
    if (it.isValid() && Arrays.equals(it.key(), after)) {
      it.next();
    }
  }
}
