package ringkv.ring;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/*
 * Goal: the ring's golden cases and API contracts: the base ring, exact halves for two shards,
 * determinism (independently built rings are equal, so every node computes the same placement),
 * one owner per key matching the token table, the canonical prefix property behind shrinking,
 * and wire round trips with validation. Method: table tests plus seeded random keys and tokens
 * checked against a linear scan of tokens(); seeds are printed in assertion messages.
 */
class RingTest {
  private static final int VNODES = Ring.DEFAULT_VNODES_PER_SHARD;

  @Test
  void oneShardIsTheBaseRing() {
    for (int vnodes : new int[] {1, 2, 7, 20, 64}) {
      Ring ring = Ring.initial(1, vnodes);
      assertEquals(Ring.base(vnodes), ring);
      assertEquals(vnodes, ring.tokens().size());
      assertEquals(1.0, ring.share(1), 1e-12);
      assertEquals(Long.MIN_VALUE, ring.tokens().get(0).token());
    }
    Ring four = Ring.base(4);
    assertEquals(List.of(new TokenEntry(Long.MIN_VALUE, 1), new TokenEntry(-(1L << 62), 1),
        new TokenEntry(0, 1), new TokenEntry(1L << 62, 1)), four.tokens());
  }

  @Test
  void twoShardsSplitExactlyInHalf() {
    Ring ring = Ring.initial(2, VNODES);
    assertEquals(0.5, ring.share(1), 1e-9);
    assertEquals(0.5, ring.share(2), 1e-9);
    assertEquals(Ring.initial(2, 1).share(2), 0.5, 1e-9);
  }

  @Test
  void independentlyBuiltRingsAreEqual() {
    for (int shards = 1; shards <= 64; shards += 7) {
      Ring a = Ring.initial(shards, VNODES);
      Ring b = Ring.base(VNODES).reshard(shards);
      assertEquals(a, b);
      assertEquals(a.hashCode(), b.hashCode());
      assertEquals(a.tokens(), b.tokens());
    }
    assertNotEquals(Ring.initial(3, VNODES), Ring.initial(4, VNODES));
    assertNotEquals(Ring.initial(3, 8), Ring.initial(3, 16));
  }

  @Test
  void everyKeyHasExactlyOneShardMatchingTheTokenTable() {
    long seed = 7;
    Random random = new Random(seed);
    for (int shards : new int[] {1, 2, 3, 17, 64}) {
      Ring ring = Ring.initial(shards, VNODES);
      for (int k = 0; k < 2_000; k++) {
        String key = "k" + random.nextInt();
        long token = KeyHash.tokenOf(key);
        int shard = ring.shardOf(key);
        assertEquals(ownerByScan(ring.tokens(), token), shard, "seed=" + seed + " key=" + key);
        assertEquals(shard, ring.shardOf(key), "seed=" + seed + " key=" + key);
        long randomToken = random.nextLong();
        assertEquals(ownerByScan(ring.tokens(), randomToken), ring.shardOfToken(randomToken),
            "seed=" + seed + " token=" + randomToken);
      }
    }
  }

  @Test
  void tokenBoundariesAndWrapAround() {
    Ring ring = Ring.initial(3, VNODES);
    List<TokenEntry> tokens = ring.tokens();
    TokenEntry first = tokens.get(0);
    TokenEntry last = tokens.get(tokens.size() - 1);
    for (TokenEntry entry : tokens) {
      assertEquals(entry.shardId(), ring.shardOfToken(entry.token()));
    }
    assertEquals(first.shardId(), ring.shardOfToken(Long.MIN_VALUE));
    if (last.token() != Long.MAX_VALUE) {
      assertEquals(first.shardId(), ring.shardOfToken(last.token() + 1));
      assertEquals(first.shardId(), ring.shardOfToken(Long.MAX_VALUE));
    }
    assertEquals(tokens.get(1).shardId(), ring.shardOfToken(first.token() + 1));
  }

  @Test
  void shrinkingIsDeletingTokensAndGrowingKeepsThem() {
    Ring big = Ring.initial(40, VNODES);
    for (int shards : new int[] {1, 2, 5, 21, 22, 39}) {
      Ring small = big.reshard(shards);
      assertEquals(Ring.initial(shards, VNODES), small, "shards=" + shards);
      List<TokenEntry> expected = new ArrayList<>();
      for (TokenEntry entry : big.tokens()) {
        if (entry.shardId() <= shards) {
          expected.add(entry);
        }
      }
      assertEquals(expected, small.tokens(), "shards=" + shards);
      assertEquals(big, small.reshard(40), "shards=" + shards);
    }
  }

  @Test
  void reshardToSameCountReturnsThisRing() {
    Ring ring = Ring.initial(5, VNODES);
    assertSame(ring, ring.reshard(5));
    assertEquals(ring, ring.reshard(5));
  }

  @Test
  void accessorsDescribeTheRing() {
    Ring ring = Ring.initial(3, VNODES);
    assertEquals(3, ring.shardCount());
    assertEquals(VNODES, ring.vnodesPerShard());
    assertEquals(new TreeSet<>(List.of(1, 2, 3)), ring.shardIds());
    assertEquals(ring.shardIds(), ring.shares().keySet());
    double total = ring.shares().values().stream().mapToDouble(Double::doubleValue).sum();
    assertEquals(1.0, total, 1e-9);
    assertEquals("murmur3_128", ring.hashFunction());
    assertTrue(ring.toString().contains("shards=3"), ring.toString());
    String table = ring.describe();
    assertEquals(1 + 1 + 3 + 1 + 3 * VNODES, table.split("\n").length, table);
    assertTrue(table.contains("murmur3_128"), table);
    assertThrows(IllegalArgumentException.class, () -> ring.share(4));
    assertThrows(IllegalArgumentException.class, () -> ring.share(0));
    assertThrows(UnsupportedOperationException.class, () -> ring.tokens().clear());
  }

  @Test
  void fromTokensRoundTrips() {
    for (int shards : new int[] {1, 2, 9, 64}) {
      Ring ring = Ring.initial(shards, VNODES);
      assertEquals(ring, Ring.fromTokens(VNODES, ring.tokens()));
      List<TokenEntry> shuffled = new ArrayList<>(ring.tokens());
      Collections.shuffle(shuffled, new Random(shards));
      assertEquals(ring, Ring.fromTokens(VNODES, shuffled), "shuffle seed=" + shards);
    }
  }

  @Test
  void fromTokensRejectsBadTables() {
    List<TokenEntry> good = Ring.initial(3, 2).tokens();
    List<TokenEntry> duplicate = new ArrayList<>(good);
    duplicate.set(1, new TokenEntry(good.get(0).token(), good.get(1).shardId()));
    List<TokenEntry> gap = new ArrayList<>();
    for (TokenEntry entry : good) {
      gap.add(new TokenEntry(entry.token(), entry.shardId() == 3 ? 4 : entry.shardId()));
    }
    List<TokenEntry> unbalanced = new ArrayList<>(good);
    unbalanced.set(0, new TokenEntry(good.get(0).token(), good.get(0).shardId() == 1 ? 2 : 1));
    List<List<TokenEntry>> bad = List.of(List.of(), duplicate, gap, unbalanced,
        good.subList(0, 5));
    for (List<TokenEntry> tokens : bad) {
      assertThrows(IllegalArgumentException.class, () -> Ring.fromTokens(2, tokens),
          tokens.toString());
    }
    assertThrows(IllegalArgumentException.class, () -> Ring.fromTokens(3, good));
    assertThrows(IllegalArgumentException.class, () -> Ring.fromTokens(0, good));
    assertThrows(IllegalArgumentException.class, () -> new TokenEntry(5, 0));
  }

  @Test
  void rejectsBadCounts() {
    assertThrows(IllegalArgumentException.class, () -> Ring.initial(0, VNODES));
    assertThrows(IllegalArgumentException.class, () -> Ring.initial(3, 0));
    assertThrows(IllegalArgumentException.class,
        () -> Ring.initial(Ring.SHARD_COUNT_MAX + 1, VNODES));
    assertThrows(IllegalArgumentException.class,
        () -> Ring.initial(Ring.TOKENS_MAX / 1024 + 1, 1024));
    assertThrows(IllegalArgumentException.class, () -> Ring.initial(2, VNODES).reshard(0));
  }

  private static int ownerByScan(List<TokenEntry> tokens, long token) {
    for (TokenEntry entry : tokens) {
      if (entry.token() >= token) {
        return entry.shardId();
      }
    }
    return tokens.get(0).shardId();
  }
}
