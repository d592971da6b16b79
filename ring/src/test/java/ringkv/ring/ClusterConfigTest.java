package ringkv.ring;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.OptionalInt;
import org.junit.jupiter.api.Test;

/*
 * Goal: a ClusterConfig keeps its invariants (sorted distinct view, members in the view, layout
 * and ring agree on shard ids) and every change bumps the epoch by one, so the highest epoch
 * wins; no epoch beyond EPOCH_MAX exists, so the next change never overflows; a change that
 * leaves a shard without members is named. Method: table tests over initial, withView,
 * withMember and reshard.
 */
class ClusterConfigTest {
  private static final List<NodeAddress> VIEW =
      NodeAddress.parseList("10.0.0.4:8085,10.0.0.1:8085,10.0.0.3:8085,10.0.0.2:8085");

  /*
   * Two changes proposed at one epoch (an aborted reshard, then another) must be told apart by
   * the messages that carry them: the fingerprint is a function of the whole configuration.
   */
  @Test
  void theFingerprintTellsApartChangesAtOneEpochAndIsTheSameForEqualConfigurations() {
    ClusterConfig e1 = ClusterConfig.initial(VIEW, 2, Ring.DEFAULT_VNODES_PER_SHARD);
    ClusterConfig intoOne = e1.reshard(VIEW, 1);
    ClusterConfig smaller = e1.withView(VIEW.subList(0, 3));
    ClusterConfig same = new ClusterConfig(e1.epoch() + 1, e1.view(), e1.ring(), e1.layout());
    assertEquals(intoOne.epoch(), smaller.epoch());
    assertEquals(intoOne.fingerprint(), e1.reshard(VIEW, 1).fingerprint(), "equal: equal");
    assertEquals(intoOne.fingerprint(),
        ClusterConfig.initial(VIEW, 2, Ring.DEFAULT_VNODES_PER_SHARD).reshard(
            NodeAddress.parseList("10.0.0.1:8085,10.0.0.2:8085,10.0.0.3:8085,10.0.0.4:8085"), 1)
            .fingerprint(), "whatever order the view was given in");
    java.util.Set<Long> all = new java.util.HashSet<>(List.of(e1.fingerprint(),
        intoOne.fingerprint(), same.fingerprint(), smaller.fingerprint()));
    assertEquals(4, all.size(), "four configurations (one differing only by its epoch), four"
        + " fingerprints: " + all);
    assertFalse(all.contains(0L), "0 means no change in a batch");
  }

  @Test
  void initialIsEpochOneAndSortsTheView() {
    ClusterConfig config = ClusterConfig.initial(VIEW, 2, Ring.DEFAULT_VNODES_PER_SHARD);
    assertEquals(1, config.epoch());
    assertEquals(NodeAddress.parseList("10.0.0.1:8085,10.0.0.2:8085,10.0.0.3:8085,10.0.0.4:8085"),
        config.view());
    assertEquals(config.ring().shardOf("k"), config.shardOf("k"));
    assertEquals(NodeAddress.parseList("10.0.0.1:8085,10.0.0.3:8085"), config.membersOf(1));
    assertEquals(OptionalInt.of(2), config.shardOfNode(NodeAddress.parse("10.0.0.4:8085")));
    assertEquals(config, ClusterConfig.initial(VIEW, 2, Ring.DEFAULT_VNODES_PER_SHARD));
  }

  @Test
  void everyChangeBumpsTheEpoch() {
    ClusterConfig first = ClusterConfig.initial(VIEW, 2, Ring.DEFAULT_VNODES_PER_SHARD);
    NodeAddress newcomer = NodeAddress.parse("10.0.0.5:8085");
    ClusterConfig joined = first.withView(
        NodeAddress.parseList("10.0.0.1:8085,10.0.0.2:8085,10.0.0.3:8085,10.0.0.4:8085,"
            + "10.0.0.5:8085"));
    assertEquals(2, joined.epoch());
    assertEquals(OptionalInt.empty(), joined.shardOfNode(newcomer));
    assertEquals(first.layout(), joined.layout());
    ClusterConfig placed = joined.withMember(1, newcomer);
    assertEquals(3, placed.epoch());
    assertEquals(OptionalInt.of(1), placed.shardOfNode(newcomer));
    ClusterConfig resharded = placed.reshard(placed.view(), 1);
    assertEquals(4, resharded.epoch());
    assertEquals(1, resharded.ring().shardCount());
    assertEquals(5, resharded.membersOf(1).size());
    assertTrue(resharded.isNewerThan(placed));
    assertFalse(placed.isNewerThan(resharded));
    assertFalse(placed.isNewerThan(placed));
  }

  @Test
  void withMemberAddsAnUnknownNodeToTheView() {
    ClusterConfig config = ClusterConfig.initial(VIEW, 2, Ring.DEFAULT_VNODES_PER_SHARD);
    NodeAddress stranger = NodeAddress.parse("10.0.0.9:8085");
    ClusterConfig next = config.withMember(2, stranger);
    assertTrue(next.view().contains(stranger));
    assertEquals(OptionalInt.of(2), next.shardOfNode(stranger));
  }

  @Test
  void droppingANodeFromTheViewDropsItsMembership() {
    ClusterConfig config = ClusterConfig.initial(VIEW, 2, Ring.DEFAULT_VNODES_PER_SHARD);
    ClusterConfig next = config.withView(VIEW.subList(1, 4));
    assertEquals(OptionalInt.empty(), next.shardOfNode(VIEW.get(0)));
    assertEquals(3, next.layout().allMembers().size());
  }

  @Test
  void reshardRejectsTooFewNodesAndStrangers() {
    ClusterConfig config = ClusterConfig.initial(VIEW, 2, Ring.DEFAULT_VNODES_PER_SHARD);
    assertThrows(IllegalArgumentException.class, () -> config.reshard(VIEW, 3));
    assertThrows(IllegalArgumentException.class,
        () -> config.reshard(List.of(VIEW.get(0), NodeAddress.parse("10.0.0.9:8085")), 1));
  }

  @Test
  void rejectsBrokenInvariants() {
    Ring ring = Ring.initial(2, Ring.DEFAULT_VNODES_PER_SHARD);
    Layout layout = Layout.initial(VIEW, 2);
    assertThrows(IllegalArgumentException.class, () -> new ClusterConfig(0, VIEW, ring, layout));
    assertThrows(IllegalArgumentException.class,
        () -> new ClusterConfig(1, VIEW.subList(0, 3), ring, layout));
    assertThrows(IllegalArgumentException.class,
        () -> new ClusterConfig(1, List.of(VIEW.get(0), VIEW.get(0)), ring, layout));
    assertThrows(IllegalArgumentException.class,
        () -> new ClusterConfig(1, VIEW, Ring.initial(3, 20), layout));
  }

  @Test
  void noEpochBeyondTheCeilingSoTheNextChangeNeverOverflows() {
    Ring ring = Ring.initial(2, Ring.DEFAULT_VNODES_PER_SHARD);
    Layout layout = Layout.initial(VIEW, 2);
    assertThrows(IllegalArgumentException.class,
        () -> new ClusterConfig(Long.MAX_VALUE, VIEW, ring, layout));
    assertThrows(IllegalArgumentException.class,
        () -> new ClusterConfig(ClusterConfig.EPOCH_MAX + 1, VIEW, ring, layout));
    ClusterConfig last = new ClusterConfig(ClusterConfig.EPOCH_MAX, VIEW, ring, layout);
    assertThrows(IllegalArgumentException.class, () -> last.withView(VIEW.subList(0, 3)),
        "a change past the ceiling is refused, not wrapped to a negative epoch");
    ClusterConfig below = new ClusterConfig(ClusterConfig.EPOCH_MAX - 1, VIEW, ring, layout);
    assertEquals(ClusterConfig.EPOCH_MAX, below.withView(VIEW).epoch());
  }

  @Test
  void namesTheShardsAChangeLeavesWithoutMembers() {
    ClusterConfig config = ClusterConfig.initial(VIEW, 2, Ring.DEFAULT_VNODES_PER_SHARD);
    assertEquals(java.util.Set.of(), config.shardsEmptiedBy(config.reshard(VIEW, 1)));
    // Shard 1 is 10.0.0.1 and 10.0.0.3: moving both to shard 2 empties it.
    ClusterConfig moved = config.withMember(2, VIEW.get(1)).withMember(2, VIEW.get(2));
    assertEquals(java.util.Set.of(1), config.shardsEmptiedBy(moved));
    ClusterConfig dropped = config.withView(List.of(VIEW.get(1), VIEW.get(2)));
    assertEquals(java.util.Set.of(2), config.shardsEmptiedBy(dropped));
    assertEquals(java.util.Set.of(), dropped.shardsEmptiedBy(dropped.withView(dropped.view())),
        "a shard that was empty already is not emptied by the change");
  }
}
