package ringkv.tests.chaos;

import java.io.IOException;
import java.net.ConnectException;
import java.nio.channels.ClosedChannelException;
import java.time.Duration;
import java.util.Collection;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import ringkv.tests.causal.RecordingClient;
import ringkv.tests.support.Dialect;
import ringkv.tests.support.Http;
import ringkv.tests.support.LocalCluster;
import ringkv.tests.support.NetnsCluster;

/**
 * {@link ClusterBackend} over {@link NetnsCluster}: node processes inside a network namespace in
 * the view-change dialect, each with a {@code DATA_DIR}; every fault kind, partitions by
 * iptables. Starting it aborts (skips) the calling test where namespaces or iptables are
 * unavailable, with the reason.
 */
final class NetnsBackend implements ClusterBackend {
  private static final Duration STOP_TIMEOUT = LocalCluster.STOP_TIMEOUT;
  private final NetnsCluster cluster;

  private NetnsBackend(NetnsCluster cluster) {
    this.cluster = cluster;
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
  public String name() {
    return "netns";
  }

  @Override
  public Dialect dialect() {
    return Dialect.KVS;
  }

  @Override
  public List<String> addresses() {
    return cluster.addresses();
  }

  /**
   * Through the node's bridge. The bridge accepts every connection and closes it (without a byte
   * of answer, or resetting it while the request is written) when it cannot connect to the node:
   * a refused connection looks like a node that died after receiving the request. So a request
   * is reported refused (it reached no node, see {@link RecordingClient#refused}) when the node
   * was not running, or when it failed otherwise than by the timeout (the watchdog closes the
   * channel) while the same node process ran throughout, as a node that has not opened its port
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
      if (bridgeClosed && cluster.pid(node) == pid) {
        throw refused(node, method, path, "did not accept the connection", e);
      }
      throw e;
    }
  }

  private AssertionError refused(int node, String method, String path, String why,
      Throwable failure) {
    AssertionError refused = new AssertionError(method + " " + path + " to "
        + cluster.node(node) + " refused", new ConnectException("node " + cluster.node(node)
        + " " + why));
    if (failure != null) {
      refused.addSuppressed(failure);
    }
    return refused;
  }

  @Override
  public void kill(int node) {
    cluster.stop(node);
  }

  /**
   * SIGTERM to the node's JVM ({@code ip netns exec} and {@code setpriv} exec it, so the process
   * the cluster started is the JVM), then waits for its exit and lets the cluster forget it.
   */
  @Override
  public void stop(int node) {
    long pid = cluster.pid(node);
    ProcessHandle jvm = ProcessHandle.of(pid).orElseThrow(() -> new IllegalStateException(
        "node " + cluster.node(node) + " is not running"));
    jvm.destroy();
    try {
      jvm.onExit().get(STOP_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    } catch (ExecutionException | TimeoutException e) {
      throw new AssertionError("node " + cluster.node(node) + " (pid " + pid + ") did not exit"
          + " within " + STOP_TIMEOUT + " of SIGTERM\n" + cluster.logTail(node), e);
    }
    cluster.stop(node); // it has exited: this only reaps it
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
    cluster.resume(node);
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

  @Override
  public String logTail(int node) {
    return cluster.logTail(node);
  }

  @Override
  public void close() {
    cluster.close();
  }
}
