package ringkv.gossip;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;
import java.util.TreeSet;
import ringkv.ring.ClusterConfig;
import ringkv.ring.KeyHash;
import ringkv.ring.NodeAddress;
import ringkv.ring.Ring;

/**
 * Which keys move in a view change, from whom and to whom. A key moves to the members of its
 * new shard that were not members of its old shard (only they lack it) and take part in the
 * change; it is sent by exactly one node: the first member of its old shard, in the old layout's
 * order, that takes part. So every moved key has one sender, no receiver already holds it, and a
 * key whose new owners all held it does not travel.
 *
 * <p>A change is only safe when, for every key that gains an owner, some member of its new shard
 * that takes part holds it once the transfer is done ({@link #strandedKeys}); otherwise the
 * change would commit with nobody of the new shard able to serve or hand on those keys.
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
    long token = KeyHash.tokenOf(key);
    return receivers(current.ring().shardOfToken(token), next.ring().shardOfToken(token));
  }

  private List<NodeAddress> receivers(int oldShard, int newShard) {
    List<NodeAddress> old = current.membersOf(oldShard);
    List<NodeAddress> out = new ArrayList<>();
    for (NodeAddress m : next.membersOf(newShard)) {
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
    long token = KeyHash.tokenOf(key); // hashed once: a plan over a store asks for every key
    int oldShard = current.ring().shardOfToken(token);
    Optional<NodeAddress> sender = senderOf(oldShard);
    return sender.isPresent() && sender.get().equals(self)
        ? receivers(oldShard, next.ring().shardOfToken(token)) : List.of();
  }

  /**
   * Why this change would strand keys, if it would: some key gains an owner (a member of its new
   * shard that was not a member of its old one) while no participant of its new shard will hold
   * it after the transfer — no member of both shards takes part, and no member of its old shard
   * takes part to send it, or no new owner takes part to receive it. Committed, such a change
   * leaves the new owners serving those keys without them while the old owners, left out, keep
   * serving the old layout until they learn the new one and drop them: lost (simulation seed
   * 2014, a reshard whose only participant was its coordinator, read past a write made under
   * the new layout at an old owner; seed 2018, a node moved into a shard none of whose members
   * took part, every member of that shard then waiting to copy it from another).
   */
  public Optional<String> strandedKeys() {
    for (List<Integer> pair : overlaps(current.ring(), next.ring())) {
      int from = pair.get(0);
      int to = pair.get(1);
      List<NodeAddress> old = current.membersOf(from);
      List<NodeAddress> owners = next.membersOf(to);
      if (old.isEmpty() || old.containsAll(owners)) {
        continue; // nobody held them, or nobody gains them
      }
      boolean kept = owners.stream().anyMatch(m -> old.contains(m) && participants.contains(m));
      boolean received = senderOf(from).isPresent() && owners.stream()
          .anyMatch(m -> !old.contains(m) && participants.contains(m));
      if (!kept && !received) {
        return Optional.of("keys of shard " + from + " moving to shard " + to + " " + owners
            + " would reach no participant of it (participants " + new TreeSet<>(participants)
            + ")");
      }
    }
    return Optional.empty();
  }

  /**
   * The pairs (old shard, new shard) that share some of the hash space, in token order: for each
   * arc between consecutive tokens of either ring, the shards both rings give it.
   */
  private static Set<List<Integer>> overlaps(Ring before, Ring after) {
    TreeSet<Long> points = new TreeSet<>();
    before.tokens().forEach(t -> points.add(t.token()));
    after.tokens().forEach(t -> points.add(t.token()));
    Set<List<Integer>> pairs = new LinkedHashSet<>();
    for (long p : points) {
      pairs.add(List.of(before.shardOfToken(p), after.shardOfToken(p)));
    }
    return pairs;
  }

  public ClusterConfig current() {
    return current;
  }

  public ClusterConfig next() {
    return next;
  }
}
