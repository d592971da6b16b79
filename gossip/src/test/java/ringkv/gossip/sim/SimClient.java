package ringkv.gossip.sim;

import java.util.Objects;
import ringkv.gossip.CausalContext;
import ringkv.gossip.KeyValueCore;

/**
 * Models one client session: the causal context it threads from every result into its next
 * request (as an HTTP client passes {@code causal-metadata} back), and the one operation it has
 * in progress, which may be waiting at its replica for a missing dependency.
 *
 * <p>Not thread-safe; a simulation runs in one thread.
 */
final class SimClient {

  enum Kind {
    GET, PUT, DELETE;

    /** The operation the protocol core performs. */
    KeyValueCore.Op op() {
      return KeyValueCore.Op.valueOf(name());
    }
  }

  /**
   * An operation in progress: {@code kind} of {@code key} at replica {@code node}, started at
   * tick {@code startTick}; it last sent pull requests at tick {@code lastPullTick}.
   */
  record Op(Kind kind, String key, String node, long startTick, long lastPullTick) {
    Op {
      Objects.requireNonNull(kind, "kind");
      Objects.requireNonNull(key, "key");
      Objects.requireNonNull(node, "node");
    }

    Op pulledAt(long tick) {
      return new Op(kind, key, node, startTick, tick);
    }
  }

  private final String base;
  private String id;
  private int sessions = 1;
  private CausalContext context = CausalContext.EMPTY;
  private Op pending;
  private long valuesWritten;

  SimClient(String id) {
    this.base = id;
    this.id = id;
  }

  /**
   * The client process is replaced by a new one (a new session): it has observed nothing, so its
   * context is empty, and it has a new id (the checker's model of what it saw starts over).
   */
  void newSession() {
    sessions++;
    id = base + "/" + sessions;
    context = CausalContext.EMPTY;
  }

  String id() {
    return id;
  }

  CausalContext context() {
    return context;
  }

  void setContext(CausalContext context) {
    this.context = Objects.requireNonNull(context, "context");
  }

  Op pending() {
    return pending;
  }

  void start(Op op) {
    pending = op;
  }

  void finish() {
    pending = null;
  }

  /** A fresh JSON value, unique across the run, so the checker can tell writes apart. */
  String nextValue() {
    return "\"" + id + "-" + valuesWritten++ + "\"";
  }

  @Override
  public String toString() {
    return "SimClient{" + id + " pending=" + pending + " context=" + context.keys() + "}";
  }
}
