package ringkv.node.storage;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import ringkv.gossip.CausalContext;
import ringkv.gossip.Entry;
import ringkv.gossip.Version;

/*
 * Goal: a measurement, not a check (issue 15 asks sync to keep at least half of os's
 * throughput with 32 writers): what group commit costs at the store itself, without HTTP, the
 * event loop or the load generator, which share the machine's two cores with the nodes in the
 * cluster benchmark (bench/durability-modes.sh). Tagged "measure": never part of a build.
 * Method: for each DURABILITY mode in turn (twice, alternated), N threads each put a 100-byte
 * value and wait for whenDurable() before the next, for a few seconds, on a store in
 * -Dmeasure.dir (default /var/tmp: a disk, not a tmpfs); prints writes/s, syncs, the mean sync
 * time and writes per sync. Run: mvn -B -pl node -am verify -Dtest=GroupCommitMeasurement
 * -DexcludedGroups=none -Dsurefire.failIfNoSpecifiedTests=false (-Dmeasure.threads=32,
 * -Dmeasure.seconds=5).
 */
@Tag("measure")
class GroupCommitMeasurement {
  private static final String VALUE = "\"" + "x".repeat(98) + "\"";

  @Test
  void writesPerSecondOfEachModeWithThreadsWaitingForTheirWrite() throws Exception {
    Path root = Path.of(System.getProperty("measure.dir", "/var/tmp"));
    int threads = Integer.getInteger("measure.threads", 32);
    int seconds = Integer.getInteger("measure.seconds", 5);
    List<String> lines = new ArrayList<>();
    for (int round = 1; round <= 2; round++) {
      for (DurabilityMode mode : List.of(DurabilityMode.OS, DurabilityMode.PERIODIC,
          DurabilityMode.SYNC)) {
        lines.add("round " + round + " " + measure(root, mode, threads, seconds));
      }
    }
    System.out.println("[group-commit] " + threads + " threads, " + seconds + " s each, load "
        + "average " + Files.readString(Path.of("/proc/loadavg")).strip());
    lines.forEach(l -> System.out.println("[group-commit] " + l));
  }

  private static String measure(Path root, DurabilityMode mode, int threads, int seconds)
      throws Exception {
    Path dir = Files.createTempDirectory(root, "ringkv-group-commit-");
    try (RocksDbStore store = new RocksDbStore(dir, StoreOptions.of(mode))) {
      AtomicLong written = new AtomicLong();
      long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
      ExecutorService pool = Executors.newFixedThreadPool(threads);
      List<Future<?>> done = new ArrayList<>();
      for (int t = 0; t < threads; t++) {
        int thread = t;
        done.add(pool.submit(() -> {
          for (int i = 0; System.nanoTime() < end; i++) {
            store.put(Entry.value("t" + thread + "-" + i % 10_000, VALUE, new Version(i + 1, "n"),
                CausalContext.EMPTY));
            store.whenDurable().toCompletableFuture().join();
            written.incrementAndGet();
          }
          return null;
        }));
      }
      for (Future<?> f : done) {
        f.get(seconds + 60L, TimeUnit.SECONDS);
      }
      pool.shutdown();
      SyncStats s = store.syncStats();
      assertTrue(written.get() > 0);
      return String.format("%-8s %,8d writes/s  syncs %,7d  mean sync %,6d us  writes per sync "
          + "%.1f", mode.label(), written.get() / seconds, s.syncs(),
          s.syncs() == 0 ? 0 : s.syncMicrosTotal() / s.syncs(),
          s.syncs() == 0 ? 0.0 : (double) s.writes() / s.syncs());
    } finally {
      try (Stream<Path> files = Files.walk(dir)) {
        for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
          Files.deleteIfExists(p);
        }
      } catch (IOException e) {
        System.err.println("cannot delete " + dir + ": " + e);
      }
    }
  }
}
