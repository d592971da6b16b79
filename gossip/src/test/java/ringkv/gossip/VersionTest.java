package ringkv.gossip;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;

/*
 * Goal: the Lamport order on Version (counter, then node id) is a total order consistent with
 * equals, ZERO is below every real write, and the constructor rejects malformed versions.
 * Method: seeded property loops over random triples drawn from a small domain (so ties on the
 * counter and on the node are frequent), plus table tests for the edges. The seed is in every
 * assertion message.
 */
class VersionTest {
  private static final long SEED = 0x5eed_0001L;
  private static final int TRIPLES = 20_000;
  private static final String[] NODES = {"a", "b", "c", "a:8080", "b:8080"};

  private static Version randomVersion(Random random) {
    if (random.nextInt(8) == 0) {
      return Version.ZERO;
    }
    return new Version(1 + random.nextInt(4), NODES[random.nextInt(NODES.length)]);
  }

  @Test
  void orderIsTotalAntisymmetricTransitiveAndConsistentWithEquals() {
    SeededDraws.triples(SEED, TRIPLES, VersionTest::randomVersion, (a, b, c, where) -> {
      assertEquals(Integer.signum(a.compareTo(b)), -Integer.signum(b.compareTo(a)), where);
      assertEquals(a.compareTo(b) == 0, a.equals(b), "consistent with equals: " + where);
      if (a.compareTo(b) <= 0 && b.compareTo(c) <= 0) {
        assertTrue(a.compareTo(c) <= 0, "transitive: " + where);
      }
      if (a.isNewerThan(b) && b.isNewerThan(c)) {
        assertTrue(a.isNewerThan(c), "strictly transitive: " + where);
      }
      int relations = (a.isNewerThan(b) ? 1 : 0) + (b.isNewerThan(a) ? 1 : 0)
          + (a.equals(b) ? 1 : 0);
      assertEquals(1, relations, "exactly one of <, =, >: " + where);
      assertEquals(a.isAtLeast(b), !b.isNewerThan(a), where);
      Version max = Version.max(a, b);
      assertTrue(max.isAtLeast(a) && max.isAtLeast(b), "max: " + where);
      assertTrue(max == a || max == b, "max returns an argument: " + where);
    });
  }

  @Test
  void counterDecidesBeforeNode() {
    assertTrue(new Version(2, "a").isNewerThan(new Version(1, "z")));
    assertTrue(new Version(1, "b").isNewerThan(new Version(1, "a")));
    assertEquals(0, new Version(7, "a").compareTo(new Version(7, "a")));
  }

  @Test
  void zeroIsBelowEveryRealVersion() {
    Random random = new Random(SEED);
    for (int i = 0; i < 1_000; i++) {
      Version v = new Version(1 + random.nextInt(1_000_000), NODES[random.nextInt(NODES.length)]);
      assertTrue(v.isNewerThan(Version.ZERO), "seed=" + SEED + " v=" + v);
      assertFalse(Version.ZERO.isAtLeast(v), "seed=" + SEED + " v=" + v);
    }
    assertTrue(Version.ZERO.isAtLeast(Version.ZERO));
    assertSame(Version.ZERO, Version.max(Version.ZERO, Version.ZERO));
    assertEquals(Version.ZERO, new Version(0, ""));
  }

  @Test
  void maxPrefersTheFirstArgumentOnlyOnTies() {
    Version low = new Version(3, "a");
    Version high = new Version(3, "b");
    assertSame(high, Version.max(low, high));
    assertSame(high, Version.max(high, low));
  }

  @Test
  void constructorRejectsMalformedVersions() {
    assertThrows(IllegalArgumentException.class, () -> new Version(-1, "a"));
    assertThrows(IllegalArgumentException.class, () -> new Version(0, "a"));
    assertThrows(NullPointerException.class, () -> new Version(1, null));
  }

  @Test
  void toStringIsCounterAtNode() {
    assertEquals("12@a:8080", new Version(12, "a:8080").toString());
  }
}
