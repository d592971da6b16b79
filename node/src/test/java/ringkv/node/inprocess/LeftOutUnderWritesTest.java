package ringkv.node.inprocess;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static ringkv.node.inprocess.InProcessCluster.json;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import ringkv.ring.NodeAddress;

/*
 * KNOWN BUG, not fixed yet (README, Limits): tagged "known-bug", so the build skips it; it fails
 * today. Run: mvn -B -pl node test -Dtest=LeftOutUnderWritesTest -DexcludedGroups=none
 * -Dsurefire.failIfNoSpecifiedTests=false.
 * Goal: writes a node acknowledged while cut off, and left out of a change that places it in no
 * shard, reach their new owners even when clients keep writing to the new shards meanwhile.
 * Today they do not: the new owners' stable time passes the cut-off node's writes (a shardless
 * node's report does not hold it back, NodeStability.outsidersSettled), and when the node hands
 * them over, a new owner holding no entry for the key drops it as a stale duplicate.
 * LeftOutHandOffTest passes only because nothing is written after the change.
 * Method: LeftOutHandOffTest (seven nodes, node 6 cut off, 30 keys written through it, a reshard
 * to 3 shards of 2 without it), then writes through node 0 until every new shard's stable time
 * is past the cut-off node's writes, then the heal: every key must read through every node.
 * Fails with a 404 for a handed-off key.
 */
@Tag("known-bug")
class LeftOutUnderWritesTest {
  @Test
  void handOffSurvivesWritesOnTheNewShards() {
    try (InProcessCluster c = new InProcessCluster(7, Map.of("SHARD_COUNT", "2"))) {
      NodeAddress cut = c.node(6);
      NodeAddress coordinator = c.node(0);
      LeftOut.cutOff(c, cut, coordinator);
      List<String> keys = LeftOut.writeThrough(c, cut, 30);
      long after = System.currentTimeMillis();
      long epoch = LeftOut.reshardToThree(c, coordinator);
      AtomicInteger n = new AtomicInteger();
      await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
        for (int i = 0; i < 12; i++) {
          int k = n.getAndIncrement();
          assertEquals(201, c.send(coordinator, "PUT", "/key-value-store/w" + k,
              "{\"value\":" + k + "}").status());
        }
        for (JsonNode s : json(c.send(coordinator, "GET", "/ring", null)).get("shards")) {
          assertTrue(s.get("stable-time").asLong() > after, s.toString());
        }
      });
      c.network((from, to, route) -> 0);
      await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> {
        assertEquals(epoch, json(c.send(cut, "GET", "/ring", null)).get("epoch").asLong());
        for (String key : keys) {
          for (int i = 0; i < c.size(); i++) {
            var get = c.send(c.node(i), "GET", "/key-value-store/" + key, null);
            assertEquals(200, get.status(), c.node(i) + " " + key + ": " + get);
          }
        }
      });
    }
  }
}
