package ringkv.gossip;

import java.util.Objects;
import java.util.OptionalLong;

/**
 * The version a replica holds for one key (value or tombstone alike), and the {@link
 * Entry#checksum} of its entry when known: what anti-entropy compares before it moves whole
 * entries. The checksum is absent in a round with a peer of an earlier release, which compares
 * versions only.
 *
 * <p>Immutable; thread-safe.
 */
public record KeyVersion(String key, Version version, OptionalLong checksum) {

  public KeyVersion {
    Objects.requireNonNull(key, "key");
    Objects.requireNonNull(version, "version");
    Objects.requireNonNull(checksum, "checksum");
  }

  /** A pair without a checksum (a peer of an earlier release). */
  public KeyVersion(String key, Version version) {
    this(key, version, OptionalLong.empty());
  }

  /** {@code e}'s pair with its checksum. */
  public static KeyVersion of(Entry e) {
    return new KeyVersion(e.key(), e.version(), OptionalLong.of(e.checksum()));
  }

  /** {@code e}'s pair, with its checksum only if {@code checksums}. */
  public static KeyVersion of(Entry e, boolean checksums) {
    return checksums ? of(e) : new KeyVersion(e.key(), e.version());
  }

  /**
   * Whether both sides know their checksum and they differ: the same version with different
   * bytes.
   */
  public boolean conflictsWith(KeyVersion other) {
    return checksum.isPresent() && other.checksum.isPresent()
        && checksum.getAsLong() != other.checksum.getAsLong() && version.equals(other.version);
  }
}
