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
 * string = varint byte length + {@link Wtf8} bytes (UTF-8 for every valid string)
 * </pre>
 *
 * <p>Encoding is deterministic (dependencies sorted), and decoding is strict: a record that isn't
 * exactly one encoded entry (unknown version or flags, truncated, trailing bytes, bad strings,
 * invalid versions) throws {@link CorruptEntryException} naming the key and the defect.
 *
 * <p>Stateless; thread-safe.
 */
public final class EntryCodec {

  /** Bumped on any change of the layout; decoders reject versions they don't know. */
  public static final int FORMAT_VERSION = 1;

  private static final int FLAG_TOMBSTONE = 1;
  private static final int VARLONG_BYTES_MAX = 10;

  private EntryCodec() {}

  public static byte[] encode(Entry entry) {
    List<Map.Entry<String, Version>> deps = new ArrayList<>(entry.deps().keys().entrySet());
    deps.sort(Map.Entry.comparingByKey(KeyOrder.COMPARATOR));
    int size = 2 + varlongLength(entry.version().counter()) + stringLength(entry.version().node())
        + (entry.isTombstone() ? 0 : bytesLength(entry.valueUtf8Length()))
        + varlongLength(deps.size());
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
    if (p != size) {
      throw new IllegalStateException("encoded " + p + " bytes, computed " + size);
    }
    return out;
  }

  /** The entry {@code bytes} encode for {@code key}; throws CorruptEntryException if bad. */
  public static Entry decode(String key, byte[] bytes) {
    Reader r = new Reader(key, bytes);
    boolean tombstone = r.header();
    Version version = r.version();
    String value = tombstone ? null : r.string();
    long count = r.varlong();
    // Each dependency takes at least 3 bytes: a bound before allocating anything for it.
    if (count < 0 || count > r.remaining() / 3) {
      throw r.corrupt("deps count " + count + " exceeds the record", null);
    }
    Map<String, Version> deps = new HashMap<>((int) count * 2);
    for (long i = 0; i < count; i++) {
      String depKey = r.string();
      r.check(deps.put(depKey, r.version()) == null, "duplicate dependency");
    }
    if (r.remaining() != 0) {
      throw r.corrupt(r.remaining() + " trailing bytes", null);
    }
    try {
      return new Entry(key, value, version, CausalContext.of(deps));
    } catch (IllegalArgumentException e) {
      throw r.corrupt(e.getMessage(), e);
    }
  }

  /** Whether {@code bytes} encode a tombstone, reading only the header (for counters). */
  public static boolean isTombstone(String key, byte[] bytes) {
    return new Reader(key, bytes).header();
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
    private int pos;

    Reader(String key, byte[] bytes) {
      this.key = key;
      this.bytes = bytes;
    }

    boolean header() {
      if (bytes.length < 2) {
        throw corrupt("record of " + bytes.length + " bytes is too short", null);
      }
      int format = bytes[0] & 0xFF;
      if (format != FORMAT_VERSION) {
        throw corrupt("unknown format version " + format + " (this build reads "
            + FORMAT_VERSION + ")", null);
      }
      int flags = bytes[1] & 0xFF;
      if ((flags & ~FLAG_TOMBSTONE) != 0) {
        throw corrupt("unknown flags 0x" + Integer.toHexString(flags), null);
      }
      pos = 2;
      return (flags & FLAG_TOMBSTONE) != 0;
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
        check(pos < bytes.length, "truncated varint");
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
      return bytes.length - pos;
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
