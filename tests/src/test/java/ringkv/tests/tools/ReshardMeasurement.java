package ringkv.tests.tools;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import ringkv.tests.support.Http;
import ringkv.tests.support.LocalCluster;

/*
 * Goal: measure a reshard 2 -> 3 of 100,000 keys (or -Dmeasure.keys) on a 6-node local cluster
 * (issue 17 item 3): keys that move against the minimum, bytes copied, the copy's and the whole
 * change's duration, and the figure that matters to clients — the longest time any of them went
 * without a successful read while the change ran (500s, held requests and errors all count),
 * next to the same figure over the same time with no change (the noise floor). A measurement
 * tool, not a timed test: it prints the figures and asserts only correctness (every key counted
 * once afterwards, movement within 1.1x the minimum).
 *
 * Method: 6 real nodes (SHARD_COUNT=2); the keys loaded with 64 concurrent PUTs over all nodes;
 * one reader per node reads random keys (that move and that stay) through that node on a
 * keep-alive connection of its own, one read every 2 ms (-Dmeasure.readEveryMs) or at once when
 * the last took longer, first for the noise floor, then while the change runs: the change is
 * planned (POST /admin/plan) and committed (POST /admin/plan/commit) through one node.
 * Run: mvn -B -pl tests -am verify -Dtest=ReshardMeasurement -DexcludedGroups=none
 *      -Dsurefire.failIfNoSpecifiedTests=false [-Dmeasure.keys=1000000]
 *      "-Dkvs.node.jvm.extra=[-Xmx1g] -XX:-UseSerialGC -XX:+UseG1GC -XX:MaxGCPauseMillis=20"
 * (the collector the README recommends for nodes holding large data sets in memory: with the
 * harness's serial collector the receivers' young collections hold reads 150-260 ms at 1M keys).
 */
@Tag("measure")
class ReshardMeasurement {
  private static final int KEYS = Integer.getInteger("measure.keys", 100_000);
  private static final int IN_FLIGHT = 64;
  private static final long NOISE_MS = 5_000;
  /**
   * A reader starts a read every this often (or at once when the last one took longer): the
   * figure's resolution. Readers that read as fast as they can would load two cores shared by
   * six nodes to saturation, and the figure would be that of an overloaded cluster's queues
   * (the noise floor alone went near a second), not of the change.
   */
  private static final long READ_EVERY_NS = TimeUnit.MILLISECONDS.toNanos(
      Long.getLong("measure.readEveryMs", 2));

  @Test
  void reshardTwoToThree() throws Exception {
    try (LocalCluster cluster = LocalCluster.builder("ReshardMeasurement").nodes(6).shards(2)
        .env("VIEW_CHANGE_TIMEOUT_MS", "60000").startTimeout(Duration.ofSeconds(90)).start()) {
      long loadStart = System.nanoTime();
      MeasurementLoad.loadThroughClient(cluster.node(0), KEYS, IN_FLIGHT);
      long loadMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - loadStart);
      String any = cluster.node(0);
      assertEquals(KEYS, awaitTotal(any, 2));

      long noiseGapMs;
      String noiseGaps;
      try (Readers readers = new Readers(cluster.addresses())) {
        long noiseStart = System.nanoTime();
        Thread.sleep(NOISE_MS); // the readers run for this long: the noise floor's duration
        noiseGapMs = readers.longestGapMs();
        noiseGaps = readers.gaps(noiseStart);
      }
      long planStart = System.nanoTime();
      Http.Reply planned = Http.send("POST", any, "/admin/plan",
          "{\"kind\":\"reshard\",\"shard-count\":3}", Duration.ofMinutes(10));
      long planMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - planStart);
      assertEquals(200, planned.status(), planned.toString());
      JsonNode plan = planned.body();
      long gapMs;
      long requestMs;
      String gaps;
      Http.Reply r;
      try (Readers readers = new Readers(cluster.addresses())) {
        long start = System.nanoTime();
        r = Http.send("POST", any, "/admin/plan/commit",
            "{\"epoch\":" + plan.get("base-epoch").asLong() + "}", Duration.ofMinutes(10));
        requestMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
        readers.awaitReadsAfterNow();
        gapMs = readers.longestGapMs();
        gaps = readers.gaps(start);
      }
      assertEquals(200, r.status(), r.toString());
      long total = awaitTotal(any, 3);
      long moving = plan.get("keys-moving").asLong();
      double minimum = KEYS / 3.0;
      System.out.printf("[reshard 2->3] keys=%d load=%d ms (%.0f writes/s), plan=%d ms%n", KEYS,
          loadMs, KEYS * 1000.0 / loadMs, planMs);
      System.out.printf("[reshard 2->3] keys moving=%d (%.4f of all keys; minimum 1/3; %.3fx the"
          + " minimum), copies sent=%d, bytes=%d (%.1f MiB), change=%d ms, stop (500 window on"
          + " the nodes)=%d ms%n", moving, moving / (double) KEYS, moving / minimum,
          r.body().path("keys-moved").asLong(), r.body().path("bytes-sent").asLong(),
          r.body().path("bytes-sent").asLong() / 1048576.0, requestMs,
          r.body().path("window-ms").asLong());
      System.out.printf("[reshard 2->3] clients: longest time without a successful read=%d ms "
          + "during the change, %d ms over %d ms without a change (noise floor)%n", gapMs,
          noiseGapMs, NOISE_MS);
      System.out.printf("[reshard 2->3] each reader's longest gap, from the reshard request:%s%n",
          gaps);
      System.out.printf("[reshard 2->3] without a change, from the readers' start:%s%n",
          noiseGaps);
      assertEquals(KEYS, total, "every key counted exactly once after the reshard");
      assertTrue(moving <= 1.1 * minimum, "moved " + moving);
    }
  }

  /** One reader per node, reading random keys through it without a pause. */
  private static final class Readers implements AutoCloseable {
    private final List<Thread> threads = new java.util.ArrayList<>();
    private final java.util.concurrent.ConcurrentHashMap<String, long[]> state =
        new java.util.concurrent.ConcurrentHashMap<>();
    private volatile boolean running = true;

    Readers(List<String> nodes) {
      long now = System.nanoTime();
      for (String node : nodes) {
        // last success, longest gap, when it began (ns), failed reads, longest read (ns); the
        // gap under way: its first and last failed read (ns), its failed reads; the longest
        // gap's: first and last failed read after its start (ns), failed reads
        long[] s = {now, 0, now, 0, 0, 0, 0, 0, 0, 0, 0};
        state.put(node, s);
        Thread t = new Thread(() -> read(node, s), "reader-" + node);
        t.setDaemon(true);
        threads.add(t);
        t.start();
      }
    }

    private void read(String node, long[] s) {
      java.util.Random random = new java.util.Random(node.hashCode());
      try (RawGetter getter = new RawGetter(node)) {
        long next = System.nanoTime();
        while (running) {
          readOnce(getter, random, s);
          next += READ_EVERY_NS;
          long wait = next - System.nanoTime();
          if (wait > 0) {
            java.util.concurrent.locks.LockSupport.parkNanos(wait); // the readers' pace
          } else {
            next = System.nanoTime(); // behind: read again at once, do not catch up
          }
        }
      }
    }

    /** One read; a success closes the gap since the last one. */
    private void readOnce(RawGetter getter, java.util.Random random, long[] s) {
      long sent = System.nanoTime();
      int status = getter.get("/key-value-store/k" + random.nextInt(KEYS));
      long now = System.nanoTime();
      synchronized (s) {
        s[4] = Math.max(s[4], now - sent);
        if (status != 200) {
          s[3]++;
          s[5] = s[7] == 0 ? now : s[5];
          s[6] = now;
          s[7]++;
          return;
        }
        if (now - s[0] > s[1]) {
          s[1] = now - s[0];
          s[2] = s[0];
          s[8] = s[7] == 0 ? 0 : s[5] - s[0];
          s[9] = s[7] == 0 ? 0 : s[6] - s[0];
          s[10] = s[7];
        }
        s[0] = now;
        s[7] = 0;
      }
    }

    /** Waits until every reader succeeded once more, so a gap still open is measured. */
    void awaitReadsAfterNow() {
      long now = System.nanoTime();
      org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(60)).until(() ->
          state.values().stream().allMatch(s -> {
            synchronized (s) {
              return s[0] > now;
            }
          }));
    }

    long longestGapMs() {
      long worst = 0;
      for (long[] s : state.values()) {
        synchronized (s) {
          worst = Math.max(worst, s[1]);
        }
      }
      return TimeUnit.NANOSECONDS.toMillis(worst);
    }

    /** Each reader's longest gap: its node, when it began after {@code originNs}, how long. */
    String gaps(long originNs) {
      StringBuilder out = new StringBuilder();
      state.forEach((node, s) -> {
        synchronized (s) {
          out.append(String.format(" %s: +%d ms for %d ms (%d failed reads in it, from +%d to"
              + " +%d ms of it; failed reads %d, longest read %d ms);", node,
              TimeUnit.NANOSECONDS.toMillis(s[2] - originNs), TimeUnit.NANOSECONDS.toMillis(s[1]),
              s[10], TimeUnit.NANOSECONDS.toMillis(s[8]), TimeUnit.NANOSECONDS.toMillis(s[9]),
              s[3], TimeUnit.NANOSECONDS.toMillis(s[4])));
        }
      });
      return out.toString();
    }

    @Override
    public void close() throws InterruptedException {
      running = false;
      for (Thread t : threads) {
        t.join(15_000);
      }
    }
  }

  private static long awaitTotal(String node, int shards) {
    long total = 0;
    for (int s = 1; s <= shards; s++) {
      total += Http.get(node, "/key-value-store-shard/shard-id-key-count/" + s)
          .field("shard-id-key-count").asLong();
    }
    return total;
  }
}
