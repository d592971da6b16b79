package ringkv.gossip.sim;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import ringkv.gossip.ContextBound;
import ringkv.gossip.ReplicationQueue.Limits;

/*
 * Goal: a client's causal context stays bounded however long it runs and however many keys it
 * touches (SPEC §6 "The causal context stays bounded"; issue 3 item 2): context entries at or
 * below their shard's stable time are pruned by the serving replica, so what remains is only
 * what was written within the stability lag.
 * Method: deterministic simulation on a perfect network, one client doing 100,000 mixed
 * operations (45% get, 40% put, 15% delete) over 10,000 keys at random replicas of one shard of
 * two replicas, then of two shards of two replicas, with the real node's timings (heartbeat
 * 250 ms, tombstone sweep 2 s, 10 ms ticks); the full safety checker runs throughout. Asserts
 * that every operation completed, that the run is safe and converges, and that the context
 * never reaches CONTEXT_BOUND; prints the max and mean context size. Seed: -Dsim.seed.
 */
class BoundedContextTest {
  private static final int OPS = 100_000;
  private static final int KEYS = 10_000;
  /**
   * The bound. A reply's context keeps up to {@link ContextBound#ENTRIES_MAX} entries as they
   * are, and beyond that only entries that are not stable yet. The client does at most one
   * operation per tick, hence at most one write per tick. An entry (k, v) is unstable until the
   * serving replica knows that the stable time of k's shard reached v: the write's batch leaves
   * on the next tick and is acked within two more (1 ms links), each replica then reports its
   * localStable within one heartbeat (25 ticks), and the report arrives a tick later. So about
   * 30 keys written in that window are unstable at any time (a read adds the key read and the
   * deps of its write, also from that window). Independent of the key count and the run's
   * length: 16 + 60 leaves twice the room for the schedule's jitter.
   */
  private static final int CONTEXT_BOUND = ContextBound.ENTRIES_MAX + 60;
  private static final ThreadMXBean CPU = ManagementFactory.getThreadMXBean();

  @ParameterizedTest(name = "{0} shard(s)")
  @ValueSource(ints = {1, 2})
  void contextStaysBoundedOverAHundredThousandOperations(int shards) {
    long seed = Long.getLong("sim.seed", 42L);
    SimConfig config = SimConfig.faultFree(shards, 2, 1, KEYS, Limits.defaults());
    long startNs = System.nanoTime();
    long startCpuNs = CPU.getCurrentThreadCpuTime();
    SimResult result = new SimCluster(seed, ReplicaBug.NONE, config).runFaultFree(OPS);
    long elapsedMs = (System.nanoTime() - startNs) / 1_000_000;
    long cpuMs = (CPU.getCurrentThreadCpuTime() - startCpuNs) / 1_000_000;
    SimResult.Stats stats = result.stats();
    System.out.printf("bounded context: %d shard(s), seed %d, %d ms (cpu %d ms), %d ticks: ops=%d"
            + " (reads=%d writes=%d no-op deletes=%d unavailable=%d) tombstones collected=%d"
            + " context max=%d mean=%.1f (bound %d)%n", shards, seed, elapsedMs, cpuMs,
        result.tick(),
        stats.reads() + stats.writes() + stats.noOpDeletes() + stats.unavailableDependency()
            + stats.unavailableQueueFull(), stats.reads(), stats.writes(), stats.noOpDeletes(),
        stats.unavailableDependency() + stats.unavailableQueueFull(),
        stats.tombstonesCollected(), stats.contextSizeMax(), stats.contextSizeMean(),
        CONTEXT_BOUND);
    assertTrue(result.passed(), "replay with -Dsim.seed=" + seed + "\n" + result.report());
    long completed = stats.reads() + stats.writes() + stats.noOpDeletes();
    assertTrue(completed >= OPS, "seed=" + seed + ": only " + completed + " completed");
    assertTrue(stats.tombstonesCollected() > 0, "seed=" + seed + ": nothing collected");
    assertTrue(stats.contextSizeMax() < CONTEXT_BOUND, "seed=" + seed + ": context reached "
        + stats.contextSizeMax() + " entries, bound " + CONTEXT_BOUND);
  }
}
