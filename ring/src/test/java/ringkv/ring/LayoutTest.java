package ringkv.ring;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.OptionalInt;
import java.util.Random;
import java.util.SortedMap;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/*
 * Goal: the shard -> members layout is computed identically by every node and changes as little
 * as possible: round-robin initial layout, relayout keeping nodes in their shard when allowed
 * (SPEC §6), floor/ceil shard sizes, at least two members per shard, and member moves. Method:
 * table tests plus a seeded property loop over random live sets and shard counts.
 */
class LayoutTest {
  private static List<NodeAddress> nodes(int count) {
    List<NodeAddress> nodes = new ArrayList<>();
    for (int i = 1; i <= count; i++) {
      nodes.add(new NodeAddress("10.0.0." + i, 8085));
    }
    return nodes;
  }

  @Test
  void initialIsRoundRobinOverTheSortedView() {
    List<NodeAddress> view = new ArrayList<>(nodes(10));
    Collections.reverse(view);
    Layout layout = Layout.initial(view, 3);
    assertEquals(List.of(node(1), node(4), node(7), node(10)), layout.members(1));
    assertEquals(List.of(node(2), node(5), node(8)), layout.members(2));
    assertEquals(List.of(node(3), node(6), node(9)), layout.members(3));
    assertEquals(OptionalInt.of(2), layout.shardOf(node(5)));
    assertEquals(OptionalInt.empty(), layout.shardOf(node(11)));
    assertEquals(10, layout.allMembers().size());
    assertEquals(List.of(1, 2, 3), List.copyOf(layout.shardIds()));
    assertThrows(IllegalArgumentException.class, () -> Layout.initial(nodes(2), 3));
    assertThrows(IllegalArgumentException.class, () -> Layout.initial(nodes(2), 0));
    assertThrows(IllegalArgumentException.class, () -> layout.members(4));
  }

  @Test
  void relayoutKeepsShardsWhenGrowing() {
    Layout before = Layout.initial(nodes(6), 2);
    Layout after = before.relayout(nodes(6), 3);
    assertEquals(3, after.shardCount());
    for (int shard = 1; shard <= 2; shard++) {
      OptionalInt same = OptionalInt.of(shard);
      long kept = before.members(shard).stream()
          .filter(node -> after.shardOf(node).equals(same))
          .count();
      assertEquals(2, kept, "shard " + shard + " " + after);
    }
    for (int shard = 1; shard <= 3; shard++) {
      assertEquals(2, after.members(shard).size(), after.toString());
    }
  }

  @Test
  void relayoutGivesFloorOrCeilAndDropsDeadNodes() {
    Layout before = Layout.initial(nodes(9), 2);
    List<NodeAddress> live = nodes(8);
    Layout after = before.relayout(live, 3);
    assertEquals(List.of(3, 3, 2), List.of(after.members(1).size(), after.members(2).size(),
        after.members(3).size()));
    assertEquals(OptionalInt.empty(), after.shardOf(node(9)));
    assertEquals(8, after.allMembers().size());
  }

  @Test
  void relayoutRejectsFewerThanTwoPerShard() {
    Layout layout = Layout.initial(nodes(6), 2);
    IllegalArgumentException error = assertThrows(IllegalArgumentException.class,
        () -> layout.relayout(nodes(5), 3));
    assertTrue(error.getMessage().startsWith("Not enough nodes"), error.getMessage());
    assertEquals(3, layout.relayout(nodes(6), 3).shardCount());
  }

  @Test
  void relayoutProperties() {
    long seed = 11;
    Random random = new Random(seed);
    for (int round = 0; round < 300; round++) {
      List<NodeAddress> all = nodes(2 + random.nextInt(30));
      Layout before = Layout.initial(all, 1 + random.nextInt(all.size() / 2));
      List<NodeAddress> live = new ArrayList<>();
      for (NodeAddress node : all) {
        if (random.nextInt(5) > 0) {
          live.add(node);
        }
      }
      if (live.size() < 2) {
        continue;
      }
      int shards = 1 + random.nextInt(live.size() / 2);
      String where = "seed=" + seed + " round=" + round;
      Layout after = before.relayout(live, shards);
      assertEquals(after, before.relayout(live, shards), where);
      assertEquals(live.size(), after.allMembers().size(), where);
      int keepersPossible = 0;
      for (int s = 1; s <= shards; s++) {
        int size = after.members(s).size();
        assertTrue(size == live.size() / shards || size == (live.size() + shards - 1) / shards,
            where);
        OptionalInt shard = OptionalInt.of(s);
        long wereHere = live.stream().filter(n -> before.shardOf(n).equals(shard)).count();
        long stayed = after.members(s).stream()
            .filter(n -> before.shardOf(n).equals(shard)).count();
        assertEquals(Math.min(wereHere, size), stayed, where + " shard " + s);
        keepersPossible += (int) stayed;
      }
      assertTrue(keepersPossible <= live.size(), where);
    }
  }

  @Test
  void withMemberMovesANode() {
    Layout layout = Layout.initial(nodes(4), 2);
    Layout moved = layout.withMember(2, node(1));
    assertEquals(OptionalInt.of(2), moved.shardOf(node(1)));
    assertEquals(List.of(node(3)), moved.members(1));
    assertEquals(List.of(node(1), node(2), node(4)), moved.members(2));
    Layout added = layout.withMember(1, node(9));
    assertEquals(List.of(node(1), node(3), node(9)), added.members(1));
    assertThrows(IllegalArgumentException.class, () -> layout.withMember(3, node(1)));
    Layout without = moved.withoutMember(node(3));
    assertEquals(List.of(), without.members(1));
    assertSame(without, without.withoutMember(node(3)));
  }

  @Test
  void ofValidatesWireLayouts() {
    SortedMap<Integer, List<NodeAddress>> good = new TreeMap<>();
    good.put(1, List.of(node(2), node(1)));
    good.put(2, List.of(node(3)));
    Layout layout = Layout.of(good);
    assertEquals(List.of(node(1), node(2)), layout.members(1));
    assertEquals(layout, Layout.of(layout.asMap()));
    SortedMap<Integer, List<NodeAddress>> twice = new TreeMap<>(good);
    twice.put(2, List.of(node(1)));
    assertThrows(IllegalArgumentException.class, () -> Layout.of(twice));
    SortedMap<Integer, List<NodeAddress>> gap = new TreeMap<>(good);
    gap.put(4, List.of(node(5)));
    assertThrows(IllegalArgumentException.class, () -> Layout.of(gap));
    assertThrows(IllegalArgumentException.class, () -> Layout.of(new TreeMap<>()));
  }

  private static NodeAddress node(int i) {
    return new NodeAddress("10.0.0." + i, 8085);
  }
}
