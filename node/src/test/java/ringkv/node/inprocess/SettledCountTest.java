package ringkv.node.inprocess;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import org.junit.jupiter.api.Test;
import ringkv.node.peer.PeerProtocol;
import ringkv.ring.NodeAddress;

/*
 * Goal: a key count taken right after a write counts it on every replica of the shard, however
 * slowly replication travels (SPEC §2: no answer depends on which replica a request reached):
 * the counting replica first has its peers deliver what they acknowledged. And a node forwards a
 * key's requests to one fixed replica, so a client going through it sees its own writes.
 * Method: two real nodes in this JVM (one shard of two); the test's network delays every
 * replication batch from the first node to the second by 400 ms, far longer than a request
 * takes, so without the settle step the second node's count misses the write every time.
 */
class SettledCountTest {
  private static final String COUNT = "/key-value-store-shard/shard-id-key-count/1";

  @Test
  void aCountRightAfterAWriteIncludesItOnTheOtherReplica() {
    try (InProcessCluster cluster = new InProcessCluster(2, Map.of("SHARD_COUNT", "1"))) {
      NodeAddress writer = cluster.node(0);
      NodeAddress counter = cluster.node(1);
      cluster.network((from, to, route) -> route == PeerProtocol.REPLICATE
          && from.equals(writer) && to.equals(counter) ? 400 : 0);
      for (int i = 0; i < 3; i++) {
        var put = cluster.send(writer, "PUT", "/key-value-store/slow-" + i, "{\"value\":" + i
            + "}");
        assertEquals(201, put.status(), put.toString());
        long started = System.nanoTime();
        assertEquals(i + 1, InProcessCluster.count(cluster.send(counter, "GET", COUNT, null)),
            "count on the replica the write has not reached yet");
        assertTrue(System.nanoTime() - started < 5_000_000_000L, "bounded by the settle wait");
      }
    }
  }
}
