package ringkv.gossip;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;

/*
 * Goal: SettleHorizon returns the highest counter known at least settleMs ago, never a counter
 * learned more recently, and keeps a bounded number of samples however often it is sampled.
 * Method: table cases, then a seeded property loop against a brute-force list of every sample.
 */
class SettleHorizonTest {

  @Test
  void horizonLagsBySettle() {
    SettleHorizon h = new SettleHorizon(1_000);
    assertEquals(0, h.horizon(0));
    h.sample(0, 50);
    assertEquals(0, h.horizon(999));
    assertEquals(50, h.horizon(1_000));
    h.sample(1_500, 90_000); // counters far ahead of wall time: released 1 s later anyway
    assertEquals(50, h.horizon(2_499));
    assertEquals(90_000, h.horizon(2_500));
  }

  @Test
  void clockGoingBackIsRejected() {
    SettleHorizon h = new SettleHorizon(1_000);
    h.sample(0, 10);
    assertThrows(IllegalArgumentException.class, () -> h.sample(2_000, 9));
  }

  @Test
  void neverClaimsACounterLearnedTooRecentlyAndStaysBounded() {
    for (long seed = 0; seed < 40; seed++) {
      Random random = new Random(seed);
      long settle = 1 + random.nextInt(5_000);
      SettleHorizon h = new SettleHorizon(settle);
      java.util.List<long[]> all = new java.util.ArrayList<>();
      long now = random.nextInt(1_000);
      long counter = 0;
      for (int i = 0; i < 600; i++) {
        now += random.nextInt(200);
        counter += random.nextInt(3) * random.nextInt(1_000);
        if (random.nextBoolean()) {
          h.sample(now, counter);
          all.add(new long[] {now, counter});
        }
        long horizon = h.horizon(now);
        long known = 0; // the highest counter sampled at least `settle` ago
        long lagged = 0; // the same, allowing for samples replaced as too dense
        for (long[] s : all) {
          if (now - s[0] >= settle) {
            known = Math.max(known, s[1]);
          }
          long gap = (settle + SettleHorizon.SAMPLES_PER_SETTLE - 1)
              / SettleHorizon.SAMPLES_PER_SETTLE;
          if (now - s[0] >= settle + gap) {
            lagged = Math.max(lagged, s[1]);
          }
        }
        assertTrue(horizon <= known, "seed " + seed + ": " + horizon + " > " + known);
        assertTrue(horizon >= lagged, "seed " + seed + ": " + horizon + " < " + lagged);
        assertTrue(h.size() <= 2 * SettleHorizon.SAMPLES_PER_SETTLE + 3, "seed " + seed + " " + h);
      }
    }
  }
}
