package ringkv.gossip;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/*
 * Goal: a node that learned a layout it missed the change of hands over exactly the entries of
 * keys that leave it and may not be stable under the old layout, to the keys' new owners.
 * Method: a two-shard layout ("a" with b, "c" with d) becomes one where "a" keeps only keys
 * starting with "x" and the others go to c and d; the old shard's stable time is 500.
 */
class HandOffTest {
  private static Entry entry(String key, long counter) {
    return new Entry(key, "1", new Version(counter, "a"), CausalContext.EMPTY);
  }

  @Test
  void handsOverWritesOfKeysThatLeaveAboveTheOldStableTimeToTheirNewOwners() {
    List<List<String>> members = List.of(List.of("a", "b"), List.of("c", "d"));
    ShardMap old = new ListLayout(members, key -> 0);
    ShardMap next = new ListLayout(members, key -> key.startsWith("x") ? 0 : 1);
    Replica replica = new Replica("a", new MemoryStore(),
        new ReplicationQueue(ReplicationQueue.Limits.defaults()), new LamportClock());
    replica.clock().observe(900);
    NodeStability stability = new NodeStability("a", 1, true, old, 0);
    stability.onReport("b", 1, 0, 500);
    stability.onReport("c", 1, 0, 800);
    stability.onReport("d", 1, 0, 800);
    assertEquals(500, stability.stableTime(0, replica));
    HandOff handOff = HandOff.before("a", stability, replica, next);
    stability.onLayout(next, 1); // the snapshot does not move with the layout
    assertEquals(Optional.of(List.of("c", "d")), handOff.targets(entry("k", 501)));
    assertEquals(Optional.empty(), handOff.targets(entry("k", 500)),
        "at or below the old stable time: every old replica held it, a participant sent it");
    assertEquals(Optional.empty(), handOff.targets(entry("x1", 900)), "stays with a");
  }
}
