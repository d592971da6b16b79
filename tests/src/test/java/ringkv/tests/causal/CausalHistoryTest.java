package ringkv.tests.causal;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import ringkv.tests.causal.CausalChecker.Op;
import ringkv.tests.causal.CausalChecker.Violation;
import ringkv.tests.support.LocalCluster;

/*
 * Goal: a real cluster is causally consistent for real clients (issue 3 item 5, SPEC §6):
 * read-your-writes, monotonic reads, writes-follow-reads and cross-key causality hold across
 * shards, forwarding, and the SIGKILL and restart of a replica.
 * Method: 4 node processes with SHARD_COUNT=2; 3 client threads, each with its own causal
 * metadata, do 300 random operations (45% get, 40% put, 15% delete) over 20 keys through
 * random nodes: about 100 each with every node up, then one node (a replica of one shard) is
 * killed (SIGKILL) under their feet, requests in flight; they go on until op 200 with it down;
 * then it is restarted (it catches up from its shard peer) and ops 201-300 start as soon as it
 * answers again, so they meet it while it catches up and after. Every
 * operation, errors included (503 "Unable to satisfy request", -1 no answer from the killed
 * node), is recorded and the whole history goes through CausalChecker, which must find nothing.
 * Seed: -Dcausal.seed (printed). Processes are reaped in @AfterEach.
 */
@Tag("chaos")
class CausalHistoryTest {
  private static final int CLIENTS = 3;
  private static final int OPS_PER_PHASE = 100;
  private static final int KEYS = 20;
  private static final Duration PHASE_TIMEOUT = Duration.ofSeconds(60);

  private LocalCluster cluster;
  private ExecutorService pool;

  @AfterEach
  void reap() throws InterruptedException {
    if (pool != null) {
      pool.shutdownNow();
      pool.awaitTermination(10, TimeUnit.SECONDS);
    }
    if (cluster != null) {
      cluster.close();
    }
  }

  @Test
  void historyWithAReplicaKilledAndRestartedIsCausallyConsistent() throws Exception {
    long seed = Long.getLong("causal.seed", ThreadLocalRandom.current().nextLong(1L << 32));
    long startNs = System.nanoTime();
    cluster = LocalCluster.builder(getClass().getSimpleName()).nodes(4).shards(2).start();
    int victim = new Random(seed).nextInt(cluster.size());
    List<Op> history = Collections.synchronizedList(new ArrayList<>());
    AtomicInteger done = new AtomicInteger();
    CountDownLatch victimDownPhaseDone = new CountDownLatch(CLIENTS);
    CountDownLatch victimBack = new CountDownLatch(1);
    pool = Executors.newFixedThreadPool(CLIENTS);
    List<Future<?>> clients = new ArrayList<>();
    for (int c = 0; c < CLIENTS; c++) {
      RecordingClient client = new RecordingClient("c" + c, history);
      Random random = new Random(seed * 31 + c);
      clients.add(pool.submit(() -> {
        for (int i = 0; i < 3 * OPS_PER_PHASE; i++) {
          if (i == 2 * OPS_PER_PHASE) {
            victimDownPhaseDone.countDown();
            if (!victimBack.await(PHASE_TIMEOUT.toSeconds(), TimeUnit.SECONDS)) {
              throw new AssertionError("the victim was not restarted");
            }
          }
          randomOp(client, random);
          done.incrementAndGet();
        }
        return null;
      }));
    }
    String context = "seed=" + seed + " (replay: -Dcausal.seed=" + seed + ") victim="
        + cluster.node(victim);
    await(context + ": clients under way").atMost(PHASE_TIMEOUT)
        .pollInterval(Duration.ofMillis(5))
        .until(() -> done.get() >= CLIENTS * OPS_PER_PHASE);
    cluster.stop(victim); // SIGKILL while requests are in flight
    int opsAtKill = done.get();
    assertTrue(victimDownPhaseDone.await(PHASE_TIMEOUT.toSeconds(), TimeUnit.SECONDS),
        context + ": clients stuck while the victim was down");
    cluster.start(victim);
    int opsAtRestart = done.get();
    victimBack.countDown();
    for (Future<?> f : clients) {
      f.get(PHASE_TIMEOUT.toSeconds(), TimeUnit.SECONDS);
    }
    List<Op> recorded;
    synchronized (history) {
      recorded = List.copyOf(history);
    }
    assertEquals(CLIENTS * 3 * OPS_PER_PHASE, recorded.size(), context);
    List<Violation> violations = CausalChecker.check(recorded);
    System.out.printf("causal history: %s ops at kill=%d at restart=%d %s violations=%d"
            + " in %d ms%n", context, opsAtKill, opsAtRestart, CausalChecker.summary(recorded),
        violations.size(), TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startNs));
    assertTrue(violations.isEmpty(), context + ": " + violations.size() + " violations, first: "
        + violations.subList(0, Math.min(10, violations.size())));
  }

  private void randomOp(RecordingClient client, Random random) {
    String node = cluster.node(random.nextInt(cluster.size()));
    String key = "key" + random.nextInt(KEYS);
    client.randomOp(node, key, random);
  }
}
