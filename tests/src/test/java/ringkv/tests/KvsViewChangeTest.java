package ringkv.tests;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static ringkv.tests.Kvs.assertAddress;
import static ringkv.tests.Kvs.assertBody;
import static ringkv.tests.support.Http.obj;

import com.fasterxml.jackson.databind.JsonNode;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import ringkv.tests.support.Http;
import ringkv.tests.support.Http.Reply;
import ringkv.tests.support.LocalCluster;

/*
 * Goal: view changes of the view-change dialect (SPEC §1, §4) work for any change of membership
 * and replication factor, with exact bodies: nodes not in their VIEW start idle and contact
 * nobody until a change names them; bad views are refused with 400; 1 -> 4 nodes, 4 -> 2,
 * 2 -> 4, {1,2} -> {3,4} coordinated by a node that leaves, a change coordinated by a node
 * outside the current view, and changes of the replication factor (R = 2 -> 1 -> 2 -> 4 -> 2
 * over four nodes) keep all 100 keys readable from every node of the new view; key counts in the
 * response equal what the replicas report; nodes left out hold no keys and forward to the owners.
 * Method: one real node (REPL_FACTOR=1) and three idle ones (started with a VIEW that does not
 * list them); one of the idle nodes is restarted with a VIEW naming only a sentinel HTTP server
 * in this JVM that counts every request it gets. Tests run in order over the same cluster and the
 * same 100 keys (one client carries its causal context through every step); each view change is
 * followed by reads of every key from every node of the new view, by a check of every node's key
 * count against the response, and by fresh writes that the new replicas converge on in 5 s.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class KvsViewChangeTest {
  private static final int KEYS = 100;
  private static final Duration QUIET = Duration.ofSeconds(2);

  @AutoClose
  private LocalCluster cluster;
  private final Kvs.Client client = new Kvs.Client();
  /** Every key and its current value. */
  private final Map<String, Integer> written = new LinkedHashMap<>();
  private int step;

  @BeforeAll
  void startCluster() {
    cluster = LocalCluster.builder(getClass().getSimpleName())
        .nodes(1).replFactor(1).idleNodes(3).start();
  }

  @Test
  @Order(1)
  void idleNodesContactNobodyUntilNamed() throws IOException {
    List<String> requests = Collections.synchronizedList(new ArrayList<>());
    HttpServer sentinel = HttpServer.create(new InetSocketAddress(LocalCluster.HOST, 0), 16);
    sentinel.createContext("/", exchange -> {
      requests.add(exchange.getRequestMethod() + " " + exchange.getRequestURI());
      exchange.sendResponseHeaders(503, -1);
      exchange.close();
    });
    sentinel.start();
    try {
      String sentinelAddress = LocalCluster.HOST + ":" + sentinel.getAddress().getPort();
      cluster.stop(3);
      cluster.start(3, Map.of("VIEW", sentinelAddress));
      await("idle nodes stay silent and outside the cluster").during(QUIET)
          .atMost(QUIET.plusSeconds(3)).pollInterval(Duration.ofMillis(200))
          .untilAsserted(() -> {
            assertEquals(List.of(), List.copyOf(requests), "requests an idle node sent");
            assertTrue(clusterLists(List.of(cluster.node(0))), "an idle node joined");
          });
    } finally {
      sentinel.stop(0);
    }
    assertEquals(List.of(), requests, "an idle node contacted its VIEW");
    for (int i = 1; i <= 3; i++) {
      String idle = cluster.node(i);
      assertBody(200, "{\"message\":\"Shard membership retrieved successfully\",\"shards\":[]}",
          Http.get(idle, "/kvs/shards"), idle);
      assertBody(200, "{\"message\":\"Key count retrieved successfully\",\"key-count\":0}",
          Kvs.keyCount(idle), idle);
      assertBody(503, "{\"message\":\"Error in PUT\",\"error\":\"Unable to satisfy request\"}",
          new Kvs.Client().put(idle, "k", 1), idle + " knows no owner");
    }
  }

  /** Whether node 0's cluster has exactly {@code nodes} in its only shard and its view. */
  private boolean clusterLists(List<String> nodes) {
    Reply shard = Http.get(cluster.node(0), "/kvs/shards/1");
    Reply view = Http.get(cluster.node(0), "/key-value-store-view");
    return shard.status() == 200 && Kvs.strings(shard.field("replicas")).equals(nodes)
        && view.field("view").asText().equals(String.join(",", nodes));
  }

  @Test
  @Order(2)
  void writesTheKeys() {
    for (int i = 0; i < KEYS; i++) {
      String key = "key" + i;
      assertBody(201, "{\"message\":\"Added successfully\",\"replaced\":false}",
          client.put(cluster.node(0), key, i), key);
      written.put(key, i);
    }
    assertBody(200, "{\"message\":\"Key count retrieved successfully\",\"key-count\":" + KEYS
        + ",\"shard-id\":\"1\"}", Kvs.keyCount(cluster.node(0)), "one node holds everything");
  }

  @Test
  @Order(3)
  void refusesBadViews() {
    String node = cluster.node(0);
    List<String> three = cluster.addresses().subList(0, 3);
    List<Reply> refused = List.of(
        Kvs.viewChange(node, three, 2),
        Kvs.viewChange(node, three, 0),
        Kvs.viewChange(node, List.of(node, "127.0.0.1:notaport"), 1),
        Http.put(node, "/kvs/view-change", obj("repl-factor", 1)));
    for (Reply r : refused) {
      assertEquals(400, r.status(), r.toString());
      assertEquals("Error in PUT", r.field("message").asText(), r.toString());
      assertTrue(r.field("error").isTextual(), r.toString());
    }
    assertTrue(refused.get(0).field("error").asText().contains("multiple"), refused.toString());
    assertTrue(clusterLists(List.of(node)), "nothing changed");
  }

  /**
   * The view changes, in order, each with its coordinator, new members and replication factor:
   * 1 -> 4 nodes, 4 -> 2, 2 -> 4, three changes that their coordinator leaves (to {2,3}, then
   * every node replaced twice), then R = 2 -> 1 -> 2 -> 4 -> 2 over the four nodes.
   */
  static Stream<Arguments> viewChanges() {
    List<Integer> all = List.of(0, 1, 2, 3);
    return Stream.of(
        Arguments.of("one node to four", 0, all, 2),
        Arguments.of("four nodes to two", 1, List.of(0, 1), 2),
        Arguments.of("two nodes to four", 0, all, 2),
        Arguments.of("four nodes to two, coordinated by a leaving node", 0, List.of(2, 3), 2),
        Arguments.of("replace every node, coordinated by a leaving node", 3, List.of(0, 1), 2),
        Arguments.of("replace every node again, coordinated by a leaving node", 0,
            List.of(2, 3), 2),
        Arguments.of("R 2 -> 1, coordinated by a node outside the current view", 0, all, 1),
        Arguments.of("R 1 -> 2", 1, all, 2),
        Arguments.of("R 2 -> 4", 3, all, 4),
        Arguments.of("R 4 -> 2", 0, all, 2));
  }

  /**
   * Changes the view to the nodes {@code members} with {@code replFactor} at node
   * {@code coordinator} and checks everything SPEC §4 promises afterwards.
   */
  @ParameterizedTest(name = "{0}")
  @Order(4)
  @MethodSource("viewChanges")
  void changeView(String change, int coordinator, List<Integer> members, int replFactor) {
    step++;
    String where = "step " + step + ", " + change + " (" + members + " R=" + replFactor
        + " at " + coordinator + ")";
    List<String> view = members.stream().map(cluster::node).toList();
    Reply r = Kvs.viewChange(cluster.node(coordinator), view, replFactor);
    assertEquals(200, r.status(), where + ": " + r);
    Map<String, List<String>> shards = checkChangeBody(r, view, replFactor, where);
    Set<String> leftOut = new TreeSet<>(cluster.addresses());
    leftOut.removeAll(view);
    checkCounts(r, leftOut, where);
    for (String node : view) {
      for (Map.Entry<String, List<String>> s : shards.entrySet()) {
        Reply info = Http.get(node, "/kvs/shards/" + s.getKey());
        assertEquals(200, info.status(), where + " " + node + ": " + info);
        assertEquals(new TreeSet<>(s.getValue()),
            new TreeSet<>(Kvs.strings(info.field("replicas"))), where + " " + node);
      }
    }
    readEverything(view, where);
    for (String gone : leftOut) {
      Reply read = client.get(gone, "key0");
      assertEquals(200, read.status(), where + " " + gone + ": " + read);
      assertAddress(read, gone, Kvs.owners(view.get(0), "key0"), where + " " + gone);
    }
    rewriteSome(view, where);
  }

  /** Checks the exact shape of the response; returns shard id -> replicas. */
  private Map<String, List<String>> checkChangeBody(Reply r, List<String> view, int replFactor,
      String where) {
    assertEquals(Set.of("message", "shards"), fieldNames(r.body()), where + ": " + r);
    assertEquals("View change successful", r.field("message").asText(), where);
    JsonNode shards = r.field("shards");
    assertEquals(view.size() / replFactor, shards.size(), where + ": " + r);
    Map<String, List<String>> out = new LinkedHashMap<>();
    Set<String> placed = new HashSet<>();
    long total = 0;
    for (JsonNode s : shards) {
      assertEquals(Set.of("shard-id", "key-count", "replicas"), fieldNames(s), where + " " + s);
      assertTrue(s.get("shard-id").isTextual() && s.get("key-count").isIntegralNumber(),
          where + " " + s);
      List<String> replicas = Kvs.strings(s.get("replicas"));
      assertEquals(replFactor, replicas.size(), where + " " + s);
      replicas.forEach(n -> assertTrue(placed.add(n), where + ": " + n + " twice in " + r));
      out.put(s.get("shard-id").asText(), replicas);
      total += s.get("key-count").asLong();
    }
    assertEquals(new TreeSet<>(view), new TreeSet<>(placed), where + ": " + r);
    List<String> ids = IntStream.rangeClosed(1, shards.size()).mapToObj(Integer::toString)
        .toList();
    assertEquals(ids, List.copyOf(out.keySet()), where);
    assertEquals(written.size(), total, where + ": every key in exactly one shard: " + r);
    for (String node : view) {
      assertBody(200, obj("message", "Shard membership retrieved successfully", "shards", ids)
          .toString(), Http.get(node, "/kvs/shards"), where + " " + node);
    }
    return out;
  }

  /** Each replica reports its shard's key count from the response; nodes left out hold none. */
  private void checkCounts(Reply r, Set<String> leftOut, String where) {
    for (JsonNode s : r.field("shards")) {
      for (String replica : Kvs.strings(s.get("replicas"))) {
        assertBody(200, obj("message", "Key count retrieved successfully",
            "key-count", s.get("key-count").asLong(), "shard-id", s.get("shard-id").asText())
            .toString(), Kvs.keyCount(replica), where + " " + replica);
      }
    }
    for (String gone : leftOut) {
      assertBody(200, "{\"message\":\"Key count retrieved successfully\",\"key-count\":0}",
          Kvs.keyCount(gone), where + " " + gone + " was left out");
    }
  }

  private void readEverything(List<String> view, String where) {
    Map<String, List<String>> owners = new LinkedHashMap<>();
    for (String key : written.keySet()) {
      owners.put(key, Kvs.owners(view.get(0), key));
    }
    for (String node : view) {
      for (Map.Entry<String, Integer> e : written.entrySet()) {
        Reply read = client.get(node, e.getKey());
        assertBody(200, "{\"message\":\"Retrieved successfully\",\"doesExist\":true,\"value\":"
            + e.getValue() + "}", read, where + " " + node + " " + e.getKey());
        assertAddress(read, node, owners.get(e.getKey()), where + " " + node);
      }
    }
  }

  /** Updates ten keys through the new view; the replicas of each shard converge within 5 s. */
  private void rewriteSome(List<String> view, String where) {
    for (int i = 0; i < 10; i++) {
      String key = "key" + (step * 10 + i) % KEYS;
      int value = step * 1_000 + i;
      assertBody(200, "{\"message\":\"Updated successfully\",\"replaced\":true}",
          client.put(view.get(i % view.size()), key, value), where + " " + key);
      written.put(key, value);
    }
    await(where + ": replicas converge").atMost(Duration.ofSeconds(5))
        .pollInterval(Duration.ofMillis(50)).untilAsserted(() -> {
          for (String node : view) {
            for (int i = 0; i < 10; i++) {
              String key = "key" + (step * 10 + i) % KEYS;
              Reply read = Http.get(node, Kvs.path(key));
              assertEquals(written.get(key), read.field("value").asInt(-1), node + " " + read);
            }
          }
        });
  }

  private static Set<String> fieldNames(JsonNode o) {
    Set<String> names = new TreeSet<>();
    o.fieldNames().forEachRemaining(names::add);
    return names;
  }
}
