package ringkv.gossip;

import static com.google.common.base.Preconditions.checkArgument;
import static java.nio.charset.StandardCharsets.UTF_8;

import com.google.common.hash.Hasher;
import com.google.common.hash.Hashing;
import java.util.Arrays;
import java.util.Objects;

/**
 * One versioned write of one key, as stored and as replicated: a value (raw JSON text, exactly as
 * the client gave it) or a tombstone ({@code value() == null}), the version naming the write, and
 * the causal dependencies its author had seen when writing it.
 *
 * <p>A node holds one per key, so the layout is compact (this was a record of four references):
 * the value is kept as its bytes ({@link Wtf8}: its UTF-8 bytes, or WTF-8 if it holds a lone
 * surrogate, so no string is lost) rather than a {@code String}, and the version as its two
 * fields rather than a {@link Version} object. {@link #value()} and {@link #version()} build
 * those objects on each call; equality, hash code and string form are those of the record it
 * was (key, value, version, deps).
 *
 * <p>Immutable; thread-safe.
 */
public final class Entry {
  private final String key;
  /** The value's text in {@link Wtf8} bytes; null for a tombstone. Never handed out. */
  private final byte[] value;
  /** Whether {@link #value} is plain UTF-8 (the text holds no lone surrogate). */
  private final boolean utf8;
  private final long counter;
  private final String node;
  private final CausalContext deps;

  public Entry(String key, String value, Version version, CausalContext deps) {
    Objects.requireNonNull(key, "key");
    Objects.requireNonNull(version, "version");
    Objects.requireNonNull(deps, "deps");
    checkArgument(!version.equals(Version.ZERO), "an entry needs a real version");
    this.key = key;
    this.utf8 = value == null || !Wtf8.hasLoneSurrogate(value);
    // For a valid string, getBytes(UTF_8) gives the very bytes of Wtf8.encode, faster.
    this.value = value == null ? null : utf8 ? value.getBytes(UTF_8) : Wtf8.encode(value);
    this.counter = version.counter();
    this.node = version.node();
    this.deps = deps;
  }

  public static Entry value(String key, String valueJson, Version version, CausalContext deps) {
    return new Entry(key, Objects.requireNonNull(valueJson, "value"), version, deps);
  }

  public static Entry tombstone(String key, Version version, CausalContext deps) {
    return new Entry(key, null, version, deps);
  }

  public String key() {
    return key;
  }

  /** The value's JSON text (a new String on each call), or null for a tombstone. */
  public String value() {
    if (value == null) {
      return null;
    }
    return utf8 ? new String(value, UTF_8) : Wtf8.decode(value);
  }

  /** The version naming this write (a new Version on each call). */
  public Version version() {
    return new Version(counter, node);
  }

  public CausalContext deps() {
    return deps;
  }

  public boolean isTombstone() {
    return value == null;
  }

  /**
   * The length of the value's text in {@link Wtf8} bytes (its UTF-8 length for every valid
   * string); throws IllegalStateException for a tombstone.
   */
  public int valueUtf8Length() {
    checkValue();
    return value.length;
  }

  /**
   * Copies the value's text in {@link Wtf8} bytes (what {@code Wtf8.write(value(), out, pos)}
   * writes) to {@code out} at {@code pos}; returns the position after it. Throws
   * IllegalStateException for a tombstone.
   */
  public int writeValueUtf8(byte[] out, int pos) {
    checkValue();
    System.arraycopy(value, 0, out, pos, value.length);
    return pos + value.length;
  }

  private void checkValue() {
    if (value == null) {
      throw new IllegalStateException("a tombstone has no value: " + this);
    }
  }

  /** Roughly how many bytes this entry takes on the wire (for batch bounds). */
  public long sizeEstimateBytes() {
    long deps = 48L * this.deps.size();
    return 64 + 2L * key.length() + (value == null ? 0 : value.length) + deps;
  }

  /**
   * A 64-bit murmur3 hash of what this write says: its key, version, whether it is a tombstone,
   * and its value's bytes (not its dependencies, which only tell what its author had seen).
   * Two replicas holding one version of a key hold equal checksums unless one copy's bytes were
   * altered while its version was kept (a bug, or damage the store's own check missed):
   * anti-entropy compares these ({@link KeyVersion#checksum}, {@link RangeDigest}).
   */
  public long checksum() {
    Hasher h = Hashing.murmur3_128().newHasher()
        .putInt(key.length()).putString(key, UTF_8)
        .putLong(counter)
        .putInt(node.length()).putString(node, UTF_8)
        .putBoolean(value == null);
    if (value != null) {
      h.putInt(value.length).putBytes(value);
    }
    return h.hash().asLong();
  }

  /**
   * Last-writer-wins: does this entry replace {@code other} (which may be null)? The order is
   * total: at one version (which an honest cluster never writes twice with different bytes),
   * the copy with the higher {@link #checksum} (unsigned) wins, so replicas that disagree on a
   * version's bytes all converge on the same copy whichever way the copies travel.
   */
  public boolean supersedes(Entry other) {
    if (other == null) {
      return true;
    }
    int order = version().compareTo(other.version());
    return order > 0 || order == 0 && !Arrays.equals(value, other.value)
        && Long.compareUnsigned(checksum(), other.checksum()) > 0;
  }

  /**
   * Whether {@code mine} (this replica's checksum of a version) gives way to {@code theirs} (a
   * peer's of the same version): the one tie-break of {@link #supersedes}, for checksums alone.
   */
  public static boolean checksumLoses(long mine, long theirs) {
    return Long.compareUnsigned(mine, theirs) < 0;
  }

  @Override
  public boolean equals(Object o) {
    if (this == o) {
      return true;
    }
    // Equal bytes are equal texts: Wtf8 is a bijection, and UTF-8 is Wtf8 on valid strings.
    return o instanceof Entry e && counter == e.counter && key.equals(e.key)
        && node.equals(e.node) && Arrays.equals(value, e.value) && deps.equals(e.deps);
  }

  @Override
  public int hashCode() {
    int h = key.hashCode();
    h = 31 * h + Arrays.hashCode(value);
    h = 31 * h + (31 * Long.hashCode(counter) + node.hashCode());
    return 31 * h + deps.hashCode();
  }

  @Override
  public String toString() {
    return "Entry{" + key + " " + counter + "@" + node + (isTombstone() ? " tombstone" : "") + "}";
  }
}
