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
import ringkv.node.peer.PeerProtocol;
import ringkv.ring.NodeAddress;

/*
 * Goal: a node stopped by a view change (prepared, its writes frozen while what changed during
 * the copy travels) keeps serving reads of the keys it holds under the layout it still has, to
 * clients that saw nothing newer (KeyValueCore.servesInStop); it refuses (500, "View change in
 * progress") writes, reads of keys it does not hold, and a read by a client that saw a write
 * made under the new layout meanwhile. Before the change every request to a stopped node was
 * refused: the test fails at the first read of a held key.
 * Method: six nodes in this JVM (2 shards of 3), 60 keys, a reshard to 3 shards coordinated by
 * node 0; the test's network loses the commit to every other node, every configuration fetch
 * and every outcome inquiry, so the other five stay prepared while the test reads through them;
 * then it heals, and every node installs the change with no key lost.
 */
class StopReadsTest {
  private static final int KEYS = 60;
  private static final Map<String, String> ENV = Map.of("SHARD_COUNT", "2",
      "VIEW_CHANGE_TIMEOUT_MS", "60000");


  @Test
  void aStoppedNodeServesReadsOfItsKeysAndRefusesEverythingElse() {
    try (InProcessCluster c = new InProcessCluster(6, ENV)) {
      c.writeKeys(KEYS);
      NodeAddress coordinator = c.node(0);
      c.network((from, to, route) -> (route == PeerProtocol.COMMIT && !to.equals(coordinator))
          || route == PeerProtocol.CONFIG || route == PeerProtocol.OUTCOME ? -1 : 0);
      long epochBefore = json(c.send(coordinator, "GET", "/ring", null)).get("epoch").asLong();
      var reshard = c.send(coordinator, "PUT", "/key-value-store-shard/reshard",
          "{\"shard-count\":3}");
      assertEquals(200, reshard.status(), reshard.toString());

      int served = 0;
      int refused = 0;
      for (int n = 1; n < 6; n++) {
        NodeAddress node = c.node(n);
        assertEquals(epochBefore, json(c.send(node, "GET", "/ring", null)).get("epoch")
            .asLong(), node + " is still on the old layout");
        var put = c.send(node, "PUT", "/key-value-store/k0", "{\"value\":\"no\"}");
        assertViewChange(put, node + " refuses writes while stopped");
        for (int i = 0; i < KEYS; i++) {
          String key = "k" + i;
          boolean holds = holds(c, node, key);
          var get = c.send(node, "GET", "/key-value-store/" + key, null);
          if (holds) {
            assertEquals(200, get.status(), node + " holds " + key + ": " + get);
            assertEquals(i, json(get).get("value").asInt(), get.toString());
            served++;
          } else {
            assertViewChange(get, node + " does not hold " + key);
            refused++;
          }
        }
      }
      assertTrue(served > 0 && refused > 0, "served=" + served + " refused=" + refused);

      // A write under the new layout through the committed coordinator, then a read of it
      // through a stopped node that held the key under the old one.
      List<String> written = new ArrayList<>();
      for (int i = 0; i < KEYS && written.isEmpty(); i++) {
        var put = c.send(coordinator, "PUT", "/key-value-store/k" + i, "{\"value\":\"new\"}");
        if (put.status() == 200) {
          written.add("k" + i);
          written.add(json(put).get("causal-metadata").toString());
        }
      }
      assertEquals(2, written.size(), "the coordinator owns some key under the new layout");
      String key = written.get(0);
      String metadata = written.get(1);
      int checked = 0;
      for (int n = 1; n < 6; n++) {
        NodeAddress node = c.node(n);
        boolean holds = holds(c, node, key);
        if (!holds) {
          continue;
        }
        var fresh = c.send(node, "GET", "/key-value-store/" + key,
            "{\"causal-metadata\":" + metadata + "}");
        assertViewChange(fresh, node + " lacks the write its client saw");
        var plain = c.send(node, "GET", "/key-value-store/" + key, null);
        assertEquals(200, plain.status(), plain.toString());
        checked++;
      }
      assertTrue(checked > 0, "a stopped old owner of " + key);

      healAndCheck(c, epochBefore, key, metadata);
    }
  }

  /** Heals the network; every node installs the change, no key lost, the new write read. */
  private static void healAndCheck(InProcessCluster c, long epochBefore, String key,
      String metadata) {
    c.network((from, to, route) -> 0);
    await().atMost(Duration.ofSeconds(90)).untilAsserted(() -> {
      for (int n = 0; n < 6; n++) {
        JsonNode ring = json(c.send(c.node(n), "GET", "/ring", null));
        assertTrue(ring.get("epoch").asLong() > epochBefore, c.node(n) + ": " + ring);
      }
      JsonNode ring = json(c.send(c.node(0), "GET", "/ring", null));
      long total = 0;
      for (JsonNode s : ring.get("shards")) {
        total += s.get("key-count").asLong();
      }
      assertEquals(KEYS, total, "no key lost: " + ring);
    });
    for (int n = 0; n < 6; n++) {
      var get = c.send(c.node(n), "GET", "/key-value-store/" + key,
          "{\"causal-metadata\":" + metadata + "}");
      assertEquals("new", json(get).get("value").asText(), c.node(n) + ": " + get);
    }
  }

  /** Whether {@code node}'s layout (the old one, while it is stopped) gives it {@code key}. */
  private static boolean holds(InProcessCluster c, NodeAddress node, String key) {
    return json(c.send(node, "GET", "/ring/key/" + key, null)).get("members").toString()
        .contains("\"" + node + "\"");
  }

  private static void assertViewChange(InProcessCluster.Answer a, String what) {
    assertEquals(500, a.status(), what + ": " + a);
    assertTrue(a.body().contains("View change in progress"), what + ": " + a);
  }
}
