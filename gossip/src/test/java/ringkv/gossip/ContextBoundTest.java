package ringkv.gossip;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashMap;
import java.util.Map;
import java.util.Random;
import java.util.function.BiPredicate;
import org.junit.jupiter.api.Test;

/**
 * Goal: a reply's context hands the client's metadata back untouched unless it grows past the
 * bound, and then drops only stable entries, oldest first. Method: table cases and a seeded
 * property loop over random contexts and stability thresholds.
 */
class ContextBoundTest {
  private static CausalContext ctx(Object... keyCounter) {
    Map<String, Version> m = new HashMap<>();
    for (int i = 0; i < keyCounter.length; i += 2) {
      m.put((String) keyCounter[i], new Version((Long) keyCounter[i + 1], "n1"));
    }
    return CausalContext.of(m);
  }

  @Test
  void stableEntriesOfASmallContextComeBackAsSent() {
    CausalContext sent = ctx("a", 5L, "b", 7L);
    // Everything is stable: still nothing is dropped under the bound.
    CausalContext out = ContextBound.reply(sent, CausalContext.EMPTY, 16, (k, v) -> true);
    assertSame(sent, out);
  }

  @Test
  void whatTheRequestTaughtIsAdded() {
    CausalContext out = ContextBound.reply(ctx("a", 5L), ctx("a", 9L, "b", 2L), 16,
        (k, v) -> true);
    assertEquals(ctx("a", 9L, "b", 2L), out);
  }

  @Test
  void aboveTheBoundTheOldestStableEntriesGoFirst() {
    CausalContext sent = ctx("a", 1L, "b", 2L, "c", 3L, "d", 4L, "e", 5L);
    CausalContext out = ContextBound.reply(sent, CausalContext.EMPTY, 3, (k, v) -> true);
    assertEquals(ctx("c", 3L, "d", 4L, "e", 5L), out);
  }

  /**
   * A read of a stable key older than everything the client holds, at the bound: the bound
   * drops what the read taught, and the client gets its own context back (the same object, which
   * the node's dialects echo byte for byte), not a copy.
   */
  @Test
  void whenTheBoundDropsExactlyWhatWasLearnedTheSentContextComesBack() {
    CausalContext sent = ctx("a", 5L, "b", 7L, "c", 9L);
    CausalContext out = ContextBound.reply(sent, ctx("old", 2L), 3, (k, v) -> true);
    assertSame(sent, out);
    CausalContext newer = ContextBound.reply(sent, ctx("new", 8L), 3, (k, v) -> true);
    assertEquals(ctx("b", 7L, "new", 8L, "c", 9L), newer, "a newer entry displaces the oldest");
  }

  @Test
  void unstableEntriesStayWhateverTheSize() {
    CausalContext sent = ctx("a", 1L, "b", 2L, "c", 3L, "d", 4L, "e", 5L);
    // Only a and d are stable.
    CausalContext out = ContextBound.reply(sent, CausalContext.EMPTY, 2,
        (k, v) -> k.equals("a") || k.equals("d"));
    assertEquals(ctx("b", 2L, "c", 3L, "e", 5L), out);
  }

  @Test
  void property_neverDropsUnstableNeverExceedsWhenItCould() {
    Random random = new Random(42);
    for (int run = 0; run < 2000; run++) {
      Map<String, Version> m = new HashMap<>();
      int n = random.nextInt(40);
      for (int i = 0; i < n; i++) {
        m.put("k" + random.nextInt(60), new Version(1 + random.nextInt(1000), "n"));
      }
      CausalContext sent = CausalContext.of(m);
      long stableAt = random.nextInt(1000);
      int bound = random.nextInt(20);
      CausalContext out = ContextBound.reply(sent, CausalContext.EMPTY, bound,
          (k, v) -> v.counter() <= stableAt);
      long unstable = m.values().stream().filter(v -> v.counter() > stableAt).count();
      for (Map.Entry<String, Version> e : m.entrySet()) {
        if (e.getValue().counter() > stableAt) {
          assertEquals(e.getValue(), out.keys().get(e.getKey()), "unstable entry dropped");
        }
      }
      assertEquals(Math.min(m.size(), Math.max(bound, unstable)), out.size(), "size");
      // Whatever was dropped is older than whatever stable entry was kept.
      long maxDropped = m.entrySet().stream().filter(e -> !out.keys().containsKey(e.getKey()))
          .mapToLong(e -> e.getValue().counter()).max().orElse(Long.MIN_VALUE);
      long minKeptStable = out.keys().values().stream().filter(v -> v.counter() <= stableAt)
          .mapToLong(Version::counter).min().orElse(Long.MAX_VALUE);
      assertTrue(maxDropped <= minKeptStable, "dropped a newer stable entry first");
    }
  }

  /**
   * The shortcut that answers with the sent context itself (a read of a key older than all a
   * full context holds) gives what merging and sorting gives, and the same object exactly when
   * the result holds the sent entries: contexts at and around the bound, with one or more
   * learned keys, ties on counters, and stability by counter or by key.
   */
  @Test
  void property_theShortcutAgreesWithMergingAndSorting() {
    Random random = new Random(1607);
    int shortcuts = 0;
    for (int run = 0; run < 20_000; run++) {
      int bound = 1 + random.nextInt(6);
      Map<String, Version> m = new HashMap<>();
      int n = bound - 1 + random.nextInt(3);
      while (m.size() < n) {
        m.put("k" + random.nextInt(30), new Version(1 + random.nextInt(40), "n"));
      }
      Map<String, Version> l = new HashMap<>();
      for (int i = random.nextInt(3); i >= 0; i--) {
        l.put("k" + random.nextInt(30), new Version(1 + random.nextInt(40), "n"));
      }
      CausalContext sent = CausalContext.of(m);
      CausalContext learned = CausalContext.of(l);
      long stableAt = random.nextInt(45);
      BiPredicate<String, Version> stable = random.nextBoolean()
          ? (k, v) -> v.counter() <= stableAt : (k, v) -> k.hashCode() % 3 != 0;
      CausalContext expected = ContextBound.bySorting(sent, learned, bound, stable);
      CausalContext got = ContextBound.reply(sent, learned, bound, stable);
      assertEquals(expected, got, "run " + run);
      assertEquals(expected == sent, got == sent, "run " + run + ": the sent object itself");
      if (got == sent && !sent.merge(learned).equals(sent)) {
        shortcuts++;
      }
    }
    assertTrue(shortcuts > 500, "the shortcut's case came up too rarely: " + shortcuts);
  }
}
