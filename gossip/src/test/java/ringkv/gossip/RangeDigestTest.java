package ringkv.gossip;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.BitSet;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/*
 * Goal: RangeDigest summarises a set of (key, version) pairs so that equal sets give equal
 * digests whatever the order they were added in, and a set that differs in one pair (a newer
 * version, a tombstone, a missing key) differs exactly in that key's leaf; RepairScope filters by
 * horizon and leaves.
 * Method: seeded property loops over random entry sets added in shuffled orders, plus table cases.
 */
class RangeDigestTest {
  private static final int SEEDS = 50;

  static List<Entry> randomEntries(Random random, int count) {
    List<Entry> out = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      String key = "k" + random.nextInt(1_000_000) + "-" + i;
      Version v = new Version(1 + random.nextInt(10_000), "n" + random.nextInt(3));
      out.add(random.nextInt(5) == 0 ? Entry.tombstone(key, v, CausalContext.EMPTY)
          : Entry.value(key, "" + random.nextInt(), v, CausalContext.EMPTY));
    }
    return out;
  }

  private static RangeDigest digest(List<Entry> entries) {
    RangeDigest d = new RangeDigest();
    entries.forEach(d::add);
    return d;
  }

  /** One seed's case of a property: its random source and its entry set, drawn from it. */
  private interface SeededCase {
    void check(long seed, Random random, List<Entry> entries);
  }

  /** Runs {@code property} for each of {@link #SEEDS} seeds on 1 to 2,000 random entries. */
  private static void forEachRandomSet(SeededCase property) {
    for (long seed = 0; seed < SEEDS; seed++) {
      Random random = new Random(seed);
      property.check(seed, random, randomEntries(random, 1 + random.nextInt(2_000)));
    }
  }

  @Test
  void equalSetsGiveEqualDigestsRegardlessOfOrder() {
    forEachRandomSet((seed, random, entries) -> {
      List<Entry> shuffled = new ArrayList<>(entries);
      Collections.shuffle(shuffled, random);
      RangeDigest a = digest(entries);
      RangeDigest b = digest(shuffled);
      assertEquals(a, b, "seed " + seed);
      assertTrue(a.differingLeaves(b).isEmpty(), "seed " + seed);
      assertEquals(a, RangeDigest.ofLeaves(a.leafDigests()), "wire round trip, seed " + seed);
    });
  }

  @Test
  void oneDifferentPairDiffersInExactlyItsLeaf() {
    forEachRandomSet((seed, random, entries) -> {
      List<Entry> changed = new ArrayList<>(entries);
      int i = random.nextInt(entries.size());
      Entry old = entries.get(i);
      Version newer = new Version(old.version().counter() + 1, old.version().node());
      Entry replacement = switch (random.nextInt(3)) {
        case 0 -> Entry.tombstone(old.key(), newer, CausalContext.EMPTY); // deleted
        case 1 -> Entry.value(old.key(), "1", newer, CausalContext.EMPTY); // overwritten
        default -> null; // missing
      };
      if (replacement == null) {
        changed.remove(i);
      } else {
        changed.set(i, replacement);
      }
      BitSet expected = new BitSet();
      expected.set(RangeDigest.leafOf(old.key()));
      assertEquals(expected, digest(entries).differingLeaves(digest(changed)), "seed " + seed);
    });
  }

  @Test
  void sameVersionFromAnotherWriterDiffers() {
    Version a = new Version(7, "a");
    Version b = new Version(7, "b");
    assertNotEquals(RangeDigest.pairHash("k", a), RangeDigest.pairHash("k", b));
    assertNotEquals(RangeDigest.pairHash("k", a), RangeDigest.pairHash("k2", a));
    // Length-prefixed key: ("ab", node "c") and ("a", node "bc") hash differently.
    assertNotEquals(RangeDigest.pairHash("ab", new Version(1, "c")),
        RangeDigest.pairHash("a", new Version(1, "bc")));
  }

  @Test
  void withChecksumsOneVersionWithOtherBytesDiffers() {
    Version v = new Version(7, "a");
    RangeDigest honest = new RangeDigest();
    honest.add(KeyVersion.of(Entry.value("k", "1", v, CausalContext.EMPTY)));
    RangeDigest altered = new RangeDigest();
    altered.add(KeyVersion.of(Entry.value("k", "2", v, CausalContext.EMPTY)));
    BitSet expected = new BitSet();
    expected.set(RangeDigest.leafOf("k"));
    assertEquals(expected, honest.differingLeaves(altered));
    RangeDigest versionsOnly = new RangeDigest();
    versionsOnly.add(KeyVersion.of(Entry.value("k", "1", v, CausalContext.EMPTY), false));
    RangeDigest alteredVersionsOnly = new RangeDigest();
    alteredVersionsOnly.add(KeyVersion.of(Entry.value("k", "2", v, CausalContext.EMPTY), false));
    assertEquals(versionsOnly, alteredVersionsOnly, "an earlier release's digest: versions");
  }

  @Test
  void leavesAreRoughlyBalanced() {
    int[] counts = new int[RangeDigest.LEAVES];
    int keys = 200_000;
    for (int i = 0; i < keys; i++) {
      counts[RangeDigest.leafOf("key-" + i)]++;
    }
    double mean = keys / (double) RangeDigest.LEAVES; // about 49, standard deviation about 7
    for (int c : counts) {
      assertTrue(c > mean / 3 && c < mean * 2, "leaf with " + c + " keys, mean " + mean);
    }
  }

  @Test
  void wrongLeafCountIsRejected() {
    assertThrows(IllegalArgumentException.class, () -> RangeDigest.ofLeaves(new long[3]));
  }

  @Test
  void scopeFiltersByHorizonAndLeaves() {
    Version old = new Version(100, "a");
    Version young = new Version(101, "a");
    RepairScope all = RepairScope.upTo(100);
    assertTrue(all.includes("k", old));
    assertTrue(!all.includes("k", young));
    BitSet leaves = new BitSet();
    leaves.set(RangeDigest.leafOf("k"));
    RepairScope narrow = all.within(leaves);
    assertTrue(narrow.includes("k", old));
    String other = "k0";
    for (int i = 1; RangeDigest.leafOf(other) == RangeDigest.leafOf("k"); i++) {
      other = "k" + i;
    }
    assertTrue(!narrow.includes(other, old));
    leaves.clear(); // the scope kept its own copy
    assertTrue(narrow.includes("k", old));
  }
}
