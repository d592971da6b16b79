package ringkv.node.inprocess;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import ringkv.node.peer.PeerProtocol;
import ringkv.ring.NodeAddress;

/*
 * Goal: forwarding, a reshard and catch-up after a restart work end to end between real nodes,
 * in seconds rather than the minutes multi-process tests take: keys written through any node
 * are read back through any node; a reshard from 1 to 2 shards keeps every key and the sum of
 * the shards' counts; a node restarted without its data copies its shard before it serves, and
 * serves every key it missed; a view change refused by a participant the network loses is
 * rolled back everywhere. Method: InProcessCluster (four NodeVerticles in this JVM).
 */
class InProcessClusterTest {
  private static final int KEYS = 40;

  /** Writes the keys through the nodes given (all of them if none). */
  private static void writeKeys(InProcessCluster c, String prefix, NodeAddress... through) {
    for (int i = 0; i < KEYS; i++) {
      NodeAddress node = through.length == 0 ? c.node(i % c.size()) : through[i % through.length];
      var put = c.send(node, "PUT", "/key-value-store/" + prefix + i,
          "{\"value\":\"v" + i + "\"}");
      assertEquals(201, put.status(), put.toString());
    }
  }

  private static void readKeys(InProcessCluster c, String prefix, NodeAddress through) {
    for (int i = 0; i < KEYS; i++) {
      var get = c.send(through, "GET", "/key-value-store/" + prefix + i, null);
      assertEquals(200, get.status(), prefix + i + " through " + through + ": " + get);
      assertTrue(get.body().contains("\"value\":\"v" + i + "\""), get.toString());
    }
  }

  private static long total(InProcessCluster c, int shards) {
    long sum = 0;
    for (int s = 1; s <= shards; s++) {
      sum += InProcessCluster.count(c.send(c.node(0), "GET",
          "/key-value-store-shard/shard-id-key-count/" + s, null));
    }
    return sum;
  }

  @Test
  void forwardingAndAReshardKeepEveryKey() {
    try (InProcessCluster c = new InProcessCluster(4, Map.of("SHARD_COUNT", "1"))) {
      writeKeys(c, "a");
      for (int n = 0; n < c.size(); n++) {
        readKeys(c, "a", c.node(n));
      }
      var reshard = c.send(c.node(0), "PUT", "/key-value-store-shard/reshard",
          "{\"shard-count\":2}");
      assertEquals(200, reshard.status(), reshard.toString());
      assertEquals(KEYS, total(c, 2), "every key in exactly one shard after the reshard");
      readKeys(c, "a", c.node(3));
    }
  }

  @Test
  void aRestartedNodeCopiesItsShardBeforeItServes() {
    try (InProcessCluster c = new InProcessCluster(3, Map.of("SHARD_COUNT", "1"))) {
      NodeAddress victim = c.node(2);
      c.kill(victim);
      await().atMost(Duration.ofSeconds(10)).until(() -> !c.send(c.node(0), "GET",
          "/key-value-store-view", null).body().contains(victim.toString()));
      writeKeys(c, "b", c.node(0), c.node(1));
      c.start(victim);
      // Ready means caught up: every key it missed is served by it, from its own store.
      readKeys(c, "b", victim);
    }
  }

  @Test
  void aViewChangeAParticipantCannotTakePartInChangesNothing() {
    try (InProcessCluster c = new InProcessCluster(4, Map.of("SHARD_COUNT", "1"))) {
      writeKeys(c, "c");
      NodeAddress lost = c.node(3);
      c.network((from, to, route) -> route == PeerProtocol.PREPARE && to.equals(lost) ? -1 : 0);
      var reshard = c.send(c.node(0), "PUT", "/key-value-store-shard/reshard",
          "{\"shard-count\":2}");
      assertEquals(503, reshard.status(), reshard.toString());
      c.network((from, to, route) -> 0);
      var ids = c.send(c.node(1), "GET", "/key-value-store-shard/shard-ids", null);
      assertTrue(ids.body().contains("\"shard-ids\":[1]"), "still one shard: " + ids);
      assertEquals(KEYS, total(c, 1));
      readKeys(c, "c", c.node(2));
    }
  }
}
