package ringkv.client;

import java.util.Objects;

/**
 * One entry of causal metadata: the Lamport version {@code (counter, node)} of a key that a
 * session has seen. Versions are totally ordered by counter, then by node id (string order),
 * exactly like the server's {@code ringkv.gossip.Version}.
 *
 * <p>Invariants: {@code counter >= 1}; {@code node} is not empty. Immutable; thread-safe.
 *
 * @param counter Lamport counter of the write
 * @param node address of the node that made the write
 */
public record Version(long counter, String node) implements Comparable<Version> {
  public Version {
    Objects.requireNonNull(node, "node");
    if (counter < 1 || node.isEmpty()) {
      throw new IllegalArgumentException("bad version [" + counter + ", \"" + node + "\"]");
    }
  }

  @Override
  public int compareTo(Version other) {
    int byCounter = Long.compare(counter, other.counter);
    return byCounter != 0 ? byCounter : node.compareTo(other.node);
  }

  /** The larger of {@code a} and {@code b} (either when equal). */
  public static Version max(Version a, Version b) {
    return a.compareTo(b) >= 0 ? a : b;
  }

  @Override
  public String toString() {
    return counter + "@" + node;
  }
}
