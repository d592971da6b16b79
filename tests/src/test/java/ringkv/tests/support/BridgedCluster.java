package ringkv.tests.support;

import java.util.List;

/**
 * A cluster whose nodes run inside a network namespace and which the test JVM reaches through a
 * bridge per node ({@code socat} relaying a Unix socket to the node, see {@link Netns#bridge}):
 * {@link NetnsCluster} and {@link ContainerCluster}. {@link #send} and {@link #pid} may be called
 * from any thread.
 */
public interface BridgedCluster extends AutoCloseable {
  /** Each node's address as the nodes know each other ({@code host:port}), in index order. */
  List<String> addresses();

  /** Address of node i. */
  String node(int i);

  /** Sends a request to node i through its bridge; {@code rawBody} null means no body. */
  Http.Reply send(int i, String method, String path, String rawBody);

  /** Host pid of node i's JVM, or -1 while it is down (killed or stopped). */
  long pid(int i);

  /** The last lines of node i's log. */
  String logTail(int i);

  /** Stops every node and frees everything; never throws. */
  @Override
  void close();
}
