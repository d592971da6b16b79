package ringkv.gossip.sim;

import java.util.List;
import java.util.OptionalInt;
import ringkv.gossip.ShardMap;
import ringkv.ring.ClusterConfig;
import ringkv.ring.NodeAddress;

/**
 * A {@link ClusterConfig} as the protocol core sees it (the node's ClusterState.shardMap): keys
 * hash to shards 1..N on the real ring; node ids are addresses as text.
 */
record SimLayout(ClusterConfig config) implements ShardMap {
  @Override
  public int shardOf(String key) {
    return config.shardOf(key);
  }

  @Override
  public List<String> membersOf(int shard) {
    return config.layout().shardIds().contains(shard)
        ? config.membersOf(shard).stream().map(NodeAddress::toString).toList() : List.of();
  }

  @Override
  public OptionalInt shardOfNode(String node) {
    return config.shardOfNode(NodeAddress.parse(node));
  }

  @Override
  public List<String> nodes() {
    return config.view().stream().map(NodeAddress::toString).toList();
  }
}
