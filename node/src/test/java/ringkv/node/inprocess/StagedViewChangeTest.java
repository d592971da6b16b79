package ringkv.node.inprocess;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import ringkv.node.peer.PeerProtocol;
import ringkv.ring.NodeAddress;

/*
 * Goal: an operator can plan a view change and see exactly what will move before anything
 * does, commit that plan only while the cluster is still at the epoch it was made at, drop it,
 * watch a running change's copy (keys done out of the total, rate, time left), and abort it
 * while it copies — after which nothing changed: the old layout, every key, the same counts.
 * Method: four real nodes in this JVM in 2 shards of 2, 600 keys; a reshard to one shard moves
 * every key of each shard to the other shard's members. The abort case slows every batch of
 * the copy with the test's network so the change is seen copying.
 */
class StagedViewChangeTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final int KEYS = 600;

  private static JsonNode json(InProcessCluster.Answer a) {
    try {
      return JSON.readTree(a.body());
    } catch (Exception e) {
      throw new AssertionError("not JSON: " + a, e);
    }
  }

  private static void write(InProcessCluster c) {
    for (int i = 0; i < KEYS; i++) {
      var put = c.send(c.node(i % c.size()), "PUT", "/key-value-store/k" + i,
          "{\"value\":" + i + "}");
      assertEquals(201, put.status(), put.toString());
    }
  }

  private static long total(InProcessCluster c, NodeAddress at) {
    JsonNode ring = json(c.send(at, "GET", "/ring", null));
    long sum = 0;
    for (JsonNode shard : ring.get("shards")) {
      sum += shard.get("key-count").asLong();
    }
    return sum;
  }

  @Test
  void aPlanShowsWhatMovesAndRunsOnlyAtItsEpoch() {
    try (InProcessCluster c = new InProcessCluster(4, Map.of("SHARD_COUNT", "2"))) {
      write(c);
      NodeAddress a = c.node(0);
      var planned = c.send(a, "POST", "/admin/plan", "{\"kind\":\"reshard\",\"shard-count\":1}");
      assertEquals(200, planned.status(), planned.toString());
      ObjectNode plan = (ObjectNode) json(planned);
      assertEquals(KEYS, plan.get("keys-total").asLong(), plan.toString());
      assertEquals(KEYS, plan.get("keys-moving").asLong(), "every key gets two new replicas");
      long sentToTargets = 0;
      for (JsonNode t : plan.get("transfers")) {
        sentToTargets += t.get("keys").asLong();
      }
      assertEquals(2L * KEYS, sentToTargets, plan.toString());
      assertEquals(0.5, plan.get("shard-moved-fraction").asDouble(), 1e-9);
      assertEquals(0.5, plan.get("shard-moved-minimum").asDouble(), 1e-9);
      assertEquals(1, plan.get("epoch").asLong() - plan.get("base-epoch").asLong());
      ObjectNode withoutMessage = plan.deepCopy();
      withoutMessage.remove("message");
      assertEquals(withoutMessage, json(c.send(a, "GET", "/admin/plan", null)));
      assertEquals(200, c.send(a, "DELETE", "/admin/plan", null).status());
      assertEquals(404, c.send(a, "GET", "/admin/plan", null).status());

      long base = json(c.send(a, "POST", "/admin/plan",
          "{\"kind\":\"reshard\",\"shard-count\":1}")).get("base-epoch").asLong();
      var stale = c.send(a, "POST", "/admin/plan/commit", "{\"epoch\":" + (base - 1) + "}");
      assertEquals(503, stale.status(), "a plan runs only at its epoch: " + stale);
      var ran = c.send(a, "POST", "/admin/plan/commit", "{\"epoch\":" + base + "}");
      assertEquals(200, ran.status(), ran.toString());
      assertTrue(json(ran).get("keys-moved").asLong() >= KEYS, ran.toString());
      assertTrue(c.send(c.node(3), "GET", "/key-value-store-shard/shard-ids", null).body()
          .contains("\"shard-ids\":[1]"));
      assertEquals(KEYS, total(c, c.node(2)));
      var again = c.send(a, "POST", "/admin/plan/commit", "{\"epoch\":" + base + "}");
      assertEquals(400, again.status(), "the plan ran: nothing is staged any more");
    }
  }

  @Test
  void aCopyShowsItsProgressAndAnAbortRollsBack() throws Exception {
    try (InProcessCluster c = new InProcessCluster(4, Map.of("SHARD_COUNT", "2"))) {
      write(c);
      NodeAddress a = c.node(0);
      long epoch = json(c.send(a, "GET", "/ring", null)).get("epoch").asLong();
      c.network((from, to, route) -> route == PeerProtocol.REPLICATE ? 3_000 : 0);
      CompletableFuture<InProcessCluster.Answer> reshard = CompletableFuture.supplyAsync(() ->
          c.send(a, "PUT", "/key-value-store-shard/reshard", "{\"shard-count\":1}"));
      await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> {
        JsonNode s = json(c.send(a, "GET", "/admin/view-change", null));
        assertEquals("copying", s.get("status").asText(), s.toString());
        assertEquals(2L * KEYS, s.get("progress").get("keys-total").asLong(),
            "each key goes to the other shard's two members: " + s);
      });
      var get = c.send(c.node(1), "GET", "/key-value-store/k7", null);
      assertEquals(200, get.status(), "the cluster serves while it copies: " + get);
      assertEquals(200, c.send(a, "POST", "/admin/view-change/abort", null).status());
      InProcessCluster.Answer answer = reshard.get();
      assertEquals(503, answer.status(), answer.toString());
      assertTrue(answer.body().contains("aborted by the operator"), answer.toString());
      c.network((from, to, route) -> 0);
      for (int n = 0; n < c.size(); n++) {
        JsonNode ring = json(c.send(c.node(n), "GET", "/ring", null));
        assertEquals(epoch, ring.get("epoch").asLong(), "nothing changed: " + ring);
      }
      await().atMost(Duration.ofSeconds(10)).untilAsserted(() ->
          assertEquals(KEYS, total(c, c.node(3)), "the copies were dropped"));
      assertEquals("idle", json(c.send(a, "GET", "/admin/view-change", null)).get("status")
          .asText());
    }
  }
}
