package ringkv.gossip;

import static com.google.common.base.Preconditions.checkArgument;

/**
 * Strings to bytes and back, losslessly: UTF-8 for every valid string (the very bytes of
 * {@code s.getBytes(UTF_8)}), extended as in WTF-8 to lone surrogates, which a Java string can
 * hold but plain UTF-8 replaces with '?' (two different keys would then collide). A lone
 * surrogate takes the 3-byte form of its code unit value, so the bytes sort like
 * {@link KeyOrder}: by code point, lone surrogates at U+D800..U+DFFF.
 *
 * <p>Decoding is strict: it accepts exactly what {@link #encode} produces (no overlong forms, no
 * surrogate pair split into two 3-byte forms) and throws {@link IllegalArgumentException}
 * otherwise, so that encode and decode are inverse bijections.
 *
 * <p>Stateless; thread-safe.
 */
public final class Wtf8 {

  private Wtf8() {}

  public static byte[] encode(String s) {
    byte[] out = new byte[encodedLength(s)];
    int end = write(s, out, 0);
    assert end == out.length;
    return out;
  }

  /** Bytes {@link #write} takes for {@code s}. */
  public static int encodedLength(String s) {
    int n = s.length();
    int bytes = n;
    for (int i = 0; i < n; i++) {
      char c = s.charAt(i);
      if (c < 0x80) {
        continue;
      }
      if (c < 0x800) {
        bytes += 1;
      } else if (isPairAt(s, i)) {
        bytes += 2; // 4 bytes for the two chars of the pair
        i++;
      } else {
        bytes += 2;
      }
    }
    return bytes;
  }

  /** Writes {@code s} at {@code out[pos]}; returns the position after it. */
  public static int write(String s, byte[] out, int pos) {
    int n = s.length();
    int p = pos;
    for (int i = 0; i < n; i++) {
      char c = s.charAt(i);
      if (c < 0x80) {
        out[p++] = (byte) c;
      } else if (c < 0x800) {
        out[p++] = (byte) (0xC0 | (c >> 6));
        out[p++] = (byte) (0x80 | (c & 0x3F));
      } else if (isPairAt(s, i)) {
        int cp = Character.toCodePoint(c, s.charAt(++i));
        out[p++] = (byte) (0xF0 | (cp >> 18));
        out[p++] = (byte) (0x80 | ((cp >> 12) & 0x3F));
        out[p++] = (byte) (0x80 | ((cp >> 6) & 0x3F));
        out[p++] = (byte) (0x80 | (cp & 0x3F));
      } else { // BMP, lone surrogates included
        out[p++] = (byte) (0xE0 | (c >> 12));
        out[p++] = (byte) (0x80 | ((c >> 6) & 0x3F));
        out[p++] = (byte) (0x80 | (c & 0x3F));
      }
    }
    return p;
  }

  public static String decode(byte[] bytes) {
    return decode(bytes, 0, bytes.length);
  }

  /** Decodes {@code length} bytes from {@code offset}; throws IllegalArgumentException if bad. */
  public static String decode(byte[] b, int offset, int length) {
    char[] out = new char[length]; // never more chars than bytes
    int o = 0;
    int i = offset;
    int end = offset + length;
    boolean afterLoneHigh = false;
    while (i < end) {
      int b0 = b[i] & 0xFF;
      if (b0 < 0x80) {
        out[o++] = (char) b0;
        i++;
        afterLoneHigh = false;
      } else if (b0 >= 0xC2 && b0 <= 0xDF) {
        out[o++] = (char) (((b0 & 0x1F) << 6) | continuation(b, i + 1, end));
        i += 2;
        afterLoneHigh = false;
      } else if (b0 >= 0xE0 && b0 <= 0xEF) {
        int c = ((b0 & 0x0F) << 12) | (continuation(b, i + 1, end) << 6)
            | continuation(b, i + 2, end);
        checkArgument(c >= 0x800, "overlong 3-byte form at byte %s", i - offset);
        checkArgument(!(afterLoneHigh && Character.isLowSurrogate((char) c)),
            "surrogate pair split in two 3-byte forms at byte %s", i - offset);
        out[o++] = (char) c;
        i += 3;
        afterLoneHigh = Character.isHighSurrogate((char) c);
      } else if (b0 >= 0xF0 && b0 <= 0xF4) {
        int cp = ((b0 & 0x07) << 18) | (continuation(b, i + 1, end) << 12)
            | (continuation(b, i + 2, end) << 6) | continuation(b, i + 3, end);
        checkArgument(cp >= 0x10000 && cp <= Character.MAX_CODE_POINT,
            "bad 4-byte form at byte %s", i - offset);
        out[o++] = Character.highSurrogate(cp);
        out[o++] = Character.lowSurrogate(cp);
        i += 4;
        afterLoneHigh = false;
      } else {
        throw new IllegalArgumentException("bad lead byte 0x" + Integer.toHexString(b0)
            + " at byte " + (i - offset));
      }
    }
    return new String(out, 0, o);
  }

  private static int continuation(byte[] b, int i, int end) {
    checkArgument(i < end, "truncated multi-byte form");
    int c = b[i] & 0xFF;
    checkArgument((c & 0xC0) == 0x80, "bad continuation byte 0x%s", Integer.toHexString(c));
    return c & 0x3F;
  }

  /**
   * Whether {@code s} holds a lone surrogate (one plain UTF-8 cannot encode): then its bytes are
   * WTF-8, not UTF-8.
   */
  public static boolean hasLoneSurrogate(String s) {
    int n = s.length();
    for (int i = 0; i < n; i++) {
      char c = s.charAt(i);
      if (isPairAt(s, i)) {
        i++;
      } else if (Character.isSurrogate(c)) {
        return true;
      }
    }
    return false;
  }

  private static boolean isPairAt(String s, int i) {
    return Character.isHighSurrogate(s.charAt(i)) && i + 1 < s.length()
        && Character.isLowSurrogate(s.charAt(i + 1));
  }
}
