package ringkv.node.inprocess;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static ringkv.node.inprocess.InProcessCluster.json;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import ringkv.ring.NodeAddress;

/*
 * Goal: a request that waits on a node for a causal dependency while a view change moves its
 * key away is routed again under the new layout; it is not performed on the node that no
 * longer owns the key. Before the fix, a write that went ahead after its wait was stored on the
 * old owner after it had installed the change and dropped its foreign keys, and stayed there,
 * counted as a key of the shard that node serves now (chaos container seed 529014448885: the
 * replicas of a shard never agreed on their key counts); a read that waited was answered from
 * a store that no longer holds the key. Without the fix the last check fails: the old owner
 * holds the write.
 * Method: four nodes in this JVM (2 shards of 2), CAUSAL_WAIT_MS 3 s. A key written through
 * its replica Y; a client whose context names a later write of it by Y (one Y has not made:
 * nobody holds it, so the wait lasts) writes it through X, the other replica, where it waits.
 * Then a view change removes X (the other three make one shard), well within the wait. The
 * write must end on the new owners, with its value, and X, which owns nothing now, must not
 * hold it.
 */
class WaitAcrossViewChangeTest {
  private static final Map<String, String> ENV = Map.of("SHARD_COUNT", "2",
      "CAUSAL_WAIT_MS", "3000");

  @Test
  void aWriteWaitingForItsDependencyFollowsItsKeyToTheNewOwners() throws Exception {
    try (InProcessCluster c = new InProcessCluster(4, ENV)) {
      NodeAddress x = c.node(0);
      String shard = json(c.send(x, "GET", "/key-value-store-shard/node-shard-id", null))
          .get("shard-id").asText();
      NodeAddress y = null;
      for (JsonNode m : json(c.send(x, "GET", "/key-value-store-shard/shard-id-members/"
          + shard, null)).get("shard-id-members")) {
        if (!m.asText().equals(x.toString())) {
          y = NodeAddress.parse(m.asText());
        }
      }
      String key = keyOf(c, x, y);
      var first = c.send(y, "PUT", "/key-value-store/" + key, "{\"value\":\"before\"}");
      assertEquals(201, first.status(), first.toString());
      JsonNode version = json(first).get("causal-metadata").get("keys").get(key);
      String later = "{\"keys\":{\"" + key + "\":[" + (version.get(0).asLong() + 1) + ",\""
          + y + "\"]}}";

      CompletableFuture<InProcessCluster.Answer> write = CompletableFuture.supplyAsync(() ->
          c.send(x, "PUT", "/key-value-store/" + key,
              "{\"value\":\"after\",\"causal-metadata\":" + later + "}"));
      await("the write waits on " + x).atMost(Duration.ofSeconds(2))
          .pollInterval(Duration.ofMillis(20))
          .until(() -> c.metric(x, "ringkv_causal_waits_pending") == 1);

      String view = String.join(",", List.of(c.node(1).toString(), c.node(2).toString(),
          c.node(3).toString()));
      var change = c.send(y, "PUT", "/kvs/view-change",
          "{\"view\":\"" + view + "\",\"repl-factor\":3}");
      assertEquals(200, change.status(), change.toString());
      long epoch = json(c.send(y, "GET", "/ring", null)).get("epoch").asLong();
      await(x + " installs the change").atMost(Duration.ofSeconds(2))
          .pollInterval(Duration.ofMillis(20))
          .until(() -> json(c.send(x, "GET", "/ring", null)).get("epoch").asLong() == epoch);
      assertFalse(write.isDone(), "the change took longer than the causal wait (3 s): the test"
          + " proves nothing; raise CAUSAL_WAIT_MS");

      var answer = write.get(20, TimeUnit.SECONDS);
      assertEquals(200, answer.status(), answer.toString());
      // The new owner that took the write acknowledged it; the other two get it by gossip.
      await("the new owners hold the write").atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
        for (int n = 1; n < 4; n++) {
          var get = c.send(c.node(n), "GET", "/key-value-store/" + key, null);
          assertEquals(200, get.status(), get.toString());
          assertEquals("after", json(get).get("value").asText(),
              c.node(n) + " holds the write acknowledged through " + x);
        }
      });
      var held = c.send(x, "POST", "/internal/entries",
          "{\"from\":\"" + y + "\",\"keys\":[\"" + key + "\"]}");
      assertEquals(200, held.status(), held.toString());
      assertEquals(0, json(held).get("entries").size(), x + " owns no key any more, yet holds "
          + held.body());
    }
  }

  /** A key {@code x} and {@code y} hold (the shard they make up), written nowhere yet. */
  private static String keyOf(InProcessCluster c, NodeAddress x, NodeAddress y) {
    for (int i = 0; i < 1_000; i++) {
      JsonNode members = json(c.send(x, "GET", "/ring/key/k" + i, null)).get("members");
      if (members.toString().contains("\"" + x + "\"")
          && members.toString().contains("\"" + y + "\"")) {
        return "k" + i;
      }
    }
    throw new AssertionError("no key held by " + x + " and " + y);
  }
}
