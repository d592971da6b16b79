package ringkv.gossip;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;

/**
 * Goal: a parked request is released exactly once, by the first version at least the one it
 * waits for, or expired at its deadline; the number of parked requests is bounded. Method:
 * table cases with explicit times.
 */
class WaitsTest {
  private static final Version V5 = new Version(5, "n");
  private static final Version V7 = new Version(7, "n");

  /** Room for ten parked requests (a fresh one per test). */
  private final Waits w = new Waits(10);

  @Test
  void releasedByANewEnoughVersionOnly() {
    long a = w.await("k", V7, 1_000).getAsLong();
    long b = w.await("k", V5, 1_000).getAsLong();
    long c = w.await("j", V5, 1_000).getAsLong();
    assertEquals(List.of(b), w.onHeld("k", V5));
    assertEquals(List.of(a), w.onHeld("k", V7));
    assertEquals(List.of(), w.onHeld("k", V7), "released once");
    assertEquals(1, w.size());
    assertEquals(List.of(c), w.expire(1_000));
    assertEquals(0, w.size());
  }

  @Test
  void expiresInDeadlineOrderAndCancelsOnce() {
    long late = w.await("k", V5, 2_000).getAsLong();
    long early = w.await("j", V5, 1_000).getAsLong();
    long other = w.await("i", V5, 1_000).getAsLong();
    assertTrue(w.cancel(other));
    assertFalse(w.cancel(other));
    assertEquals(List.of(), w.expire(999));
    assertEquals(List.of(early), w.expire(1_500));
    assertEquals(List.of(late), w.expire(5_000));
    assertEquals(List.of(), w.onHeld("k", V7), "an expired wait is not released");
  }

  @Test
  void boundedInNumber() {
    Waits two = new Waits(2);
    assertTrue(two.await("a", V5, 10).isPresent());
    assertTrue(two.await("b", V5, 10).isPresent());
    assertEquals(OptionalLong.empty(), two.await("c", V5, 10));
    two.onHeld("a", V5);
    assertTrue(two.await("c", V5, 10).isPresent(), "room again once one is released");
  }
}
