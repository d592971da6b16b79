package ringkv.tests;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static ringkv.tests.support.Http.json;
import static ringkv.tests.support.Http.obj;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Collectors;
import java.util.stream.StreamSupport;
import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import ringkv.tests.support.Http;
import ringkv.tests.support.Http.Reply;
import ringkv.tests.support.LocalCluster;

/*
 * Goal: the foundation of the shard dialect (SPEC §1-3, §5) holds on a real multi-process
 * cluster: all nodes agree on a layout of 2 shards that partitions 6 nodes; keys land on the
 * shard the ring names, replicate to every replica of it and read back exactly from any node;
 * key counts add up and are balanced; the ring endpoints describe what happened; every error is
 * the exact JSON the spec gives; a client reads its own writes on any replica.
 *
 * Method: one cluster of 6 `java -jar kvs-node.jar` processes with SHARD_COUNT=2 for the whole
 * class, driven over HTTP only. Tests run in order: 600 keys are written first and counted
 * before later tests add their own keys (which never start with "key"). A failing test leaves
 * the cluster up for the next; @AutoClose (and the harness's shutdown hook) reap the processes.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ShardClusterTest {
  private static final int NODES = 6;
  private static final int KEYS = 600;
  private static final int VNODES_PER_SHARD = 20;
  private static final String STORE = "/key-value-store/";
  private static final String SHARD = "/key-value-store-shard/";

  @AutoClose
  private LocalCluster cluster;
  /** Shard id -> members, as node 0 reports them (test 1 checks that all nodes agree). */
  private final Map<Integer, List<String>> members = new TreeMap<>();
  /** Every key written by the 600-key test and its current value. */
  private final Map<String, JsonNode> written = new LinkedHashMap<>();
  /** Key -> GET /ring/key/<key> body, from the 600-key test. */
  private final Map<String, JsonNode> placement = new HashMap<>();
  /** The writing client's causal metadata after the 600 writes. */
  private JsonNode writerMetadata = Http.MAPPER.nullNode();

  @BeforeAll
  void startCluster() {
    cluster = LocalCluster.builder(getClass().getSimpleName()).nodes(NODES).shards(2).start();
    for (int id = 1; id <= 2; id++) {
      Reply r = Http.get(cluster.node(0), SHARD + "shard-id-members/" + id);
      assertEquals(200, r.status(), r.toString());
      members.put(id, strings(r.field("shard-id-members")));
    }
  }

  @Test
  @Order(1)
  void everyNodeAgreesOnTheShardLayout() {
    Set<String> all = new TreeSet<>(cluster.addresses());
    for (String node : cluster.addresses()) {
      Reply view = Http.get(node, "/key-value-store-view");
      assertReply(view, 200, "View retrieved successfully");
      assertEquals(all, new TreeSet<>(List.of(view.field("view").asText().split(","))), node);

      Reply ids = Http.get(node, SHARD + "shard-ids");
      assertReply(ids, 200, "Shard IDs retrieved successfully");
      assertEquals(Set.of(1, 2), intSet(ids.field("shard-ids")), node + " " + ids);

      for (int id = 1; id <= 2; id++) {
        Reply m = Http.get(node, SHARD + "shard-id-members/" + id);
        assertReply(m, 200, "Members of shard ID retrieved successfully");
        assertEquals(new TreeSet<>(members.get(id)), new TreeSet<>(strings(
            m.field("shard-id-members"))), node + " disagrees with node 0 on shard " + id);
      }
    }
    Set<String> union = new TreeSet<>();
    for (var e : members.entrySet()) {
      assertTrue(e.getValue().size() >= 2, "shard " + e.getKey() + " has < 2 members " + members);
      for (String m : e.getValue()) {
        assertTrue(union.add(m), m + " is in two shards: " + members);
      }
    }
    assertEquals(all, union, "the shards do not partition the nodes: " + members);
    for (String node : cluster.addresses()) {
      Reply own = Http.get(node, SHARD + "node-shard-id");
      assertReply(own, 200, "Shard ID of the node retrieved successfully");
      assertTrue(own.field("shard-id").isInt(), own.toString());
      assertEquals(shardOf(node), own.field("shard-id").asInt(), node + " " + own);
    }
  }

  @Test
  @Order(2)
  void keysWrittenRoundRobinLandOnTheShardTheRingNames() {
    JsonNode metadata = Http.MAPPER.nullNode();
    for (int i = 0; i < KEYS; i++) {
      String key = "key" + i;
      JsonNode where = Http.get(cluster.node((i + 1) % NODES), "/ring/key/" + key).body();
      assertTrue(where != null && where.path("shard-id").isInt(), "GET /ring/key/" + key);
      placement.put(key, where);
      Reply r = Http.put(cluster.node(i % NODES), STORE + key,
          obj("value", valueFor(i), "causal-metadata", metadata));
      assertReply(r, 201, "Added successfully");
      assertTrue(r.body().has("causal-metadata"), r.toString());
      assertTrue(r.field("shard-id").isInt(), "shard ids are integers here: " + r);
      assertEquals(where.get("shard-id").asInt(), r.field("shard-id").asInt(),
          key + " stored on another shard than GET /ring/key names: " + r + " vs " + where);
      written.put(key, valueFor(i));
      metadata = r.metadata();
    }
    Reply again = Http.put(cluster.node(3), STORE + "key0",
        obj("value", "rewritten", "causal-metadata", metadata));
    assertReply(again, 200, "Updated successfully");
    assertEquals(placement.get("key0").get("shard-id").asInt(), again.field("shard-id").asInt());
    written.put("key0", json("\"rewritten\""));
    writerMetadata = again.metadata();
  }

  @Test
  @Order(3)
  void everyKeyReadsBackExactlyFromEveryNode() throws Exception {
    assertEquals(KEYS, written.size(), "the write test did not complete");
    ExecutorService pool = Executors.newFixedThreadPool(NODES);
    try {
      List<Future<List<String>>> perNode = new ArrayList<>();
      for (String node : cluster.addresses()) {
        perNode.add(pool.submit(() -> readAll(node)));
      }
      List<String> failures = new ArrayList<>();
      for (Future<List<String>> f : perNode) {
        failures.addAll(f.get());
      }
      assertTrue(failures.isEmpty(), failures.size() + " bad reads, first ones:\n"
          + failures.stream().limit(10).collect(Collectors.joining("\n")));
    } finally {
      pool.shutdownNow();
    }
  }

  /** One client per node: starts from the writer's metadata and carries its own along. */
  private List<String> readAll(String node) {
    List<String> failures = new ArrayList<>();
    JsonNode metadata = writerMetadata;
    for (var e : written.entrySet()) {
      Reply r = Http.get(node, STORE + e.getKey(), obj("causal-metadata", metadata));
      if (r.status() != 200 || !"Retrieved successfully".equals(r.field("message").asText())
          || !r.body().has("value") || !sameJson(e.getValue(), r.field("value"))) {
        failures.add("GET " + node + STORE + e.getKey() + " expected value " + e.getValue()
            + " got " + r);
      } else {
        metadata = r.metadata();
      }
    }
    return failures;
  }

  @Test
  @Order(4)
  void keyCountsAddUpAreBalancedAndAgreeAcrossReplicas() {
    assertEquals(KEYS, written.size(), "the write test did not complete");
    await("every node reports the same key count per shard").atMost(Duration.ofSeconds(10))
        .pollInterval(Duration.ofMillis(200)).untilAsserted(() -> {
          int total = 0;
          for (var e : members.entrySet()) {
            int id = e.getKey();
            Map<String, Integer> counts = new TreeMap<>();
            for (String node : cluster.addresses()) {
              Reply r = Http.get(node, SHARD + "shard-id-key-count/" + id);
              assertReply(r, 200, "Key count of shard ID retrieved successfully");
              assertTrue(r.field("shard-id-key-count").isInt(), r.toString());
              counts.put(node, r.field("shard-id-key-count").asInt());
            }
            assertEquals(1, new HashSet<>(counts.values()).size(),
                "nodes disagree on the key count of shard " + id + " (members "
                    + e.getValue() + "): " + counts);
            int count = counts.get(e.getValue().get(0));
            assertTrue(count >= 270 && count <= 330,
                "shard " + id + " holds " + count + " of 600 keys, not within 10% of 300");
            total += count;
          }
          assertEquals(KEYS, total, "key counts do not add up");
        });
  }

  @Test
  @Order(5)
  void ringDescribesTheLayoutAndWhereKeysLive() {
    for (String node : cluster.addresses()) {
      Reply r = Http.get(node, "/ring");
      assertEquals(200, r.status(), r.toString());
      JsonNode ring = r.body();
      assertTrue(ring.path("epoch").isIntegralNumber(), "epoch: " + r);
      assertFalse(ring.path("hash-function").asText().isEmpty(), "hash-function: " + r);
      assertEquals(VNODES_PER_SHARD, ring.path("vnodes-per-shard").asInt(), r.toString());
      double owned = 0;
      Map<Integer, List<String>> ringMembers = new TreeMap<>();
      for (JsonNode shard : ring.path("shards")) {
        int id = shard.path("shard-id").asInt();
        ringMembers.put(id, strings(shard.path("members")));
        assertTrue(shard.path("live-members").isArray(), "live-members: " + shard);
        assertTrue(shard.path("key-count").isIntegralNumber(), "key-count: " + shard);
        double fraction = shard.path("owned-fraction").asDouble(-1);
        assertTrue(fraction > 0.4 && fraction < 0.6, "owned-fraction of 2 shards: " + shard);
        owned += fraction;
      }
      assertEquals(1.0, owned, 1e-6, "owned fractions do not sum to 1: " + r);
      assertEquals(sorted(members), sorted(ringMembers), node + " /ring members: " + r);
      List<JsonNode> tokens = StreamSupport.stream(ring.path("tokens").spliterator(), false)
          .collect(Collectors.toList());
      assertEquals(2 * VNODES_PER_SHARD, tokens.size(), "token table size: " + r);
      for (int i = 1; i < tokens.size(); i++) {
        assertTrue(tokens.get(i - 1).path("token").asLong()
            < tokens.get(i).path("token").asLong(), "token table not sorted at " + i + ": " + r);
      }
      for (JsonNode t : tokens) {
        assertTrue(t.path("token").isIntegralNumber() && members.containsKey(
            t.path("shard-id").asInt()), "token entry " + t);
      }
    }
    assertEquals(KEYS, placement.size(), "the write test did not complete");
    JsonNode table = Http.get(cluster.node(0), "/ring").body().path("tokens");
    for (var e : placement.entrySet()) {
      JsonNode where = e.getValue();
      assertEquals(e.getKey(), where.path("key").asText(), where.toString());
      assertTrue(where.path("token").isIntegralNumber(), where.toString());
      int id = where.path("shard-id").asInt();
      assertEquals(ownerInTable(table, where.path("token").asLong()), id,
          "the token table gives " + e.getKey() + " to another shard than /ring/key: " + where);
      assertEquals(new TreeSet<>(members.get(id)), new TreeSet<>(strings(where.path("members"))),
          "members of /ring/key/" + e.getKey() + ": " + where);
    }
    for (int i = 0; i < 30; i++) {
      String key = "key" + i;
      for (String node : cluster.addresses()) {
        JsonNode where = Http.get(node, "/ring/key/" + key).body();
        assertEquals(placement.get(key).path("token"), where.path("token"), node + " " + key);
        assertEquals(placement.get(key).path("shard-id"), where.path("shard-id"), node);
      }
    }
  }

  @Test
  @Order(6)
  void valuesOfEveryJsonTypeRoundTripExactly() {
    List<String> literals = List.of("\"text\"", "\"\"", "\"1.50\"", "\"42\"", "\"true\"",
        "\"null\"", "\"h\\u00e9llo \\u2713 \\u65e5\\u672c \\\"quoted\\\" \\\\ \\n\"",
        "42", "-7", "0", "-0", "-0.0", "1e10", "9007199254740993", "1.5", "1.50", "-0.001",
        "1e3", "2.5E-8", "{ \"spaced\" : [ 1 , 2 ] }",
        "true", "false", "null", "[]", "{}", "[1,\"two\",3.0,null,false,[[]],{}]",
        "{\"a\":{\"b\":[1,2,{\"c\":null}]},\"d\":\"e\",\"f\":1.25}");
    JsonNode metadata = Http.MAPPER.nullNode();
    for (int i = 0; i < literals.size(); i++) {
      String key = "type-" + i;
      Reply r = Http.send("PUT", cluster.node(i % NODES), STORE + key,
          "{\"value\":" + literals.get(i) + ",\"causal-metadata\":" + metadata + "}");
      assertReply(r, 201, "Added successfully");
      metadata = r.metadata();
    }
    for (int i = 0; i < literals.size(); i++) {
      JsonNode expected = json(literals.get(i));
      for (String node : cluster.addresses()) {
        Reply r = Http.get(node, STORE + "type-" + i, obj("causal-metadata", metadata));
        assertReply(r, 200, "Retrieved successfully");
        assertTrue(r.body().has("value"), "no value field: " + r);
        assertTrue(sameJson(expected, r.field("value")),
            "value " + literals.get(i) + " came back as " + r.field("value") + " from " + node);
        // Byte for byte, as given (forwarded, replicated and answered by any node).
        assertTrue(r.raw().contains("\"value\":" + literals.get(i) + "}")
            || r.raw().contains("\"value\":" + literals.get(i) + ","),
            "value " + literals.get(i) + " came back as text " + r.raw() + " from " + node);
        metadata = r.metadata();
      }
    }
    String big = "x".repeat(200_000);
    Reply r = Http.put(cluster.node(1), STORE + "big", obj("value", big));
    assertEquals(201, r.status(), r.toString());
    for (String node : cluster.addresses()) {
      Reply g = Http.get(node, STORE + "big", obj("causal-metadata", r.metadata()));
      assertEquals(big, g.field("value").asText(), "200 kB value from " + node);
    }
  }

  @Test
  @Order(7)
  void missingKeysAndBadPutsGetTheExactErrorBodies() {
    for (String node : cluster.addresses()) {
      Reply get = Http.get(node, STORE + "never-written");
      assertExactError(get, 404,
          "{\"doesExist\":false,\"error\":\"Key does not exist\",\"message\":\"Error in GET\"}");
      Reply delete = Http.delete(node, STORE + "never-written", obj("causal-metadata", ""));
      assertExactError(delete, 404,
          "{\"doesExist\":false,\"error\":\"Key does not exist\",\"message\":\"Error in DELETE\"}");
    }
    String tooLong = "k".repeat(51);
    for (String node : cluster.addresses()) {
      assertExactError(Http.put(node, STORE + tooLong, obj("value", 1)), 400,
          "{\"error\":\"Key is too long\",\"message\":\"Error in PUT\"}");
    }
    String longest = "k".repeat(50);
    int longestShard = ringShard(longest);
    Reply ok = Http.put(otherShardNode(longestShard), STORE + longest, obj("value", "fifty"));
    assertEquals(201, ok.status(), "a 50-character key is valid: " + ok);
    assertEquals(longestShard, ok.field("shard-id").asInt(), ok.toString());
    Reply back = Http.get(cluster.node(0), STORE + longest, obj("causal-metadata", ok.metadata()));
    assertEquals("fifty", back.field("value").asText(), back.toString());

    String missingValue = "{\"error\":\"Value is missing\",\"message\":\"Error in PUT\"}";
    int id = ringShard("no-value");
    assertExactError(Http.put(otherShardNode(id), STORE + "no-value", obj("causal-metadata", "")),
        400, missingValue);
    assertExactError(Http.put(members.get(id).get(0), STORE + "no-value", obj()), 400,
        missingValue);
    assertExactError(Http.send("PUT", otherShardNode(id), STORE + "no-value", null), 400,
        missingValue);
    assertExactError(Http.get(members.get(id).get(1), STORE + "no-value"), 404,
        "{\"doesExist\":false,\"error\":\"Key does not exist\",\"message\":\"Error in GET\"}");
  }

  @Test
  @Order(8)
  void protocolErrorsAreJson() {
    String node = cluster.node(2);
    assertJsonError(Http.get(node, "/no-such-route"), 404);
    assertJsonError(Http.get(node, "/key-value-store-shard/no-such-thing"), 404);
    assertJsonError(Http.send("POST", node, STORE + "k", "{\"value\":1}"), 405);
    assertJsonError(Http.send("PATCH", node, "/key-value-store-view", "{}"), 405);
    assertJsonError(Http.send("DELETE", node, SHARD + "shard-ids", null), 405);
    assertJsonError(Http.send("PUT", node, STORE + "k", "{\"value\": "), 400);
    assertJsonError(Http.send("PUT", node, STORE + "k", "not json at all"), 400);
    assertJsonError(Http.send("GET", node, STORE + "k", "{\"causal-metadata\":"), 400);
    String overMebibyte = "{\"value\":\"" + "y".repeat(1024 * 1024) + "\"}";
    assertJsonError(Http.send("PUT", node, STORE + "huge", overMebibyte), 413);
    assertJsonError(Http.get(node, SHARD + "shard-id-members/3"), 404);
    assertJsonError(Http.get(node, SHARD + "shard-id-key-count/99"), 404);
    assertJsonError(Http.get(node, SHARD + "shard-id-members/abc"), 400);
    assertJsonError(Http.get(node, SHARD + "shard-id-key-count/1x"), 400);
    Reply huge = Http.get(cluster.node(3), STORE + "huge");
    assertEquals(404, huge.status(), "a rejected 413 body must not be stored: " + huge);
  }

  @Test
  @Order(9)
  void deleteHidesTheKeyEverywhereAndAPutRevivesIt() {
    String key = "deleted-key";
    int id = ringShard(key);
    Reply put = Http.put(members.get(id).get(0), STORE + key, obj("value", "before"));
    assertEquals(201, put.status(), put.toString());
    Reply del = Http.delete(otherShardNode(id), STORE + key,
        obj("causal-metadata", put.metadata()));
    assertReply(del, 200, "Deleted successfully");
    assertTrue(del.field("shard-id").isInt(), "shard ids are integers here: " + del);
    assertEquals(id, del.field("shard-id").asInt(), del.toString());
    assertTrue(del.body().has("causal-metadata"), del.toString());
    JsonNode metadata = del.metadata();
    for (String node : cluster.addresses()) {
      assertExactError(Http.get(node, STORE + key, obj("causal-metadata", metadata)), 404,
          "{\"doesExist\":false,\"error\":\"Key does not exist\",\"message\":\"Error in GET\"}");
    }
    assertExactError(Http.delete(members.get(id).get(1), STORE + key,
        obj("causal-metadata", metadata)), 404,
        "{\"doesExist\":false,\"error\":\"Key does not exist\",\"message\":\"Error in DELETE\"}");
    Reply revived = Http.put(cluster.node(0), STORE + key,
        obj("value", "after", "causal-metadata", metadata));
    assertReply(revived, 201, "Added successfully");
    for (String node : cluster.addresses()) {
      Reply r = Http.get(node, STORE + key, obj("causal-metadata", revived.metadata()));
      assertReply(r, 200, "Retrieved successfully");
      assertEquals("after", r.field("value").asText(), node + " " + r);
    }
  }

  @Test
  @Order(10)
  void aClientReadsItsOwnWritesOnEveryReplica() {
    for (int id : members.keySet()) {
      List<String> replicas = members.get(id);
      String key = keyOwnedBy(id, "ryw-" + id + "-");
      JsonNode metadata = Http.MAPPER.nullNode();
      for (int round = 0; round < 20; round++) {
        String writer = replicas.get(round % replicas.size());
        String reader = replicas.get((round + 1) % replicas.size());
        String value = "v" + round;
        Reply w = Http.put(writer, STORE + key, obj("value", value, "causal-metadata", metadata));
        assertEquals(round == 0 ? 201 : 200, w.status(), w.toString());
        Reply r = Http.get(reader, STORE + key, obj("causal-metadata", w.metadata()));
        assertEquals(200, r.status(), "write via " + writer + ", read via " + reader + ": " + r);
        assertReply(r, 200, "Retrieved successfully");
        assertEquals(value, r.field("value").asText(),
            "write via " + writer + ", read via " + reader + " returned an older value");
        metadata = r.metadata();
      }
      Reply w = Http.put(otherShardNode(id), STORE + key,
          obj("value", "via-other-shard", "causal-metadata", metadata));
      assertEquals(200, w.status(), w.toString());
      for (String reader : replicas) {
        Reply r = Http.get(reader, STORE + key, obj("causal-metadata", w.metadata()));
        assertEquals("via-other-shard", r.field("value").asText(), reader + " " + r);
      }
    }
  }

  // ---------------------------------------------------------------------------------------------

  /** The value written under key{i}: strings, integers, fractions, objects and arrays. */
  private static JsonNode valueFor(int i) {
    switch (i % 5) {
      case 0:
        return Http.MAPPER.valueToTree("value-" + i);
      case 1:
        return Http.MAPPER.valueToTree(i);
      case 2:
        return Http.MAPPER.valueToTree(i + 0.25);
      case 3:
        return obj("i", i, "tags", List.of("x", i));
      default:
        return Http.MAPPER.valueToTree(List.of(i, "s", true));
    }
  }

  /**
   * JSON equality where numbers compare by value (1.50 == 1.5) but an integer never equals a
   * fraction: the spec asks that a number come back as that number, not as the same text.
   */
  private static boolean sameJson(JsonNode expected, JsonNode actual) {
    Comparator<JsonNode> numbersByValue = (a, b) -> {
      if (a.equals(b)) {
        return 0;
      }
      boolean sameNumber = a.isNumber() && b.isNumber()
          && a.isIntegralNumber() == b.isIntegralNumber()
          && a.decimalValue().compareTo(b.decimalValue()) == 0;
      return sameNumber ? 0 : 1;
    };
    return expected.equals(numbersByValue, actual);
  }

  /** Status, JSON content type, a JSON object body and the exact message of a success reply. */
  private static void assertReply(Reply r, int status, String message) {
    assertEquals(status, r.status(), r.toString());
    assertTrue(r.header("content-type").orElse("").startsWith("application/json"),
        "content-type of " + r);
    assertTrue(r.body() != null && r.body().isObject(), "not a JSON object: " + r);
    assertEquals(message, r.field("message").asText(), r.toString());
  }

  private static void assertJsonError(Reply r, int status) {
    assertEquals(status, r.status(), r.toString());
    assertTrue(r.header("content-type").orElse("").startsWith("application/json"),
        "content-type of " + r);
    assertTrue(r.body() != null && r.body().isObject(), "not a JSON object: " + r);
    assertTrue(r.field("message").isTextual() && !r.field("message").asText().isEmpty(),
        "no message: " + r);
    assertTrue(r.field("error").isTextual() && !r.field("error").asText().isEmpty(),
        "no error: " + r);
  }

  private static void assertExactError(Reply r, int status, String expectedBody) {
    assertJsonError(r, status);
    JsonNode body = r.body();
    if (json(expectedBody).has("doesExist")) {
      // A 404 also carries the client's causal metadata (it may have learned of a delete):
      // the spec's fields exactly, plus that object.
      assertTrue(body.path("causal-metadata").isObject(), r.toString());
      body = ((com.fasterxml.jackson.databind.node.ObjectNode) body.deepCopy())
          .without("causal-metadata");
    }
    assertEquals(json(expectedBody), body, r.toString());
  }

  /** Owner of a token in a sorted token table: a token owns the arc (previous token, token]. */
  private static int ownerInTable(JsonNode table, long token) {
    for (JsonNode entry : table) {
      if (token <= entry.path("token").asLong()) {
        return entry.path("shard-id").asInt();
      }
    }
    return table.get(0).path("shard-id").asInt(); // wraps around past the last token
  }

  private int ringShard(String key) {
    Reply r = Http.get(cluster.node(0), "/ring/key/" + key);
    assertEquals(200, r.status(), r.toString());
    return r.field("shard-id").asInt();
  }

  private String keyOwnedBy(int id, String prefix) {
    for (int i = 0; i < 1000; i++) {
      if (ringShard(prefix + i) == id) {
        return prefix + i;
      }
    }
    return fail("no key with prefix " + prefix + " on shard " + id);
  }

  private int shardOf(String node) {
    return members.entrySet().stream().filter(e -> e.getValue().contains(node))
        .map(Map.Entry::getKey).findFirst()
        .orElseThrow(() -> new AssertionError(node + " is in no shard: " + members));
  }

  /** A node not in shard id, so that a request to it is forwarded. */
  private String otherShardNode(int id) {
    return members.entrySet().stream().filter(e -> e.getKey() != id)
        .map(e -> e.getValue().get(0)).findFirst().orElseThrow();
  }

  private static List<String> strings(JsonNode array) {
    assertTrue(array.isArray(), "not an array: " + array);
    List<String> out = new ArrayList<>();
    array.forEach(n -> out.add(n.asText()));
    return out;
  }

  private static Set<Integer> intSet(JsonNode array) {
    assertTrue(array.isArray(), "not an array: " + array);
    Set<Integer> out = new TreeSet<>();
    array.forEach(n -> {
      assertTrue(n.isInt(), "shard id " + n + " is not an integer");
      out.add(n.asInt());
    });
    return out;
  }

  private static Map<Integer, Set<String>> sorted(Map<Integer, List<String>> layout) {
    Map<Integer, Set<String>> out = new TreeMap<>();
    layout.forEach((k, v) -> out.put(k, new TreeSet<>(v)));
    return out;
  }
}
