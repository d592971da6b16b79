package ringkv.gossip;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;

/*
 * Goal: LamportClock keeps the Lamport properties with a physical floor: every tick is strictly
 * above the previous one and never below the caller's nowMs, observe never moves the clock back,
 * and a tick after observe(x) is above x.
 * Method: a seeded random walk that interleaves ticks (with nowMs jumping forward, standing still
 * and going backwards, as wall clocks do) and observations, checked against a tiny model.
 */
class LamportClockTest {
  private static final long SEED = 0x5eed_0002L;
  private static final int STEPS = 50_000;

  @Test
  void randomWalkKeepsLamportProperties() {
    Random random = new Random(SEED);
    LamportClock clock = new LamportClock();
    long nowMs = 1_000;
    long lastTick = 0;
    long highestObserved = 0;
    for (int i = 0; i < STEPS; i++) {
      String where = "seed=" + SEED + " step=" + i + " " + clock;
      long before = clock.current();
      nowMs += random.nextInt(21) - 10; // wall clocks step back too
      if (random.nextBoolean()) {
        long seen = Math.max(0, before + random.nextInt(2_001) - 1_000);
        clock.observe(seen);
        highestObserved = Math.max(highestObserved, seen);
        assertTrue(clock.current() >= before, "observe is monotone: " + where);
        assertEquals(Math.max(before, seen), clock.current(), "observe is a max: " + where);
      } else {
        Version v = clock.tick("n", nowMs);
        assertTrue(v.counter() > lastTick, "tick strictly increases: " + where);
        assertTrue(v.counter() > before, "tick above current: " + where);
        assertTrue(v.counter() > highestObserved, "tick above everything observed: " + where);
        assertTrue(v.counter() >= nowMs, "tick never below nowMs: " + where);
        assertEquals(v.counter(), clock.current(), where);
        assertEquals("n", v.node(), where);
        lastTick = v.counter();
      }
    }
  }

  @Test
  void tickAfterObserveIsAboveTheObservedCounter() {
    LamportClock clock = new LamportClock(5);
    clock.observe(1_000_000);
    assertEquals(1_000_001, clock.tick("n", 10).counter());
    clock.observe(3); // going back is ignored
    assertEquals(1_000_002, clock.tick("n", 10).counter());
  }

  @Test
  void tickFollowsThePhysicalClockWhenItIsAhead() {
    LamportClock clock = new LamportClock();
    assertEquals(500, clock.tick("n", 500).counter());
    assertEquals(501, clock.tick("n", 500).counter());
    assertEquals(502, clock.tick("n", 100).counter());
    assertEquals(9_000, clock.tick("n", 9_000).counter());
  }

  @Test
  void startsWhereToldAndRejectsNegativeStart() {
    assertEquals(0, new LamportClock().current());
    assertEquals(42, new LamportClock(42).current());
    assertEquals(43, new LamportClock(42).tick("n", 0).counter());
    assertThrows(IllegalArgumentException.class, () -> new LamportClock(-1));
  }

  @Test
  void aTickPastTheLastCounterIsRefusedNotWrapped() {
    LamportClock clock = new LamportClock();
    clock.observe(Long.MAX_VALUE);
    assertThrows(ArithmeticException.class, () -> clock.tick("n", 0));
    assertEquals(Long.MAX_VALUE, clock.current(), "the clock did not wrap to a negative counter");
  }
}
