package ringkv.gossip;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;

/*
 * Goal: the key encoding is lossless and order-preserving: valid strings get exactly their UTF-8
 * bytes, lone surrogates get distinct 3-byte forms (not '?'), unsigned byte order equals
 * KeyOrder (so RocksDB scans in the MemoryStore's order), and decoding accepts nothing else.
 * Method: seeded random strings over a mix of code units (round trip, order, length); a table
 * of malformed byte sequences that must be rejected.
 */
class Wtf8CodecTest {
  private static final char[] UNITS = {
      'a', '\u0000', '\u007f', '\u0080', '\u00e9', '\u07ff', '\u0800', '\u4e2d', '\ud7ff',
      '\ud800', '\ud83d', '\udbff', '\udc00', '\ude00', '\udfff', '\ue000', '\uffff'};

  private static String randomString(Random random) {
    char[] s = new char[random.nextInt(8)];
    for (int i = 0; i < s.length; i++) {
      s[i] = UNITS[random.nextInt(UNITS.length)];
    }
    return new String(s);
  }

  @Test
  public void roundTripsAndSortsLikeKeyOrder() {
    Random random = new Random(Long.getLong("test.seed", 7L));
    for (int i = 0; i < 100_000; i++) {
      String a = randomString(random);
      String b = randomString(random);
      byte[] ea = Wtf8.encode(a);
      byte[] eb = Wtf8.encode(b);
      String why = Arrays.toString(a.toCharArray()) + " vs " + Arrays.toString(b.toCharArray());
      assertEquals(a, Wtf8.decode(ea), why);
      assertEquals(ea.length, Wtf8.encodedLength(a), why);
      assertEquals(Integer.signum(KeyOrder.compare(a, b)),
          Integer.signum(Arrays.compareUnsigned(ea, eb)), why);
      if (a.codePoints().noneMatch(c -> c >= 0xD800 && c <= 0xDFFF)) {
        assertArrayEquals(a.getBytes(UTF_8), ea, why);
      }
    }
  }

  @Test
  public void loneSurrogatesGetTheirOwnBytes() {
    assertArrayEquals(bytes(0xED, 0xA0, 0x80), Wtf8.encode("\ud800"));
    assertArrayEquals(bytes(0xED, 0xBF, 0xBF), Wtf8.encode("\udfff"));
    assertArrayEquals(bytes(0xF0, 0x9F, 0x98, 0x80), Wtf8.encode("\ud83d\ude00"));
    // A low surrogate before a high one is two lone surrogates, not a pair.
    assertArrayEquals(bytes(0xED, 0xB8, 0x80, 0xED, 0xA0, 0xBD), Wtf8.encode("\ude00\ud83d"));
    assertEquals("\ude00\ud83d", Wtf8.decode(Wtf8.encode("\ude00\ud83d")));
  }

  @Test
  public void rejectsMalformedBytes() {
    int[][] malformed = {
        {0x80}, // continuation without a lead byte
        {0xC0, 0x80}, // overlong NUL
        {0xC1, 0xBF}, // overlong
        {0xE0, 0x80, 0x80}, // overlong 3-byte
        {0xF0, 0x80, 0x80, 0x80}, // overlong 4-byte
        {0xF4, 0x90, 0x80, 0x80}, // above U+10FFFF
        {0xF5, 0x80, 0x80, 0x80}, // lead byte never used
        {0xFF},
        {0xC3}, // truncated
        {0xE4, 0xB8}, // truncated
        {0xC3, 0x41}, // bad continuation
        {0xED, 0xA0, 0xBD, 0xED, 0xB8, 0x80}, // a surrogate pair split in two 3-byte forms
    };
    for (int[] m : malformed) {
      assertThrows(IllegalArgumentException.class, () -> Wtf8.decode(bytes(m)),
          Arrays.toString(m));
    }
  }

  static byte[] bytes(int... values) {
    byte[] out = new byte[values.length];
    for (int i = 0; i < values.length; i++) {
      out[i] = (byte) values[i];
    }
    return out;
  }
}
