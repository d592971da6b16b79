package ringkv.node.metrics;

import java.util.List;
import ringkv.ring.NodeAddress;

/**
 * What the metrics read of the cluster when scraped: the installed epoch, this node's shard
 * peers, the other nodes of the view and whether each is live. The composition root hands in
 * the engine's ClusterState and PeerLiveness through it, so metrics does not import engine,
 * which records into metrics (no package cycle).
 */
public interface ClusterView {
  /** The epoch of the installed configuration. */
  long epoch();

  /** The other members of this node's shard. */
  List<NodeAddress> shardPeers();

  /** The other nodes of the view. */
  List<NodeAddress> others();

  /** Whether the failure detector takes {@code node} for live. */
  boolean isLive(NodeAddress node);
}
