package ringkv.tests.chaos;

import java.util.Collection;
import java.util.List;
import ringkv.tests.support.Dialect;
import ringkv.tests.support.Http;

/**
 * What the chaos suite needs from a running cluster, whatever runs it (node processes on this
 * machine, in a network namespace, or containers): the nodes' addresses, requests to a node, and
 * the faults. The workload, the {@link Nemesis} and the checks see nothing else, so a new kind
 * of cluster only implements this.
 *
 * <p>Nodes are numbered 0..{@code size()-1}. Faults are driven from one thread at a time;
 * {@link #send} may be called from any thread, also while a fault is being applied.
 */
public interface ClusterBackend extends AutoCloseable {
  /** A short name for the summary line ({@code local}, {@code netns}, …). */
  String name();

  /** The HTTP dialect the nodes were started in. */
  Dialect dialect();

  /** Each node's address as the nodes know each other ({@code host:port}), in index order. */
  List<String> addresses();

  default int size() {
    return addresses().size();
  }

  /**
   * Sends a request to node {@code node}; {@code rawBody} null means no body. Throws
   * {@link AssertionError} when no answer came (refused, reset, timed out).
   */
  Http.Reply send(int node, String method, String path, String rawBody);

  /** Kills node {@code node} at once (SIGKILL or its equivalent) and waits until it is gone. */
  void kill(int node);

  /**
   * Stops node {@code node} gracefully (SIGTERM or its equivalent, such as {@code docker stop}:
   * the node shuts down and closes its store) and waits until it is gone.
   */
  void stop(int node);

  /** Starts a killed or stopped node again with its data and waits until it serves (ready). */
  void start(int node);

  /** Freezes node {@code node} (SIGSTOP): it keeps its connections but answers nothing. */
  void pause(int node);

  /** Thaws a node frozen by {@link #pause}. */
  void resume(int node);

  /** Whether {@link #partition} and {@link #heal} work here; if not, the nemesis skips them. */
  boolean partitions();

  /** Cuts the network between every node of {@code side} and every node of {@code other}. */
  void partition(Collection<Integer> side, Collection<Integer> other);

  /** Ends every partition. */
  void heal();

  /** Whether {@link #restartWithClockOffset} works here; if not, the nemesis skips it. */
  default boolean clockFaults() {
    return false;
  }

  /**
   * Stops node {@code node} gracefully and starts it again with its data and its wall clock
   * moved by {@code offsetS} seconds (0: the right clock), and waits until it serves.
   */
  default void restartWithClockOffset(int node, long offsetS) {
    throw new UnsupportedOperationException(name() + " cannot move a node's clock");
  }

  /**
   * Asks node {@code node} to reshard the cluster into {@code shards} shards over every node:
   * {@code PUT /key-value-store-shard/reshard} in the shard dialect, {@code PUT
   * /kvs/view-change} with the whole view and {@code size()/shards} replicas in the other.
   * Throws {@link AssertionError} when no answer came.
   */
  default Http.Reply reshard(int node, int shards) {
    if (dialect() == Dialect.SHARD) {
      return send(node, "PUT", "/key-value-store-shard/reshard",
          "{\"shard-count\":" + shards + "}");
    }
    return send(node, "PUT", "/kvs/view-change", "{\"view\":\"" + String.join(",", addresses())
        + "\",\"repl-factor\":" + size() / shards + "}");
  }

  /** Where the nodes' logs are (for failure messages). */
  String logs();

  /** The last lines of node {@code node}'s log. */
  String logTail(int node);

  /** Stops every node and frees everything; never throws. */
  @Override
  void close();
}
