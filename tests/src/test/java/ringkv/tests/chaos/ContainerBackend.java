package ringkv.tests.chaos;

import java.io.IOException;
import java.net.ConnectException;
import java.nio.channels.ClosedChannelException;
import java.time.Duration;
import java.util.Collection;
import java.util.List;
import ringkv.tests.causal.RecordingClient;
import ringkv.tests.support.ContainerCluster;
import ringkv.tests.support.Dialect;
import ringkv.tests.support.Http;

/**
 * {@link ClusterBackend} over {@link ContainerCluster}: each node in its own Docker container
 * (the image built from the Dockerfile) in the shard dialect, with {@code DATA_DIR} on a named
 * volume. Faults are Docker's: {@code docker kill} (SIGKILL) and {@code docker stop} (SIGTERM,
 * a graceful shutdown), each followed by {@code docker start} of the same container with the
 * same volume; {@code docker pause}/{@code unpause} (cgroup freezer); partitions by iptables
 * inside the engine's namespace, matching each container's connections by its group (see
 * {@link ContainerCluster}). Starting it aborts (skips) the calling test where the machine
 * cannot run containers, with the reason.
 */
final class ContainerBackend implements ClusterBackend {
  private final ContainerCluster cluster;

  private ContainerBackend(ContainerCluster cluster) {
    this.cluster = cluster;
  }

  /**
   * Starts {@code nodes} durable containers in {@code shards} shards; each node may take
   * {@code startTimeout} to be ready, at the start and at restarts.
   */
  static ContainerBackend start(String name, int nodes, int shards, Duration startTimeout) {
    return new ContainerBackend(ContainerCluster.builder(name).nodes(nodes).shards(shards)
        .dataVolumes().startTimeout(startTimeout).start());
  }

  @Override
  public String name() {
    return "containers";
  }

  @Override
  public Dialect dialect() {
    return Dialect.SHARD;
  }

  @Override
  public List<String> addresses() {
    return cluster.addresses();
  }

  /**
   * Through the node's bridge, which accepts every connection and closes it without a byte of
   * answer when it cannot connect to the node. As in {@link NetnsBackend}: a request is
   * reported refused (it reached no node, see {@link RecordingClient#refused}) when the node was
   * down (killed or stopped), or when the bridge closed it (not the timeout: the watchdog closes
   * the channel) while the same node JVM ran throughout, as a node that has not opened its port
   * yet; any other failure stands (no answer: it may have been received).
   */
  @Override
  public Http.Reply send(int node, String method, String path, String rawBody) {
    long pid = cluster.pid(node);
    if (pid < 0) {
      throw refused(node, method, path, "is not running", null);
    }
    try {
      return cluster.send(node, method, path, rawBody);
    } catch (AssertionError e) {
      boolean bridgeClosed = e.getCause() instanceof IOException
          && !(e.getCause() instanceof ClosedChannelException);
      boolean sameJvm = cluster.pid(node) == pid
          && ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false);
      if (bridgeClosed && sameJvm) {
        throw refused(node, method, path, "did not accept the connection", e);
      }
      throw e;
    }
  }

  private AssertionError refused(int node, String method, String path, String why,
      Throwable failure) {
    AssertionError refused = new AssertionError(method + " " + path + " to "
        + cluster.node(node) + " refused", new ConnectException("container "
        + cluster.name(node) + " (" + cluster.node(node) + ") " + why));
    if (failure != null) {
      refused.addSuppressed(failure);
    }
    return refused;
  }

  @Override
  public void kill(int node) {
    cluster.kill(node);
  }

  /** {@code docker stop}; the node, PID 1 of its container, must exit by SIGTERM (143). */
  @Override
  public void stop(int node) {
    int code = cluster.stop(node);
    if (code != 143) {
      throw new AssertionError("docker stop " + cluster.name(node) + ": exit code " + code
          + ", not 143 (a clean exit after SIGTERM)\n" + cluster.logTail(node));
    }
  }

  @Override
  public void start(int node) {
    cluster.start(node);
  }

  @Override
  public void pause(int node) {
    cluster.pause(node);
  }

  @Override
  public void resume(int node) {
    cluster.unpause(node);
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

  @Override
  public String logTail(int node) {
    return cluster.logTail(node);
  }

  @Override
  public void close() {
    cluster.close();
  }
}
