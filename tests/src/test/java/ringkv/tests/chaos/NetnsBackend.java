package ringkv.tests.chaos;

import java.time.Duration;
import java.util.Collection;
import ringkv.tests.support.Dialect;
import ringkv.tests.support.NetnsCluster;

/**
 * {@link ClusterBackend} over {@link NetnsCluster}: node processes inside a network namespace in
 * the view-change dialect, each with a {@code DATA_DIR}; every fault kind, partitions by
 * iptables. Requests go through the nodes' bridges (see {@link BridgedBackend} for which
 * failures count as refused). Starting it aborts (skips) the calling test where namespaces or
 * iptables are unavailable, with the reason.
 */
final class NetnsBackend extends BridgedBackend<NetnsCluster> {
  private NetnsBackend(NetnsCluster cluster) {
    // stop: SIGTERM to the node's JVM, then waits for its exit (see NetnsCluster.terminate).
    super("netns", Dialect.KVS, cluster, new NodeFaults(cluster::stop, cluster::terminate,
        cluster::start, cluster::pause, cluster::resume));
  }

  /**
   * Starts {@code nodes} durable nodes with {@code REPL_FACTOR=replFactor}; each may take
   * {@code startTimeout} to serve, at the start and at restarts.
   */
  static NetnsBackend start(String name, int nodes, int replFactor, Duration startTimeout) {
    return new NetnsBackend(NetnsCluster.builder(name).nodes(nodes).replFactor(replFactor)
        .dataDirs().startTimeout(startTimeout).start());
  }

  @Override
  String describe(int node) {
    return "node " + cluster.node(node);
  }

  @Override
  public boolean partitions() {
    return true;
  }

  @Override
  public void partition(Collection<Integer> side, Collection<Integer> other) {
    cluster.partition(side, other);
  }

  @Override
  public void heal() {
    cluster.heal();
  }

  @Override
  public String logs() {
    return cluster.log(0).getParent().toString();
  }
}
