package ringkv.gossip;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

/*
 * Goal: CausalContext.merge is a join (point-wise max of versions, commutative, associative,
 * idempotent, above both operands); with/without/get/maxCounter do what they say; the record is
 * immutable and validated.
 * Method: seeded property loops over random contexts on a small key and node domain (so keys
 * overlap and versions tie), compared with a point-wise model built from plain maps; table tests
 * for the edges. The seed is in every assertion message.
 */
class CausalContextTest {
  private static final long SEED = 0x5eed_0003L;
  private static final int ROUNDS = 5_000;
  private static final String[] KEYS = {"k0", "k1", "k2", "k3", "k4"};
  private static final String[] NODES = {"a", "b", "c"};

  private static CausalContext randomContext(Random random) {
    Map<String, Version> keys = new HashMap<>();
    int size = random.nextInt(KEYS.length + 1);
    for (int i = 0; i < size; i++) {
      Version v = new Version(1 + random.nextInt(5), NODES[random.nextInt(NODES.length)]);
      keys.put(KEYS[random.nextInt(KEYS.length)], v);
    }
    return new CausalContext(keys);
  }

  @Test
  void mergeIsPointWiseMax() {
    SeededDraws.triples(SEED, ROUNDS, CausalContextTest::randomContext, (a, b, unused, where) -> {
      CausalContext merged = a.merge(b);
      Set<String> union = new HashSet<>(a.keys().keySet());
      union.addAll(b.keys().keySet());
      assertEquals(union, merged.keys().keySet(), where);
      for (String key : KEYS) {
        assertEquals(Version.max(a.get(key), b.get(key)), merged.get(key), where + " key=" + key);
        assertTrue(merged.get(key).isAtLeast(a.get(key)), "above a: " + where);
        assertTrue(merged.get(key).isAtLeast(b.get(key)), "above b: " + where);
      }
      assertEquals(Math.max(a.maxCounter(), b.maxCounter()), merged.maxCounter(), where);
    });
  }

  @Test
  void mergeIsCommutativeAssociativeAndIdempotent() {
    SeededDraws.triples(SEED, ROUNDS, CausalContextTest::randomContext, (a, b, c, where) -> {
      assertEquals(a.merge(b), b.merge(a), "commutative: " + where);
      assertEquals(a.merge(b).merge(c), a.merge(b.merge(c)), "associative: " + where);
      assertEquals(a, a.merge(a), "idempotent: " + where);
      assertEquals(a.merge(b), a.merge(b).merge(b), "absorbs: " + where);
      assertEquals(a, a.merge(CausalContext.EMPTY), "EMPTY is the identity: " + where);
      assertEquals(a, CausalContext.EMPTY.merge(a), "EMPTY is the identity: " + where);
    });
  }

  @Test
  void withRaisesOnlyUpwards() {
    Version v3 = new Version(3, "a");
    Version v5 = new Version(5, "a");
    CausalContext ctx = CausalContext.EMPTY.with("k", v3);
    assertEquals(v3, ctx.get("k"));
    assertEquals(v5, ctx.with("k", v5).get("k"));
    assertSame(ctx, ctx.with("k", new Version(2, "z")), "lower version leaves it as is");
    assertSame(ctx, ctx.with("k", v3), "equal version leaves it as is");
    assertEquals(Map.of("k", v3, "j", v5), ctx.with("j", v5).keys());
  }

  @Test
  void withoutDropsSelectedEntries() {
    CausalContext ctx = new CausalContext(Map.of(
        "a", new Version(1, "n"), "b", new Version(7, "n"), "c", new Version(9, "m")));
    assertEquals(Map.of("a", new Version(1, "n")),
        ctx.without((k, v) -> v.counter() > 5).keys());
    assertEquals(Map.of("a", new Version(1, "n"), "c", new Version(9, "m")),
        ctx.without((k, v) -> k.equals("b")).keys());
    assertSame(ctx, ctx.without((k, v) -> false), "nothing dropped: same instance");
    assertSame(CausalContext.EMPTY, ctx.without((k, v) -> true), "all dropped: EMPTY, no copy");
  }

  @Test
  void getAndMaxCounterOnEmptyAndFull() {
    assertEquals(Version.ZERO, CausalContext.EMPTY.get("missing"));
    assertEquals(0, CausalContext.EMPTY.maxCounter());
    assertTrue(CausalContext.EMPTY.isEmpty());
    CausalContext ctx =
        new CausalContext(Map.of("a", new Version(4, "x"), "b", new Version(9, "a")));
    assertEquals(9, ctx.maxCounter());
    assertEquals(2, ctx.size());
  }

  @Test
  void isImmutableAndRejectsNulls() {
    Map<String, Version> source = new HashMap<>();
    source.put("a", new Version(1, "n"));
    CausalContext ctx = new CausalContext(source);
    source.put("b", new Version(2, "n"));
    assertEquals(1, ctx.size(), "a copy, not a view");
    assertThrows(UnsupportedOperationException.class,
        () -> ctx.keys().put("c", new Version(3, "n")));
    Map<String, Version> withNull = new HashMap<>();
    withNull.put("a", null);
    assertThrows(IllegalArgumentException.class, () -> new CausalContext(withNull));
    assertThrows(NullPointerException.class, () -> new CausalContext(null));
  }
}
