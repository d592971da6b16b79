package ringkv.gossip;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

/*
 * Goal: Backoff doubles from its least wait to its most and stays there, without overflowing for
 * any number of failures, and refuses bounds out of order.
 * Method: the waits of the quarantine repair's bounds, and extreme bounds and counts.
 */
class BackoffTest {
  @Test
  void doublesUpToTheMost() {
    Backoff b = new Backoff(1_000, 60_000);
    assertEquals(1_000, b.delayMs(1));
    assertEquals(2_000, b.delayMs(2));
    assertEquals(32_000, b.delayMs(6));
    assertEquals(60_000, b.delayMs(7));
    assertEquals(60_000, b.delayMs(Integer.MAX_VALUE));
  }

  @Test
  void saturatesInsteadOfOverflowing() {
    Backoff b = new Backoff(Long.MAX_VALUE / 2 + 1, Long.MAX_VALUE);
    assertEquals(Long.MAX_VALUE, b.delayMs(2));
    assertEquals(1, new Backoff(1, Long.MAX_VALUE).delayMs(1));
  }

  @Test
  void refusesBoundsOutOfOrder() {
    assertThrows(IllegalArgumentException.class, () -> new Backoff(0, 10));
    assertThrows(IllegalArgumentException.class, () -> new Backoff(10, 9));
  }
}
