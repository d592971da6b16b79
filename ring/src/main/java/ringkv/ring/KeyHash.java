package ringkv.ring;

import static java.nio.charset.StandardCharsets.UTF_8;

import com.google.common.base.Preconditions;
import com.google.common.hash.Hashing;

/**
 * The one place where keys become ring tokens: the first 64 bits of murmur3_128 (seed 0) over
 * the key's UTF-8 bytes, as a signed long. Every node computes the same token for the same key,
 * so placement needs no coordination. Never use {@code String.hashCode()} for placement.
 *
 * <p>Stateless; thread-safe.
 */
public final class KeyHash {
  /** Name of the hash function, as reported by {@code GET /ring}. */
  public static final String HASH_FUNCTION = "murmur3_128";

  private KeyHash() {}

  /** Returns the ring token of {@code key}. */
  public static long tokenOf(String key) {
    Preconditions.checkNotNull(key, "key");
    return Hashing.murmur3_128().hashString(key, UTF_8).asLong();
  }
}
