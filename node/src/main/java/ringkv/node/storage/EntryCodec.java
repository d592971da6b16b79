package ringkv.node.storage;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import ringkv.gossip.CausalContext;
import ringkv.gossip.Entry;
import ringkv.gossip.KeyOrder;
import ringkv.gossip.Version;
import ringkv.gossip.Wtf8;

/**
 * The stored form of an {@link Entry} without its key (the key is the record's RocksDB key).
 *
 * <pre>
 * format version (1 byte, {@value #FORMAT_VERSION})
 * flags          (1 byte: bit 0 = tombstone; other bits 0)
 * counter        (unsigned LEB128 varint)
 * node           (string)
 * value          (string; absent for a tombstone)
 * deps count     (varint), then per dependency, in key order: key (string), counter, node
 * checksum       (4 bytes, big-endian): CRC32C of the key's bytes followed by every byte above
 * string = varint byte length + {@link Wtf8} bytes (UTF-8 for every valid string)
 * </pre>
 *
 * <p>The checksum covers the key too, so a record read under another key (a damaged key, a
 * misplaced block) fails like a damaged value. CRC32C detects every error of up to 32
 * consecutive bits and all but about one in 4 billion others.
 *
 * <p>Encoding is deterministic (dependencies sorted), and decoding is strict: a record that isn't
 * exactly one encoded entry (checksum mismatch, unknown version or flags, truncated, trailing
 * bytes, bad strings, invalid versions) throws {@link CorruptEntryException} naming the key and
 * the defect. Records of format {@value #LEGACY_FORMAT_VERSION} (the same layout without the
 * checksum, written before issue 15) are read only by {@link #decodeLegacy}, which the store
 * uses once, to convert them in place.
 *
 * <p>Stateless; thread-safe.
 */
public final class EntryCodec {

  /** Bumped on any change of the layout; decoders reject versions they don't know. */
  public static final int FORMAT_VERSION = 2;
  /** The layout before checksums: read only to convert it ({@link #decodeLegacy}). */
  public static final int LEGACY_FORMAT_VERSION = 1;
  /** Bytes of the checksum at the end of every record. */
  public static final int CHECKSUM_BYTES = Checksums.BYTES;

  private static final int FLAG_TOMBSTONE = 1;
  private static final int VARLONG_BYTES_MAX = 10;

  private EntryCodec() {}

  /** The record of {@code entry}, its checksum computed over its key's {@link Wtf8} bytes. */
  public static byte[] encode(Entry entry) {
    return encode(entry, Wtf8.encode(entry.key()));
  }

  /** Like {@link #encode(Entry)}, for a caller that holds the key's bytes already. */
  public static byte[] encode(Entry entry, byte[] keyBytes) {
    List<Map.Entry<String, Version>> deps = new ArrayList<>(entry.deps().keys().entrySet());
    deps.sort(Map.Entry.comparingByKey(KeyOrder.COMPARATOR));
    int size = 2 + varlongLength(entry.version().counter()) + stringLength(entry.version().node())
        + (entry.isTombstone() ? 0 : bytesLength(entry.valueUtf8Length()))
        + varlongLength(deps.size()) + CHECKSUM_BYTES;
    for (Map.Entry<String, Version> d : deps) {
      size += stringLength(d.getKey()) + varlongLength(d.getValue().counter())
          + stringLength(d.getValue().node());
    }
    byte[] out = new byte[size];
    out[0] = (byte) FORMAT_VERSION;
    out[1] = (byte) (entry.isTombstone() ? FLAG_TOMBSTONE : 0);
    int p = writeVarlong(entry.version().counter(), out, 2);
    p = writeString(entry.version().node(), out, p);
    if (!entry.isTombstone()) {
      // The entry holds its value's Wtf8 bytes: copied, not decoded and re-encoded.
      p = entry.writeValueUtf8(out, writeVarlong(entry.valueUtf8Length(), out, p));
    }
    p = writeVarlong(deps.size(), out, p);
    for (Map.Entry<String, Version> d : deps) {
      p = writeString(d.getKey(), out, p);
      p = writeVarlong(d.getValue().counter(), out, p);
      p = writeString(d.getValue().node(), out, p);
    }
    if (p + CHECKSUM_BYTES != size) {
      throw new IllegalStateException("encoded " + p + " bytes, computed " + size);
    }
    Checksums.write(Checksums.crc(keyBytes, out, p), out, p);
    return out;
  }

  /** The entry {@code bytes} encode for {@code key}; throws CorruptEntryException if bad. */
  public static Entry decode(String key, byte[] bytes) {
    return decode(key, Wtf8.encode(key), bytes);
  }

  /** Like {@link #decode(String, byte[])}, given the key's {@link Wtf8} bytes as well. */
  public static Entry decode(String key, byte[] keyBytes, byte[] bytes) {
    Reader r = new Reader(key, bytes);
    r.verifyChecksum(keyBytes);
    return r.entry(r.header(FORMAT_VERSION));
  }

  /**
   * The entry a record of the format before checksums ({@value #LEGACY_FORMAT_VERSION})
   * encodes, or of the current format (checked): for converting a store once.
   */
  public static Entry decodeLegacy(String key, byte[] bytes) {
    if (bytes.length > 0 && (bytes[0] & 0xFF) == FORMAT_VERSION) {
      return decode(key, bytes);
    }
    Reader r = new Reader(key, bytes);
    return r.entry(r.header(LEGACY_FORMAT_VERSION));
  }

  /** Whether {@code bytes} is a record of the format before checksums (by its first byte). */
  public static boolean isLegacy(byte[] bytes) {
    return bytes.length > 0 && (bytes[0] & 0xFF) == LEGACY_FORMAT_VERSION;
  }

  /**
   * Whether {@code bytes} is a record of the current format whose checksum matches
   * {@code keyBytes}: its flags can be trusted (it may still fail to decode).
   */
  public static boolean checksumMatches(byte[] keyBytes, byte[] bytes) {
    return bytes.length >= 2 + CHECKSUM_BYTES && (bytes[0] & 0xFF) == FORMAT_VERSION
        && Checksums.matches(keyBytes, bytes);
  }

  /** Test support: {@code body} (a record without its checksum) sealed with a valid one. */
  static byte[] seal(byte[] keyBytes, byte[] body) {
    return Checksums.seal(keyBytes, body);
  }

  /**
   * Whether {@code bytes}, a record of the current format with a valid checksum, encodes a
   * tombstone (reads only the header; for counters). Throws CorruptEntryException otherwise.
   */
  public static boolean isTombstone(String key, byte[] bytes) {
    Reader r = new Reader(key, bytes);
    r.verifyChecksum(Wtf8.encode(key));
    return r.header(FORMAT_VERSION);
  }

  private static int stringLength(String s) {
    return bytesLength(Wtf8.encodedLength(s));
  }

  private static int bytesLength(int n) {
    return varlongLength(n) + n;
  }

  private static int writeString(String s, byte[] out, int p) {
    int start = writeVarlong(Wtf8.encodedLength(s), out, p);
    return Wtf8.write(s, out, start);
  }

  private static int varlongLength(long v) {
    int n = 1;
    while ((v >>>= 7) != 0) {
      n++;
    }
    return n;
  }

  private static int writeVarlong(long v, byte[] out, int p) {
    while ((v & ~0x7FL) != 0) {
      out[p++] = (byte) ((v & 0x7F) | 0x80);
      v >>>= 7;
    }
    out[p++] = (byte) v;
    return p;
  }

  /** A cursor over one record that turns every defect into a CorruptEntryException. */
  private static final class Reader {
    private final String key;
    private final byte[] bytes;
    /** End of the entry's fields: before the checksum, if the record has one. */
    private int end;
    private int pos;

    Reader(String key, byte[] bytes) {
      this.key = key;
      this.bytes = bytes;
      this.end = bytes.length;
    }

    /** Checks the format byte, the length and the checksum of a current-format record. */
    void verifyChecksum(byte[] keyBytes) {
      checkFormat(FORMAT_VERSION);
      if (bytes.length < 2 + CHECKSUM_BYTES) {
        throw corrupt("record of " + bytes.length + " bytes is too short", null);
      }
      if (!Checksums.matches(keyBytes, bytes)) {
        pos = bytes.length - CHECKSUM_BYTES;
        throw corrupt("checksum mismatch", null);
      }
    }

    private void checkFormat(int expected) {
      if (bytes.length < 1) {
        throw corrupt("empty record", null);
      }
      int format = bytes[0] & 0xFF;
      if (format != expected) {
        throw corrupt("unknown format version " + format + " (this build reads "
            + expected + ")", null);
      }
    }

    /** Reads the header of a record of {@code format}; returns whether it is a tombstone. */
    boolean header(int format) {
      checkFormat(format);
      end = bytes.length - (format == FORMAT_VERSION ? CHECKSUM_BYTES : 0);
      if (end < 2) {
        throw corrupt("record of " + bytes.length + " bytes is too short", null);
      }
      int flags = bytes[1] & 0xFF;
      if ((flags & ~FLAG_TOMBSTONE) != 0) {
        throw corrupt("unknown flags 0x" + Integer.toHexString(flags), null);
      }
      pos = 2;
      return (flags & FLAG_TOMBSTONE) != 0;
    }

    /** The rest of the record after its header: the entry, or CorruptEntryException. */
    Entry entry(boolean tombstone) {
      Version version = version();
      String value = tombstone ? null : string();
      long count = varlong();
      // Each dependency takes at least 3 bytes: a bound before allocating anything for it.
      if (count < 0 || count > remaining() / 3) {
        throw corrupt("deps count " + count + " exceeds the record", null);
      }
      Map<String, Version> deps = new HashMap<>((int) count * 2);
      for (long i = 0; i < count; i++) {
        String depKey = string();
        check(deps.put(depKey, version()) == null, "duplicate dependency");
      }
      if (remaining() != 0) {
        throw corrupt(remaining() + " trailing bytes", null);
      }
      try {
        return new Entry(key, value, version, CausalContext.of(deps));
      } catch (IllegalArgumentException e) {
        throw corrupt(e.getMessage(), e);
      }
    }

    Version version() {
      long counter = varlong();
      String node = string();
      try {
        return Version.decoded(counter, node);
      } catch (IllegalArgumentException e) {
        throw corrupt(e.getMessage(), e);
      }
    }

    long varlong() {
      long v = 0;
      for (int i = 0; i < VARLONG_BYTES_MAX; i++) {
        check(pos < end, "truncated varint");
        int b = bytes[pos++] & 0xFF;
        v |= (long) (b & 0x7F) << (7 * i);
        if ((b & 0x80) == 0) {
          check(i < VARLONG_BYTES_MAX - 1 || b <= 1, "varint overflows 64 bits");
          check(i == 0 || b != 0, "varint not in its shortest form");
          return v;
        }
      }
      throw corrupt("varint longer than " + VARLONG_BYTES_MAX + " bytes", null);
    }

    String string() {
      long length = varlong();
      if (length < 0 || length > remaining()) {
        throw corrupt("string of " + length + " bytes exceeds the record", null);
      }
      try {
        String s = Wtf8.decode(bytes, pos, (int) length);
        pos += (int) length;
        return s;
      } catch (IllegalArgumentException e) {
        throw corrupt("bad string: " + e.getMessage(), e);
      }
    }

    int remaining() {
      return end - pos;
    }

    void check(boolean ok, String defect) {
      if (!ok) {
        throw corrupt(defect, null);
      }
    }

    CorruptEntryException corrupt(String defect, Throwable cause) {
      return new CorruptEntryException(
          "corrupt entry for key '" + key + "' at byte " + pos + ": " + defect, cause);
    }
  }
}
