package ringkv.node.inprocess;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.IntFunction;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import ringkv.ring.NodeAddress;

/*
 * Goal: a replica that copies its shard after a restart without data never copies it from
 * another replica that is itself copying it without data (which holds part of the shard at
 * most): it waits for a replica that holds the data, and then has all of it. Before the fix a
 * catching-up node answered every page request from whatever it held, so two replicas restarted
 * empty at once copied each other's nothing and served without the shard's keys.
 * Method: three nodes in this JVM, one shard; node 0 keeps a DATA_DIR, nodes 1 and 2 keep
 * nothing; anti-entropy off (it would repair the loss later and hide it). 30 keys written and
 * held by node 0; all three stopped; nodes 1 and 2 started while node 0 is down: they must stay
 * not ready (without the fix both are ready within a retry). Then node 0 starts; 1 and 2 must
 * become ready and serve every key with its value at once.
 */
class CopyWithoutDataTest {
  private static final int KEYS = 30;

  @TempDir
  Path data;

  @Test
  void replicasRestartedWithoutDataWaitForOneThatHoldsTheShard() throws Exception {
    IntFunction<InProcessCluster.NodeSetup> setup = i -> i == 0
        ? InProcessCluster.NodeSetup.durableUnder(data).apply(i)
        : InProcessCluster.NodeSetup.PLAIN;
    Map<String, String> env = Map.of("SHARD_COUNT", "1", "ANTI_ENTROPY_INTERVAL_MS", "3600000");
    try (InProcessCluster c = new InProcessCluster(3, env, setup)) {
      NodeAddress holder = c.node(0);
      List<NodeAddress> empty = List.of(c.node(1), c.node(2));
      c.writeKeys(KEYS);
      await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertAllKeys(c, holder));
      empty.forEach(c::kill);
      c.kill(holder);

      List<CompletableFuture<Void>> starts = empty.stream()
          .map(n -> CompletableFuture.runAsync(() -> c.start(n))).toList();
      await().atMost(Duration.ofSeconds(20)).until(() -> empty.stream().allMatch(c::live));
      // The one replica holding the data is down: nobody may end its copy.
      await().during(Duration.ofMillis(1_500)).atMost(Duration.ofSeconds(3))
          .until(() -> starts.stream().noneMatch(CompletableFuture::isDone));

      c.start(holder);
      CompletableFuture.allOf(starts.toArray(CompletableFuture[]::new))
          .get(60, TimeUnit.SECONDS);
      for (NodeAddress n : empty) {
        assertAllKeys(c, n);
      }
    }
  }

  private static void assertAllKeys(InProcessCluster c, NodeAddress n) {
    for (int k = 0; k < KEYS; k++) {
      InProcessCluster.Answer a = c.send(n, "GET", "/key-value-store/k" + k, null);
      assertEquals(200, a.status(), n + " k" + k + ": " + a);
      assertTrue(a.body().contains("\"value\":" + k + "}") || a.body().contains("\"value\":" + k
          + ","), n + " k" + k + ": " + a);
    }
  }
}
