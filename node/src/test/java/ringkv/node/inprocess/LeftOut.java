package ringkv.node.inprocess;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static ringkv.node.inprocess.InProcessCluster.json;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import ringkv.ring.NodeAddress;

/**
 * The steps the tests of a node left out of a view change share (LeftOutHandOffTest,
 * DurableHandOffTest): cut it off until the others see it down, write keys of its shard through
 * it alone, and check afterwards that every key reads its value through every node.
 */
final class LeftOut {
  private LeftOut() {}

  /** Loses every call to and from {@code cut}; waits until {@code observer} sees it down. */
  static void cutOff(InProcessCluster c, NodeAddress cut, NodeAddress observer) {
    c.network((from, to, route) -> from.equals(cut) || to.equals(cut) ? -1 : 0);
    await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> {
      JsonNode ring = json(c.send(observer, "GET", "/ring", null));
      List<JsonNode> live = ring.get("shards").findValues("live-members");
      assertTrue(!live.isEmpty() && live.stream()
          .noneMatch(l -> l.toString().contains("\"" + cut + "\"")),
          "the others see " + cut + " down: " + ring);
    });
  }

  /** Writes {@code count} keys {@code h<i>} of {@code cut}'s shard through it (value "cut-i"). */
  static List<String> writeThrough(InProcessCluster c, NodeAddress cut, int count) {
    List<String> keys = new ArrayList<>();
    for (int i = 0; keys.size() < count; i++) {
      String key = "h" + i;
      if (json(c.send(cut, "GET", "/ring/key/" + key, null)).get("members").toString()
          .contains("\"" + cut + "\"")) {
        var put = c.send(cut, "PUT", "/key-value-store/" + key, "{\"value\":\"cut-" + i + "\"}");
        assertEquals(201, put.status(), put.toString());
        keys.add(key);
      }
    }
    return keys;
  }

  /** Reshards to 3 shards through {@code coordinator}; returns the epoch it installed. */
  static long reshardToThree(InProcessCluster c, NodeAddress coordinator) {
    var reshard = c.send(coordinator, "PUT", "/key-value-store-shard/reshard",
        "{\"shard-count\":3}");
    assertEquals(200, reshard.status(), reshard.toString());
    return json(c.send(coordinator, "GET", "/ring", null)).get("epoch").asLong();
  }

  /**
   * Asserts that every one of {@code keys} reads its value through every node, and that the
   * shards count exactly {@code keys.size()} keys as {@code counter} reports them.
   */
  static void assertEveryKeyEverywhere(InProcessCluster c, List<String> keys,
      NodeAddress counter) {
    for (String key : keys) {
      String want = "cut-" + key.substring(1);
      for (int n = 0; n < c.size(); n++) {
        var get = c.send(c.node(n), "GET", "/key-value-store/" + key, null);
        assertEquals(200, get.status(), c.node(n) + " " + key + ": " + get);
        assertEquals(want, json(get).get("value").asText(), c.node(n) + ": " + get);
      }
    }
    JsonNode ring = json(c.send(counter, "GET", "/ring", null));
    long total = 0;
    for (JsonNode s : ring.get("shards")) {
      total += s.get("key-count").asLong();
    }
    assertEquals(keys.size(), total, "every key once: " + ring);
  }
}
