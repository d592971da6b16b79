package ringkv.node.inprocess;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static ringkv.node.inprocess.InProcessCluster.json;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import ringkv.ring.NodeAddress;

/*
 * Goal: writes a node acknowledged while it was cut off from its peers, and left out of a view
 * change for it (its coordinator saw it down), are not lost when the change moved their keys
 * away: once it learns the new layout it hands them to the keys' new owners (HandOff) or keeps
 * them queued for an old peer that still owns the key (ReplicationQueue.retain), instead of
 * dropping them with the keys. Before: every such write whose key moved to nodes that had not
 * held it was lost, and the others too (the queue dropped writes owed outside the new shard).
 * Method: seven nodes in this JVM (2 shards); node 6 is cut off from every peer, the others
 * see it down, 30 new keys of its shard are written through it (acknowledged, replicated
 * nowhere), the other six reshard to 3 shards without it; then the network heals, it learns
 * the layout, and every key must read its value through every node, the key count exact.
 */
class LeftOutHandOffTest {
  private static final Map<String, String> ENV = Map.of("SHARD_COUNT", "2");
  private static final int KEYS = 30;


  @Test
  void aLeftOutNodesWritesOfKeysThatMovedReachTheirNewOwners() {
    try (InProcessCluster c = new InProcessCluster(7, ENV)) {
      NodeAddress cut = c.node(6);
      NodeAddress coordinator = c.node(0);
      LeftOut.cutOff(c, cut, coordinator);
      List<String> keys = LeftOut.writeThrough(c, cut, KEYS);
      long epoch = LeftOut.reshardToThree(c, coordinator);
      c.network((from, to, route) -> 0);
      await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> {
        assertEquals(epoch, json(c.send(cut, "GET", "/ring", null)).get("epoch").asLong());
        LeftOut.assertEveryKeyEverywhere(c, keys, coordinator);
      });
    }
  }
}
