package ringkv.gossip;

import java.util.Objects;

/**
 * The version a replica holds for one key (value or tombstone alike): what anti-entropy compares
 * before it moves whole entries.
 *
 * <p>Immutable; thread-safe.
 */
public record KeyVersion(String key, Version version) {

  public KeyVersion {
    Objects.requireNonNull(key, "key");
    Objects.requireNonNull(version, "version");
  }

  public static KeyVersion of(Entry e) {
    return new KeyVersion(e.key(), e.version());
  }
}
