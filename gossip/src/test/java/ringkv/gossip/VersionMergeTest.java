package ringkv.gossip;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import java.util.Random;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import ringkv.gossip.VersionMerge.Need;

/*
 * Goal: anti-entropy finds exactly the keys where two replicas differ (missing on either side,
 * older on either side, tombstones included), repairs them in both directions with bounded
 * batches, and leaves both replicas with equal stores and equal digests; writes above the round's
 * horizon are left to the replication queues.
 * Method: table cases for VersionMerge, then a seeded property loop: two MemoryStores derived from
 * one random history with random divergence, a full round as the node runs it (RangeDigest ->
 * differing leaves -> both stores streamed in random-sized pages filtered by the RepairScope ->
 * VersionMerge -> transfer with higher-version-wins), checked against a brute-force diff.
 */
class VersionMergeTest {
  private static final int SEEDS = 100;

  private static KeyVersion kv(String key, long counter) {
    return new KeyVersion(key, new Version(counter, "n"));
  }

  @Test
  void decidesEachKeyByVersion() {
    VersionMerge merge = new VersionMerge(100);
    merge.addMine(List.of(kv("a", 1), kv("b", 2), kv("c", 3), kv("e", 5)), true);
    merge.addTheirs(List.of(kv("b", 2), kv("c", 4), kv("d", 1), kv("e", 4)), true);
    assertEquals(Need.DRAIN, merge.advance());
    assertEquals(List.of("c", "d"), merge.takePull());
    assertEquals(List.of("a", "e"), merge.takePush());
    assertEquals(Need.DONE, merge.advance());
  }

  private static KeyVersion kv(String key, long counter, long checksum) {
    return new KeyVersion(key, new Version(counter, "n"), java.util.OptionalLong.of(checksum));
  }

  @Test
  void sameVersionDifferentChecksumsIsAConflictTheHigherChecksumWins() {
    VersionMerge merge = new VersionMerge(100);
    merge.addMine(List.of(kv("a", 1, 5), kv("b", 2, -1), kv("c", 3, 9), kv("d", 4),
        kv("e", 5, 7)), true);
    merge.addTheirs(List.of(kv("a", 1, 6), kv("b", 2, 1), kv("c", 3, 9), kv("d", 4, 3),
        kv("e", 6, 1)), true);
    assertEquals(Need.DRAIN, merge.advance());
    // a: 6 > 5, theirs wins; b: -1 is the highest unsigned, mine wins; c: equal; d: one side
    // has no checksum (an earlier release): versions only; e: the version decides.
    assertEquals(List.of("a", "e"), merge.takePull());
    assertEquals(List.of("b"), merge.takePush());
    assertEquals(List.of(new VersionMerge.Conflict("a", new Version(1, "n"), 5, 6, true),
        new VersionMerge.Conflict("b", new Version(2, "n"), -1, 1, false)),
        merge.takeConflicts());
    assertEquals(List.of(), merge.takeConflicts());
    assertEquals(Need.DONE, merge.advance());
  }

  @Test
  void asksForPagesAndBoundsBatches() {
    VersionMerge merge = new VersionMerge(2);
    assertEquals(Need.MINE, merge.advance());
    merge.addMine(List.of(), false); // an empty page that is not the last
    assertEquals(Need.MINE, merge.advance());
    merge.addMine(List.of(kv("a", 1), kv("b", 1), kv("c", 1)), false);
    assertEquals(Need.THEIRS, merge.advance());
    merge.addTheirs(List.of(), true);
    assertEquals(Need.DRAIN, merge.advance());
    assertEquals(List.of("a", "b"), merge.takePush());
    assertEquals(Need.MINE, merge.advance()); // "c" is pushed, then the next page is needed
    merge.addMine(List.of(), true);
    assertEquals(Need.DRAIN, merge.advance());
    assertEquals(List.of("c"), merge.takePush());
    assertEquals(Need.DONE, merge.advance());
    assertEquals(3, merge.pushed());
  }

  @Test
  void rejectsPagesOutOfOrder() {
    VersionMerge merge = new VersionMerge(10);
    merge.addTheirs(List.of(kv("b", 1)), false);
    assertThrows(IllegalArgumentException.class, () -> merge.addTheirs(List.of(kv("a", 1)), true));
    assertThrows(IllegalArgumentException.class,
        () -> merge.addMine(List.of(kv("b", 1), kv("b", 2)), true));
  }

  // ---------------------------------------------------------------- full rounds

  /** Outcome of one simulated round. */
  private record Round(TreeSet<String> pulled, TreeSet<String> pushed) {}

  @Test
  void aRoundRepairsExactlyTheDifferingKeysBothWays() {
    long pulledTotal = 0;
    long pushedTotal = 0;
    for (long seed = 0; seed < SEEDS; seed++) {
      Random random = new Random(seed);
      MemoryStore mine = new MemoryStore();
      MemoryStore theirs = new MemoryStore();
      long horizon = diverge(random, mine, theirs);
      RepairScope scope = RepairScope.upTo(horizon);
      TreeSet<String> expectedPull = new TreeSet<>(KeyOrder.COMPARATOR);
      TreeSet<String> expectedPush = new TreeSet<>(KeyOrder.COMPARATOR);
      bruteForceDiff(mine, theirs, scope, expectedPull, expectedPush);

      Round round = runRound(random, mine, theirs, scope);
      pulledTotal += round.pulled().size();
      pushedTotal += round.pushed().size();
      String where = "seed " + seed + " (replay: set SEEDS and start the loop there)";
      assertEquals(expectedPull, round.pulled(), where);
      assertEquals(expectedPush, round.pushed(), where);
      assertEquals(digest(mine, scope), digest(theirs, scope), where);
      for (Entry e : scan(mine)) {
        if (scope.includes(e)) {
          assertEquals(e, theirs.get(e.key()), where);
        }
      }
      Round again = runRound(random, mine, theirs, scope);
      assertTrue(again.pulled().isEmpty() && again.pushed().isEmpty(), where);
    }
    assertTrue(pulledTotal > 100 && pushedTotal > 100, pulledTotal + " " + pushedTotal);
  }

  /**
   * Fills both stores from one history, then makes them differ: keys only one side has, older
   * versions on either side, deletes one side missed, and young writes above the horizon.
   * Returns the horizon.
   */
  private static long diverge(Random random, Store mine, Store theirs) {
    int keys = random.nextInt(600);
    long counter = 1;
    for (int i = 0; i < keys; i++) {
      String key = random.nextInt(10) == 0 ? "é" + i : "k" + i; // non-ASCII keys too
      Entry base = value(key, counter++);
      mine.put(base);
      theirs.put(base);
    }
    List<Entry> all = scan(mine);
    int changes = random.nextInt(40);
    for (int c = 0; c < changes && !all.isEmpty(); c++) {
      Entry e = all.get(random.nextInt(all.size()));
      Store side = random.nextBoolean() ? mine : theirs;
      Version v = new Version(counter++, random.nextBoolean() ? "a" : "b");
      switch (random.nextInt(4)) {
        case 0 -> side.put(Entry.tombstone(e.key(), v, CausalContext.EMPTY));
        case 1 -> side.put(Entry.value(e.key(), "\"x\"", v, CausalContext.EMPTY));
        case 2 -> side.remove(e.key());
        default -> side.put(value("new" + counter, counter)); // a key only one side has
      }
    }
    long horizon = counter - 1;
    for (int y = random.nextInt(5); y > 0; y--) {
      Store side = random.nextBoolean() ? mine : theirs;
      side.put(value("young" + counter, counter++)); // still "in flight": out of scope
    }
    return horizon;
  }

  private static Entry value(String key, long counter) {
    return Entry.value(key, Long.toString(counter), new Version(counter, "a"),
        CausalContext.EMPTY);
  }

  private static List<Entry> scan(Store store) {
    List<Entry> out = new ArrayList<>();
    store.forEach(out::add);
    return out;
  }

  private static RangeDigest digest(Store store, RepairScope scope) {
    RangeDigest d = new RangeDigest();
    store.forEach(e -> {
      if (scope.includes(e)) {
        d.add(e);
      }
    });
    return d;
  }

  private static void bruteForceDiff(Store mine, Store theirs, RepairScope scope,
      TreeSet<String> pull, TreeSet<String> push) {
    TreeSet<String> keys = new TreeSet<>(KeyOrder.COMPARATOR);
    mine.forEach(e -> keys.add(e.key()));
    theirs.forEach(e -> keys.add(e.key()));
    for (String k : keys) {
      Entry m = mine.get(k);
      Entry t = theirs.get(k);
      Version mv = m != null && scope.includes(m) ? m.version() : Version.ZERO;
      Version tv = t != null && scope.includes(t) ? t.version() : Version.ZERO;
      if (mv.isNewerThan(tv)) {
        push.add(k);
      } else if (tv.isNewerThan(mv)) {
        pull.add(k);
      }
    }
  }

  /** One round as AntiEntropyDriver runs it, with both stores in one thread. */
  private static Round runRound(Random random, Store mine, Store theirs, RepairScope scope) {
    BitSet differing = digest(mine, scope).differingLeaves(digest(theirs, scope));
    RepairScope narrow = scope.within(differing);
    Round out = new Round(new TreeSet<>(KeyOrder.COMPARATOR), new TreeSet<>(KeyOrder.COMPARATOR));
    if (differing.isEmpty()) {
      return out;
    }
    VersionMerge merge = new VersionMerge(1 + random.nextInt(20));
    String mineAfter = null;
    String theirsAfter = null;
    while (true) {
      switch (merge.advance()) {
        case MINE -> mineAfter = page(mine, mineAfter, narrow, random, merge::addMine);
        case THEIRS -> theirsAfter = page(theirs, theirsAfter, narrow, random, merge::addTheirs);
        case DRAIN -> {
          for (String k : merge.takePull()) {
            assertTrue(out.pulled().add(k), "pulled twice: " + k);
            transfer(theirs, mine, k);
          }
          for (String k : merge.takePush()) {
            assertTrue(out.pushed().add(k), "pushed twice: " + k);
            transfer(mine, theirs, k);
          }
        }
        case DONE -> {
          return out;
        }
        default -> throw new IllegalStateException();
      }
    }
  }

  /** Feeds the next scan page (filtered by scope) to the merge; returns the new cursor. */
  private static String page(Store store, String after, RepairScope scope, Random random,
      java.util.function.BiConsumer<List<KeyVersion>, Boolean> sink) {
    int limit = 1 + random.nextInt(50);
    List<Entry> page = store.scan(after, limit);
    List<KeyVersion> kept = new ArrayList<>();
    for (Entry e : page) {
      if (scope.includes(e)) {
        kept.add(KeyVersion.of(e));
      }
    }
    sink.accept(kept, page.size() < limit);
    return page.isEmpty() ? after : page.get(page.size() - 1).key();
  }

  private static void transfer(Store from, Store to, String key) {
    Entry e = from.get(key);
    if (e != null && e.supersedes(to.get(key))) {
      to.put(e);
    }
  }
}
