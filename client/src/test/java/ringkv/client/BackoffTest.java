package ringkv.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/*
 * Goal: retry delays grow exponentially up to their cap, keep jitter within [base/2, base], and
 * never undercut a server's Retry-After (itself capped).
 *
 * Method: exhaustive loop over retry numbers and jitter extremes; table for header parsing.
 */
class BackoffTest {
  @Test
  void exponentialWithinJitterBoundsAndCapped() {
    for (int retry = 1; retry <= 40; retry++) {
      long base = Math.min(1000, 20L << Math.min(retry - 1, 30));
      long low = Backoff.delayMs(retry, 20, 1000, 0, 0.0);
      long high = Backoff.delayMs(retry, 20, 1000, 0, 0.999_999);
      assertEquals(base / 2, low, "retry " + retry);
      assertTrue(high <= base && high >= base - 1, "retry " + retry + ": " + high);
    }
  }

  @Test
  void retryAfterIsHonouredButCapped() {
    assertEquals(1000, Backoff.delayMs(1, 20, 1000, 1000, 0.5));
    assertEquals(Backoff.RETRY_AFTER_MS_MAX, Backoff.delayMs(1, 20, 1000, 3_600_000, 0.5));
    assertEquals(1000, Backoff.parseRetryAfterMs("1"));
    assertEquals(2000, Backoff.parseRetryAfterMs(" 2 "));
    assertEquals(Backoff.RETRY_AFTER_MS_MAX, Backoff.parseRetryAfterMs("999999999999"));
    for (String none : new String[] {null, "", "soon", "0", "-3",
        "Wed, 21 Oct 2015 07:28:00 GMT"}) {
      assertEquals(0, Backoff.parseRetryAfterMs(none), String.valueOf(none));
    }
  }
}
