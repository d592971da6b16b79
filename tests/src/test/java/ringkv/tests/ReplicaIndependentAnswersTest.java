package ringkv.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static ringkv.tests.support.Http.obj;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import ringkv.tests.support.Dialect;
import ringkv.tests.support.Http;
import ringkv.tests.support.Http.Reply;
import ringkv.tests.support.LocalCluster;

/*
 * Goal: no answer depends on which replica a request happened to reach (SPEC §2, §6). A client
 * going through one node, without causal metadata, sees its own writes: the second PUT of a key
 * is "Updated" (replaced: true), the GET finds it, the DELETE finds it and a GET after it is a
 * 404 — because the node forwards a key's requests to one fixed live replica (rendezvous), not
 * to whichever is next. A key count taken right after a write includes it, on every replica of
 * the shard, because a count first has the shard's peers deliver what they acknowledged. And
 * causal metadata stays small: under 8 KB after 3,000 operations over 500 keys.
 * Method: the Fall 2020 course suite's test_gossip_2 (4 nodes, 2 shards of 2; PUT a key at a
 * node outside its shard, then again at the same node without metadata), repeated 200 times on
 * fresh keys against one cluster with no sleeps, in each dialect, with a GET, a DELETE of every
 * other key, a GET after it and key counts on both replicas after every write; then bursts of
 * parallel writes through every node, each followed at once by every node's own count. Then one
 * causal session of 3,000 random operations over 500 keys through random nodes. Without the
 * fixed forwarding rule the second PUT of a key reaches the other replica first within a few
 * repetitions and answers "Added". (On loopback replication outruns a client's next request,
 * so the settled count is pinned deterministically by the in-process test that holds
 * replication back.)
 */
class ReplicaIndependentAnswersTest {
  private static final int REPETITIONS = 200;
  private static final int METADATA_BYTES_MAX = 8 * 1024;

  private LocalCluster cluster;

  @AfterEach
  void stop() {
    if (cluster != null) {
      cluster.close();
    }
  }

  @Test
  void shardDialect() throws InterruptedException {
    cluster = LocalCluster.builder(getClass().getSimpleName() + "-shard").nodes(4).shards(2)
        .start();
    throughOneNodeWithoutMetadata(Dialect.SHARD);
    countsRightAfterABurstOfWrites(Dialect.SHARD);
    metadataStaysSmall();
  }

  @Test
  void viewChangeDialect() throws InterruptedException {
    cluster = LocalCluster.builder(getClass().getSimpleName() + "-kvs").nodes(4).replFactor(2)
        .start();
    throughOneNodeWithoutMetadata(Dialect.KVS);
    countsRightAfterABurstOfWrites(Dialect.KVS);
  }

  private void throughOneNodeWithoutMetadata(Dialect dialect) {
    Map<String, Integer> liveKeys = new HashMap<>();
    for (int i = 0; i < REPETITIONS; i++) {
      String key = "test_gossip_" + i;
      JsonNode where = Http.get(cluster.node(0), "/ring/key/" + key).body();
      String shard = where.get("shard-id").asText();
      List<String> members = new ArrayList<>();
      where.get("members").forEach(m -> members.add(m.asText()));
      String outside = cluster.addresses().stream().filter(a -> !members.contains(a))
          .findFirst().orElseThrow();
      String at = key + " through " + outside;

      Reply added = put(dialect, outside, key, "I don't care " + i);
      assertEquals(201, added.status(), at + ": " + added);
      assertEquals("Added successfully", added.field("message").asText(), at);
      Reply updated = put(dialect, outside, key, "I do care " + i);
      assertEquals(200, updated.status(), at + ": second PUT: " + updated);
      assertEquals("Updated successfully", updated.field("message").asText(), at);
      if (dialect == Dialect.KVS) {
        assertFalse(added.field("replaced").asBoolean(true), at + ": " + added);
        assertTrue(updated.field("replaced").asBoolean(false), at + ": " + updated);
      }
      Reply read = send(dialect, "GET", outside, key);
      assertEquals(200, read.status(), at + ": GET: " + read);
      assertEquals("I do care " + i, read.field("value").asText(), at);
      liveKeys.merge(shard, 1, Integer::sum);
      assertCounts(dialect, shard, members, outside, liveKeys.get(shard), at + " after PUT");

      if (i % 2 == 0) {
        Reply deleted = send(dialect, "DELETE", outside, key);
        assertEquals(200, deleted.status(), at + ": DELETE: " + deleted);
        Reply gone = send(dialect, "GET", outside, key);
        assertEquals(404, gone.status(), at + ": GET after DELETE: " + gone);
        assertFalse(gone.field("doesExist").asBoolean(true), at + ": " + gone);
        liveKeys.merge(shard, -1, Integer::sum);
        assertCounts(dialect, shard, members, outside, liveKeys.get(shard), at + " after DELETE");
      }
    }
  }

  /**
   * Writes fresh keys in parallel through every node, then at once asks every node for its own
   * key count: each must count every write acknowledged in its shard, wherever it was applied.
   */
  private void countsRightAfterABurstOfWrites(Dialect dialect) throws InterruptedException {
    for (int round = 0; round < 5; round++) {
      int perNode = 40;
      java.util.concurrent.ExecutorService pool =
          java.util.concurrent.Executors.newFixedThreadPool(cluster.size() * 2);
      try {
        List<java.util.concurrent.Future<Reply>> writes = new ArrayList<>();
        for (int n = 0; n < cluster.size(); n++) {
          String node = cluster.node(n);
          for (int i = 0; i < perNode; i++) {
            String key = "burst-" + round + "-" + n + "-" + i;
            writes.add(pool.submit(() -> put(dialect, node, key, "v")));
          }
        }
        for (java.util.concurrent.Future<Reply> w : writes) {
          Reply r = w.get();
          assertEquals(201, r.status(), r.toString());
        }
      } catch (java.util.concurrent.ExecutionException e) {
        throw new AssertionError(e.getCause());
      } finally {
        pool.shutdownNow();
      }
      Map<String, Integer> perShard = new HashMap<>();
      for (int n = 0; n < cluster.size(); n++) {
        JsonNode ring = Http.get(cluster.node(n), "/ring").body();
        // Counted right after the writes by the node's own figure; the ring's figure (asked
        // of a member) must agree.
        String shard = null;
        for (JsonNode s : ring.get("shards")) {
          for (JsonNode m : s.get("members")) {
            if (m.asText().equals(cluster.node(n))) {
              shard = s.get("shard-id").asText();
            }
          }
        }
        Dialect.Figure own = dialect.ownKeyCount(shard);
        int count = Http.get(cluster.node(n), own.path()).field(own.field()).asInt();
        Integer other = perShard.putIfAbsent(shard, count);
        assertEquals(other == null ? count : other, count,
            "round " + round + ": replicas of shard " + shard + " count differently");
      }
      int total = perShard.values().stream().mapToInt(Integer::intValue).sum();
      assertTrue(total >= (round + 1) * cluster.size() * perNode,
          "round " + round + ": counted " + total + " keys: " + perShard);
    }
  }

  /** Every replica of the shard, and a node outside it, count the writes just acknowledged. */
  private void assertCounts(Dialect dialect, String shard, List<String> members, String outside,
      int expected, String where) {
    for (String member : members) {
      Dialect.Figure own = dialect.ownKeyCount(shard);
      Reply count = Http.get(member, own.path());
      assertEquals(200, count.status(), where + ": " + count);
      assertEquals(expected, count.field(own.field()).asInt(), where + ": count at " + member
          + ": " + count);
    }
    Reply shardInfo = dialect == Dialect.SHARD
        ? Http.get(outside, "/key-value-store-shard/shard-id-key-count/" + shard)
        : Http.get(outside, "/kvs/shards/" + shard);
    String field = dialect == Dialect.SHARD ? "shard-id-key-count" : "key-count";
    assertEquals(expected, shardInfo.field(field).asInt(),
        where + ": count asked at " + outside + ": " + shardInfo);
  }

  private static Reply put(Dialect dialect, String node, String key, String value) {
    return Http.put(node, dialect.keyPath(key), obj("value", value));
  }

  private static Reply send(Dialect dialect, String method, String node, String key) {
    return Http.send(method, node, dialect.keyPath(key), null);
  }

  /** One causal session: 3,000 random operations over 500 keys through random nodes. */
  private void metadataStaysSmall() {
    Random random = new Random(20261206L);
    JsonNode metadata = Http.MAPPER.nullNode();
    int largest = 0;
    for (int op = 0; op < 3_000; op++) {
      String node = cluster.node(random.nextInt(cluster.size()));
      String key = "session-" + random.nextInt(500);
      int dice = random.nextInt(10);
      Reply r;
      if (dice < 5) {
        r = Http.get(node, "/key-value-store/" + key, obj("causal-metadata", metadata));
      } else if (dice < 9) {
        r = Http.put(node, "/key-value-store/" + key,
            obj("value", "v" + op, "causal-metadata", metadata));
      } else {
        r = Http.delete(node, "/key-value-store/" + key, obj("causal-metadata", metadata));
      }
      assertTrue(r.status() == 200 || r.status() == 201 || r.status() == 404,
          "operation " + op + ": " + r);
      metadata = r.metadata();
      largest = Math.max(largest, Http.MAPPER.valueToTree(metadata).toString().length());
    }
    System.out.println("metadata: largest " + largest + " bytes over 3000 operations");
    assertTrue(largest < METADATA_BYTES_MAX, "metadata grew to " + largest + " bytes");
  }
}
