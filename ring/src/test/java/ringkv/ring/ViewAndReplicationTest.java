package ringkv.ring;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.OptionalInt;
import java.util.Random;
import org.junit.jupiter.api.Test;

/*
 * Goal: the view-change dialect's configurations (SPEC §4) are right: a view of M * R nodes gives
 * M shards of exactly R members, nodes keep their shard where the new layout allows, the ring
 * reshards with minimal movement, nodes left out leave every shard, bad views are refused, and
 * the placeholder configuration of an idle node routes to nobody.
 * Method: table tests over the view changes the dialect must support (1 -> 4 nodes, 2 -> 4,
 * {1,2} -> {3,4}, a change of replication factor) and a seeded property loop over random views,
 * replication factors and previous layouts.
 */
class ViewAndReplicationTest {
  private static final int VNODES = Ring.DEFAULT_VNODES_PER_SHARD;

  private static NodeAddress node(int i) {
    return new NodeAddress("10.0.1." + i, 13800);
  }

  private static List<NodeAddress> nodes(int... ids) {
    List<NodeAddress> out = new ArrayList<>();
    for (int id : ids) {
      out.add(node(id));
    }
    return out;
  }

  private static ClusterConfig initial(List<NodeAddress> view, int replFactor) {
    return ClusterConfig.initial(view, view.size() / replFactor, VNODES);
  }

  @Test
  void oneNodeToFourNodesWithTwoReplicas() {
    ClusterConfig one = initial(nodes(1), 1);
    ClusterConfig four = one.withViewAndReplication(nodes(1, 2, 3, 4), 2);
    assertEquals(2, four.epoch());
    assertEquals(nodes(1, 2, 3, 4), four.view());
    assertEquals(Ring.initial(2, VNODES), four.ring());
    assertEquals(OptionalInt.of(1), four.shardOfNode(node(1)), "node 1 keeps its shard");
    // Newcomers fill the emptiest shard first (lowest id on ties).
    assertEquals(nodes(1, 3), four.membersOf(1));
    assertEquals(nodes(2, 4), four.membersOf(2));
  }

  @Test
  void twoNodesToFourKeepsTheFirstShard() {
    ClusterConfig two = initial(nodes(1, 2), 2);
    ClusterConfig four = two.withViewAndReplication(nodes(3, 1, 4, 2), 2);
    assertEquals(nodes(1, 2), four.membersOf(1));
    assertEquals(nodes(3, 4), four.membersOf(2));
    assertEquals(2, four.ring().shardCount());
  }

  @Test
  void replacingEveryNodeDropsTheOldOnes() {
    ClusterConfig four = initial(nodes(1, 2), 2).withViewAndReplication(nodes(1, 2, 3, 4), 2);
    ClusterConfig swapped = four.withViewAndReplication(nodes(3, 4), 2);
    assertEquals(3, swapped.epoch());
    assertEquals(nodes(3, 4), swapped.view());
    assertEquals(nodes(3, 4), swapped.membersOf(1));
    assertEquals(1, swapped.ring().shardCount());
    assertEquals(OptionalInt.empty(), swapped.shardOfNode(node(1)));
    assertEquals(OptionalInt.empty(), swapped.shardOfNode(node(2)));
  }

  @Test
  void changingTheReplicationFactorMovesFewKeys() {
    ClusterConfig r1 = initial(nodes(1, 2, 3, 4), 1);
    ClusterConfig r2 = r1.withViewAndReplication(r1.view(), 2);
    assertEquals(2, r2.ring().shardCount());
    for (int shard = 1; shard <= 2; shard++) {
      assertEquals(2, r2.membersOf(shard).size(), r2.toString());
      NodeAddress before = r1.membersOf(shard).get(0);
      assertEquals(OptionalInt.of(shard), r2.shardOfNode(before), before + " keeps its shard");
    }
    int moved = 0;
    int keys = 20_000;
    for (int k = 0; k < keys; k++) {
      String key = "key" + k;
      if (r1.shardOf(key) != r2.shardOf(key)) {
        moved++;
        assertTrue(r1.shardOf(key) > 2, "only keys of removed shards move: " + key);
      }
    }
    assertTrue(moved <= 1.1 * keys * (4 - 2) / 4, "moved " + moved + " of " + keys);
    ClusterConfig r4 = r2.withViewAndReplication(r2.view(), 4);
    assertEquals(1, r4.ring().shardCount());
    assertEquals(nodes(1, 2, 3, 4), r4.membersOf(1));
  }

  @Test
  void refusesViewsThatAreNotMultiplesOfTheFactor() {
    ClusterConfig c = initial(nodes(1, 2), 2);
    assertThrows(IllegalArgumentException.class,
        () -> c.withViewAndReplication(nodes(1, 2, 3), 2));
    assertThrows(IllegalArgumentException.class, () -> c.withViewAndReplication(nodes(1, 2), 0));
    assertThrows(IllegalArgumentException.class, () -> c.withViewAndReplication(List.of(), 1));
    assertThrows(IllegalArgumentException.class,
        () -> c.withViewAndReplication(List.of(node(1), node(1)), 1));
  }

  @Test
  void unassignedRoutesToNobodyUntilAChangeNamesTheNode() {
    ClusterConfig idle = ClusterConfig.unassigned(VNODES);
    assertEquals(1, idle.epoch());
    assertEquals(List.of(), idle.view());
    assertEquals(List.of(), idle.membersOf(idle.shardOf("any key")));
    ClusterConfig named = idle.withViewAndReplication(nodes(5, 6), 1);
    assertEquals(2, named.epoch());
    assertTrue(named.isNewerThan(initial(nodes(5, 6), 1)));
    assertEquals(2, named.ring().shardCount());
    assertEquals(1, named.membersOf(1).size());
  }

  @Test
  void relayoutWithAMinimumOfOne() {
    Layout layout = Layout.initial(nodes(1, 2), 1);
    Layout split = layout.relayout(nodes(1, 2), 2, 1);
    assertEquals(nodes(1), split.members(1));
    assertEquals(nodes(2), split.members(2));
    assertThrows(IllegalArgumentException.class, () -> layout.relayout(nodes(1, 2), 2, 0));
    assertThrows(IllegalArgumentException.class, () -> layout.relayout(nodes(1, 2), 2));
    IllegalArgumentException error = assertThrows(IllegalArgumentException.class,
        () -> layout.relayout(nodes(1, 2, 3), 2, 2));
    assertTrue(error.getMessage().startsWith("Not enough nodes"), error.getMessage());
  }

  @Test
  void everyShardGetsExactlyTheFactorAndKeepsWhomItCan() {
    long seed = 23;
    Random random = new Random(seed);
    List<NodeAddress> pool = new ArrayList<>();
    for (int i = 1; i <= 40; i++) {
      pool.add(node(i));
    }
    ClusterConfig config = initial(pool.subList(0, 4), 2);
    for (int round = 0; round < 300; round++) {
      String where = "seed=" + seed + " round=" + round;
      ClusterConfig before = config;
      int factor = 1 + random.nextInt(5);
      int shards = 1 + random.nextInt(8);
      List<NodeAddress> shuffled = new ArrayList<>(pool);
      Collections.shuffle(shuffled, random);
      List<NodeAddress> view = shuffled.subList(0, factor * shards);
      ClusterConfig next = before.withViewAndReplication(view, factor);
      assertEquals(before.epoch() + 1, next.epoch(), where);
      assertEquals(shards, next.ring().shardCount(), where);
      assertEquals(before.ring().reshard(shards), next.ring(), where);
      assertEquals(view.size(), next.layout().allMembers().size(), where);
      for (int s = 1; s <= shards; s++) {
        assertEquals(factor, next.membersOf(s).size(), where + " shard " + s);
        OptionalInt shard = OptionalInt.of(s);
        long wereHere = view.stream().filter(n -> before.shardOfNode(n).equals(shard)).count();
        long stayed = next.membersOf(s).stream()
            .filter(n -> before.shardOfNode(n).equals(shard)).count();
        assertEquals(Math.min(wereHere, factor), stayed, where + " shard " + s);
      }
      assertEquals(shards, next.layout().shardIds().size(), where);
      config = next;
    }
  }
}
