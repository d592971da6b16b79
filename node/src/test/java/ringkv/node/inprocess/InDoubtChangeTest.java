package ringkv.node.inprocess;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static ringkv.node.inprocess.InProcessCluster.json;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import ringkv.node.peer.PeerProtocol;
import ringkv.ring.NodeAddress;

/*
 * Goal: a participant that was prepared and never got the commit (the coordinator's commit to it
 * was lost, and it cannot learn the new epoch from anyone) does not roll back at its deadline:
 * the coordinator may have committed, and then the other participants drop the keys that moved
 * to it. It asks the coordinator and the participants what became of the change, learns that it
 * committed, and installs it with the keys it was sent; no key is lost. Before the fix every
 * such participant aborted at VIEW_CHANGE_TIMEOUT_MS, dropped its copies and served the old
 * epoch until it heard of the new one (here: never, until the network heals; a shard whose
 * members all did so lost every key that moved to it). Checked: the test fails at the first
 * wait when ViewChangeParticipant.onTick aborts prepared changes again.
 * Method: six real nodes in this JVM (2 shards of 3), 300 keys, a reshard to 3 shards run by a
 * node that receives no key; the test's network loses every commit but the coordinator's own,
 * and every configuration fetch (the heartbeat path of learning an epoch) until the deadline
 * has passed.
 */
class InDoubtChangeTest {
  private static final int KEYS = 300;
  private static final Map<String, String> ENV = Map.of("SHARD_COUNT", "2",
      "VIEW_CHANGE_TIMEOUT_MS", "2000");
  /** A deadline the stop-reads test never reaches: the participants stay prepared. */
  private static final Map<String, String> STAYS_PREPARED = Map.of("SHARD_COUNT", "2",
      "VIEW_CHANGE_TIMEOUT_MS", "60000");
  private static final int STOP_KEYS = 60;

  @Test
  void aPreparedParticipantThatMissedTheCommitAsksAndCommits() {
    try (InProcessCluster c = InProcessCluster.withKeys(6, ENV, KEYS)) {
      JsonNode plan = json(c.send(c.node(0), "POST", "/admin/plan",
          "{\"kind\":\"reshard\",\"shard-count\":3}"));
      Set<String> receivers = new HashSet<>();
      plan.get("transfers").forEach(t -> receivers.add(t.get("target").asText()));
      assertTrue(plan.get("keys-moving").asLong() > 0, plan.toString());
      NodeAddress coordinator = null;
      for (int i = 0; i < 6 && coordinator == null; i++) {
        if (!receivers.contains(c.node(i).toString())) {
          coordinator = c.node(i);
        }
      }
      assertTrue(coordinator != null, "a node that receives nothing: " + plan);
      long next = plan.get("epoch").asLong();
      NodeAddress chosen = coordinator;
      c.network((from, to, route) -> (route == PeerProtocol.COMMIT && !to.equals(chosen))
          || (route == PeerProtocol.CONFIG && !from.equals(chosen)) ? -1 : 0);
      var reshard = c.send(coordinator, "PUT", "/key-value-store-shard/reshard",
          "{\"shard-count\":3}");
      assertEquals(200, reshard.status(), reshard.toString());
      // Past the deadline every participant settles the change by asking the coordinator,
      // while it still cannot learn the epoch any other way (before the fix: rolled back, and
      // on the old epoch until the network healed).
      await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
        for (int i = 0; i < 6; i++) {
          JsonNode ring = json(c.send(c.node(i), "GET", "/ring", null));
          assertEquals(next, ring.get("epoch").asLong(), c.node(i) + ": " + ring);
          var get = c.send(c.node(i), "GET", "/key-value-store/k1", null);
          assertEquals(200, get.status(), c.node(i) + " serves again: " + get);
        }
      });
      c.network((from, to, route) -> 0);
      // Generous: on a machine loaded to 20-30 the drops of keys that moved took longer than 20 s.
      await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> {
        for (int i = 0; i < 6; i++) {
          JsonNode ring = json(c.send(c.node(i), "GET", "/ring", null));
          assertEquals(next, ring.get("epoch").asLong(), c.node(i) + ": " + ring);
        }
        JsonNode ring = json(c.send(c.node(0), "GET", "/ring", null));
        long total = 0;
        for (JsonNode s : ring.get("shards")) {
          total += s.get("key-count").asLong();
        }
        assertEquals(KEYS, total, "no key lost: " + ring);
      });
      for (int i = 0; i < KEYS; i++) {
        var get = c.send(c.node(i % 6), "GET", "/key-value-store/k" + i, null);
        assertEquals(200, get.status(), "k" + i + ": " + get);
      }
    }
  }

  /*
   * The coordinator committed itself and died for good before any other participant got the
   * commit: every other participant stays prepared (500s) after its deadline, since none can
   * tell whether the coordinator committed. The operator settles it on each of them
   * (POST /admin/view-change/settle): refused while a participant cannot be asked (it may have
   * installed the change), then aborted once every participant but the coordinator answered and
   * none installed it; every key stays readable on the old layout. Fails without the settle
   * route (404) and without ChangeTermination.settle (the participants keep waiting, 503).
   */
  @Test
  void anOperatorSettlesAChangeWhoseCoordinatorIsGoneForGood() {
    try (InProcessCluster c = InProcessCluster.withKeys(6, ENV, KEYS)) {
      NodeAddress coordinator = c.node(0);
      long before = json(c.send(coordinator, "GET", "/ring", null)).get("epoch").asLong();
      // Nobody learns the outcome from the coordinator before it dies: neither by its commit,
      // nor by fetching its configuration after a heartbeat showed its epoch, nor by its answer
      // to a participant past its deadline (on a loaded machine the kill can come after
      // either: the participants then committed, and never were in doubt).
      c.network((from, to, route) -> (route == PeerProtocol.COMMIT && !to.equals(coordinator))
          || (route == PeerProtocol.CONFIG && to.equals(coordinator))
          || (route == PeerProtocol.OUTCOME && to.equals(coordinator)) ? -1 : 0);
      var reshard = c.send(coordinator, "PUT", "/key-value-store-shard/reshard",
          "{\"shard-count\":3}");
      assertEquals(200, reshard.status(), reshard.toString());
      c.kill(coordinator);
      NodeAddress one = c.node(1);
      NodeAddress silent = c.node(2);
      String settle = "{\"epoch\":" + (before + 1) + "}";
      AtomicInteger asked = new AtomicInteger();
      c.network((from, to, route) -> {
        if (route == PeerProtocol.OUTCOME && from.equals(one)) {
          asked.incrementAndGet();
        }
        return route == PeerProtocol.OUTCOME && to.equals(silent) ? -1 : 0;
      });
      // Past its deadline it asked the others, nobody could tell, and it still refuses.
      await().atMost(Duration.ofSeconds(30)).until(() -> asked.get() >= 2);
      var stuck = c.send(one, "PUT", "/key-value-store/new", "{\"value\":1}");
      assertEquals(500, stuck.status(), "still prepared: " + stuck);
      assertTrue(stuck.body().contains("View change in progress"), stuck.toString());
      var refused = c.send(one, "POST", "/admin/view-change/settle", settle);
      assertEquals(503, refused.status(), refused.toString());
      assertTrue(refused.body().contains(silent.toString()), "names who did not answer: "
          + refused);
      assertEquals(500, c.send(one, "PUT", "/key-value-store/new", "{\"value\":1}").status(),
          "a refused settle changes nothing");
      c.network((from, to, route) -> 0);
      for (int i = 1; i < 6; i++) {
        var settled = c.send(c.node(i), "POST", "/admin/view-change/settle", settle);
        assertEquals(200, settled.status(), c.node(i) + ": " + settled);
        JsonNode body = json(settled);
        assertEquals("abort", body.get("action").asText(), settled.toString());
        assertEquals("View change settled", body.get("message").asText());
      }
      String metrics = c.send(one, "GET", "/metrics", null).body();
      assertEquals(1.0, participantChanges(metrics, "aborted"), "settled: aborted\n" + metrics);
      assertEquals(0.0, participantChanges(metrics, "timed_out"), "not timed out");
      var again = c.send(one, "POST", "/admin/view-change/settle", settle);
      assertEquals(404, again.status(), "nothing left to settle: " + again);
      for (int i = 1; i < 6; i++) {
        assertEquals(before, json(c.send(c.node(i), "GET", "/ring", null)).get("epoch")
            .asLong(), c.node(i) + " keeps the old layout");
      }
      var written = c.send(one, "PUT", "/key-value-store/new", "{\"value\":1}");
      assertEquals(201, written.status(), "serves writes again: " + written);
      for (int i = 0; i < KEYS; i++) {
        NodeAddress at = c.node(1 + i % 5);
        var get = c.send(at, "GET", "/key-value-store/k" + i, null);
        assertEquals(200, get.status(), at + " k" + i + ": " + get);
        assertEquals(i, json(get).get("value").asInt(), at + " k" + i);
      }
    }
  }

  /*
   * A node stopped by a view change (prepared, its writes frozen while what changed during
   * the copy travels) keeps serving reads of the keys it holds under the layout it still has, to
   * clients that saw nothing newer (KeyValueCore.servesInStop); it refuses (500, "View change in
   * progress") writes and a read by a client that saw a write made under the new layout
   * meanwhile; it forwards a read of a key it does not hold to that key's old owners, each of
   * which answers by its own state. Before the change every request to a stopped node was
   * refused (the test fails at the first read of a held key); before reads were forwarded, a
   * stopped node refused every read of a key it does not hold (it fails at the first of them).
   * Method: six nodes in this JVM (2 shards of 3), 60 keys, a reshard to 3 shards coordinated by
   * node 0; the test's network loses the commit to every other node, every configuration fetch
   * and every outcome inquiry, so the other five stay prepared while the test reads through them;
   * then it heals, and every node installs the change with no key lost.
   */
  @Test
  void aStoppedNodeServesReadsOfItsKeysAndRefusesEverythingElse() {
    try (InProcessCluster c = InProcessCluster.withKeys(6, STAYS_PREPARED, STOP_KEYS)) {
      NodeAddress coordinator = c.node(0);
      c.network((from, to, route) -> (route == PeerProtocol.COMMIT && !to.equals(coordinator))
          || route == PeerProtocol.CONFIG || route == PeerProtocol.OUTCOME ? -1 : 0);
      long epochBefore = json(c.send(coordinator, "GET", "/ring", null)).get("epoch").asLong();
      var reshard = c.send(coordinator, "PUT", "/key-value-store-shard/reshard",
          "{\"shard-count\":3}");
      assertEquals(200, reshard.status(), reshard.toString());

      int served = 0;
      int forwarded = 0;
      for (int n = 1; n < 6; n++) {
        NodeAddress node = c.node(n);
        assertEquals(epochBefore, json(c.send(node, "GET", "/ring", null)).get("epoch")
            .asLong(), node + " is still on the old layout");
        var put = c.send(node, "PUT", "/key-value-store/k0", "{\"value\":\"no\"}");
        assertViewChange(put, node + " refuses writes while stopped");
        var delete = c.send(node, "DELETE", "/key-value-store/k0", null);
        assertViewChange(delete, node + " refuses deletes while stopped");
        for (int i = 0; i < STOP_KEYS; i++) {
          String key = "k" + i;
          var get = c.send(node, "GET", "/key-value-store/" + key, null);
          if (holds(c, node, key)) {
            assertEquals(200, get.status(), node + " holds " + key + ": " + get);
            assertEquals(i, json(get).get("value").asInt(), get.toString());
            served++;
          } else if (!holds(c, node, key, coordinator)) {
            // Forwarded to the key's old owners, all stopped too, each serving what it holds;
            // the view-change dialect names the owner that answered.
            assertEquals(200, get.status(), node + " forwards " + key + ": " + get);
            assertEquals(i, json(get).get("value").asInt(), get.toString());
            var named = c.send(node, "GET", "/kvs/keys/" + key, null);
            assertEquals(200, named.status(), named.toString());
            assertTrue(holds(c, node, key, NodeAddress.parse(json(named).get("address")
                .asText())), "served by an old owner of " + key + ": " + named);
            forwarded++;
          } else if (get.status() != 200) {
            // The committed coordinator, an old owner, may pass it to a new owner still stopped.
            assertViewChange(get, node + " forwards " + key + " through the coordinator");
          } else {
            assertEquals(i, json(get).get("value").asInt(), get.toString());
          }
        }
      }
      assertTrue(served > 0 && forwarded > 0, "served=" + served + " forwarded=" + forwarded);

      // A write under the new layout through the committed coordinator, then a read of it
      // through a stopped node that held the key under the old one.
      List<String> written = new ArrayList<>();
      for (int i = 0; i < STOP_KEYS && written.isEmpty(); i++) {
        var put = c.send(coordinator, "PUT", "/key-value-store/k" + i, "{\"value\":\"new\"}");
        if (put.status() == 200) {
          written.add("k" + i);
          written.add(json(put).get("causal-metadata").toString());
        }
      }
      assertEquals(2, written.size(), "the coordinator owns some key under the new layout");
      String key = written.get(0);
      String metadata = written.get(1);
      int checked = 0;
      for (int n = 1; n < 6; n++) {
        NodeAddress node = c.node(n);
        boolean holds = holds(c, node, key);
        if (!holds) {
          continue;
        }
        var fresh = c.send(node, "GET", "/key-value-store/" + key,
            "{\"causal-metadata\":" + metadata + "}");
        assertViewChange(fresh, node + " lacks the write its client saw");
        var plain = c.send(node, "GET", "/key-value-store/" + key, null);
        assertEquals(200, plain.status(), plain.toString());
        checked++;
      }
      assertTrue(checked > 0, "a stopped old owner of " + key);

      healAndCheck(c, epochBefore, key, metadata);
    }
  }

  /** Heals the network; every node installs the change, no key lost, the new write read. */
  private static void healAndCheck(InProcessCluster c, long epochBefore, String key,
      String metadata) {
    c.network((from, to, route) -> 0);
    await().atMost(Duration.ofSeconds(90)).untilAsserted(() -> {
      for (int n = 0; n < 6; n++) {
        JsonNode ring = json(c.send(c.node(n), "GET", "/ring", null));
        assertTrue(ring.get("epoch").asLong() > epochBefore, c.node(n) + ": " + ring);
      }
      JsonNode ring = json(c.send(c.node(0), "GET", "/ring", null));
      long total = 0;
      for (JsonNode s : ring.get("shards")) {
        total += s.get("key-count").asLong();
      }
      assertEquals(STOP_KEYS, total, "no key lost: " + ring);
    });
    for (int n = 0; n < 6; n++) {
      var get = c.send(c.node(n), "GET", "/key-value-store/" + key,
          "{\"causal-metadata\":" + metadata + "}");
      assertEquals("new", json(get).get("value").asText(), c.node(n) + ": " + get);
    }
  }

  /** Whether {@code node}'s layout (the old one, while it is stopped) gives it {@code key}. */
  private static boolean holds(InProcessCluster c, NodeAddress node, String key) {
    return holds(c, node, key, node);
  }

  /** Whether the layout {@code asked} has gives {@code key} to {@code owner}. */
  private static boolean holds(InProcessCluster c, NodeAddress asked, String key,
      NodeAddress owner) {
    return json(c.send(asked, "GET", "/ring/key/" + key, null)).get("members").toString()
        .contains("\"" + owner + "\"");
  }

  private static void assertViewChange(InProcessCluster.Answer a, String what) {
    assertEquals(500, a.status(), what + ": " + a);
    assertTrue(a.body().contains("View change in progress"), what + ": " + a);
  }

  /** {@code ringkv_view_changes_total} of a participant with {@code outcome}, 0 when absent. */
  private static double participantChanges(String metrics, String outcome) {
    return metrics.lines().filter(l -> l.startsWith("ringkv_view_changes_total{")
            && l.contains("role=\"participant\"") && l.contains("outcome=\"" + outcome + "\""))
        .mapToDouble(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1))).sum();
  }
}
