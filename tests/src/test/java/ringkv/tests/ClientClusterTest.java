package ringkv.tests;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static ringkv.tests.support.Http.obj;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import ringkv.client.DeleteResult;
import ringkv.client.GetResult;
import ringkv.client.PutResult;
import ringkv.client.RingKvClient;
import ringkv.client.Session;
import ringkv.tests.support.Http;
import ringkv.tests.support.Http.Reply;
import ringkv.tests.support.LocalCluster;

/**
 * Goal: the Java client library against a real cluster: it routes every key as the servers
 * place it (1,000 keys against {@code GET /ring/key}), sends each request to a member of the
 * owning shard so that no node forwards it, does put/get/delete with exact values and
 * not-found as a result, reads its own writes across replicas and across client instances,
 * and carries its callers through a reshard 2→3 under traffic: every operation succeeds (the
 * 500 "View change in progress" answers are retried inside the client) and afterwards it
 * routes with the new ring.
 *
 * <p>Method: one cluster of 6 real node processes (SHARD_COUNT=2) driven through
 * {@link RingKvClient}, with the nodes' own answers ({@code /ring/key}, the version a write
 * got, which names the node that applied it) as the reference. Ordered steps; the reshard is
 * last. Waiting is Awaitility or futures with timeouts. The client and the processes are
 * closed after the class (@AutoClose), and by the harness's shutdown hook.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ClientClusterTest {
  private static final int ROUTED_KEYS = 1_000;

  @AutoClose
  private LocalCluster cluster;
  @AutoClose
  private RingKvClient client;

  @BeforeAll
  void start() {
    cluster = LocalCluster.builder("ClientClusterTest").nodes(6).shards(2)
        .env("VIEW_CHANGE_TIMEOUT_MS", "8000").start();
    client = RingKvClient.connect(cluster.node(0));
  }

  private static JsonNode where(String node, String key) {
    Reply r = Http.get(node, "/ring/key/" + key);
    assertEquals(200, r.status(), r.toString());
    return r.body();
  }

  private static List<String> texts(JsonNode array) {
    List<String> out = new ArrayList<>();
    array.forEach(n -> out.add(n.asText()));
    return out;
  }

  @Test
  @Order(1)
  void routesAThousandKeysExactlyAsTheServersPlaceThem() {
    assertEquals(2, client.ring().ring().shardCount());
    for (int i = 0; i < ROUTED_KEYS; i++) {
      String key = "route-" + i;
      JsonNode server = where(cluster.node(i % cluster.size()), key);
      assertEquals(server.path("token").asLong(), ringkv.ring.KeyHash.tokenOf(key), key);
      int shard = server.path("shard-id").asInt();
      assertEquals(shard, client.ring().shardOf(key), key);
      assertEquals(texts(server.path("members")), client.ring().membersOf(shard), key);
      assertTrue(texts(server.path("members")).contains(client.nodeFor(key)), key);
    }
  }

  @Test
  @Order(2)
  void putGetDeleteWithExactValuesAndNotFoundAsAResult() {
    Session session = new Session();
    String[] values = {"\"text\"", "1.50", "{\"a\":[1,true,null]}", "[]", "\"ü\\n\""};
    for (int i = 0; i < values.length; i++) {
      String key = "crud-" + i;
      PutResult created = client.putJsonBlocking(session, key, values[i]);
      assertTrue(created.created(), created.toString());
      GetResult got = client.getBlocking(session, key);
      assertEquals(values[i], got.valueJson().orElseThrow(), key);
      PutResult updated = client.putJsonBlocking(session, key, "2");
      assertFalse(updated.created());
      assertEquals("2", client.getBlocking(session, key).valueJson().orElseThrow());
      DeleteResult deleted = client.deleteBlocking(session, key);
      assertTrue(deleted.found());
      assertEquals(created.shardId(), deleted.shardId());
      assertFalse(client.getBlocking(session, key).found(), key + " after delete");
      assertFalse(client.deleteBlocking(session, key).found(), key + " deleted twice");
    }
    assertEquals(400, Http.put(cluster.node(0), "/key-value-store/" + "k".repeat(51),
        obj("value", 1)).status(), "the reference for the client's 400");
  }

  @Test
  @Order(3)
  void readsItsOwnWritesAcrossReplicasAndClientInstances() {
    Session session = new Session();
    for (int i = 0; i < 200; i++) {
      String key = "ryw-" + i;
      PutResult w = client.putJsonBlocking(session, key, Integer.toString(i));
      GetResult r = client.getBlocking(session, key);
      assertEquals(Integer.toString(i), r.valueJson().orElseThrow(), key + " " + r);
      // The client sends a key to one replica (rendezvous order), so the read reached the
      // replica that took the write; the other replica, asked with the session's metadata,
      // must serve the write too (waiting for it if replication has not brought it yet).
      assertEquals(w.node(), r.node(), key + ": the key's replica");
      String otherReplica = texts(where(cluster.node(0), key).path("members")).stream()
          .filter(m -> !m.equals(w.node())).findFirst().orElseThrow();
      Reply viaOther = Http.get(otherReplica, "/key-value-store/" + key,
          obj("causal-metadata", Http.json(session.metadata().toJson())));
      assertEquals(200, viaOther.status(), key + " at " + otherReplica + ": " + viaOther);
      assertEquals(i, viaOther.body().path("value").asInt(), key + " at " + otherReplica);
    }
    // The session carried every write it made while they were new; once every replica holds
    // them it keeps one entry (the client asks for RingKV-Context-Entries: 1), not sixteen.
    await("the session drops what every replica holds")
        .atMost(Duration.ofSeconds(20)).untilAsserted(() -> {
          client.getBlocking(session, "ryw-0");
          assertEquals(1, session.metadata().size(), session.toString());
        });
    // Another client instance (another process, say) continuing the same session.
    try (RingKvClient other = RingKvClient.connect(cluster.node(5))) {
      Session continued = new Session(session.metadata());
      for (int i = 0; i < 200; i += 7) {
        assertEquals(Integer.toString(i),
            other.getBlocking(continued, "ryw-" + i).valueJson().orElseThrow());
      }
    }
  }

  @Test
  @Order(4)
  void sendsEveryRequestToAMemberOfTheOwningShardSoNothingIsForwarded() {
    Session session = new Session();
    for (int i = 0; i < 300; i++) {
      String key = "direct-" + i;
      JsonNode server = where(cluster.node(0), key);
      List<String> members = texts(server.path("members"));
      PutResult w = client.putJsonBlocking(session, key, "\"v\"");
      assertTrue(members.contains(w.node()), key + " sent to " + w.node() + ", not in "
          + members);
      assertEquals(server.path("shard-id").asInt(), w.shardId(), key);
      // The version of a write names the node that applied it: the one the client chose.
      assertEquals(w.node(), w.version().node(), key + " was forwarded");
      GetResult r = client.getBlocking(session, key);
      assertTrue(members.contains(r.node()), key + " read from " + r.node());
    }
    assertEquals(0, client.stats().misrouted());
  }

  @Test
  @Order(5)
  void retriesAcrossAReshardUnderTrafficAndNoCallerSeesA500() throws Exception {
    long epoch = client.ring().epoch();
    int workers = 4;
    AtomicBoolean stop = new AtomicBoolean();
    AtomicInteger done = new AtomicInteger();
    ConcurrentLinkedQueue<String> failures = new ConcurrentLinkedQueue<>();
    Map<String, String> acked = new ConcurrentHashMap<>();
    List<Session> sessions = new ArrayList<>();
    ExecutorService pool = Executors.newFixedThreadPool(workers);
    List<Future<?>> running = new ArrayList<>();
    for (int w = 0; w < workers; w++) {
      Session session = new Session();
      sessions.add(session);
      int worker = w;
      running.add(pool.submit(() -> writeAndRead(worker, session, stop, done, failures, acked)));
    }
    try {
      await().atMost(Duration.ofSeconds(20)).until(() -> done.get() > 300);
      long retriesBefore = client.stats().viewChangeRetries();
      Reply r = Http.put(cluster.node(1), "/key-value-store-shard/reshard", obj("shard-count", 3));
      assertEquals(200, r.status(), r.toString());
      int doneAtReshard = done.get();
      await().atMost(Duration.ofSeconds(30)).until(() -> done.get() > doneAtReshard + 300);
      stop.set(true);
      for (Future<?> f : running) {
        f.get(60, TimeUnit.SECONDS);
      }
      assertTrue(failures.isEmpty(), failures.size() + " operations failed: "
          + List.copyOf(failures).subList(0, Math.min(10, failures.size())));
      RingKvClient.Stats stats = client.stats();
      System.out.println("[client] reshard 2->3 under traffic: " + done.get()
          + " operations, client " + stats);
      assertTrue(stats.viewChangeRetries() > retriesBefore,
          "no operation met the view change: the test did not test the retry");
    } finally {
      stop.set(true);
      pool.shutdownNow();
    }
    await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
      client.refreshRing().get(10, TimeUnit.SECONDS);
      assertNotEquals(epoch, client.ring().epoch());
      assertEquals(3, client.ring().ring().shardCount());
    });
    long misroutedBefore = client.stats().misrouted();
    Session session = sessions.get(0);
    for (Map.Entry<String, String> e : acked.entrySet()) {
      PutResult w = client.putJsonBlocking(session, e.getKey(), e.getValue());
      assertEquals(w.node(), w.version().node(), e.getKey() + " was forwarded after reshard");
      assertEquals(where(cluster.node(2), e.getKey()).path("shard-id").asInt(), w.shardId());
    }
    assertEquals(misroutedBefore, client.stats().misrouted(), "routes with the new ring");
    for (int w = 0; w < workers; w++) {
      for (int k = 0; k < 150; k++) {
        String key = "reshard-" + w + "-" + k;
        String expected = acked.get(key);
        if (expected != null) {
          assertEquals(expected, client.getBlocking(sessions.get(w), key).valueJson()
              .orElse(null), key);
        }
      }
    }
  }

  /**
   * Worker {@code worker} until {@code stop}: two PUTs, then a GET that must return the last
   * value acknowledged for its key, over and over on 150 keys of its own.
   */
  private void writeAndRead(int worker, Session session, AtomicBoolean stop, AtomicInteger done,
      Queue<String> failures, Map<String, String> acked) {
    for (int n = 0; !stop.get(); n++) {
      String key = "reshard-" + worker + "-" + (n % 150);
      String value = Integer.toString(n);
      try {
        if (n % 3 == 2) {
          GetResult r = client.getBlocking(session, key);
          String expected = acked.get(key);
          if (expected != null && !expected.equals(r.valueJson().orElse(null))) {
            failures.add(key + ": read " + r + ", last write " + expected);
          }
        } else {
          client.putJsonBlocking(session, key, value);
          acked.put(key, value);
        }
        done.incrementAndGet();
      } catch (RuntimeException e) {
        failures.add(key + ": " + e);
      }
    }
  }
}
