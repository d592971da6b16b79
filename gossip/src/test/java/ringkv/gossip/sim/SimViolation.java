package ringkv.gossip.sim;

/**
 * A broken safety or liveness property found by the simulation's checker. The {@link #kind()}
 * names the property (for example {@code causality/model}); the message says what was observed.
 */
public final class SimViolation extends RuntimeException {
  private static final long serialVersionUID = 1L;
  private final String kind;

  public SimViolation(String kind, String detail) {
    super(kind + ": " + detail);
    this.kind = kind;
  }

  public SimViolation(String kind, String detail, Throwable cause) {
    super(kind + ": " + detail, cause);
    this.kind = kind;
  }

  public String kind() {
    return kind;
  }
}
