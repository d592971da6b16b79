package ringkv.ring;

import com.google.common.base.Preconditions;
import com.google.common.hash.Hasher;
import com.google.common.hash.Hashing;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.OptionalInt;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * One version of the cluster configuration: the view (every node of the cluster), the ring
 * (key -&gt; shard) and the layout (shard -&gt; members). The highest epoch wins everywhere.
 *
 * <p>Invariants: {@code 1 <= epoch <= }{@link #EPOCH_MAX}; {@code view} is sorted in
 * {@link NodeAddress} order and has no duplicates (the constructor sorts it); every layout
 * member is in the view; the layout and the ring have the same shard ids. Every change returns a
 * new config with epoch + 1.
 *
 * <p>Immutable; thread-safe.
 */
public record ClusterConfig(long epoch, List<NodeAddress> view, Ring ring, Layout layout) {
  /**
   * The highest epoch a configuration may have: no honest cluster gets near it (a change a
   * second for a hundred million years), and {@code epoch + 1} of any configuration fits in a
   * long, so a configuration read from anywhere can never make the next change overflow.
   */
  public static final long EPOCH_MAX = 1L << 62;

  public ClusterConfig {
    Preconditions.checkArgument(epoch >= 1 && epoch <= EPOCH_MAX,
        "epoch must be in [1, 2^62], got %s", epoch);
    Preconditions.checkNotNull(view, "view");
    Preconditions.checkNotNull(ring, "ring");
    Preconditions.checkNotNull(layout, "layout");
    List<NodeAddress> sorted = new ArrayList<>(view);
    Collections.sort(sorted);
    for (int i = 1; i < sorted.size(); i++) {
      Preconditions.checkArgument(!sorted.get(i).equals(sorted.get(i - 1)),
          "view names %s twice", sorted.get(i));
    }
    view = List.copyOf(sorted);
    Set<NodeAddress> inView = new HashSet<>(view);
    for (NodeAddress member : layout.allMembers()) {
      Preconditions.checkArgument(inView.contains(member),
          "shard member %s is not in the view", member);
    }
    Preconditions.checkArgument(layout.shardIds().equals(ring.shardIds()),
        "layout shards %s differ from ring shards %s", layout.shardIds(), ring.shardIds());
  }

  /**
   * A 64-bit fingerprint of this configuration (epoch, view, layout, ring), never 0, the same on
   * every node: what tells apart two changes proposed at the same epoch (one aborted, the next
   * retried with another layout), whose messages the epoch alone would confuse.
   */
  public long fingerprint() {
    Hasher h = Hashing.murmur3_128().newHasher().putLong(epoch);
    for (NodeAddress a : view) {
      h.putString(a.toString(), StandardCharsets.UTF_8).putByte((byte) 0);
    }
    layout.asMap().forEach((id, members) -> {
      h.putInt(id);
      members.forEach(m -> h.putString(m.toString(), StandardCharsets.UTF_8).putByte((byte) 0));
      h.putByte((byte) 1);
    });
    h.putInt(ring.vnodesPerShard());
    for (TokenEntry t : ring.tokens()) {
      h.putLong(t.token()).putInt(t.shardId());
    }
    long f = h.hash().asLong();
    return f == 0 ? 1 : f;
  }

  /** The configuration every node computes alone from VIEW and SHARD_COUNT: epoch 1. */
  public static ClusterConfig initial(List<NodeAddress> view, int shardCount,
      int vnodesPerShard) {
    return new ClusterConfig(1, view, Ring.initial(shardCount, vnodesPerShard),
        Layout.initial(view, shardCount));
  }

  public int shardOf(String key) {
    return ring.shardOf(key);
  }

  /** The members of shard {@code shardId}; it must be one of this layout's shards. */
  public List<NodeAddress> membersOf(int shardId) {
    return layout.members(shardId);
  }

  /**
   * The members of shard {@code shardId}, none when this layout has no such shard: for ids a peer
   * names, which an honest peer at another epoch may take from a layout with more shards.
   */
  public List<NodeAddress> membersOfAny(int shardId) {
    return layout.shardIds().contains(shardId) ? layout.members(shardId) : List.of();
  }

  public OptionalInt shardOfNode(NodeAddress node) {
    return layout.shardOf(node);
  }

  /**
   * A new view, epoch + 1. Nodes still in the view keep their shard; a node added to the view
   * joins no shard; a node dropped from the view leaves its shard (members must be in the view).
   */
  public ClusterConfig withView(List<NodeAddress> newView) {
    Preconditions.checkNotNull(newView, "newView");
    Set<NodeAddress> kept = new HashSet<>(newView);
    Layout next = layout;
    for (NodeAddress member : layout.allMembers()) {
      if (!kept.contains(member)) {
        next = next.withoutMember(member);
      }
    }
    return new ClusterConfig(nextEpoch(), newView, ring, next);
  }

  /** Puts {@code node} in {@code shardId} (leaving any other shard), epoch + 1. */
  public ClusterConfig withMember(int shardId, NodeAddress node) {
    Preconditions.checkNotNull(node, "node");
    List<NodeAddress> nextView = new ArrayList<>(view);
    if (!nextView.contains(node)) {
      nextView.add(node);
    }
    return new ClusterConfig(nextEpoch(), nextView, ring, layout.withMember(shardId, node));
  }

  /**
   * Reshards to {@code newShardCount} over {@code liveNodes} (all in the view), epoch + 1.
   *
   * @throws IllegalArgumentException when a live node is not in the view or there are fewer
   *     than {@link Layout#MEMBERS_PER_SHARD_MIN} live nodes per shard
   */
  public ClusterConfig reshard(Collection<NodeAddress> liveNodes, int newShardCount) {
    Preconditions.checkNotNull(liveNodes, "liveNodes");
    for (NodeAddress node : liveNodes) {
      Preconditions.checkArgument(view.contains(node), "live node %s is not in the view", node);
    }
    Layout nextLayout = layout.relayout(liveNodes, newShardCount);
    return new ClusterConfig(nextEpoch(), view, ring.reshard(newShardCount), nextLayout);
  }

  /**
   * The view-change dialect's change (SPEC §4): {@code newView} becomes the whole view, split
   * into M = |newView| / {@code replFactor} shards of exactly {@code replFactor} members each,
   * epoch + 1. The ring reshards to M with minimal key movement ({@link Ring#reshard}); nodes keep
   * their shard where the new layout allows ({@link Layout#relayout(Collection, int, int)}).
   * Nodes left out of {@code newView} leave every shard.
   *
   * @throws IllegalArgumentException when {@code newView} is empty or repeats a node,
   *     {@code replFactor < 1}, or |newView| is not a multiple of {@code replFactor}
   */
  public ClusterConfig withViewAndReplication(List<NodeAddress> newView, int replFactor) {
    Preconditions.checkNotNull(newView, "newView");
    Preconditions.checkArgument(replFactor >= 1, "repl-factor must be >= 1, got %s", replFactor);
    Preconditions.checkArgument(!newView.isEmpty(), "the view is empty");
    Preconditions.checkArgument(newView.size() % replFactor == 0,
        "the %s nodes of the view are not a multiple of repl-factor %s", newView.size(),
        replFactor);
    int shardCount = newView.size() / replFactor;
    Preconditions.checkArgument(shardCount <= Ring.SHARD_COUNT_MAX,
        "%s shards are more than %s", shardCount, Ring.SHARD_COUNT_MAX);
    Layout nextLayout = layout.relayout(newView, shardCount, replFactor);
    return new ClusterConfig(nextEpoch(), newView, ring.reshard(shardCount), nextLayout);
  }

  /**
   * The configuration of a node that belongs to no cluster yet (a view-change dialect node whose
   * address is not in its VIEW): epoch 1, an empty view, one shard without members. It routes
   * nothing anywhere; a view change naming the node replaces it (any real change has epoch 2 or
   * more).
   */
  public static ClusterConfig unassigned(int vnodesPerShard) {
    SortedMap<Integer, List<NodeAddress>> noMembers = new TreeMap<>();
    noMembers.put(1, List.of());
    return new ClusterConfig(1, List.of(), Ring.initial(1, vnodesPerShard),
        Layout.of(noMembers));
  }

  /**
   * The epoch of the change after this one; overflow-checked (it cannot overflow below
   * {@link #EPOCH_MAX}, and past it the constructor refuses the result).
   */
  private long nextEpoch() {
    return Math.addExact(epoch, 1);
  }

  /**
   * The shards that have members here and none in {@code next}: a change to {@code next} would
   * leave the keys of those shards (the ring is the same) with no replica.
   */
  public Set<Integer> shardsEmptiedBy(ClusterConfig next) {
    Set<Integer> emptied = new java.util.TreeSet<>();
    for (int shard : next.layout().shardIds()) {
      if (next.membersOf(shard).isEmpty() && layout.shardIds().contains(shard)
          && !membersOf(shard).isEmpty()) {
        emptied.add(shard);
      }
    }
    return emptied;
  }

  public boolean isNewerThan(ClusterConfig other) {
    return epoch > other.epoch;
  }

  @Override
  public String toString() {
    return "ClusterConfig{epoch=" + epoch + ", view=" + view + ", " + ring + ", " + layout + "}";
  }
}
