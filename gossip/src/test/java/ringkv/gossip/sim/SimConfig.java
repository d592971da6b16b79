package ringkv.gossip.sim;

import static com.google.common.base.Preconditions.checkArgument;

import java.util.Objects;
import java.util.Random;
import ringkv.gossip.ReplicationQueue.Limits;

/**
 * The shape and tunables of one simulated cluster, all drawn from the run's seed: shards of
 * replicas, clients, the key set, the tick length, the phases' lengths, the driver's timeouts and
 * the replication queue's (deliberately small) limits. Units are last in every name.
 *
 * @param shards             shards at the start; keys hash to shards on the real ring
 * @param replicasPerShard   replicas of every shard
 * @param clients            simulated clients
 * @param keys               size of the key set
 * @param tickMs             simulated milliseconds per step
 * @param faultTicks         length of the faults phase
 * @param healTicksMax       the liveness bound: the healed cluster must converge within it
 * @param faultChangeTicksMax the network changes options and partitions at most this far apart
 * @param batchTimeoutMs     a batch unacknowledged this long is reported failed to the queue
 * @param pullEveryTicks     a client op waiting for a dependency re-sends its pulls this often
 * @param opTimeoutTicks     a client op waiting longer fails as unavailable (a 503, allowed)
 * @param opProbability      chance that an idle client starts an operation in a tick
 * @param clockSkewMsMax     a node's wall clock is ahead of the global clock by up to this
 * @param heartbeatEveryTicks every node sends its {@code localStable} to every other node this
 *                           often (the real node: HEARTBEAT_INTERVAL_MS, 250 ms = 25 ticks)
 * @param sweepEveryTicks    every node collects tombstones at its shard's stable time this often
 *                           (the real node: every 2 s = 200 ticks)
 * @param limits             every replica's replication queue limits
 * @param aeEveryTicks       every node starts an anti-entropy round with a peer this often
 *                           (the real node: ANTI_ENTROPY_INTERVAL_MS, 10 s = 1,000 ticks)
 * @param crashEveryTicksMax in the faults phase a process dies or comes back at most this far
 *                           apart (0: no process ever dies)
 * @param durableProbability chance that a node keeps its data on disk (DATA_DIR) across a crash
 * @param viewChangeEveryTicksMax in the faults phase a view change (a reshard or a node moved to
 *                           another shard) starts at most this far apart when none is under
 *                           way (0: the configuration never changes)
 */
public record SimConfig(
    int shards,
    int replicasPerShard,
    int clients,
    int keys,
    long tickMs,
    int faultTicks,
    int healTicksMax,
    int faultChangeTicksMax,
    long batchTimeoutMs,
    int pullEveryTicks,
    int opTimeoutTicks,
    double opProbability,
    long clockSkewMsMax,
    int heartbeatEveryTicks,
    int sweepEveryTicks,
    Limits limits,
    int aeEveryTicks,
    int crashEveryTicksMax,
    double durableProbability,
    int viewChangeEveryTicksMax) {

  public SimConfig {
    checkArgument(shards >= 1 && replicasPerShard >= 1 && clients >= 1 && keys >= 1);
    checkArgument(tickMs >= 1 && faultTicks >= 0 && healTicksMax >= 1);
    checkArgument(faultChangeTicksMax >= 1 && batchTimeoutMs >= 1);
    checkArgument(pullEveryTicks >= 1 && opTimeoutTicks >= 1);
    checkArgument(opProbability > 0 && opProbability <= 1 && clockSkewMsMax >= 0);
    checkArgument(heartbeatEveryTicks >= 1 && sweepEveryTicks >= 1);
    Objects.requireNonNull(limits, "limits");
    checkArgument(aeEveryTicks >= 1 && crashEveryTicksMax >= 0);
    checkArgument(durableProbability >= 0 && durableProbability <= 1);
    checkArgument(viewChangeEveryTicksMax >= 0);
  }

  /**
   * This shape without process crashes, with the real node's timings at 10 ms a tick: heartbeats
   * every 250 ms (HEARTBEAT_INTERVAL_MS) = 25 ticks, tombstone sweeps every 2 s = 200 ticks,
   * anti-entropy every 10 s (ANTI_ENTROPY_INTERVAL_MS) = 1,000 ticks.
   */
  public static SimConfig faultFree(int shards, int replicasPerShard, int clients, int keys,
      Limits limits) {
    return new SimConfig(shards, replicasPerShard, clients, keys, 10, 0, 2_000, 300, 700, 5,
        30, 1.0, 0, 25, 200, limits, 1_000, 0, 0, 0);
  }

  /**
   * A cluster shape drawn from {@code random}: 1 or 2 shards of 2 to 4 replicas (the view changes
   * of half the runs reshard it or move nodes). Heartbeats and
   * sweeps are much more frequent than the real node's (relative to the 2,000-tick faults phase)
   * so that stability, pruning and tombstone collection happen many times in every run.
   */
  public static SimConfig random(Random random) {
    return random(random, Boolean.getBoolean("sim.viewChanges"));
  }

  /** As {@link #random(Random)}, with view changes in half the runs when {@code viewChanges}. */
  public static SimConfig random(Random random, boolean viewChanges) {
    int shards = 1 + random.nextInt(2);
    int replicasPerShard = 2 + random.nextInt(shards == 1 ? 3 : 2);
    int clients = 3 + random.nextInt(3);
    long retryDelayMsMin = 10 + random.nextInt(21);
    Limits limits = new Limits(2 + random.nextInt(6), 1 + random.nextInt(3), retryDelayMsMin,
        retryDelayMsMin + 200 + random.nextInt(300));
    int heartbeatEveryTicks = 2 + random.nextInt(20);
    int sweepEveryTicks = 5 + random.nextInt(50);
    int aeEveryTicks = 20 + random.nextInt(100);
    // Half the runs kill and restart processes; of those, nodes keep their data on disk with
    // probability 0, 1/2 or 1.
    int crashEveryTicksMax = random.nextBoolean() ? 0 : 100 + random.nextInt(300);
    double durable = random.nextInt(3) / 2.0;
    // Half the runs change the configuration a few times during the faults.
    // Off unless -Dsim.viewChanges=true (drawn anyway, so a seed's schedule is the same): the
    // view-change simulation still finds protocol failures (see SimulationTest).
    int viewChangeEveryTicksMax = random.nextBoolean() ? 0 : 300 + random.nextInt(500);
    if (!viewChanges) {
      viewChangeEveryTicksMax = 0;
    }
    return new SimConfig(shards, replicasPerShard, clients, 8, 10, 2_000, 2_000, 300, 700, 5, 30,
        0.3, random.nextInt(1_000), heartbeatEveryTicks, sweepEveryTicks, limits, aeEveryTicks,
        crashEveryTicksMax, durable, viewChangeEveryTicksMax);
  }
}
