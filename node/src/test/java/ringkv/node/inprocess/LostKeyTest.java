package ringkv.node.inprocess;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import ringkv.node.storage.StoreDamage;
import ringkv.ring.NodeAddress;

/*
 * Goal: a key whose stored record is damaged on every replica is reported as lost, not left
 * quarantined in silence nor read as absent (issue 15): once every other replica answered the
 * repair with no copy, reads of it at a node holding it damaged answer 500 {"error":"Key is
 * lost", ...}, GET /ring counts it ("lost-keys"), and so does ringkv_store_keys_lost; a new
 * write of the key clears all of it. Method: two nodes in this JVM, one shard, a RocksDB store
 * each, the scrub at 10 MiB/s, anti-entropy off. Ten keys are written and replicated; one bit of
 * k7's record is flipped in both stores; the scrubs quarantine it on both, each node's repair asks
 * the other, which has no healthy copy.
 */
class LostKeyTest {
  private static final int KEYS = 10;

  @TempDir
  Path data;

  @Test
  void aKeyDamagedOnEveryReplicaIsReportedLostUntilWrittenAgain() {
    Map<String, String> env = Map.of("SHARD_COUNT", "1", "ANTI_ENTROPY_INTERVAL_MS", "3600000",
        "SCRUB_BYTES_PER_SEC", Long.toString(10L << 20));
    try (InProcessCluster cluster = new InProcessCluster(2, env,
        InProcessCluster.NodeSetup.durableUnder(data))) {
      NodeAddress a = cluster.node(0);
      NodeAddress b = cluster.node(1);
      cluster.writeReplicated(a, KEYS, b);
      StoreDamage.flipABit(cluster.store(a), "k7");
      StoreDamage.flipABit(cluster.store(b), "k7");

      for (NodeAddress n : new NodeAddress[] {a, b}) {
        await("k7 reported lost at " + n).atMost(Duration.ofSeconds(30))
            .pollInterval(Duration.ofMillis(100))
            .until(() -> cluster.send(n, "GET", "/ring", null).body()
                .contains("\"lost-keys\":1"));
        var read = cluster.send(n, "GET", "/key-value-store/k7", null);
        assertEquals(500, read.status(), read.toString());
        assertTrue(read.body().contains("\"error\":\"Key is lost\""), read.toString());
        assertEquals(1.0, cluster.metric(n, "ringkv_store_keys_lost"));
        var other = cluster.send(n, "GET", "/key-value-store/k6", null);
        assertEquals(200, other.status(), "other keys are served: " + other);
      }

      // 201: the damaged record reads as absent, so the write "adds" the key.
      assertEquals(201, cluster.send(a, "PUT", "/key-value-store/k7", "{\"value\":77}").status());
      for (NodeAddress n : new NodeAddress[] {a, b}) {
        await("k7 written again at " + n).atMost(Duration.ofSeconds(10))
            .pollInterval(Duration.ofMillis(100)).untilAsserted(() -> {
              var read = cluster.send(n, "GET", "/key-value-store/k7", null);
              assertEquals(200, read.status(), read.toString());
              assertTrue(read.body().contains("\"value\":77"), read.toString());
              assertTrue(cluster.send(n, "GET", "/ring", null).body()
                  .contains("\"lost-keys\":0"));
            });
      }
    }
  }
}
