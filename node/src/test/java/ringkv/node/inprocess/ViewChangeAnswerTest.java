package ringkv.node.inprocess;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static ringkv.node.inprocess.InProcessCluster.json;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.Map;
import org.junit.jupiter.api.Test;
import ringkv.node.peer.PeerProtocol;
import ringkv.ring.NodeAddress;

/*
 * Goal: PUT /kvs/view-change answers 200 once the change is committed, even when the key count
 * of a new shard cannot be asked for afterwards; that count is null and a warning says why.
 * Before the fix the whole answer was a 503 ("Unable to satisfy request") for a change that had
 * happened, so a client retried or reported a failure that was not one.
 * Method: four nodes in this JVM (2 shards of 2), 40 keys. Node 0 coordinates a change that
 * leaves it out (nodes 1-3 make one shard), so it must ask a member for the new shard's count;
 * the network loses every count question. Then the same question once the network is whole:
 * every count is known and equals the keys written.
 */
class ViewChangeAnswerTest {
  private static final int KEYS = 40;

  @Test
  void aCommittedChangeAnswers200WhenAShardsCountCannotBeAsked() {
    try (InProcessCluster c = InProcessCluster.withKeys(4, Map.of("SHARD_COUNT", "2"), KEYS)) {
      NodeAddress coordinator = c.node(0);
      c.network((from, to, route) -> route == PeerProtocol.COUNT ? -1 : 0);
      String view = c.node(1) + "," + c.node(2) + "," + c.node(3);
      var change = c.send(coordinator, "PUT", "/kvs/view-change",
          "{\"view\":\"" + view + "\",\"repl-factor\":3}");

      assertEquals(200, change.status(), change.toString());
      JsonNode body = json(change);
      assertEquals("View change successful", body.get("message").asText());
      assertEquals(1, body.get("shards").size(), change.body());
      JsonNode shard = body.get("shards").get(0);
      assertTrue(shard.get("key-count").isNull(), change.body());
      assertEquals(3, shard.get("replicas").size(), change.body());
      assertTrue(body.get("warnings").get(0).asText().contains("key count of shard "
          + shard.get("shard-id").asText() + " is unknown"), change.body());
      long epoch = json(c.send(c.node(1), "GET", "/ring", null)).get("epoch").asLong();
      assertEquals(epoch, json(c.send(coordinator, "GET", "/ring", null)).get("epoch").asLong(),
          "the coordinator installed the change it answered for");

      c.network((from, to, route) -> 0);
      var again = c.send(coordinator, "PUT", "/kvs/view-change",
          "{\"view\":\"" + view + "\",\"repl-factor\":3}");
      assertEquals(200, again.status(), again.toString());
      assertEquals(KEYS, json(again).get("shards").get(0).get("key-count").asLong(),
          again.body());
      assertTrue(json(again).path("warnings").isMissingNode(), again.body());
    }
  }
}
