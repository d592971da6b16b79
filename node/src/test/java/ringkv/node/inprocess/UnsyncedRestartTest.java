package ringkv.node.inprocess;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static ringkv.node.inprocess.InProcessCluster.json;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import ringkv.node.inprocess.InProcessCluster.NodeSetup;
import ringkv.ring.NodeAddress;

/*
 * Goal: a replica that restarts on data not synced per write (DURABILITY=periodic or os) may
 * have lost writes it had acknowledged to a peer, which then counted them delivered; it holds
 * its stability report until anti-entropy has run, so the write comes back. Before the fix the
 * shard's stable time already covered the lost write and the repair was dropped as a stale
 * duplicate: the replicas never agreed again (PowerLossTest, DURABILITY=periodic, two nodes:
 * key counts 1428 and 1559 a minute after the restart, one clean-clone run in five). Without
 * the fix the await below times out.
 * Method: two durable nodes (one shard), DURABILITY=periodic. A key written through A, held by
 * B (acknowledged), then later writes, so both clocks are past it. B loses the key (removed
 * from its store: the unsynced tail a power loss takes) and restarts while the network loses
 * every call between the two (it serves what it kept, catch-up skipped); then the network
 * heals, and B must hold the key again, by anti-entropy.
 */
class UnsyncedRestartTest {
  private static final Map<String, String> ENV = Map.of("SHARD_COUNT", "1",
      "DURABILITY", "periodic", "ANTI_ENTROPY_INTERVAL_MS", "2000");

  @Test
  void aWriteTheUnsyncedTailTookComesBackByAntiEntropy(@TempDir Path dir) {
    try (InProcessCluster c = new InProcessCluster(2, ENV, NodeSetup.durableUnder(dir))) {
      NodeAddress a = c.node(0);
      NodeAddress b = c.node(1);
      assertEquals(201, c.send(a, "PUT", "/key-value-store/lost", "{\"value\":1}").status());
      for (int i = 0; i < 5; i++) {
        assertEquals(201, c.send(a, "PUT", "/key-value-store/later" + i, "{\"value\":1}")
            .status());
      }
      await().atMost(Duration.ofSeconds(10)).until(() -> c.store(b).get("later4") != null
          && c.store(b).get("lost") != null);
      c.store(b).remove("lost");
      c.kill(b);
      c.network((from, to, route) -> from.equals(to) ? 0 : -1);
      c.start(b);
      c.network((from, to, route) -> 0);

      await("anti-entropy gives it back").atMost(Duration.ofSeconds(30))
          .pollInterval(Duration.ofMillis(200)).untilAsserted(() -> {
            var get = c.send(b, "GET", "/key-value-store/lost", null);
            assertEquals(200, get.status(), b + ": " + get);
            assertEquals(1, json(get).get("value").asInt());
          });
    }
  }
}
