package ringkv.ring;

import com.google.common.base.Preconditions;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.Set;
import java.util.SortedMap;
import java.util.SortedSet;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Which nodes serve which shard: shard ids 1..N, each with a sorted list of members.
 *
 * <p>Invariants: shard ids are exactly 1..N with 1 &lt;= N &lt;= {@link Ring#SHARD_COUNT_MAX};
 * no node is a member of two shards (or twice of one); member lists are sorted in
 * {@link NodeAddress} order. A shard may be empty (e.g. after its last member left); the node
 * layer decides what that means.
 *
 * <p>Immutable; thread-safe.
 */
public final class Layout {
  /** Fewer live nodes per shard than this cannot tolerate a failure (SPEC §3, reshard). */
  public static final int MEMBERS_PER_SHARD_MIN = 2;

  private final SortedMap<Integer, List<NodeAddress>> members;
  private final Map<NodeAddress, Integer> shardOfNode;

  private Layout(SortedMap<Integer, List<NodeAddress>> members) {
    Preconditions.checkNotNull(members, "members");
    int count = members.size();
    Preconditions.checkArgument(count >= 1 && count <= Ring.SHARD_COUNT_MAX,
        "shard count must be in 1..%s, got %s", Ring.SHARD_COUNT_MAX, count);
    Preconditions.checkArgument(members.firstKey() == 1 && members.lastKey() == count,
        "shard ids must be exactly 1..%s, got %s", count, members.keySet());
    SortedMap<Integer, List<NodeAddress>> copy = new TreeMap<>();
    Map<NodeAddress, Integer> index = new HashMap<>();
    for (Map.Entry<Integer, List<NodeAddress>> entry : members.entrySet()) {
      List<NodeAddress> sorted = new ArrayList<>(entry.getValue());
      Collections.sort(sorted);
      for (NodeAddress node : sorted) {
        Integer previous = index.put(node, entry.getKey());
        Preconditions.checkArgument(previous == null,
            "node %s is listed in shard %s and shard %s", node, previous, entry.getKey());
      }
      copy.put(entry.getKey(), List.copyOf(sorted));
    }
    this.members = Collections.unmodifiableSortedMap(copy);
    this.shardOfNode = Map.copyOf(index);
  }

  /**
   * The layout every node computes alone from its environment: the view sorted in
   * {@link NodeAddress} order, node i (from 0) in shard (i mod N) + 1.
   */
  public static Layout initial(List<NodeAddress> view, int shardCount) {
    Preconditions.checkNotNull(view, "view");
    Preconditions.checkArgument(shardCount >= 1, "shard count must be >= 1, got %s", shardCount);
    Preconditions.checkArgument(view.size() >= shardCount,
        "%s nodes cannot fill %s shards", view.size(), shardCount);
    List<NodeAddress> sorted = new ArrayList<>(view);
    Collections.sort(sorted);
    SortedMap<Integer, List<NodeAddress>> members = emptyShards(shardCount);
    for (int i = 0; i < sorted.size(); i++) {
      members.get(i % shardCount + 1).add(sorted.get(i));
    }
    return new Layout(members);
  }

  /** Rebuilds a layout received over the wire. */
  public static Layout of(SortedMap<Integer, List<NodeAddress>> members) {
    return new Layout(members);
  }

  /**
   * The layout for {@code newShardCount} shards over {@code liveNodes}; other nodes are dropped.
   * Every shard gets floor(L/M) or ceil(L/M) of the L live nodes (lower ids get the extra ones).
   * Live nodes, in {@link NodeAddress} order, keep their shard if it still exists and has room;
   * the others go one by one, in order, to the shard with the fewest members (lowest id on ties)
   * that has room.
   *
   * @throws IllegalArgumentException when there are fewer than
   *     {@link #MEMBERS_PER_SHARD_MIN} live nodes per shard
   */
  public Layout relayout(Collection<NodeAddress> liveNodes, int newShardCount) {
    return relayout(liveNodes, newShardCount, MEMBERS_PER_SHARD_MIN);
  }

  /**
   * As {@link #relayout(Collection, int)} with {@code membersPerShardMin} instead of
   * {@link #MEMBERS_PER_SHARD_MIN}. The view-change dialect passes its replication factor R
   * with exactly M * R nodes, so every shard gets exactly R members.
   *
   * @throws IllegalArgumentException when {@code membersPerShardMin < 1} or there are fewer
   *     than {@code membersPerShardMin} nodes per shard
   */
  public Layout relayout(Collection<NodeAddress> liveNodes, int newShardCount,
      int membersPerShardMin) {
    Preconditions.checkNotNull(liveNodes, "liveNodes");
    Preconditions.checkArgument(newShardCount >= 1 && newShardCount <= Ring.SHARD_COUNT_MAX,
        "shard count must be in 1..%s, got %s", Ring.SHARD_COUNT_MAX, newShardCount);
    Preconditions.checkArgument(membersPerShardMin >= 1,
        "members per shard must be >= 1, got %s", membersPerShardMin);
    SortedSet<NodeAddress> live = new TreeSet<>(liveNodes);
    Preconditions.checkArgument(live.size() == liveNodes.size(), "live nodes repeat a node");
    Preconditions.checkArgument((long) live.size() >= (long) membersPerShardMin * newShardCount,
        "Not enough nodes: %s live nodes cannot give %s shards %s members each",
        live.size(), newShardCount, membersPerShardMin);
    int[] room = new int[newShardCount + 1];
    for (int s = 1; s <= newShardCount; s++) {
      room[s] = live.size() / newShardCount + (s <= live.size() % newShardCount ? 1 : 0);
    }
    SortedMap<Integer, List<NodeAddress>> next = emptyShards(newShardCount);
    List<NodeAddress> movers = new ArrayList<>();
    for (NodeAddress node : live) {
      Integer current = shardOfNode.get(node);
      if (current != null && current <= newShardCount && next.get(current).size() < room[current]) {
        next.get(current).add(node);
      } else {
        movers.add(node);
      }
    }
    for (NodeAddress node : movers) {
      int target = -1;
      for (int s = 1; s <= newShardCount; s++) {
        boolean hasRoom = next.get(s).size() < room[s];
        if (hasRoom && (target < 0 || next.get(s).size() < next.get(target).size())) {
          target = s;
        }
      }
      Preconditions.checkState(target > 0, "no shard has room for %s", node);
      next.get(target).add(node);
    }
    return new Layout(next);
  }

  /** Adds {@code node} to {@code shardId}, removing it from any other shard. */
  public Layout withMember(int shardId, NodeAddress node) {
    checkShardId(shardId);
    Preconditions.checkNotNull(node, "node");
    SortedMap<Integer, List<NodeAddress>> next = mutableCopyWithout(node);
    next.get(shardId).add(node);
    return new Layout(next);
  }

  /** Removes {@code node} from its shard, if any; shards are kept even when they empty. */
  public Layout withoutMember(NodeAddress node) {
    Preconditions.checkNotNull(node, "node");
    return shardOfNode.containsKey(node) ? new Layout(mutableCopyWithout(node)) : this;
  }

  public OptionalInt shardOf(NodeAddress node) {
    Integer shard = shardOfNode.get(node);
    return shard == null ? OptionalInt.empty() : OptionalInt.of(shard);
  }

  /** Members of {@code shardId}, sorted. */
  public List<NodeAddress> members(int shardId) {
    checkShardId(shardId);
    return members.get(shardId);
  }

  public SortedSet<Integer> shardIds() {
    return Collections.unmodifiableSortedSet(new TreeSet<>(members.keySet()));
  }

  public int shardCount() {
    return members.size();
  }

  public SortedMap<Integer, List<NodeAddress>> asMap() {
    return members;
  }

  public Set<NodeAddress> allMembers() {
    return shardOfNode.keySet();
  }

  @Override
  public boolean equals(Object other) {
    return other instanceof Layout layout && members.equals(layout.members);
  }

  @Override
  public int hashCode() {
    return members.hashCode();
  }

  @Override
  public String toString() {
    return "Layout" + members;
  }

  private void checkShardId(int shardId) {
    Preconditions.checkArgument(members.containsKey(shardId),
        "unknown shard id %s; shard ids are 1..%s", shardId, members.size());
  }

  private SortedMap<Integer, List<NodeAddress>> mutableCopyWithout(NodeAddress node) {
    SortedMap<Integer, List<NodeAddress>> copy = new TreeMap<>();
    for (Map.Entry<Integer, List<NodeAddress>> entry : members.entrySet()) {
      List<NodeAddress> list = new ArrayList<>(entry.getValue());
      list.remove(node);
      copy.put(entry.getKey(), list);
    }
    return copy;
  }

  private static SortedMap<Integer, List<NodeAddress>> emptyShards(int shardCount) {
    SortedMap<Integer, List<NodeAddress>> map = new TreeMap<>();
    for (int s = 1; s <= shardCount; s++) {
      map.put(s, new ArrayList<>());
    }
    return map;
  }
}
