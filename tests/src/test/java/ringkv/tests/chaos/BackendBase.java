package ringkv.tests.chaos;

import java.util.List;
import ringkv.tests.support.Dialect;

/**
 * What every {@link ClusterBackend} does the same way, whatever runs its nodes: it names itself,
 * knows its dialect and its nodes' addresses (fixed when it starts), and closes its cluster
 * without throwing; it kills, stops, starts, pauses and resumes a node through the cluster's
 * methods named in its {@link NodeFaults}. A subclass holds only what differs: how it sends to a
 * node and partitions nodes, and where its logs are.
 *
 * @param <C> the cluster the backend adapts, closed with it
 */
abstract class BackendBase<C extends AutoCloseable> implements ClusterBackend {
  protected final C cluster;
  private final String name;
  private final Dialect dialect;
  private final List<String> addresses;
  private final NodeFaults faults;

  BackendBase(String name, Dialect dialect, C cluster, List<String> addresses,
      NodeFaults faults) {
    this.name = name;
    this.dialect = dialect;
    this.cluster = cluster;
    this.addresses = List.copyOf(addresses);
    this.faults = faults;
  }

  @Override
  public void kill(int node) {
    faults.kill().accept(node);
  }

  @Override
  public void stop(int node) {
    faults.stop().accept(node);
  }

  @Override
  public void start(int node) {
    faults.start().accept(node);
  }

  @Override
  public final void pause(int node) {
    faults.pause().accept(node);
  }

  @Override
  public final void resume(int node) {
    faults.resume().accept(node);
  }

  @Override
  public final String name() {
    return name;
  }

  @Override
  public final Dialect dialect() {
    return dialect;
  }

  @Override
  public final List<String> addresses() {
    return addresses;
  }

  /**
   * Closes the cluster. A failure (such as a node that survived SIGKILL) is only reported: the
   * test's own outcome matters more.
   */
  @Override
  public final void close() {
    try {
      cluster.close();
    } catch (Exception | AssertionError e) {
      System.err.println("[chaos] closing the " + name + " cluster: " + e.getMessage());
    }
  }
}
