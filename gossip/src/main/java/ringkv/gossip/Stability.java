package ringkv.gossip;

import java.util.Collection;
import java.util.HashMap;
import java.util.Map;

/**
 * Each shard's stable time: a Lamport counter at or below which every replica of the shard holds
 * every write of the shard. Each replica reports its own contribution (the counter below which
 * all its writes are acknowledged by every peer, see {@link Replica#localStable}); a shard's
 * stable time is the minimum over its members. A member that never reported counts as 0, and a
 * silent member holds the minimum back: stability never claims what a replica might lack.
 *
 * <p>Context entries and tombstones at or below their shard's stable time are redundant: every
 * replica has them (or something newer), so they may be dropped.
 *
 * <p>Not thread-safe; confine to one event loop.
 */
public final class Stability {
  private final Map<String, Long> reported = new HashMap<>();
  private final Map<String, Long> incarnations = new HashMap<>();

  /** {@code node} reports that every peer holds all of its writes up to {@code counter}. */
  public void report(String node, long counter) {
    reported.merge(node, counter, Math::max);
  }

  /**
   * As {@link #report(String, long)}, from process {@code incarnation} of {@code node}: a new
   * incarnation (the node restarted) replaces what the old one reported instead of being
   * max-merged with it — a restarted node may know less than its previous process did.
   */
  public void report(String node, long incarnation, long counter) {
    Long known = incarnations.put(node, incarnation);
    if (known != null && known != incarnation) {
      reported.put(node, counter);
    } else {
      report(node, counter);
    }
  }

  /** The stable time of a shard with these {@code members}. */
  public long stableTime(Collection<String> members) {
    long min = Long.MAX_VALUE;
    for (String m : members) {
      min = Math.min(min, reported.getOrDefault(m, 0L));
    }
    return members.isEmpty() ? 0 : min;
  }

  /** What {@code node} last reported, or -1 if it has not reported (since it was forgotten). */
  public long reportOf(String node) {
    return reported.getOrDefault(node, -1L);
  }

  /** Forgets nodes that left the cluster. */
  public void retain(Collection<String> nodes) {
    reported.keySet().retainAll(nodes);
    incarnations.keySet().retainAll(nodes);
  }

  @Override
  public String toString() {
    return "Stability" + reported;
  }
}
