package ringkv.node.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Goal: the replication lag a node reports (the age of the oldest write a peer has not
 * acknowledged, told from its Lamport counter) is a lower bound of the true age, exact while
 * samples are dense, and memory stays bounded. Method: a seeded run of writes with known times,
 * sampled as the driver samples them, compared with the true ages; then far more samples than
 * the bound.
 */
class CounterTimelineTest {
  @Test
  void agesAreExactAtSamplesAndZeroBeforeTheNextSample() {
    CounterTimeline t = new CounterTimeline();
    t.sample(100, 1_000);
    t.sample(105, 1_010);
    t.sample(105, 1_020); // the clock did not move: nothing new
    t.sample(130, 1_030);
    assertEquals(3, t.size());
    assertEquals(50, t.ageMs(100, 1_050));
    assertEquals(40, t.ageMs(101, 1_050), "made after 1000, seen by 1010");
    assertEquals(20, t.ageMs(130, 1_050));
    assertEquals(0, t.ageMs(131, 1_050), "younger than the last sample");
    assertEquals(50, t.ageMs(7, 1_050), "older than every sample: at least the first's age");
    t.forgetBelow(106);
    assertEquals(1, t.size());
    assertEquals(20, t.ageMs(106, 1_050));
    t.clear();
    assertEquals(0, t.ageMs(106, 1_050));
  }

  @Test
  void reportedAgeNeverExceedsTheTrueAgeAndStaysBounded() {
    long seed = Long.getLong("sim.seed", System.nanoTime());
    Random random = new Random(seed);
    CounterTimeline t = new CounterTimeline();
    long counter = 0;
    long now = 0;
    long[] madeAt = new long[200_000];
    long[] counters = new long[madeAt.length];
    for (int i = 0; i < madeAt.length; i++) {
      now += random.nextInt(3); // several writes per millisecond, and pauses
      counter = Math.max(counter + 1, now); // the hybrid clock
      madeAt[i] = now;
      counters[i] = counter;
      long written = counter;
      if (random.nextInt(4) == 0) {
        t.sample(written, now); // the driver runs after some writes, not all
      }
      if (i % 997 == 0) {
        int oldest = random.nextInt(i + 1);
        long reported = t.ageMs(counters[oldest], now);
        assertTrue(reported <= now - madeAt[oldest],
            "seed " + seed + ": reported " + reported + " > true " + (now - madeAt[oldest]));
      }
      assertTrue(t.size() <= CounterTimeline.SAMPLES_MAX, "seed " + seed);
    }
  }
}
