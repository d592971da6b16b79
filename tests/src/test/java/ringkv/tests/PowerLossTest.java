package ringkv.tests;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import ringkv.tests.support.Commands;
import ringkv.tests.support.Http;
import ringkv.tests.support.LocalCluster;
import ringkv.tests.support.LoopDisk;

/*
 * Goal: what a power loss costs in each DURABILITY mode (issue 15; SPEC §6): in sync, no
 * acknowledged write is lost, neither when one node loses power nor when every replica of a
 * shard does at once; in periodic, only writes acknowledged in about the last FSYNC_INTERVAL_MS
 * may be lost; os loses acknowledged writes, which also proves that the test can fail.
 *
 * Method: a real power loss, not a SIGKILL. The nodes' DATA_DIRs are on one ext4 file system in
 * a loop-mounted image (LoopDisk; commit=60, so nothing reaches the image unless a process syncs
 * it or 30 s pass). Writers PUT new keys (one key per write) through every node and record each
 * acknowledgement and its time. In the middle of the writes every node is killed with one
 * SIGKILL and the image is copied at once: the copy holds only what reached the device, as
 * after a power loss of the machine. The copy is mounted in place of the disk (its journal
 * replays), the nodes restart on it, the replicas converge (equal key counts), and every
 * acknowledged key is read back. One node: the single node loses power. Two nodes, one shard:
 * the whole shard loses power, so no replica can give a lost write back.
 * During a reshard (sync only): two nodes (one shard of two replicas, view-change dialect) hold
 * the acknowledged keys; a view change adds two idle nodes as a second shard, so about half the
 * keys move to the new nodes and their old owners drop them; at once after the change committed
 * (its 200), every node loses power. The receivers synced what they received before the senders
 * deleted it, so after the restart every acknowledged key is there, at its new owners.
 * Needs root and loop devices (skipped, with the reason, elsewhere).
 */
@Tag("power-loss")
class PowerLossTest {
  private static final String STORE = "/key-value-store/";
  private static final long DISK_BYTES = 512L << 20;
  private static final int WRITERS = 4;
  /** Writes acknowledged before the power loss, at least. */
  private static final int ACKED_MIN = 1_500;
  private static final long FSYNC_INTERVAL_MS = 1_000;
  /** periodic: a write acknowledged this long before the loss was synced (interval + slack). */
  private static final long PERIODIC_WINDOW_MS = FSYNC_INTERVAL_MS + 1_000;
  private static final Duration SETTLE = Duration.ofSeconds(60);

  @ParameterizedTest(name = "DURABILITY={0}")
  @ValueSource(strings = {"sync", "periodic", "os"})
  void oneNodeLosesPower(String mode) throws Exception {
    powerLoss(mode, 1);
  }

  @ParameterizedTest(name = "DURABILITY={0}")
  @ValueSource(strings = {"sync", "periodic", "os"})
  void everyReplicaOfAShardLosesPower(String mode) throws Exception {
    powerLoss(mode, 2);
  }

  /** Keys written before the reshard whose power loss follows it. */
  private static final int RESHARD_KEYS = 600;

  @org.junit.jupiter.api.Test
  void everyNodeLosesPowerRightAfterAReshard() throws Exception {
    try (LoopDisk disk = LoopDisk.create(DISK_BYTES);
        LocalCluster cluster = LocalCluster.builder("PowerLossTest-reshard").nodes(2)
            .replFactor(2).idleNodes(2).dataDirs(disk.mountPoint()).env("DURABILITY", "sync")
            .startTimeout(Duration.ofSeconds(120)).start()) {
      Map<String, Long> acked = new ConcurrentHashMap<>();
      for (int n = 0; n < RESHARD_KEYS; n++) {
        String key = "r-" + n;
        Http.Reply r = Http.send("PUT", cluster.node(n % 2), STORE + key,
            "{\"value\":" + n + "}");
        assertEquals(201, r.status(), key + ": " + r);
        acked.put(key, System.nanoTime());
      }
      Http.Reply change = Kvs.viewChange(cluster.node(0), cluster.addresses(), 2);
      assertEquals(200, change.status(), change.toString());
      assertEquals(2, change.field("shards").size(), change.toString());
      cutPower(cluster, disk); // right after the commit: the old owners dropped the moved keys
      cluster.startAll();
      await("every acknowledged key back").atMost(SETTLE).pollInterval(Duration.ofSeconds(1))
          .untilAsserted(() -> assertEquals(Map.of(), lost(cluster, acked),
              "acknowledged writes lost by a power loss right after a reshard"));
      // What the old owners held: their drop of the moved keys is not synced before the change's
      // answer, so the power loss can bring some of it back; the sweep of leftover copies at
      // start-up (ChangeParticipant.sweepLeftovers) drops it again, so every key is held by
      // exactly its two replicas (GET /kvs/key-count counts what a node holds of its shard).
      await("leftover copies swept").atMost(SETTLE).pollInterval(Duration.ofSeconds(1))
          .untilAsserted(() -> {
            long total = 0;
            for (String node : cluster.addresses()) {
              total += Kvs.keyCount(node).field("key-count").asLong();
            }
            assertEquals(2L * acked.size(), total, "keys held over all nodes");
          });
      System.out.printf("[power-loss] reshard 1->2 shards DURABILITY=sync acknowledged=%d "
          + "lost=0 keys held over all nodes=%d%n", acked.size(), 2L * acked.size());
    }
  }

  private void powerLoss(String mode, int nodes) throws Exception {
    try (LoopDisk disk = LoopDisk.create(DISK_BYTES);
        LocalCluster cluster = LocalCluster.builder("PowerLossTest").nodes(nodes).shards(1)
            .dataDirs(disk.mountPoint()).env("DURABILITY", mode)
            .env("FSYNC_INTERVAL_MS", Long.toString(FSYNC_INTERVAL_MS)).start()) {
      Map<String, Long> acked = new ConcurrentHashMap<>(); // key -> nanoTime of its answer
      AtomicBoolean stop = new AtomicBoolean();
      ExecutorService writers = Executors.newFixedThreadPool(WRITERS);
      long lossNanos;
      try {
        for (int w = 0; w < WRITERS; w++) {
          int writer = w;
          writers.submit(() -> write(cluster, writer, stop, acked));
        }
        await("acknowledged writes").atMost(SETTLE).until(() -> acked.size() >= ACKED_MIN);
        lossNanos = System.nanoTime();
        cutPower(cluster, disk); // while the writers write
      } finally {
        stop.set(true);
        writers.shutdown();
        assertTrue(writers.awaitTermination(60, TimeUnit.SECONDS), "writers stopped");
      }
      cluster.startAll();
      awaitReplicasAgree(cluster);
      Map<String, Long> lost = lost(cluster, acked);
      long lostOld = lost.values().stream()
          .filter(t -> lossNanos - t > TimeUnit.MILLISECONDS.toNanos(PERIODIC_WINDOW_MS)).count();
      System.out.printf("[power-loss] nodes=%d DURABILITY=%s acknowledged=%d lost=%d (of which "
          + "acknowledged over %d ms before the loss: %d)%n", nodes, mode, acked.size(),
          lost.size(), PERIODIC_WINDOW_MS, lostOld);
      switch (mode) {
        case "sync" -> assertEquals(Map.of(), lost, "acknowledged writes lost in sync mode");
        case "periodic" -> assertEquals(0, lostOld, "periodic lost writes acknowledged more "
            + "than " + PERIODIC_WINDOW_MS + " ms before the power loss");
        default -> assertTrue(lost.size() > 0, "os mode lost nothing: the power loss did not "
            + "drop unsynced data, so this test could not catch a missing sync");
      }
    }
  }

  /** One writer: new keys, round robin over the nodes, until stopped; records acknowledgements. */
  private static Void write(LocalCluster cluster, int writer, AtomicBoolean stop,
      Map<String, Long> acked) {
    for (int n = 0; !stop.get(); n++) {
      String key = "w" + writer + "-" + n;
      try {
        Http.Reply r = Http.send("PUT", cluster.node((writer + n) % cluster.size()),
            STORE + key, "{\"value\":" + n + "}");
        if (r.status() == 200 || r.status() == 201) {
          acked.put(key, System.nanoTime());
        }
      } catch (AssertionError refused) {
        // the node is down (the power loss): not acknowledged
      }
    }
    return null;
  }

  /** Every node SIGKILLed at once (one kill(1)), then the disk's power cut (image copied). */
  private static void cutPower(LocalCluster cluster, LoopDisk disk) {
    List<String> kill = new ArrayList<>(List.of("kill", "-KILL"));
    for (int i = 0; i < cluster.size(); i++) {
      kill.add(Long.toString(cluster.pid(i)));
    }
    Commands.run(Duration.ofSeconds(10), kill.toArray(String[]::new)).checked("kill");
    for (int i = 0; i < cluster.size(); i++) {
      cluster.stop(i); // reaps it
    }
    disk.powerCycle();
  }

  /** Waits until every replica reports the same key count (restarted replicas caught up). */
  private static void awaitReplicasAgree(LocalCluster cluster) {
    await("replicas agree").atMost(SETTLE).pollInterval(Duration.ofMillis(500))
        .untilAsserted(() -> {
          Set<Long> counts = new TreeSet<>();
          for (String node : cluster.addresses()) {
            counts.add(Http.get(node, "/key-value-store-shard/shard-id-key-count/1")
                .field("shard-id-key-count").asLong());
          }
          assertEquals(1, counts.size(), "key counts " + counts);
        });
  }

  /** The acknowledged writes the cluster no longer has (key -> time of its answer). */
  private static Map<String, Long> lost(LocalCluster cluster, Map<String, Long> acked) {
    Map<String, Long> lost = new TreeMap<>();
    for (Map.Entry<String, Long> e : acked.entrySet()) {
      Http.Reply r = Http.get(cluster.node(0), STORE + e.getKey());
      String key = e.getKey();
      long n = Long.parseLong(key.substring(key.indexOf('-') + 1));
      if (r.status() == 404) {
        lost.put(key, e.getValue());
      } else {
        assertEquals(200, r.status(), key + ": " + r);
        JsonNode value = r.field("value");
        assertEquals(n, value.asLong(), key);
      }
    }
    return lost;
  }
}
