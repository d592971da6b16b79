package ringkv.tests;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static ringkv.tests.Kvs.assertAddress;
import static ringkv.tests.Kvs.assertBody;
import static ringkv.tests.support.Http.json;
import static ringkv.tests.support.Http.obj;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Consumer;
import java.util.function.IntFunction;
import org.junit.jupiter.api.Test;
import ringkv.tests.support.Http;
import ringkv.tests.support.Http.Reply;
import ringkv.tests.support.LocalCluster;

/*
 * Goal: the view-change dialect (SPEC §4) serves the engine's key-value path with its own exact
 * bodies: clusters started with ADDRESS/VIEW/REPL_FACTOR compute |VIEW|/R shards of R replicas;
 * keys are added, updated, read, counted and deleted with the exact strings, "address" appears
 * exactly when a node proxied, every reply carries a "causal-context" object, replicas of a shard
 * converge within 5 s; an unsatisfiable causal context answers 400 after the 2 s wait, and a
 * request that cannot finish within 5 s answers 503.
 * Method: real node processes on 127.0.0.1 driven over HTTP: one shard of two replicas, then two
 * shards of two replicas (ten keys each time, written and read through every node by one client
 * that passes its causal context along); in the second cluster a fabricated context names a
 * version nobody holds, and both replicas of a shard are paused (SIGSTOP) while another node
 * forwards to them. Awaitility bounds every convergence at 5 s.
 */
class KvsReplicationTest {
  private static final int KEYS = 10;
  private static final int REPL_FACTOR = 2;
  private static final Duration CONVERGENCE = Duration.ofSeconds(5);

  @Test
  void oneShardOfTwoReplicas() {
    withShardsOfTwoReplicas(2, cluster -> { });
  }

  @Test
  void twoShardsOfTwoReplicas() {
    withShardsOfTwoReplicas(4, cluster -> {
      unsatisfiableContextIsRefusedAfterTheWait(cluster);
      requestsThatCannotFinishAnswer503(cluster);
    });
  }

  /**
   * Starts {@code nodes} nodes with REPL_FACTOR 2, checks their shards and the ten keys, then
   * runs {@code more} on the same cluster before it is closed.
   */
  private void withShardsOfTwoReplicas(int nodes, Consumer<LocalCluster> more) {
    try (LocalCluster cluster = LocalCluster.builder(getClass().getSimpleName())
        .nodes(nodes).replFactor(REPL_FACTOR).start()) {
      checkShards(cluster, REPL_FACTOR);
      tenKeys(cluster);
      more.accept(cluster);
    }
  }

  /** Every node lists the same |VIEW|/R shards of exactly R replicas, partitioning the nodes. */
  private static void checkShards(LocalCluster cluster, int replFactor) {
    int shardCount = cluster.size() / replFactor;
    List<String> ids = new ArrayList<>();
    for (int s = 1; s <= shardCount; s++) {
      ids.add(Integer.toString(s));
    }
    Map<String, List<String>> layout = new TreeMap<>();
    for (String node : cluster.addresses()) {
      assertBody(200, obj("message", "Shard membership retrieved successfully", "shards", ids)
          .toString(), Http.get(node, "/kvs/shards"), node);
      for (String id : ids) {
        Reply r = Http.get(node, "/kvs/shards/" + id);
        List<String> replicas = Kvs.strings(r.field("replicas"));
        assertEquals(replFactor, replicas.size(), r.toString());
        assertBody(200, obj("message", "Shard information retrieved successfully",
            "shard-id", id, "key-count", 0, "replicas", replicas).toString(), r, node);
        List<String> seen = layout.putIfAbsent(id, replicas);
        assertEquals(seen == null ? replicas : seen, replicas, node + " disagrees on " + id);
      }
    }
    List<String> all = new ArrayList<>();
    layout.values().forEach(all::addAll);
    assertEquals(cluster.addresses().stream().sorted().toList(), all.stream().sorted().toList(),
        "the shards partition the nodes: " + layout);
    for (var e : layout.entrySet()) {
      for (String replica : e.getValue()) {
        assertBody(200, "{\"message\":\"Key count retrieved successfully\",\"key-count\":0,"
            + "\"shard-id\":\"" + e.getKey() + "\"}", Kvs.keyCount(replica), replica);
      }
    }
  }

  /** Ten keys added, counted, updated, read, deleted through every node by one client. */
  private static void tenKeys(LocalCluster cluster) {
    List<String> nodes = cluster.addresses();
    Kvs.Client client = new Kvs.Client();
    Map<String, List<String>> owners = new HashMap<>();
    for (int i = 0; i < KEYS; i++) {
      String key = "key" + i;
      String node = nodes.get(i % nodes.size());
      owners.put(key, Kvs.owners(node, key));
      Reply r = client.put(node, key, "value" + i);
      assertBody(201, "{\"message\":\"Added successfully\",\"replaced\":false}", r, key);
      assertAddress(r, node, owners.get(key), key);
    }
    awaitCounts(cluster, KEYS);
    for (int i = 0; i < KEYS; i++) {
      String key = "key" + i;
      String node = nodes.get((i + 1) % nodes.size());
      Reply r = client.put(node, key, i);
      assertBody(200, "{\"message\":\"Updated successfully\",\"replaced\":true}", r, key);
      assertAddress(r, node, owners.get(key), key);
    }
    assertEveryNodeReads(nodes, owners, client, 200, i -> "{\"message\":\"Retrieved successfully\","
        + "\"doesExist\":true,\"value\":" + i + "}");
    badPuts(nodes, client);
    for (int i = 0; i < KEYS; i++) {
      String key = "key" + i;
      String node = nodes.get((i + 2) % nodes.size());
      Reply r = client.delete(node, key);
      assertBody(200, "{\"message\":\"Deleted successfully\",\"doesExist\":true}", r, key);
      assertAddress(r, node, owners.get(key), key);
    }
    assertEveryNodeReads(nodes, owners, client, 404, i -> "{\"message\":\"Error in GET\","
        + "\"error\":\"Key does not exist\",\"doesExist\":false}");
    assertBody(404, "{\"message\":\"Error in DELETE\",\"error\":\"Key does not exist\","
        + "\"doesExist\":false}", client.delete(nodes.get(0), "key0"), "second delete");
    awaitCounts(cluster, 0);
  }

  /**
   * A GET of every key at every node answers {@code status} with exactly {@code body} of the
   * key's number, and names the key's owners as the answering address.
   */
  private static void assertEveryNodeReads(List<String> nodes, Map<String, List<String>> owners,
      Kvs.Client client, int status, IntFunction<String> body) {
    for (String node : nodes) {
      for (int i = 0; i < KEYS; i++) {
        String key = "key" + i;
        Reply r = client.get(node, key);
        assertBody(status, body.apply(i), r, node + " " + key);
        assertAddress(r, node, owners.get(key), node + " " + key);
      }
    }
  }

  private static void badPuts(List<String> nodes, Kvs.Client client) {
    String longKey = "k".repeat(51);
    for (String node : nodes) {
      Reply noValue = Http.put(node, Kvs.path("key0"), obj("causal-context", json("{}")));
      assertBody(400, "{\"message\":\"Error in PUT\",\"error\":\"Value is missing\"}", noValue,
          node);
      assertTrue(noValue.field("causal-context").isObject(), noValue.toString());
      assertBody(400, "{\"message\":\"Error in PUT\",\"error\":\"Key is too long\"}",
          client.put(node, longKey, 1), node);
    }
    assertBody(200, "{\"message\":\"Retrieved successfully\",\"doesExist\":true,\"value\":0}",
        client.get(nodes.get(0), "key0"), "a refused PUT changes nothing");
  }

  /** Within 5 s every replica of a shard reports the same count; one per shard sums to total. */
  private static void awaitCounts(LocalCluster cluster, long total) {
    await("key counts converge to " + total).atMost(CONVERGENCE)
        .pollInterval(Duration.ofMillis(50)).untilAsserted(() -> {
          Map<String, Long> byShard = new TreeMap<>();
          for (String node : cluster.addresses()) {
            Reply r = Kvs.keyCount(node);
            String shard = r.field("shard-id").asText();
            long count = r.field("key-count").asLong();
            Long other = byShard.putIfAbsent(shard, count);
            assertEquals(other == null ? count : other, count, "replicas of " + shard);
          }
          assertEquals(total, byShard.values().stream().mapToLong(Long::longValue).sum(),
              byShard.toString());
        });
  }

  /**
   * A context naming a version of "ghost" that no replica holds: the owner waits for it (and
   * asks its peers) for 2 s, then every node answers 400, proxied or not.
   */
  private static void unsatisfiableContextIsRefusedAfterTheWait(LocalCluster cluster) {
    String key = "ghost";
    List<String> owners = Kvs.owners(cluster.node(0), key);
    String owner = owners.get(0);
    String proxy = cluster.addresses().stream().filter(n -> !owners.contains(n)).findFirst()
        .orElseThrow();
    JsonNode context = json("{\"keys\":{\"ghost\":[" + (System.currentTimeMillis() + 60_000)
        + ",\"" + owner + "\"]}}");
    for (String node : List.of(owner, proxy)) {
      long start = System.nanoTime();
      Reply r = Http.get(node, Kvs.path(key), obj("causal-context", context));
      long elapsedMs = (System.nanoTime() - start) / 1_000_000;
      assertBody(400, "{\"message\":\"Error in GET\",\"error\":\"Unable to satisfy request\"}",
          r, node);
      assertTrue(elapsedMs >= 1_900 && elapsedMs < 4_000, node + " waited " + elapsedMs + " ms");
      assertTrue(r.field("causal-context").isObject(), r.toString());
    }
  }

  /**
   * Both replicas of a key's shard paused: a node of the other shard forwards to them and gets no
   * answer; the client gets 503 after 5 s. Once they resume, the key is writable again.
   */
  private static void requestsThatCannotFinishAnswer503(LocalCluster cluster) {
    String key = "frozen";
    List<String> owners = Kvs.owners(cluster.node(0), key);
    String proxy = cluster.addresses().stream().filter(n -> !owners.contains(n)).findFirst()
        .orElseThrow();
    owners.forEach(o -> cluster.pause(cluster.indexOf(o)));
    Reply r;
    long elapsedMs;
    try {
      long start = System.nanoTime();
      r = new Kvs.Client().put(proxy, key, "cold");
      elapsedMs = (System.nanoTime() - start) / 1_000_000;
    } finally {
      owners.forEach(o -> cluster.resume(cluster.indexOf(o)));
    }
    assertBody(503, "{\"message\":\"Error in PUT\",\"error\":\"Unable to satisfy request\"}", r,
        proxy);
    assertTrue(elapsedMs >= 4_900 && elapsedMs < 8_000, "answered after " + elapsedMs + " ms");
    Kvs.Client client = new Kvs.Client();
    await("the shard serves again").atMost(Duration.ofSeconds(10))
        .pollInterval(Duration.ofMillis(200))
        .until(() -> client.put(proxy, key, "thawed").status() / 100 == 2);
    assertBody(200, "{\"message\":\"Retrieved successfully\",\"doesExist\":true,"
        + "\"value\":\"thawed\"}", client.get(proxy, key), "after resume");
  }
}
