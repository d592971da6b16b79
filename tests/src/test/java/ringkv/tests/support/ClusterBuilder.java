package ringkv.tests.support;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import java.util.stream.Stream;

/**
 * What the builders of the test clusters (local processes, network namespaces, containers)
 * share: the cluster's name (its log directory), how many nodes, the node's HTTP dialect, the
 * environment every node gets, and how long the nodes may take to serve, at the first start and
 * at every restart; and {@link #start()}, which hands the builder to the cluster's constructor.
 *
 * @param <B> the concrete builder, returned by every setter so calls chain
 * @param <C> the cluster it starts
 */
abstract class ClusterBuilder<B extends ClusterBuilder<B, C>, C> {
  /** Log directories and log names already cleaned up in this JVM (done once for each). */
  private static final Set<List<String>> LOG_DIRS_PREPARED =
      Collections.synchronizedSet(new HashSet<>());

  final String name;
  private final int nodesMax;
  int nodeCount;
  Duration startTimeout;
  /** {@code SHARD_COUNT} of the shard dialect; null: none, the whole cluster is one shard. */
  Integer shardCount;
  /** {@code REPL_FACTOR}, which selects the view-change dialect; null: the shard dialect. */
  Integer replFactor;
  final Map<String, String> extraEnv = new LinkedHashMap<>();
  /** The cluster's constructor, which starts it from this builder's options. */
  private final Function<B, C> cluster;

  ClusterBuilder(String name, int nodes, int nodesMax, Duration startTimeout,
      Function<B, C> cluster) {
    this.name = name;
    this.nodeCount = nodes;
    this.nodesMax = nodesMax;
    this.startTimeout = startTimeout;
    this.cluster = cluster;
  }

  /** This builder as its own class (each subclass B extends {@code ClusterBuilder<B, C>}). */
  @SuppressWarnings("unchecked")
  final B self() {
    return (B) this;
  }

  /**
   * Starts the cluster and returns once each node serves (what else it sets up, and when it
   * aborts the test instead, see the cluster's class).
   */
  public C start() {
    return cluster.apply(self());
  }

  public B nodes(int count) {
    if (count < 1 || count > nodesMax) {
      throw new IllegalArgumentException(nodesMax == Integer.MAX_VALUE ? "nodes must be >= 1"
          : "nodes must be in [1, " + nodesMax + "]");
    }
    this.nodeCount = count;
    return self();
  }

  /** Shard dialect ({@code SOCKET_ADDRESS}) with {@code SHARD_COUNT=count}. */
  public B shards(int count) {
    return dialect(count, null);
  }

  /**
   * Shard dialect without {@code SHARD_COUNT}: {@code SOCKET_ADDRESS} and {@code VIEW} only, so
   * the whole cluster is one shard (as the Spring 2021 course suite starts its replicas).
   */
  public B noShardCount() {
    return dialect(null, null);
  }

  /** View-change dialect: {@code ADDRESS} and {@code REPL_FACTOR=factor}. */
  public B replFactor(int factor) {
    return dialect(null, factor);
  }

  /** One dialect at a time: the last one chosen replaces the one before. */
  private B dialect(Integer shardCount, Integer replFactor) {
    this.shardCount = shardCount;
    this.replFactor = replFactor;
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

  /** The variable of a node's own address: {@code ADDRESS} or {@code SOCKET_ADDRESS}. */
  String addressVariable() {
    return replFactor != null ? "ADDRESS" : "SOCKET_ADDRESS";
  }

  /**
   * What every node's environment holds: {@code VIEW=view}, the dialect's {@code REPL_FACTOR}
   * or {@code SHARD_COUNT}, then the variables of {@link #env} (which may replace those).
   */
  Map<String, String> commonEnv(String view) {
    Map<String, String> env = new LinkedHashMap<>();
    env.put("VIEW", view);
    if (replFactor != null) {
      env.put("REPL_FACTOR", Integer.toString(replFactor));
    } else if (shardCount != null) {
      env.put("SHARD_COUNT", Integer.toString(shardCount));
    }
    env.putAll(extraEnv);
    return env;
  }

  /** The environment of the node at {@code address}: {@link #commonEnv}, then its address. */
  Map<String, String> nodeEnv(String view, String address) {
    Map<String, String> env = commonEnv(view);
    env.put(addressVariable(), address);
    return env;
  }

  /**
   * Creates {@link #logDir()} and returns it. The first time this JVM uses the directory for
   * logs named like {@code logNames} (a regular expression), deletes those an earlier run left
   * there; logs of earlier clusters of this run stay (their names differ).
   */
  Path prepareLogDir(String logNames) {
    Path dir = logDir();
    try {
      Files.createDirectories(dir);
      if (!LOG_DIRS_PREPARED.add(List.of(dir.toAbsolutePath().normalize().toString(),
          logNames))) {
        return dir;
      }
      try (Stream<Path> old = Files.list(dir)) {
        for (Path p : old.toList()) {
          if (p.getFileName().toString().matches(logNames)) {
            Files.delete(p);
          }
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot prepare log directory " + dir, e);
    }
    return dir;
  }
}
