package ringkv.gossip;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;

/*
 * Goal: KeyOrder is UTF-8 byte order (code point order), a total order consistent with equals,
 * also for strings holding lone surrogates, whatever mix of code units the strings have.
 * Method: seeded random strings over ASCII, 2- and 3-byte characters, private-use characters,
 * surrogate pairs and lone surrogates; each pair is compared against two oracles: the code point
 * arrays (String.codePoints counts a lone surrogate as its own value) and, for valid Unicode,
 * the unsigned order of String.getBytes(UTF_8).
 */
class KeyOrderTest {
  private static final char[] UNITS = {
      'a', 'b', '\u0000', '\u007f', '\u00e9', '\u07ff', '\u0800', '\u4e2d', '\ud7ff', '\ud800',
      '\ud83d', '\udbff', '\udc00', '\ude00', '\udfff', '\ue000', '\uffff'};

  private static String randomString(Random random) {
    char[] s = new char[random.nextInt(6)];
    for (int i = 0; i < s.length; i++) {
      s[i] = UNITS[random.nextInt(UNITS.length)];
    }
    return new String(s);
  }

  private static boolean isValidUnicode(String s) {
    return s.codePoints().noneMatch(c -> c >= 0xD800 && c <= 0xDFFF);
  }

  @Test
  public void agreesWithCodePointsAndUtf8Bytes() {
    long seed = Long.getLong("test.seed", 20240611L);
    Random random = new Random(seed);
    int validPairs = 0;
    for (int i = 0; i < 200_000; i++) {
      String a = randomString(random);
      String b = randomString(random);
      int expected = Integer.signum(Arrays.compare(a.codePoints().toArray(),
          b.codePoints().toArray()));
      String why = "seed=" + seed + " a=" + Arrays.toString(a.toCharArray()) + " b="
          + Arrays.toString(b.toCharArray());
      assertEquals(expected, Integer.signum(KeyOrder.compare(a, b)), why);
      assertEquals(-expected, Integer.signum(KeyOrder.compare(b, a)), why);
      assertEquals(a.equals(b), KeyOrder.compare(a, b) == 0, why);
      if (isValidUnicode(a) && isValidUnicode(b)) {
        validPairs++;
        assertEquals(Integer.signum(Arrays.compareUnsigned(a.getBytes(UTF_8), b.getBytes(UTF_8))),
            expected, why);
      }
    }
    assertTrue(validPairs > 10_000, "enough valid pairs: " + validPairs);
  }

  @Test
  public void differsFromStringCompareToWhereUtf16Does() {
    String privateUse = "\ue000";
    String emoji = "\ud83d\ude00";
    assertEquals(1, Integer.signum(privateUse.compareTo(emoji)));
    assertEquals(-1, Integer.signum(KeyOrder.compare(privateUse, emoji)));
  }
}
