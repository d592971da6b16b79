package ringkv.gossip;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;
import ringkv.ring.ClusterConfig;
import ringkv.ring.NodeAddress;

/**
 * Goal: a view change's transfer plan moves every key that must move exactly once and nothing
 * else: every key whose new shard has participating members that did not hold it has exactly
 * one sender among the participants (a member of its old shard), no receiver already held it,
 * and a key whose new owners all held it does not travel; a node that sends a key says it sends
 * any ({@code sendsAny}, which lets the others skip reading their stores); a plan that strands
 * nothing (strandedKeys) leaves every key that gains an owner with a participant of its new
 * shard holding it. Method: seeded random walks of reshards, replication-factor changes, view
 * changes and add-member over random views, with random sets of participants (live nodes),
 * checked over many keys.
 */
class TransferPlanTest {
  private static final int WALKS = 150;
  private static final int KEYS = 400;

  private static List<NodeAddress> view(Random random, int size) {
    Set<NodeAddress> out = new HashSet<>();
    while (out.size() < size) {
      out.add(new NodeAddress("10.0." + random.nextInt(4) + "." + (1 + random.nextInt(250)),
          8085));
    }
    return new ArrayList<>(out);
  }

  private static ClusterConfig next(Random random, ClusterConfig c) {
    List<NodeAddress> nodes = new ArrayList<>(c.view());
    switch (random.nextInt(4)) {
      case 0 -> {
        int shards = 1 + random.nextInt(Math.max(1, nodes.size() / 2));
        return c.reshard(nodes, shards);
      }
      case 1 -> {
        nodes.addAll(view(random, 2));
        List<NodeAddress> distinct = new ArrayList<>(new java.util.LinkedHashSet<>(nodes));
        int factor = 2;
        int size = distinct.size() - distinct.size() % factor;
        return c.withViewAndReplication(distinct.subList(0, size), factor);
      }
      case 2 -> {
        NodeAddress fresh = view(random, 1).get(0);
        if (c.view().contains(fresh) || c.ring().shardIds().isEmpty()) {
          return c.reshard(nodes, 1);
        }
        List<Integer> ids = new ArrayList<>(c.ring().shardIds());
        List<NodeAddress> withFresh = new ArrayList<>(nodes);
        withFresh.add(fresh);
        return c.withView(withFresh).withMember(ids.get(random.nextInt(ids.size())), fresh);
      }
      default -> {
        int size = nodes.size() - nodes.size() % 2;
        return size < 2 ? c.reshard(nodes, 1)
            : c.withViewAndReplication(nodes.subList(0, size), 2);
      }
    }
  }

  @Test
  void everyMovedKeyHasOneSenderAndNoReceiverAlreadyOwnsIt() {
    Random random = new Random(Long.getLong("plan.seed", 7L));
    for (int walk = 0; walk < WALKS; walk++) {
      ClusterConfig current = ClusterConfig.initial(view(random, 4 + 2 * random.nextInt(3)),
          1 + random.nextInt(2), 20);
      for (int step = 0; step < 3; step++) {
        ClusterConfig next = next(random, current);
        Set<NodeAddress> everyone = new HashSet<>(current.view());
        everyone.addAll(next.view());
        Set<NodeAddress> participants = new HashSet<>();
        for (NodeAddress n : everyone) {
          if (random.nextInt(6) != 0) {
            participants.add(n); // some nodes are down and take no part
          }
        }
        check(current, next, participants, random);
        current = next;
      }
    }
  }

  private static void check(ClusterConfig current, ClusterConfig next,
      Set<NodeAddress> participants, Random random) {
    TransferPlan plan = new TransferPlan(current, next, participants);
    boolean strandsNothing = plan.strandedKeys().isEmpty();
    for (int k = 0; k < KEYS; k++) {
      String key = "key-" + random.nextInt(1_000_000);
      List<NodeAddress> oldOwners = current.membersOf(current.shardOf(key));
      List<NodeAddress> receivers = plan.receiversOf(key);
      for (NodeAddress r : receivers) {
        assertFalse(oldOwners.contains(r), key + ": " + r + " already held it");
        assertTrue(participants.contains(r), key + ": " + r + " takes no part");
        assertTrue(next.membersOf(next.shardOf(key)).contains(r), key + ": not a new owner");
      }
      int senders = 0;
      for (NodeAddress p : participants) {
        List<NodeAddress> targets = plan.targetsOf(p, key);
        if (!targets.isEmpty()) {
          senders++;
          assertTrue(plan.sendsAny(p), key + ": " + p + " sends though sendsAny says not");
          assertTrue(oldOwners.contains(p), key + ": sender " + p + " never held it");
          assertEquals(receivers, targets, key);
        }
      }
      boolean anOldOwnerTakesPart = oldOwners.stream().anyMatch(participants::contains);
      int expected = receivers.isEmpty() || !anOldOwnerTakesPart ? 0 : 1;
      assertEquals(expected, senders, key + " from " + oldOwners + " to " + receivers);
      List<NodeAddress> newOwners = next.membersOf(next.shardOf(key));
      boolean gainsAnOwner = !oldOwners.isEmpty() && !oldOwners.containsAll(newOwners);
      boolean sent = senders == 1;
      boolean heldByAParticipant = newOwners.stream().anyMatch(
          m -> participants.contains(m) && (oldOwners.contains(m) || sent));
      if (strandsNothing && gainsAnOwner) {
        assertTrue(heldByAParticipant, key + ": no participant of " + newOwners
            + " holds it after the transfer, yet the plan strands nothing");
      }
    }
  }

  /*
   * The simulation's seed 2014: a reshard 2 -> 1 whose only participant was its coordinator (a
   * member of the old shard 2) committed; the keys of the old shard 1 reached no member of the
   * new shard that took part.
   */
  @Test
  void aChangeWhoseMovedKeysReachNoParticipantOfTheirNewShardStrandsThem() {
    List<NodeAddress> nodes = List.of(NodeAddress.parse("n0:1"), NodeAddress.parse("n1:1"),
        NodeAddress.parse("n2:1"), NodeAddress.parse("n3:1"));
    ClusterConfig two = ClusterConfig.initial(nodes, 2, 20);
    ClusterConfig one = two.reshard(nodes, 1);
    NodeAddress ofShard1 = two.membersOf(1).get(0);
    NodeAddress ofShard2 = two.membersOf(2).get(0);
    assertTrue(new TransferPlan(two, one, Set.of(ofShard2)).strandedKeys().isPresent());
    assertTrue(new TransferPlan(two, one, Set.of(ofShard1)).strandedKeys().isPresent());
    assertEquals(java.util.Optional.empty(),
        new TransferPlan(two, one, Set.of(ofShard1, ofShard2)).strandedKeys(),
        "each old shard has a member taking part, which keeps its keys");
    // A node moved into a shard none of whose members takes part (seed 2018).
    NodeAddress mover = two.membersOf(1).get(1);
    ClusterConfig moved = two.withMember(2, mover);
    assertTrue(new TransferPlan(two, moved, Set.of(ofShard1)).strandedKeys().isPresent());
    assertEquals(java.util.Optional.empty(),
        new TransferPlan(two, moved, Set.of(ofShard1, ofShard2)).strandedKeys());
    // A shard that only loses a member gains no owner: its members need not take part.
    assertEquals(java.util.Optional.empty(),
        new TransferPlan(two, two.withMember(1, two.membersOf(2).get(1)), Set.of(ofShard1))
            .strandedKeys());
  }

  @Test
  void aKeyWhoseNewOwnersAllHeldItDoesNotTravel() {
    List<NodeAddress> nodes = List.of(NodeAddress.parse("10.0.0.1:1"),
        NodeAddress.parse("10.0.0.2:1"), NodeAddress.parse("10.0.0.3:1"),
        NodeAddress.parse("10.0.0.4:1"));
    ClusterConfig one = ClusterConfig.initial(nodes, 1, 20);
    ClusterConfig shrunk = one.withViewAndReplication(nodes.subList(0, 2), 2);
    TransferPlan plan = new TransferPlan(one, shrunk, Set.copyOf(nodes));
    for (int k = 0; k < 100; k++) {
      assertEquals(List.of(), plan.receiversOf("k" + k), "every new owner held every key");
    }
  }
}
