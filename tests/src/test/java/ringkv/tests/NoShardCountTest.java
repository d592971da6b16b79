package ringkv.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import ringkv.tests.support.Http;
import ringkv.tests.support.Http.Reply;
import ringkv.tests.support.LocalCluster;

/*
 * Goal: a whole cluster started without SHARD_COUNT forms one shard of all the nodes in VIEW
 * (SPEC §1), and serves and replicates keys like any other.
 *
 * Method: 3 real node processes started at once without SHARD_COUNT; every node must report the
 * same single shard holding all three, and a key written through one node is counted by all.
 */
class NoShardCountTest {

  @Test
  void wholeClusterWithoutShardCountIsOneShardOfAllNodes() {
    try (LocalCluster cluster = LocalCluster.builder("NoShardCountTest").nodes(3).noShardCount()
        .start()) {
      List<String> all = new ArrayList<>(new TreeSet<>(cluster.addresses()));
      for (String node : cluster.addresses()) {
        Reply ids = Http.get(node, "/key-value-store-shard/shard-ids");
        assertEquals("[1]", ids.field("shard-ids").toString(), node);
        Reply members = Http.get(node, "/key-value-store-shard/shard-id-members/1");
        List<String> got = new ArrayList<>();
        members.field("shard-id-members").forEach(m -> got.add(m.asText()));
        assertEquals(all, got, node);
        assertEquals(1, Http.get(node, "/key-value-store-shard/node-shard-id")
            .field("shard-id").asInt(), node);
      }
      Reply put = Http.put(cluster.node(0), "/key-value-store/solo", Http.obj("value", 7));
      assertEquals(201, put.status(), put.toString());
      org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(5))
          .untilAsserted(() -> {
            for (String node : cluster.addresses()) {
              assertEquals(1, Http.get(node, "/key-value-store-shard/shard-id-key-count/1")
                  .field("shard-id-key-count").asInt(), node);
            }
          });
    }
  }
}
