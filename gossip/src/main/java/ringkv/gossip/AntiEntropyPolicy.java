package ringkv.gossip;

import static com.google.common.base.Preconditions.checkArgument;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Predicate;

/**
 * The decisions of anti-entropy that are not data: which peer a node reconciles with next, who
 * gives way when two nodes start a round with each other, whether a node may answer a peer's
 * round, and the horizon a round compares below. The data side is {@link RangeDigest},
 * {@link RepairScope} and {@link VersionMerge}; applying what a round brings is
 * {@link KeyValueCore#applyFromPeers}.
 *
 * <p>Rules:
 * <ul>
 *   <li>Peers are taken in turn among the live members of the shard, skipping a peer that asked
 *       this node for a round within the last interval (it is reconciling with us already).
 *   <li>When both nodes started a round with each other, the one with the higher id gives way:
 *       one round repairs both ways.
 *   <li>A node answers a round only while quiet (no view change under way, not catching up), at
 *       the same epoch as the asker, and when both are members of the shard named.
 *   <li>A round compares entries at or below the higher of both sides' settled horizons.
 * </ul>
 *
 * <p>Time comes in as {@code nowMs}. Not thread-safe; confine to one event loop.
 */
public final class AntiEntropyPolicy {
  private final String self;
  private final long intervalMs;
  private final Map<String, Long> lastAskedMs = new HashMap<>();
  private int cursor;

  public AntiEntropyPolicy(String self, long intervalMs) {
    checkArgument(intervalMs > 0, "intervalMs must be > 0");
    this.self = self;
    this.intervalMs = intervalMs;
  }

  /** The next live member of {@code members} (this node's shard) to reconcile with. */
  public Optional<String> nextPeer(List<String> members, Predicate<String> isLive, long nowMs) {
    for (int i = 0; i < members.size(); i++) {
      String m = members.get(Math.floorMod(cursor++, members.size()));
      Long asked = lastAskedMs.get(m);
      if (!m.equals(self) && isLive.test(m) && (asked == null || nowMs - asked >= intervalMs)) {
        return Optional.of(m);
      }
    }
    return Optional.empty();
  }

  /**
   * Whether this node, running a round with {@code myPeer} (null: none), gives way to a round
   * {@code asker} started with it.
   */
  public boolean yieldsTo(String myPeer, String asker) {
    return !(asker.equals(myPeer) && self.compareTo(asker) < 0);
  }

  /**
   * Why this node cannot answer {@code asker}'s round for {@code shard} at {@code epoch}, or
   * empty when it can (it then remembers that {@code asker} is reconciling with it).
   */
  public Optional<String> refusal(String asker, int shard, long epoch, boolean quiet,
      long currentEpoch, List<String> shardMembers, long nowMs) {
    if (!quiet || currentEpoch != epoch) {
      return Optional.of("not ready for anti-entropy at epoch " + epoch + " (epoch "
          + currentEpoch + (quiet ? "" : ", busy") + ")");
    }
    if (!shardMembers.contains(self) || !shardMembers.contains(asker)) {
      return Optional.of(self + " and " + asker + " are not both in shard " + shard);
    }
    lastAskedMs.put(asker, nowMs);
    return Optional.empty();
  }

  /** The horizon of a round: what either side knew of long enough ago is settled. */
  public static long horizon(long mine, long theirs) {
    return Math.max(mine, theirs);
  }
}
