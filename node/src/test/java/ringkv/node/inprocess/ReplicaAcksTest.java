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
 * Goal (issue 15 item 2): a write sent with "RingKV-Acks: k" is answered only once k replicas
 * of its shard hold it; when they do not in ACKS_WAIT_MS it answers 503 saying how many did,
 * and the write stays and spreads on; a k above the shard's replicas or not a number is a 400
 * that writes nothing. Requests without the header are answered as before.
 * Method: two real nodes in this JVM, one shard of two; the test's network delays replication
 * from the writer by 600 ms (so a read at the other replica right after the answer finds the
 * write only if the answer waited for it), then loses it for a while.
 */
class ReplicaAcksTest {
  private static final Map<String, String> ACKS_2 = Map.of("RingKV-Acks", "2");

  /**
   * Two nodes serving one shard with {@code ACKS_WAIT_MS}; the network delays replication from
   * node 0 (the writer) by {@code replicateDelayMs}, or loses it when -1.
   */
  private static InProcessCluster oneShardOfTwo(String acksWaitMs, long replicateDelayMs) {
    InProcessCluster c = new InProcessCluster(2, Map.of("SHARD_COUNT", "1",
        "ACKS_WAIT_MS", acksWaitMs));
    NodeAddress writer = c.node(0);
    c.network((from, to, route) -> route == PeerProtocol.REPLICATE && from.equals(writer)
        ? replicateDelayMs : 0);
    return c;
  }

  @Test
  void aWriteAskingForTwoReplicasIsAnsweredOnceBothHoldIt() {
    try (InProcessCluster c = oneShardOfTwo("3000", 600)) {
      NodeAddress writer = c.node(0);
      NodeAddress other = c.node(1);
      for (int i = 0; i < 3; i++) {
        var put = c.send(writer, "PUT", "/key-value-store/k" + i, "{\"value\":\"v" + i + "\"}",
            ACKS_2);
        assertEquals(201, put.status(), put.toString());
        var read = c.send(other, "GET", "/key-value-store/k" + i, null);
        assertEquals(200, read.status(), "the other replica held it when the write was answered: "
            + read);
        assertTrue(read.body().contains("\"v" + i + "\""), read.toString());
      }
    }
  }

  @Test
  void tooFewReplicasInTimeIs503WithTheCountAndTheWriteStays() {
    try (InProcessCluster c = oneShardOfTwo("300", -1)) {
      NodeAddress writer = c.node(0);
      NodeAddress other = c.node(1);
      var put = c.send(writer, "PUT", "/key-value-store/lost-link", "{\"value\":\"x\"}", ACKS_2);
      assertEquals(503, put.status(), put.toString());
      assertTrue(put.body().contains("Not enough replicas acknowledged the write: 1 of the 2"
          + " replicas asked for hold the write"), put.body());
      assertEquals(200, c.send(writer, "GET", "/key-value-store/lost-link", null).status(),
          "the write stays on the replica that took it");
      c.network((from, to, route) -> 0);
      await().atMost(Duration.ofSeconds(20)).until(() ->
          c.send(other, "GET", "/key-value-store/lost-link", null).status() == 200);
      assertEquals(200, c.send(writer, "PUT", "/key-value-store/plain", "{\"value\":1}")
          .status() / 100 * 100, "without the header a write is answered at once");
    }
  }

  @Test
  void moreAcksThanReplicasOrNotANumberIs400AndWritesNothing() {
    try (InProcessCluster c = new InProcessCluster(2, Map.of("SHARD_COUNT", "1"))) {
      NodeAddress writer = c.node(0);
      var three = c.send(writer, "PUT", "/key-value-store/k", "{\"value\":1}",
          Map.of("RingKV-Acks", "3"));
      assertEquals(400, three.status(), three.toString());
      assertTrue(three.body().contains("RingKV-Acks: 3, but the key's shard has 2 replicas"),
          three.body());
      var word = c.send(writer, "PUT", "/kvs/keys/k", "{\"value\":1,\"causal-context\":{}}",
          Map.of("RingKV-Acks", "two"));
      assertEquals(400, word.status(), word.toString());
      assertTrue(word.body().contains("RingKV-Acks must be an integer from 1 to"), word.body());
      assertEquals(404, c.send(writer, "GET", "/key-value-store/k", null).status(),
          "nothing was written");
    }
  }
}
