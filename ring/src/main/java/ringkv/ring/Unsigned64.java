package ringkv.ring;

import com.google.common.base.Preconditions;
import com.google.common.primitives.UnsignedLong;
import com.google.common.primitives.UnsignedLongs;
import java.math.BigInteger;

/**
 * Unsigned arithmetic on the 2^64 hash circle. An arc (a, b] has length {@code b - a} computed
 * with wrapping long arithmetic and read as unsigned; the value 0 stands for the full circle
 * (2^64), which only occurs when the ring holds a single token, since tokens are distinct.
 *
 * <p>Stateless; thread-safe.
 */
final class Unsigned64 {
  /** 2^64 as a double: the size of the hash space. */
  static final double SPACE = 0x1p64;
  static final BigInteger SPACE_EXACT = BigInteger.ONE.shiftLeft(64);

  private Unsigned64() {}

  /** Returns floor(2^64 / divisor) for divisor >= 2. */
  static long spaceDividedBy(long divisor) {
    Preconditions.checkArgument(divisor >= 2, "divisor must be >= 2, got %s", divisor);
    long quotient = UnsignedLongs.divide(-1L, divisor);
    long remainder = UnsignedLongs.remainder(-1L, divisor);
    // 2^64 = (2^64 - 1) + 1, so the floor rises by one exactly when the remainder wraps.
    return remainder == divisor - 1 ? quotient + 1 : quotient;
  }

  /** Length of the arc (from, to], where 0 means the full circle. */
  static long arc(long from, long to) {
    return to - from;
  }

  /** Compares two arc lengths, reading 0 as the full circle (the largest length). */
  static int compareArcs(long a, long b) {
    if (a == b) {
      return 0;
    }
    if (a == 0) {
      return 1;
    }
    if (b == 0) {
      return -1;
    }
    return Long.compareUnsigned(a, b);
  }

  /** The arc length as an exact integer (0 reads as 2^64). */
  static BigInteger exact(long arcLength) {
    return arcLength == 0 ? SPACE_EXACT : UnsignedLong.fromLongBits(arcLength).bigIntegerValue();
  }

  /** The arc length as a fraction of the circle (0 reads as 1.0). */
  static double fraction(long arcLength) {
    return arcLength == 0 ? 1.0 : UnsignedLong.fromLongBits(arcLength).doubleValue() / SPACE;
  }
}
