package ringkv.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.util.Map;
import org.junit.jupiter.api.Test;

/*
 * Goal: a peer's request that names a shard this node's layout does not have gets a clear JSON
 * refusal, and the node keeps serving. An honest peer sends such ids: one that installed a
 * reshard 2 -> 3 asks a node still at the old epoch for the key count of shard 3 (seen in CI:
 * 500s logged as event=bug, IllegalArgumentException "unknown shard id 3"), or starts an
 * anti-entropy round for it. Method: one node (one shard) in this JVM, driven over raw sockets;
 * the ids asked are 7 (beyond its layout) and 1 (its own, as a control).
 */
class PeerShardIdsTest {
  private static final String FROM = "127.0.0.1:1";

  @Test
  void shardIdsBeyondTheLayoutAreRefusedNotBugs() throws IOException {
    try (OneNode n = new OneNode(Map.of())) {
      String count = post(n, "/internal/count", "{\"shard\":7}");
      assertEquals(503, OneNode.status(count), count);
      assertTrue(count.contains("does not serve shard 7"), count);
      String own = post(n, "/internal/count", "{\"shard\":1}");
      assertEquals(200, OneNode.status(own), own);

      String scope = "\"from\":\"" + FROM + "\",\"shard\":7,\"epoch\":1,\"horizon\":0";
      String digest = post(n, "/internal/ae/digest", "{" + scope + ",\"leaf-bits\":12}");
      assertRefused(digest, "are not both in shard 7");
      String versions = post(n, "/internal/ae/versions",
          "{" + scope + ",\"leaves\":\"AQ==\",\"after\":null,\"limit\":10}");
      assertRefused(versions, "are not both in shard 7");

      String ping = n.exchange(OneNode.request("GET", "/internal/ping", null));
      assertEquals(200, OneNode.status(ping), "still serving: " + ping);
    }
  }

  private static void assertRefused(String answer, String why) {
    int status = OneNode.status(answer);
    assertTrue(status >= 400 && status < 500 || status == 503, answer);
    assertTrue(answer.contains("\"error\""), "a JSON error: " + answer);
    assertTrue(answer.contains(why), answer);
  }

  private static String post(OneNode n, String path, String body) throws IOException {
    return n.exchange(OneNode.request("POST", path, body));
  }
}
