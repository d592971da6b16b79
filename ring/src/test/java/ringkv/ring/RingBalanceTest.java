package ringkv.ring;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/*
 * Goal: SPEC §6 balance: every shard's share of the hash space is within ±5% of 1/N for every
 * shard count a cluster can pass through. Method: rings are canonical per (N, V) (a reshard to N
 * yields the same ring as initial(N)), so checking initial(N) for every N checks every walk.
 * Exhaustive for V = 20 and N = 1..1024 (also bounding the deviation by 1/(V+1)); exact
 * equality for N <= V+1 with V in {8, 16, 20, 32}; ±5% for V = 32 up to N = 64. The worst
 * deviation is printed.
 */
class RingBalanceTest {
  private static final double TOLERANCE = 0.05;

  @Test
  void defaultVnodesStayWithinFivePercentForEveryShardCount() {
    int vnodes = Ring.DEFAULT_VNODES_PER_SHARD;
    Ring ring = Ring.initial(1, vnodes);
    double worst = 0;
    int worstAt = 1;
    for (int shards = 1; shards <= Ring.SHARD_COUNT_MAX; shards++) {
      ring = ring.reshard(shards);
      double deviation = worstDeviation(ring);
      if (shards <= 64) {
        assertEquals(Ring.initial(shards, vnodes), ring, "N=" + shards);
      }
      assertTrue(deviation <= TOLERANCE, "N=" + shards + " deviation " + deviation);
      assertTrue(deviation <= 1.0 / (vnodes + 1) + 1e-9, "N=" + shards + " deviation "
          + deviation);
      if (deviation > worst) {
        worst = deviation;
        worstAt = shards;
      }
    }
    System.out.printf("ring balance V=%d N=1..%d: worst share deviation %.4f%% at N=%d%n",
        vnodes, Ring.SHARD_COUNT_MAX, 100 * worst, worstAt);
  }

  @Test
  void sharesAreEqualWhileEveryShardCanDonate() {
    for (int vnodes : new int[] {8, 16, 20, 32}) {
      for (int shards = 1; shards <= vnodes + 1; shards++) {
        assertTrue(worstDeviation(Ring.initial(shards, vnodes)) < 1e-9,
            "V=" + vnodes + " N=" + shards);
      }
    }
  }

  @Test
  void moreVnodesStayBalancedToo() {
    for (int shards = 1; shards <= 64; shards++) {
      double deviation = worstDeviation(Ring.initial(shards, 32));
      assertTrue(deviation <= TOLERANCE, "V=32 N=" + shards + " deviation " + deviation);
    }
  }

  static double worstDeviation(Ring ring) {
    double worst = 0;
    for (int s = 1; s <= ring.shardCount(); s++) {
      worst = Math.max(worst, Math.abs(ring.share(s) * ring.shardCount() - 1));
    }
    return worst;
  }
}
