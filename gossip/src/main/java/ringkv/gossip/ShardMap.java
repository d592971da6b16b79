package ringkv.gossip;

import java.util.List;
import java.util.OptionalInt;

/**
 * Which shard holds a key and which nodes serve a shard, as the protocol core needs it: the
 * node adapts its cluster configuration to it, the simulation its own layout. Node ids are the
 * nodes' addresses as text ({@code host:port}).
 *
 * <p>Implementations are immutable values; a view change hands the core a new one.
 */
public interface ShardMap {

  /** The shard that holds {@code key}. */
  int shardOf(String key);

  /** The members of {@code shard}, in a fixed order; empty for an unknown shard. */
  List<String> membersOf(int shard);

  /** The shard {@code node} serves, if any. */
  OptionalInt shardOfNode(String node);

  /** Every node of the view, in a fixed order. */
  List<String> nodes();

  /** The other members of {@code node}'s shard (empty when it serves none). */
  default List<String> shardPeersOf(String node) {
    OptionalInt shard = shardOfNode(node);
    if (shard.isEmpty()) {
      return List.of();
    }
    return membersOf(shard.getAsInt()).stream().filter(m -> !m.equals(node)).toList();
  }
}
