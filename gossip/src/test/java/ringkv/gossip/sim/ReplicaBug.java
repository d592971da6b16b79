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
  APPLIES_OLDER_VERSIONS("monotonic");

  private final String caughtBy;

  ReplicaBug(String caughtBy) {
    this.caughtBy = caughtBy;
  }

  /** The kind of {@link SimViolation} that must catch this bug. */
  public String caughtBy() {
    return caughtBy;
  }
}
