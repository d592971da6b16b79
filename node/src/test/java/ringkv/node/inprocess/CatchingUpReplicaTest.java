package ringkv.node.inprocess;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import ringkv.node.peer.PeerProtocol;
import ringkv.ring.NodeAddress;

/*
 * Goal: a replica that is still copying its shard (catching up after a restart without data)
 * answers a key of its own shard as a replica of it: it lets a caught-up replica serve the
 * request, but the answer carries no "address", which the view-change dialect gives only when a
 * node outside the key's shard proxied (the Fall 2020 suite's test_gossip_2 checks that an
 * "address" names a node of another shard).
 * Method: four real nodes in this JVM in the view-change dialect (two shards of two); one is
 * restarted while the test's network holds its shard copy (SCAN) for seconds, so it stays
 * catching up while the test writes a key of its shard through it. Without the fix the answer
 * names the other replica every time.
 *
 * Goal 2 (Fall 2020 test_network_partition_1): a replica that cannot reach any replica of its
 * shard since it started still serves a client that has observed nothing (an empty causal
 * context): writes, reads and key counts from its own store; a client whose context holds
 * anything is refused (it may have seen a write this store lacks). Once the partition heals the
 * replica copies its shard and its write reaches the peer. Method: two real nodes, one shard;
 * node 0 restarts without data while the test's network loses every call between them.
 * Without KeyValueCore.servesBeforeCopy every request at node 0 is a 503.
 *
 * Goal 3 (Fall 2020 test_gossip_2 asked a shard's information right after start): a node
 * outside a shard whose members are all still copying it gets the shard's key count from what a
 * member holds rather than a 503. Method: four nodes, two shards of two; both members of one
 * shard restart without data while the network loses the scans between them. Without
 * CountRequest.uncopied the answer is a 503.
 */
class CatchingUpReplicaTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  @Test
  void aReplicaCatchingUpAnswersForItsShardWithoutAnAddress() throws Exception {
    try (InProcessCluster c = new InProcessCluster(4, Map.of("REPL_FACTOR", "2"))) {
      NodeAddress restarted = c.node(0);
      String key = keyOfShardOf(c, restarted);
      c.kill(restarted);
      c.network((from, to, route) -> route == PeerProtocol.SCAN && from.equals(restarted)
          ? 4_000 : 0);
      CompletableFuture<Void> start = CompletableFuture.runAsync(() -> c.start(restarted));
      await().atMost(Duration.ofSeconds(10)).until(() -> c.live(restarted));
      assertFalse(start.isDone(), "still catching up: its shard copy is held");
      var put = c.send(restarted, "PUT", "/kvs/keys/" + key,
          "{\"value\":\"v1\",\"causal-context\":{}}");
      assertEquals(201, put.status(), put.toString());
      JsonNode body = JSON.readTree(put.body());
      assertFalse(body.has("address"), "a replica of the key's shard names no owner: " + body);
      assertEquals("Added successfully", body.get("message").asText(), body.toString());
      start.get();
      var get = c.send(restarted, "GET", "/kvs/keys/" + key, null);
      JsonNode read = JSON.readTree(get.body());
      assertEquals(200, get.status(), get.toString());
      assertEquals("v1", read.get("value").asText(), read.toString());
      assertFalse(read.has("address"), read.toString());
    }
  }

  @Test
  void aReplicaCutOffSinceStartServesClientsThatObservedNothing() throws Exception {
    try (InProcessCluster c = new InProcessCluster(2, Map.of("REPL_FACTOR", "2"))) {
      NodeAddress cut = c.node(0);
      NodeAddress peer = c.node(1);
      var before = c.send(peer, "PUT", "/kvs/keys/seen", "{\"value\":\"s\",\"causal-context\":{}}");
      assertEquals(201, before.status(), before.toString());
      String seen = JSON.readTree(before.body()).get("causal-context").toString();
      c.kill(cut);
      c.network((from, to, route) -> from.equals(cut) || to.equals(cut) ? -1 : 0);
      CompletableFuture<Void> start = CompletableFuture.runAsync(() -> c.start(cut));
      await().atMost(Duration.ofSeconds(10)).until(() -> c.live(cut));
      assertFalse(start.isDone(), "still catching up: no peer answers");

      var put = c.send(cut, "PUT", "/kvs/keys/k", "{\"value\":\"v\",\"causal-context\":{}}");
      assertEquals(201, put.status(), put.toString());
      assertEquals("Added successfully", JSON.readTree(put.body()).get("message").asText());
      var get = c.send(cut, "GET", "/kvs/keys/k", "{\"causal-context\":{}}");
      assertEquals(200, get.status(), get.toString());
      assertEquals("v", JSON.readTree(get.body()).get("value").asText(), get.toString());
      var count = c.send(cut, "GET", "/kvs/key-count", null);
      assertEquals(200, count.status(), count.toString());
      assertEquals(1, JSON.readTree(count.body()).get("key-count").asLong(), count.toString());
      var observer = c.send(cut, "GET", "/kvs/keys/seen", "{\"causal-context\":" + seen + "}");
      assertEquals(503, observer.status(), "a client that saw a write this store lacks: "
          + observer);

      c.network((from, to, route) -> 0);
      start.get();
      await().atMost(Duration.ofSeconds(10)).until(() -> "v".equals(JSON.readTree(
          c.send(peer, "GET", "/kvs/keys/k", "{\"causal-context\":{}}").body()).path("value")
          .asText()));
      var after = c.send(cut, "GET", "/kvs/keys/seen", "{\"causal-context\":" + seen + "}");
      assertEquals("s", JSON.readTree(after.body()).get("value").asText(), after.toString());
    }
  }

  @Test
  void aShardWhoseMembersAreAllCopyingStillHasAKeyCount() throws Exception {
    try (InProcessCluster c = new InProcessCluster(4, Map.of("REPL_FACTOR", "2"))) {
      JsonNode shard = JSON.readTree(c.send(c.node(0), "GET", "/kvs/shards/2", null).body());
      List<NodeAddress> members = new ArrayList<>();
      shard.get("replicas").forEach(r -> members.add(NodeAddress.parse(r.asText())));
      NodeAddress asker = java.util.stream.IntStream.range(0, 4).mapToObj(c::node)
          .filter(n -> !members.contains(n)).findFirst().orElseThrow();
      members.forEach(c::kill);
      c.network((from, to, route) -> route == PeerProtocol.SCAN && members.contains(from)
          ? -1 : 0);
      List<CompletableFuture<Void>> starts = members.stream()
          .map(m -> CompletableFuture.runAsync(() -> c.start(m))).toList();
      await().atMost(Duration.ofSeconds(10)).until(() -> members.stream().allMatch(c::live));
      assertFalse(starts.stream().anyMatch(CompletableFuture::isDone), "both still copying");

      var info = c.send(asker, "GET", "/kvs/shards/2", null);
      assertEquals(200, info.status(), info.toString());
      JsonNode body = JSON.readTree(info.body());
      assertEquals(0, body.get("key-count").asLong(), body.toString());
      assertEquals(2, body.get("replicas").size(), body.toString());
      c.network((from, to, route) -> 0);
      CompletableFuture.allOf(starts.toArray(CompletableFuture[]::new)).get();
    }
  }

  /** A key whose shard holds {@code node}. */
  private static String keyOfShardOf(InProcessCluster c, NodeAddress node) throws Exception {
    for (int i = 0; ; i++) {
      String key = "k" + i;
      JsonNode where = JSON.readTree(c.send(node, "GET", "/ring/key/" + key, null).body());
      for (JsonNode m : where.get("members")) {
        if (m.asText().equals(node.toString())) {
          assertTrue(where.get("members").size() == 2, where.toString());
          return key;
        }
      }
    }
  }
}
