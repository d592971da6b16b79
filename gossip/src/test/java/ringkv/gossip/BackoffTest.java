package ringkv.gossip;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/*
 * Goal: Backoff doubles from its least wait to its most and stays there, without overflowing for
 * any number of failures, and refuses bounds out of order. (The replication queue's own bounds
 * are checked in ReplicationQueueTest.)
 * Method: the waits of the quarantine repair's bounds, and extreme bounds.
 */
class BackoffTest {
  @ParameterizedTest(name = "failures={0} wait={1}")
  @CsvSource({"1, 1000", "2, 2000", "6, 32000", "7, 60000", "2147483647, 60000"})
  void doublesUpToTheMost(int failures, long waitMs) {
    assertEquals(waitMs, new Backoff(1_000, 60_000).delayMs(failures));
  }

  @Test
  void saturatesInsteadOfOverflowing() {
    assertEquals(Long.MAX_VALUE, new Backoff(Long.MAX_VALUE / 2 + 1, Long.MAX_VALUE).delayMs(2));
  }

  @Test
  void refusesBoundsOutOfOrder() {
    assertThrows(IllegalArgumentException.class, () -> new Backoff(0, 10));
    assertThrows(IllegalArgumentException.class, () -> new Backoff(10, 9));
  }
}
