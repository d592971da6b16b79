package ringkv.ring;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

/*
 * Goal: SPEC §6 placement guarantees hold across reshards: after every step of many seeded
 * random walks of the shard count (1..64, small steps and large jumps, growth and shrink), every
 * shard's share is within ±5% of 1/N, every shard owns exactly V distinct tokens, and the
 * fraction of the hash space whose owner changed is at most 1.1 * |M-N| / max(M,N).
 * Method: the moved fraction is measured exactly by merging both token tables into elementary
 * arcs and summing those whose owner differs; on every tenth walk it is cross-checked with
 * 20,000 seeded random keys (hashed once per walk). Seeds are printed in every assertion
 * message. Rings are canonical per shard count, so these walks also check that reshard agrees
 * with initial along arbitrary paths.
 */
class RingTransitionTest {
  private static final int VNODES = Ring.DEFAULT_VNODES_PER_SHARD;
  private static final int SHARDS_MAX = 64;
  private static final int WALKS = 500;
  private static final int STEPS_PER_WALK = 10;
  private static final int SAMPLE_KEYS = 20_000;
  private static final double BALANCE_TOLERANCE = 0.05;
  private static final double MOVEMENT_SLACK = 1.1;

  @Test
  void randomWalksStayBalancedAndMoveLittle() {
    double worstDeviation = 0;
    double worstMovementRatio = 0;
    for (int walk = 0; walk < WALKS; walk++) {
      long seed = 0x5EEDL * 1_000_003L + walk;
      Random random = new Random(seed);
      int count = 1 + random.nextInt(SHARDS_MAX);
      long[] keyTokens = walk % 10 == 0 ? randomKeyTokens(random) : null;
      Ring ring = Ring.initial(count, VNODES);
      for (int step = 0; step < STEPS_PER_WALK; step++) {
        int next = nextCount(random, count);
        String where = "seed=" + seed + " step=" + step + " " + count + "->" + next;
        Ring after = ring.reshard(next);
        if (step == 0) {
          assertEquals(Ring.initial(next, VNODES), after, where);
        }
        worstDeviation = Math.max(worstDeviation, checkInvariants(after, where));
        double moved = movedFraction(ring, after);
        double ratio = moved / unavoidable(count, next);
        worstMovementRatio = Math.max(worstMovementRatio, ratio);
        assertTrue(ratio <= MOVEMENT_SLACK, where + " moved " + moved + " ratio " + ratio);
        if (keyTokens != null) {
          crossCheckWithKeys(ring, after, moved, keyTokens, where);
        }
        ring = after;
        count = next;
      }
    }
    System.out.printf("ring walks: worst share deviation %.4f%%, worst movement ratio %.4f%n",
        100 * worstDeviation, worstMovementRatio);
  }

  @Test
  void namedJumpsStayBalancedAndMoveLittle() {
    int[][] paths = {{2, 10, 3}, {1, 64, 1}, {64, 63, 62, 2}, {3, 4, 5, 6, 7, 8}, {40, 41, 39, 42}};
    for (int[] path : paths) {
      Ring ring = Ring.initial(path[0], VNODES);
      for (int i = 1; i < path.length; i++) {
        String where = "path=" + Arrays.toString(path) + " step=" + i;
        Ring after = ring.reshard(path[i]);
        checkInvariants(after, where);
        double ratio = movedFraction(ring, after) / unavoidable(path[i - 1], path[i]);
        assertTrue(ratio <= MOVEMENT_SLACK, where + " ratio " + ratio);
        ring = after;
      }
    }
  }

  /** Half small steps (±1..3), half uniform jumps; never the same count. */
  private static int nextCount(Random random, int count) {
    int next;
    do {
      if (random.nextBoolean()) {
        int delta = 1 + random.nextInt(3);
        next = random.nextBoolean() ? count + delta : count - delta;
      } else {
        next = 1 + random.nextInt(SHARDS_MAX);
      }
    } while (next < 1 || next > SHARDS_MAX || next == count);
    return next;
  }

  private static double unavoidable(int from, int to) {
    return Ring.unavoidableMovedFraction(from, to);
  }

  /** Asserts the ring invariants; returns the worst relative share deviation. */
  static double checkInvariants(Ring ring, String where) {
    int shards = ring.shardCount();
    List<TokenEntry> tokens = ring.tokens();
    assertEquals(shards * ring.vnodesPerShard(), tokens.size(), where);
    Set<Long> distinct = new HashSet<>();
    int[] perShard = new int[shards + 1];
    for (TokenEntry entry : tokens) {
      assertTrue(distinct.add(entry.token()), where + " duplicate token " + entry.token());
      perShard[entry.shardId()]++;
    }
    double worst = 0;
    for (int s = 1; s <= shards; s++) {
      assertEquals(ring.vnodesPerShard(), perShard[s], where + " tokens of shard " + s);
      double deviation = Math.abs(ring.share(s) * shards - 1);
      assertTrue(deviation <= BALANCE_TOLERANCE, where + " shard " + s + " share "
          + ring.share(s) + " deviates " + deviation + " from 1/" + shards);
      worst = Math.max(worst, deviation);
    }
    return worst;
  }

  /** Exact measure of the points whose owner differs between the two rings. */
  static double movedFraction(Ring before, Ring after) {
    return Ring.movedFraction(before, after);
  }

  /** Tokens of seeded random keys, hashed once per walk. */
  private static long[] randomKeyTokens(Random random) {
    long[] keyTokens = new long[SAMPLE_KEYS];
    for (int k = 0; k < SAMPLE_KEYS; k++) {
      keyTokens[k] = KeyHash.tokenOf("key-" + Long.toHexString(random.nextLong()));
    }
    return keyTokens;
  }

  private static void crossCheckWithKeys(Ring before, Ring after, double exact,
      long[] keyTokens, String where) {
    int changed = 0;
    for (long token : keyTokens) {
      if (before.shardOfToken(token) != after.shardOfToken(token)) {
        changed++;
      }
    }
    double sampled = (double) changed / keyTokens.length;
    double sigma = Math.sqrt(Math.max(exact * (1 - exact), 1e-4) / keyTokens.length);
    assertTrue(Math.abs(sampled - exact) <= 5 * sigma,
        where + " sampled moved " + sampled + " vs exact " + exact);
  }
}
