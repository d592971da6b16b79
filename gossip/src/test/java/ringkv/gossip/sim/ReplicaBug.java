package ringkv.gossip.sim;

/**
 * Deliberately broken replica variants. The simulation runs them to prove that its checker is
 * not toothless: each bug must be caught, and by the check named here.
 */
public enum ReplicaBug {
  /** The correct protocol core. */
  NONE(""),
  /** Serves reads and writes without waiting for the client's dependencies (ignores missing). */
  SERVES_WITHOUT_DEPENDENCIES("causality/context"),
  /**
   * Stores replicated and pulled writes without their dependencies, so readers' contexts do not
   * absorb them. The code's own context check cannot see this; only the history model can.
   */
  FORGETS_DEPENDENCIES("causality/model"),
  /** Stores every replicated write, even one older than what it holds (no last-writer-wins). */
  APPLIES_OLDER_VERSIONS("monotonic"),
  /**
   * Collects a tombstone once its own shard is stable, ignoring whether its dependencies on
   * other shards are (what {@code Replica.collectTombstones(long)} did before it demanded
   * dependency-free tombstones): a client that reads "not found" after a value loses the
   * delete's causes.
   */
  COLLECTS_WITH_UNSTABLE_DEPS("causality/model"),
  /**
   * Merges pulled entries without the stale check ({@code Replica.apply}), as the node once did
   * with a pull's answer: a pull answer that
   * arrives after the key's tombstone was collected brings the old value back.
   */
  PULLS_IGNORE_STABILITY("tombstone/resurrected");

  private final String caughtBy;

  ReplicaBug(String caughtBy) {
    this.caughtBy = caughtBy;
  }

  /** The kind of {@link SimViolation} that must catch this bug. */
  public String caughtBy() {
    return caughtBy;
  }
}
