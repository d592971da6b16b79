package ringkv.ring;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.google.common.hash.Hashing;
import org.junit.jupiter.api.Test;

/*
 * Goal: KeyHash is exactly murmur3_128 (seed 0) of the UTF-8 key, first 64 bits, so every node
 * and every module computes the same token (and what nodes computed with Guava's hasher before
 * KeyHash had its own). Method: compare with Guava computed in the test, over chosen keys and
 * seeded random ones of every length up to 100 (ASCII, any UTF-16 including lone surrogates),
 * and with golden literals (which would catch a change of hash function or encoding).
 */
class KeyHashTest {
  private static final long GOLDEN_A = -8839064797231613815L;
  private static final long GOLDEN_SAMPLE_KEY = -4173964342984453547L;

  @Test
  void matchesGuavaMurmur3() {
    for (String key : new String[] {"", "a", "sampleKey", "ключ", "x".repeat(50)}) {
      long expected = Hashing.murmur3_128().hashString(key, UTF_8).asLong();
      assertEquals(expected, KeyHash.tokenOf(key), key);
    }
  }

  @Test
  void matchesGuavaOnRandomKeysOfEveryLength() {
    java.util.Random random = new java.util.Random(17);
    for (int n = 0; n < 20_000; n++) {
      int length = n % 101;
      StringBuilder key = new StringBuilder();
      for (int i = 0; i < length; i++) {
        key.append(n % 2 == 0 ? (char) (32 + random.nextInt(95)) : (char) random.nextInt(65536));
      }
      String k = key.toString();
      assertEquals(Hashing.murmur3_128().hashString(k, UTF_8).asLong(), KeyHash.tokenOf(k), k);
    }
  }

  @Test
  void goldenValues() {
    assertEquals(GOLDEN_A, KeyHash.tokenOf("a"));
    assertEquals(GOLDEN_SAMPLE_KEY, KeyHash.tokenOf("sampleKey"));
    assertEquals("murmur3_128", KeyHash.HASH_FUNCTION);
  }

  @Test
  void rejectsNull() {
    assertThrows(NullPointerException.class, () -> KeyHash.tokenOf(null));
  }
}
