package ringkv.ring;

import static java.nio.charset.StandardCharsets.UTF_8;

import com.google.common.base.Preconditions;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;

/**
 * The one place where keys become ring tokens: the first 64 bits of murmur3_128 (x64, seed 0)
 * over the key's UTF-8 bytes, as a signed long — what Guava's {@code
 * Hashing.murmur3_128().hashString(key, UTF_8).asLong()} gives (a lone surrogate encodes as
 * {@code ?}, as {@link String#getBytes} does), computed here without Guava's hasher, its two
 * byte buffers and its result object: a key's token is taken on every request (routing, the
 * owner's check) and for every key a view change counts or copies. Every node computes the same
 * token for the same key, so placement needs no coordination. Never use {@code
 * String.hashCode()} for placement.
 *
 * <p>Stateless; thread-safe.
 */
public final class KeyHash {
  /** Name of the hash function, as reported by {@code GET /ring}. */
  public static final String HASH_FUNCTION = "murmur3_128";

  private static final long C1 = 0x87c37b91114253d5L;
  private static final long C2 = 0x4cf5ad432745937fL;
  private static final VarHandle LONG_LE =
      MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);

  private KeyHash() {}

  /** Returns the ring token of {@code key}. */
  public static long tokenOf(String key) {
    Preconditions.checkNotNull(key, "key");
    return murmur3x64First64(key.getBytes(UTF_8));
  }

  /** The first 64 bits (h1) of murmur3_x64_128 with seed 0 over {@code data}. */
  static long murmur3x64First64(byte[] data) {
    long h1 = 0;
    long h2 = 0;
    int blocks = data.length / 16;
    for (int i = 0; i < blocks; i++) {
      long k1 = (long) LONG_LE.get(data, i * 16);
      long k2 = (long) LONG_LE.get(data, i * 16 + 8);
      h1 ^= mixK1(k1);
      h1 = Long.rotateLeft(h1, 27) + h2;
      h1 = h1 * 5 + 0x52dce729;
      h2 ^= mixK2(k2);
      h2 = Long.rotateLeft(h2, 31) + h1;
      h2 = h2 * 5 + 0x38495ab5;
    }
    long k1 = 0;
    long k2 = 0;
    int tail = blocks * 16;
    for (int i = data.length - 1; i >= tail; i--) {
      long b = data[i] & 0xffL;
      if (i - tail >= 8) {
        k2 ^= b << (8 * (i - tail - 8));
      } else {
        k1 ^= b << (8 * (i - tail));
      }
    }
    h1 ^= mixK1(k1);
    h2 ^= mixK2(k2);
    h1 ^= data.length;
    h2 ^= data.length;
    h1 += h2;
    h2 += h1;
    h1 = fmix64(h1);
    h2 = fmix64(h2);
    return h1 + h2;
  }

  private static long mixK1(long k1) {
    return Long.rotateLeft(k1 * C1, 31) * C2;
  }

  private static long mixK2(long k2) {
    return Long.rotateLeft(k2 * C2, 33) * C1;
  }

  private static long fmix64(long k) {
    k ^= k >>> 33;
    k *= 0xff51afd7ed558ccdL;
    k ^= k >>> 33;
    k *= 0xc4ceb9fe1a85ec53L;
    k ^= k >>> 33;
    return k;
  }
}
