package ringkv.gossip;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;
import ringkv.ring.ClusterConfig;
import ringkv.ring.NodeAddress;

/**
 * Which keys move in a view change, from whom and to whom. A key moves to the members of its
 * new shard that were not members of its old shard (only they lack it) and take part in the
 * change; it is sent by exactly one node: the first member of its old shard, in the old layout's
 * order, that takes part. So every moved key has one sender, no receiver already holds it, and a
 * key whose new owners all held it does not travel.
 *
 * <p>Immutable; a pure function of the two configurations and the participants.
 */
public final class TransferPlan {
  private final ClusterConfig current;
  private final ClusterConfig next;
  private final Set<NodeAddress> participants;

  public TransferPlan(ClusterConfig current, ClusterConfig next, Set<NodeAddress> participants) {
    this.current = Objects.requireNonNull(current, "current");
    this.next = Objects.requireNonNull(next, "next");
    this.participants = Set.copyOf(participants);
  }

  /** The participant that sends the keys of {@code oldShard}, if any member takes part. */
  public Optional<NodeAddress> senderOf(int oldShard) {
    for (NodeAddress m : current.membersOf(oldShard)) {
      if (participants.contains(m)) {
        return Optional.of(m);
      }
    }
    return Optional.empty();
  }

  /** The participants that must receive {@code key}: new owners that did not hold it. */
  public List<NodeAddress> receiversOf(String key) {
    List<NodeAddress> old = current.membersOf(current.shardOf(key));
    List<NodeAddress> out = new ArrayList<>();
    for (NodeAddress m : next.membersOf(next.shardOf(key))) {
      if (!old.contains(m) && participants.contains(m)) {
        out.add(m);
      }
    }
    return out;
  }

  /**
   * Whether {@code self} sends any key: the sender of its own shard's keys (a node is a member
   * of one shard at most). When not, {@link #targetsOf} is empty for every key, and its copy
   * need not read its store.
   */
  public boolean sendsAny(NodeAddress self) {
    OptionalInt shard = current.shardOfNode(self);
    return shard.isPresent() && senderOf(shard.getAsInt()).filter(self::equals).isPresent();
  }

  /** What {@code self} sends {@code key} to: its receivers if {@code self} is its sender. */
  public List<NodeAddress> targetsOf(NodeAddress self, String key) {
    Optional<NodeAddress> sender = senderOf(current.shardOf(key));
    return sender.isPresent() && sender.get().equals(self) ? receiversOf(key) : List.of();
  }

  public ClusterConfig current() {
    return current;
  }

  public ClusterConfig next() {
    return next;
  }
}
