package ringkv.tests.chaos;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Collection;
import ringkv.tests.support.Dialect;
import ringkv.tests.support.Http;
import ringkv.tests.support.LocalCluster;

/**
 * {@link ClusterBackend} over {@link LocalCluster}: node processes on 127.0.0.1 in the shard
 * dialect, each with a {@code DATA_DIR}, faults by signals (SIGKILL, SIGTERM, SIGSTOP/SIGCONT).
 * The nodes share the machine's network, so partitions are not available and the nemesis skips
 * them. Clock faults run a node under Debian's {@code faketime} when it is installed.
 */
final class LocalBackend extends BackendBase<LocalCluster> {
  private LocalBackend(LocalCluster cluster) {
    // stop: SIGTERM, then waits for the exit (at most LocalCluster.STOP_TIMEOUT).
    super("local", Dialect.SHARD, cluster, cluster.addresses(), new NodeFaults(cluster::stop,
        cluster::terminate, cluster::start, cluster::pause, cluster::resume));
  }

  /**
   * Starts {@code nodes} durable nodes ({@code DATA_DIR} under {@code data}) in shards; each may
   * take {@code startTimeout} to serve, at the start and at restarts.
   */
  static LocalBackend start(String name, int nodes, int shards, Path data,
      Duration startTimeout) {
    return new LocalBackend(LocalCluster.builder(name).nodes(nodes).shards(shards)
        .dataDirs(data).startTimeout(startTimeout).start());
  }

  @Override
  public Http.Reply send(int node, String method, String path, String rawBody) {
    return Http.send(method, cluster.node(node), path, rawBody);
  }

  @Override
  public boolean clockFaults() {
    return LocalCluster.faketimeAvailable();
  }

  @Override
  public void restartWithClockOffset(int node, long offsetS) {
    if (cluster.running(node)) {
      cluster.terminate(node);
    }
    cluster.startWithClockOffset(node, offsetS);
  }

  @Override
  public boolean partitions() {
    return false;
  }

  @Override
  public void partition(Collection<Integer> side, Collection<Integer> other) {
    throw new UnsupportedOperationException("nodes on 127.0.0.1 share one network");
  }

  @Override
  public void heal() {
    // Nothing was ever cut.
  }

  @Override
  public String logs() {
    return cluster.log(0).getParent().toString();
  }

  @Override
  public String logTail(int node) {
    return cluster.logTail(node);
  }
}
