package ringkv.tests.support;

import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What the builders of the test clusters (local processes, network namespaces, containers)
 * share: the cluster's name (its log directory), how many nodes, the environment every node
 * gets, and how long the nodes may take to serve, at the first start and at every restart.
 *
 * @param <B> the concrete builder, returned by every setter so calls chain
 */
abstract class ClusterBuilder<B extends ClusterBuilder<B>> {
  final String name;
  private final int nodesMax;
  int nodeCount;
  Duration startTimeout;
  final Map<String, String> extraEnv = new LinkedHashMap<>();

  ClusterBuilder(String name, int nodes, int nodesMax, Duration startTimeout) {
    this.name = name;
    this.nodeCount = nodes;
    this.nodesMax = nodesMax;
    this.startTimeout = startTimeout;
  }

  abstract B self();

  public B nodes(int count) {
    if (count < 1 || count > nodesMax) {
      throw new IllegalArgumentException(nodesMax == Integer.MAX_VALUE ? "nodes must be >= 1"
          : "nodes must be in [1, " + nodesMax + "]");
    }
    this.nodeCount = count;
    return self();
  }

  /** An environment variable given to every node (e.g. {@code LOG_LEVEL}, tunables). */
  public B env(String key, String value) {
    extraEnv.put(key, value);
    return self();
  }

  /** How long the nodes may take to serve, at the first start and at every restart. */
  public B startTimeout(Duration timeout) {
    this.startTimeout = timeout;
    return self();
  }

  /** Where the cluster's node logs go: {@code <kvs.logs>/<name>}. */
  Path logDir() {
    return Paths.get(System.getProperty("kvs.logs", "target/node-logs"), name);
  }
}
