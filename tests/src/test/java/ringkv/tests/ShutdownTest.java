package ringkv.tests;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import ringkv.tests.support.Http;
import ringkv.tests.support.Http.Reply;
import ringkv.tests.support.LocalCluster;

/*
 * Goal: SIGTERM stops a node gracefully (issue 6 item 6): it exits promptly, logs its shutdown
 * with nothing left unacknowledged in its replication queue, and the writes it acknowledged are
 * on its peer; restarted, it serves again.
 *
 * Method: 2 real nodes in one shard; writes through node 0, SIGTERM to node 0 right after, then
 * its exit code, its log and its peer's data are checked.
 */
class ShutdownTest {

  @Test
  void sigtermDrainsAndExits() throws Exception {
    try (LocalCluster cluster = LocalCluster.builder("ShutdownTest").nodes(2).shards(1).start()) {
      for (int i = 0; i < 50; i++) {
        Reply r = Http.put(cluster.node(0), "/key-value-store/s" + i, Http.obj("value", i));
        assertEquals(201, r.status(), r.toString());
      }
      long start = System.nanoTime();
      int exit = cluster.terminate(0);
      long ms = (System.nanoTime() - start) / 1_000_000;
      assertEquals(143, exit, "killed by SIGTERM after a clean shutdown (128 + 15)");
      assertTrue(ms < 8_000, "took " + ms + " ms");
      String log = Files.readString(cluster.log(0));
      assertTrue(log.contains("event=shutdown") && log.contains("unacknowledged-writes=0"),
          cluster.logTail(0));
      for (int i = 0; i < 50; i++) {
        Reply r = Http.get(cluster.node(1), "/key-value-store/s" + i);
        assertEquals(200, r.status(), r.toString());
        assertEquals(i, r.field("value").asInt());
      }
      cluster.start(0);
      await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> assertEquals(200,
          Http.get(cluster.node(0), "/key-value-store/s7").status()));
    }
  }
}
