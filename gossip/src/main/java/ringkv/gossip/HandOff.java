package ringkv.gossip;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * What a node that learned a layout it missed the change of (left out of it: its coordinator saw
 * it down) hands over before it drops the keys the new layout takes away from it: each entry
 * whose version is above the stable time of the key's shard under the old layout, as this node
 * knew it before installing the new one, goes to the key's new owners
 * ({@link ReplicationQueue#handOff}).
 *
 * <p>Why that is enough: at or below the old stable time every old replica of the shard held the
 * write, and one of them took part in the change (else the change would have stranded the key and
 * was refused, {@link TransferPlan#strandedKeys}), so the transfer carried it; above it, the write
 * may exist only here (acknowledged by this node while it served the old layout, not yet
 * replicated). Dropped, it was lost. Writes still owed to a peer that keeps the key are kept by
 * {@link ReplicationQueue#retain} anyway. Until the new owners acknowledge a hand-off this node
 * reports 0 ({@link NodeStability#localStable}), so no shard's stable time passes it; the new
 * owners merge it like any replicated write (the newest version wins).
 *
 * <p>Take the snapshot ({@link #before}) before the new layout reaches {@link NodeStability}.
 */
public final class HandOff {
  private final String self;
  private final ShardMap old;
  private final ShardMap next;
  private final Map<Integer, Long> oldStable;

  private HandOff(String self, ShardMap old, ShardMap next, Map<Integer, Long> oldStable) {
    this.self = self;
    this.old = old;
    this.next = next;
    this.oldStable = oldStable;
  }

  /**
   * The stable time of every shard of the layout {@code stability} still has, for a node about to
   * install {@code next}.
   */
  public static HandOff before(String self, NodeStability stability, Replica replica,
      ShardMap next) {
    Objects.requireNonNull(next, "next");
    ShardMap old = stability.shards();
    Map<Integer, Long> stable = new HashMap<>();
    for (String node : old.nodes()) {
      OptionalInt shard = old.shardOfNode(node);
      if (shard.isPresent() && !stable.containsKey(shard.getAsInt())) {
        stable.put(shard.getAsInt(), stability.stableTime(shard.getAsInt(), replica));
      }
    }
    return new HandOff(self, old, next, Map.copyOf(stable));
  }

  /**
   * A hand-off restored after a restart: {@code old}, the layout the node served before,
   * {@code next}, the one it installed, and {@code oldStable}, the stable times of the old
   * shards it had then ({@link #oldStable}, saved with the old configuration).
   */
  public static HandOff of(String self, ShardMap old, ShardMap next,
      Map<Integer, Long> oldStable) {
    return new HandOff(Objects.requireNonNull(self, "self"), Objects.requireNonNull(old, "old"),
        Objects.requireNonNull(next, "next"), Map.copyOf(oldStable));
  }

  /** The stable time of each old shard, as this node knew it before installing the new layout. */
  public Map<Integer, Long> oldStable() {
    return oldStable;
  }

  /**
   * The nodes {@code e} goes to before this node drops it: the new owners of its key when the new
   * layout takes the key away from this node and the entry may not be stable; empty otherwise.
   */
  public Optional<List<String>> targets(Entry e) {
    int shard = next.shardOf(e.key());
    List<String> owners = next.membersOf(shard);
    if (owners.contains(self)) {
      return Optional.empty();
    }
    long stable = oldStable.getOrDefault(old.shardOf(e.key()), 0L);
    if (e.version().counter() <= stable || owners.isEmpty()) {
      return Optional.empty();
    }
    return Optional.of(owners);
  }
}
