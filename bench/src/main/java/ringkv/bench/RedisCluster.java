package ringkv.bench;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * A local Redis Cluster of the same shape as the RingKV cluster it is compared with: {@code
 * shards} masters with {@code replicas - 1} replicas each, made by {@code redis-server
 * --cluster-enabled yes} processes and {@code redis-cli --cluster create}. Data in memory only
 * ({@code --save ""}, no AOF), as a RingKV node without {@code DATA_DIR}; replication
 * asynchronous in both. Requests go to the master of each key's slot ({@link ClusterSlots}),
 * as {@code redis-benchmark --cluster} and cluster clients send them (replicas serve no reads
 * without {@code READONLY}).
 *
 * <p>Not thread-safe; the comparison's main thread uses it.
 */
final class RedisCluster extends LocalCluster {
  static final long START_TIMEOUT_MS = 60_000;
  static final int CONTROL_TIMEOUT_MS = 2_000;
  static final int CLUSTER_NODE_TIMEOUT_MS = 5_000;
  private static final long POLL_MS = 100;

  private final Path redisServer;
  private final Path redisCli;
  private final int shards;
  private final int replicas;
  private final Path dataDir;
  private final List<Process> started = new ArrayList<>();
  private List<String> addresses = List.of();
  private String version = "?";

  RedisCluster(Path redisServer, Path redisCli, int shards, int replicas, Path logDir) {
    super(logDir.resolve("redis"), List.of());
    if (shards < 3) {
      throw new IllegalArgumentException("a Redis Cluster needs at least 3 masters, got "
          + shards + " shards");
    }
    this.redisServer = redisServer;
    this.redisCli = redisCli;
    this.shards = shards;
    this.replicas = replicas;
    this.dataDir = processes.logDir();
  }

  /** An executable named {@code name} on the PATH, if any. */
  static Optional<Path> onPath(String name) {
    String path = System.getenv("PATH");
    if (path == null) {
      return Optional.empty();
    }
    for (String dir : path.split(File.pathSeparator)) {
      Path p = Path.of(dir.isEmpty() ? "." : dir, name);
      if (Files.isRegularFile(p) && Files.isExecutable(p)) {
        return Optional.of(p);
      }
    }
    return Optional.empty();
  }

  @Override
  public String name() {
    return "redis";
  }

  @Override
  public String describe() {
    return "Redis Cluster " + version + ": " + shards + " masters + " + shards * (replicas - 1)
        + " replicas (redis-server --cluster-enabled yes --save \"\" --appendonly no)";
  }

  @Override
  public Routes start() throws IOException {
    removeOldClusterState();
    version = run(List.of(redisServer.toString(), "--version"), "redis-version.log")
        .replaceAll(".*\\bv=([0-9.]+).*", "$1").trim();
    List<Integer> ports = ChildProcesses.freePorts(shards * replicas);
    List<String> all = new ArrayList<>();
    for (int port : ports) {
      Process p = processes.start(List.of(redisServer.toString(), "--port",
          Integer.toString(port), "--bind", ChildProcesses.HOST, "--protected-mode", "no",
          "--daemonize", "no", "--cluster-enabled", "yes", "--cluster-config-file",
          "nodes-" + port + ".conf", "--cluster-node-timeout",
          Integer.toString(CLUSTER_NODE_TIMEOUT_MS), "--dir", dataDir.toAbsolutePath()
              .toString(), "--save", "", "--appendonly", "no"),
          "redis-" + port + ".log");
      String address = ChildProcesses.HOST + ":" + port;
      started.add(p);
      servers.put(p.pid(), address);
      all.add(address);
    }
    addresses = List.copyOf(all);
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(START_TIMEOUT_MS);
    for (String a : addresses) {
      awaitTrue(deadline, "PING " + a, () -> "PONG".equals(call(a, "PING")));
    }
    List<String> create = new ArrayList<>(List.of(redisCli.toString(), "--cluster", "create"));
    create.addAll(addresses);
    create.addAll(List.of("--cluster-replicas", Integer.toString(replicas - 1),
        "--cluster-yes"));
    run(create, "redis-cli-cluster-create.log");
    awaitTrue(deadline, "cluster_state:ok with every replica connected", this::formed);
    ClusterSlots slots = ClusterSlots.fromReply(call(addresses.get(0), "CLUSTER", "SLOTS"));
    labelRoles(slots.masters());
    return new Routes(slots.masters(), slots::masterOf);
  }

  /** Every node says the cluster is ok, and every master has its replicas, all in sync. */
  private boolean formed() throws IOException {
    for (String a : addresses) {
      Object info = call(a, "CLUSTER", "INFO");
      if (!(info instanceof String s) || !s.contains("cluster_state:ok")) {
        return false;
      }
    }
    Object slotsReply = call(addresses.get(0), "CLUSTER", "SLOTS");
    ClusterSlots s;
    try {
      s = ClusterSlots.fromReply(slotsReply);
    } catch (IllegalArgumentException e) {
      return false;
    }
    if (s.masters().size() != shards
        || ClusterSlots.replicas(slotsReply).size() != shards * (replicas - 1)) {
      return false;
    }
    for (String a : addresses) {
      if (call(a, "ROLE") instanceof List<?> role && "slave".equals(role.get(0))
          && (role.size() < 4 || !"connected".equals(role.get(3)))) {
        return false;
      }
    }
    return true;
  }

  private void labelRoles(List<String> masters) {
    servers.replaceAll((pid, a) -> a + (masters.contains(a) ? " master" : " replica"));
  }

  /** A node restarted on a port of an old run must not find that run's cluster state. */
  private void removeOldClusterState() throws IOException {
    Files.createDirectories(dataDir);
    try (DirectoryStream<Path> old = Files.newDirectoryStream(dataDir,
        "{nodes-*.conf,dump.rdb,appendonly*}")) {
      for (Path p : old) {
        if (Files.isDirectory(p)) {
          continue;
        }
        Files.delete(p);
      }
    }
  }

  /** Runs a short command to completion (60 s at most); returns its output. */
  private String run(List<String> command, String logName) throws IOException {
    Path log = dataDir.resolve(logName);
    Process p = new ProcessBuilder(command).redirectErrorStream(true)
        .redirectOutput(log.toFile()).start();
    try {
      if (!p.waitFor(START_TIMEOUT_MS, TimeUnit.MILLISECONDS)) {
        throw new IOException(String.join(" ", command) + " did not finish; see " + log);
      }
      if (p.exitValue() != 0) {
        throw new IOException(String.join(" ", command) + " exited with " + p.exitValue()
            + "; see " + log);
      }
      return Files.readString(log, StandardCharsets.UTF_8);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted while running " + command.get(0), e);
    } finally {
      p.destroyForcibly();
    }
  }

  private static Object call(String address, String... args) throws IOException {
    try (Resp.Connection c = new Resp.Connection(address, CONTROL_TIMEOUT_MS)) {
      return c.call(args);
    }
  }

  private interface Check {
    boolean ok() throws IOException;
  }

  private void awaitTrue(long deadline, String what, Check check) throws IOException {
    IOException last = null;
    while (System.nanoTime() - deadline < 0) {
      for (Process p : started) {
        if (!p.isAlive()) {
          throw new IOException("a redis-server exited with code " + p.exitValue()
              + "; see the logs in " + dataDir);
        }
      }
      try {
        if (check.ok()) {
          return;
        }
      } catch (IOException e) {
        last = e;
      }
      try {
        Thread.sleep(POLL_MS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IOException("interrupted while waiting for " + what, e);
      }
    }
    throw new IOException("Redis Cluster: no " + what + " within " + START_TIMEOUT_MS
        + " ms; see the logs in " + dataDir + (last == null ? "" : " (last error: " + last
        + ")"));
  }

  @Override
  public LoadGenerator.Requests requests(String owner, String key, String value) {
    return new LoadGenerator.Requests(Resp.command("GET", key),
        Resp.command("SET", key, value));
  }

  @Override
  public LoadGenerator.ReplyParser newParser(int valueBytes) {
    return new Resp.ReplyParser(valueBytes);
  }
}
