package ringkv.node.inprocess;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static ringkv.node.inprocess.InProcessCluster.json;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import ringkv.gossip.CausalContext;
import ringkv.gossip.Entry;
import ringkv.gossip.Version;
import ringkv.node.peer.PeerProtocol;
import ringkv.node.peer.ReplicationMessages.Batch;
import ringkv.ring.NodeAddress;

/*
 * Goal: a replicated batch sent before a view change and delivered after it (a duplicate the
 * network held, a sender paused mid-send) does not bring back a value whose delete was
 * collected. Under the old layout such a write is a stale duplicate (at or below its shard's
 * stable time, with no entry left) and is dropped; a new layout's stable time is 0 until every
 * node serving it has reported at the new epoch, so it cannot tell, and the value came back.
 * A receiver now takes replicated batches only from a sender at its own epoch
 * (ViewChangeParticipant.takesBatchAt); the sender sends again once both are at one epoch.
 * Without the fix the batch is acknowledged and the deleted value is read again.
 * Method: four nodes in this JVM (2 shards of 2). A key is written, deleted, and its tombstone
 * collected on both replicas. Node 3 is killed (a node down holds the new layout's stable time
 * at 0, deterministically), the other three reshard to one shard, and the value's write is
 * then delivered to a replica as a batch of the old epoch.
 */
class StaleDuplicateTest {
  @Test
  void aBatchFromBeforeAViewChangeDoesNotBringBackACollectedDelete() {
    try (InProcessCluster c = new InProcessCluster(4, Map.of("SHARD_COUNT", "2"))) {
      NodeAddress at = c.node(0);
      String key = "stale";
      var put = c.send(at, "PUT", "/key-value-store/" + key, "{\"value\":\"old\"}");
      assertEquals(201, put.status(), put.toString());
      JsonNode written = json(put).get("causal-metadata").get("keys").get(key);
      Version version = new Version(written.get(0).asLong(), written.get(1).asText());
      var delete = c.send(at, "DELETE", "/key-value-store/" + key,
          "{\"causal-metadata\":" + json(put).get("causal-metadata") + "}");
      assertEquals(200, delete.status(), delete.toString());
      List<NodeAddress> replicas = new ArrayList<>();
      json(c.send(at, "GET", "/ring/key/" + key, null)).get("members")
          .forEach(m -> replicas.add(NodeAddress.parse(m.asText())));
      // A write in the other shard too: a node that has seen no write reports 0, which holds
      // every shard's stable time at 0 (README Limits).
      for (int i = 0; ; i++) {
        if (!json(c.send(at, "GET", "/ring/key/o" + i, null)).get("members").toString()
            .contains("\"" + replicas.get(0) + "\"")) {
          assertEquals(201, c.send(at, "PUT", "/key-value-store/o" + i, "{\"value\":1}")
              .status());
          break;
        }
      }
      await("the tombstone is collected on both replicas").atMost(Duration.ofSeconds(30))
          .untilAsserted(() -> {
            for (NodeAddress r : replicas) {
              var held = c.send(r, "POST", "/internal/entries",
                  "{\"from\":\"" + at + "\",\"keys\":[\"" + key + "\"]}");
              assertEquals(0, json(held).get("entries").size(), r + ": " + held + " ring "
                  + c.send(r, "GET", "/ring", null).body());
            }
          });
      long epoch = json(c.send(at, "GET", "/ring", null)).get("epoch").asLong();

      NodeAddress down = c.node(3);
      c.kill(down);
      await(at + " sees " + down + " down").atMost(Duration.ofSeconds(30)).untilAsserted(() ->
          assertTrue(!json(c.send(at, "GET", "/ring", null)).get("shards")
              .findValues("live-members").toString().contains("\"" + down + "\"")));
      var reshard = c.send(at, "PUT", "/key-value-store-shard/reshard", "{\"shard-count\":1}");
      assertEquals(200, reshard.status(), reshard.toString());
      NodeAddress receiver = replicas.stream().filter(r -> !r.equals(down)).findFirst()
          .orElseThrow();
      assertEquals(epoch + 1, json(c.send(receiver, "GET", "/ring", null)).get("epoch")
          .asLong());

      Entry old = Entry.value(key, "\"old\"", version, CausalContext.EMPTY);
      var late = c.send(receiver, "POST", PeerProtocol.REPLICATE.path(), new String(
          PeerProtocol.REPLICATE.request().encode(Batch.replicated(at, epoch, List.of(old))),
          StandardCharsets.UTF_8));
      assertEquals(500, late.status(), "a batch of epoch " + epoch + " at epoch "
          + (epoch + 1) + ": " + late);
      var read = c.send(receiver, "GET", "/key-value-store/" + key, null);
      assertEquals(404, read.status(), "the deleted value stays deleted: " + read);
    }
  }
}
