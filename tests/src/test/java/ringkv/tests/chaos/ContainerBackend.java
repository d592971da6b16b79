package ringkv.tests.chaos;

import java.time.Duration;
import java.util.Collection;
import ringkv.tests.support.ContainerCluster;
import ringkv.tests.support.Dialect;

/**
 * {@link ClusterBackend} over {@link ContainerCluster}: each node in its own Docker container
 * (the image built from the Dockerfile) in the shard dialect, with {@code DATA_DIR} on a named
 * volume. Faults are Docker's: {@code docker kill} (SIGKILL) and {@code docker stop} (SIGTERM,
 * a graceful shutdown), each followed by {@code docker start} of the same container with the
 * same volume; {@code docker pause}/{@code unpause} (cgroup freezer); partitions by iptables
 * inside the engine's namespace, matching each container's connections by its group (see
 * {@link ContainerCluster}). Requests go through the nodes' bridges (see
 * {@link BridgedBackend} for which failures count as refused). Starting it aborts (skips) the
 * calling test where the machine cannot run containers, with the reason.
 */
final class ContainerBackend extends BridgedBackend<ContainerCluster> {
  private ContainerBackend(ContainerCluster cluster) {
    super("containers", Dialect.SHARD, cluster, new NodeFaults(cluster::kill,
        node -> stopCleanly(cluster, node), cluster::start, cluster::pause, cluster::unpause));
  }

  /**
   * Starts {@code nodes} durable containers in {@code shards} shards; each node may take
   * {@code startTimeout} to be ready, at the start and at restarts.
   */
  /**
   * Starts the containers and waits until the image's health check reports each healthy (its
   * HEALTHCHECK, bash and no extra package, turns healthy once the node is ready).
   */
  static ContainerBackend start(String name, int nodes, int shards, Duration startTimeout) {
    ContainerCluster cluster = ContainerCluster.builder(name).nodes(nodes).shards(shards)
        .dataVolumes().startTimeout(startTimeout).start();
    try {
      cluster.awaitHealthy(startTimeout);
    } catch (RuntimeException | AssertionError e) {
      cluster.close();
      throw e;
    }
    return new ContainerBackend(cluster);
  }

  @Override
  String describe(int node) {
    return "container " + cluster.name(node) + " (" + cluster.node(node) + ")";
  }

  /** {@code docker stop}; the node, PID 1 of its container, must exit by SIGTERM (143). */
  private static void stopCleanly(ContainerCluster cluster, int node) {
    int code = cluster.stop(node);
    if (code != 143) {
      throw new AssertionError("docker stop " + cluster.name(node) + ": exit code " + code
          + ", not 143 (a clean exit after SIGTERM)\n" + cluster.logTail(node));
    }
  }

  @Override
  public boolean partitions() {
    return cluster.partitionProblem() == null;
  }

  /** Why partitions are skipped here, or null. */
  String partitionProblem() {
    return cluster.partitionProblem();
  }

  @Override
  public void partition(Collection<Integer> side, Collection<Integer> other) {
    cluster.partition(side, other);
  }

  @Override
  public void heal() {
    if (partitions()) {
      cluster.heal();
    }
  }

  @Override
  public String logs() {
    return cluster.logDir() + " (container-n<i>.log, saved when the cluster closes)";
  }
}
