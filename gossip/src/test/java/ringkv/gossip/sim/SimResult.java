package ringkv.gossip.sim;

import ringkv.gossip.sim.SimNetwork.Counters;

/**
 * The outcome of one simulated run: its seed, counters, and the violation that stopped it (null
 * when every safety and liveness check passed) together with the cluster's status at that moment.
 */
public record SimResult(
    long seed,
    ReplicaBug bug,
    SimConfig config,
    Stats stats,
    SimViolation violation,
    long tick,
    String phase,
    String status) {

  /**
   * What happened in a run: client operations by outcome (unavailable because a replication
   * queue was full, or because a dependency did not arrive in time; a write cancelled by the
   * healed phase counts as the latter), pulls sent, how often every replica of a shard came to
   * hold a (newer) tombstone of a key, tombstones collected, reads of "nothing" at a collected
   * tombstone by a client that knew a value of the key, the largest and the mean size of a
   * client's context after an operation, network counters, healed ticks until convergence
   * (-1 if it was not reached), processes killed, and writes that went ahead after waiting in
   * vain for a dependency; operations refused because a view change stopped their replica or
   * moved their key; view changes started, committed, aborted, and those whose coordinator died;
   * operations sent to a replica still copying its shard, cut off from its peers, by a client
   * that had observed nothing (KeyValueCore.servesBeforeCopy); reads served by a node stopped
   * by a view change (KeyValueCore.servesInStop).
   */
  public record Stats(
      long reads,
      long writes,
      long noOpDeletes,
      long unavailableQueueFull,
      long unavailableDependency,
      long pulls,
      long tombstoneFloorsRaised,
      long tombstonesCollected,
      long collectedReads,
      long contextSizeMax,
      double contextSizeMean,
      Counters network,
      long ticksToConverge,
      long crashes,
      long writesAfterWait,
      long unavailableViewChange,
      long viewChangesStarted,
      long viewChangesCommitted,
      long viewChangesAborted,
      long coordinatorsLost,
      long servedBeforeCopy,
      long servedInStop) {}

  public boolean passed() {
    return violation == null;
  }

  /** A report for a failure message: how to replay, what broke, and every node's status. */
  public String report() {
    return "seed=" + seed + " bug=" + bug + " phase=" + phase + " tick=" + tick
        + " (replay: -Dsim.seed=" + seed + ")\n"
        + (violation == null ? "passed" : violation.getMessage()) + "\n"
        + config + "\n" + stats + "\n" + status;
  }
}
