package ringkv.gossip.sim;

import java.util.List;
import java.util.Map;
import ringkv.ring.ClusterConfig;
import ringkv.ring.NodeAddress;

/**
 * Where the simulated nodes and keys stand under the newest configuration any node installed:
 * what clients, the per-step checks and the healed phase's convergence check go by. A view over
 * the cluster's own map of nodes and list of keys, so it sees them grow.
 *
 * <p>Not thread-safe; a simulation runs in one thread.
 */
final class SimPlacement {
  private final Map<String, SimNode> nodes;
  private final List<String> keys;

  SimPlacement(Map<String, SimNode> nodes, List<String> keys) {
    this.nodes = nodes;
    this.keys = keys;
  }

  /** The newest configuration any node installed. */
  ClusterConfig latest() {
    return SimViewChanges.latest(nodes.values());
  }

  /** The nodes of {@code shard} under the newest configuration. */
  List<SimNode> membersOf(int shard) {
    return latest().membersOf(shard).stream().map(a -> nodes.get(a.toString())).toList();
  }

  /** The keys of {@code shard} under the newest configuration. */
  List<String> keysOf(int shard) {
    ClusterConfig c = latest();
    return keys.stream().filter(k -> c.shardOf(k) == shard).toList();
  }

  /** The shard {@code node} serves under the newest configuration, or -1. */
  int shardOf(SimNode node) {
    var s = latest().shardOfNode(NodeAddress.parse(node.id()));
    return s.isPresent() ? s.getAsInt() : -1;
  }
}
