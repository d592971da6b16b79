package ringkv.node.inprocess;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static ringkv.node.inprocess.InProcessCluster.json;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Duration;
import java.util.ArrayList;
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
      c.network((from, to, route) -> from.equals(cut) || to.equals(cut) ? -1 : 0);
      await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> {
        JsonNode ring = json(c.send(coordinator, "GET", "/ring", null));
        List<JsonNode> live = ring.get("shards").findValues("live-members");
        assertTrue(!live.isEmpty() && live.stream()
            .noneMatch(l -> l.toString().contains("\"" + cut + "\"")),
            "the others see " + cut + " down: " + ring);
      });
      List<String> keys = new ArrayList<>();
      for (int i = 0; keys.size() < KEYS; i++) {
        String key = "h" + i;
        if (json(c.send(cut, "GET", "/ring/key/" + key, null)).get("members").toString()
            .contains("\"" + cut + "\"")) {
          var put = c.send(cut, "PUT", "/key-value-store/" + key, "{\"value\":\"cut-" + i
              + "\"}");
          assertEquals(201, put.status(), put.toString());
          keys.add(key);
        }
      }
      var reshard = c.send(coordinator, "PUT", "/key-value-store-shard/reshard",
          "{\"shard-count\":3}");
      assertEquals(200, reshard.status(), reshard.toString());
      long epoch = json(c.send(coordinator, "GET", "/ring", null)).get("epoch").asLong();
      c.network((from, to, route) -> 0);
      await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> {
        assertEquals(epoch, json(c.send(cut, "GET", "/ring", null)).get("epoch").asLong());
        for (String key : keys) {
          String want = "cut-" + key.substring(1);
          for (int n = 0; n < 7; n++) {
            var get = c.send(c.node(n), "GET", "/key-value-store/" + key, null);
            assertEquals(200, get.status(), c.node(n) + " " + key + ": " + get);
            assertEquals(want, json(get).get("value").asText(), c.node(n) + ": " + get);
          }
        }
        JsonNode ring = json(c.send(coordinator, "GET", "/ring", null));
        long total = 0;
        for (JsonNode s : ring.get("shards")) {
          total += s.get("key-count").asLong();
        }
        assertEquals(KEYS, total, "every key once: " + ring);
      });
    }
  }
}
