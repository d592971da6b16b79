package ringkv.gossip;

import static com.google.common.base.Preconditions.checkArgument;

import com.google.common.collect.Interner;
import com.google.common.collect.Interners;
import java.util.Objects;

/**
 * A Lamport timestamp naming one write: (counter, node). The order is total: counter first, then
 * the writer's node id as a tie-break, so concurrent writes to one key pick the same winner on
 * every replica (last writer wins).
 *
 * <p>Immutable; thread-safe.
 */
public record Version(long counter, String node) implements Comparable<Version> {

  /** The version below every real write: what a replica "holds" for a key it has never seen. */
  public static final Version ZERO = new Version(0, "");

  /** Writer names are few (the nodes) while versions are many: one String per name. */
  private static final Interner<String> NODES = Interners.newWeakInterner();

  /**
   * The version (counter, node) with {@code node} shared with every other version naming the
   * same writer: for versions decoded from the wire or disk, which would each hold a copy.
   */
  public static Version decoded(long counter, String node) {
    return new Version(counter, NODES.intern(node));
  }

  public Version {
    checkArgument(counter >= 0, "counter must be >= 0, got %s", counter);
    Objects.requireNonNull(node, "node");
    checkArgument(counter > 0 || node.isEmpty(), "counter 0 is reserved for Version.ZERO");
  }

  @Override
  public int compareTo(Version other) {
    int byCounter = Long.compare(counter, other.counter);
    return byCounter != 0 ? byCounter : node.compareTo(other.node);
  }

  public boolean isNewerThan(Version other) {
    return compareTo(other) > 0;
  }

  public boolean isAtLeast(Version other) {
    return compareTo(other) >= 0;
  }

  public static Version max(Version a, Version b) {
    return a.compareTo(b) >= 0 ? a : b;
  }

  @Override
  public String toString() {
    return counter + "@" + node;
  }
}
