package ringkv.tests.support;

import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import java.util.function.Predicate;
import java.util.stream.Stream;

/**
 * A cluster of real RingKV node processes on 127.0.0.1, for black-box tests.
 *
 * <p>Each node is {@code java -jar kvs-node.jar} (system property {@code kvs.jar}) with its
 * configuration in the environment, exactly as an operator runs it. Output goes to
 * {@code kvs.logs/<name>/node-<port>.log} (appended across restarts). Construction returns only
 * once every node answers {@code GET /health/ready} with 200 (serving, with its shard's data
 * copied from a peer), or fails with the tail of
 * the logs of the nodes that did not come up.
 *
 * <p>Nodes listen on 127.0.0.1, or on host names ({@link Builder#hostNames}): then every node
 * JVM resolves names through a hosts file this harness writes, with the JDK's resolver
 * ({@code -Dvertx.disableDnsResolver=true -Djdk.net.hosts.file=<file>}, see
 * {@link #RESOLVER_FLAGS}); the test JVM itself cannot resolve them and sends its requests to
 * the IP addresses ({@link #node(int)}).
 *
 * <p>Processes never outlive the test JVM: {@link #close()} kills and reaps them all, and a JVM
 * shutdown hook does the same for any cluster a failing test forgot to close.
 *
 * <p>Not thread-safe: drive one cluster from one test thread.
 */
public final class LocalCluster implements AutoCloseable {
  public static final String HOST = "127.0.0.1";
  /**
   * How long a cluster (or a restarting node) may take until it serves. A node alone is ready
   * within 3 s (SPEC §1); six JVMs starting at once on two busy cores take several times that
   * (over 15 s was seen on a loaded machine). A bound, not a wait: a healthy start returns as
   * soon as the nodes serve. System property {@code kvs.start.timeout.ms} overrides it.
   */
  public static final Duration START_TIMEOUT =
      Duration.ofMillis(Long.getLong("kvs.start.timeout.ms", 30_000));
  public static final Duration STOP_TIMEOUT = Duration.ofSeconds(10);
  private static final int LOG_TAIL_LINES = 40;

  /**
   * JVM flags of a node. C1 only ({@code TieredStopAtLevel=1}) shortens start-up on a 2-core
   * machine where six node JVMs and the test JVM compete for CPU: six nodes served after
   * 4.5-15.5 s (median 7.6 s) with it and 8-23 s (median 11.3 s) without it, five runs each on
   * a busy machine. A node's throughput in these tests is bound by HTTP round trips, not C2.
   */
  public static final List<String> JVM_FLAGS =
      List.of("-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1");

  /** Every node process alive in this JVM, killed by the shutdown hook. */
  private static final Set<Process> LIVE = Collections.synchronizedSet(new HashSet<>());
  /** Ports handed out in this JVM, never reused so a restarting node's port stays its own. */
  private static final Set<Integer> PORTS_USED = Collections.synchronizedSet(new HashSet<>());
  /** Log directories emptied of an earlier run's logs by this JVM (done once per directory). */
  private static final Set<Path> LOG_DIRS_PREPARED = Collections.synchronizedSet(new HashSet<>());

  static {
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      List<Process> all;
      synchronized (LIVE) {
        all = new ArrayList<>(LIVE);
      }
      all.forEach(Process::destroyForcibly);
      for (Process p : all) {
        try {
          p.waitFor(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          return;
        }
      }
    }, "ringkv-local-cluster-reaper"));
  }

  private final Path jar;
  private final Path logDir;
  private final List<Node> nodes = new ArrayList<>();
  private final Map<String, String> commonEnv;
  private final String addressVariable;
  private final Duration startTimeout;
  /** Whether a node (by the address the harness dials) serves; see {@link Builder#readiness}. */
  private final Predicate<String> readiness;
  /** The hosts file of a cluster of host names (null: nodes listen on {@link #HOST}). */
  private final Path hostsFile;

  /**
   * JVM flags that make a node resolve host names through the hosts file {@code %s} only: Vert.x
   * falls back to the JDK's resolver, which reads {@code jdk.net.hosts.file} at every lookup,
   * and nothing is cached (TTL 0, also for failed lookups), so a name moved by
   * {@link #moveHost} is found again at the next connection, as a node finds a rescheduled pod.
   */
  public static final List<String> RESOLVER_FLAGS = List.of("-Dvertx.disableDnsResolver=true",
      "-Djdk.net.hosts.file=%s", "-Dsun.net.inetaddr.ttl=0", "-Dsun.net.inetaddr.negative.ttl=0");

  /** One node: its fixed address and environment, and its current process (null if down). */
  private static final class Node {
    final String host;
    /** Where {@link #host} points: the IP address this harness sends requests to. */
    String ip;
    final int port;
    final Map<String, String> env;
    final Path log;
    Process process;

    Node(String host, String ip, int port, Map<String, String> env, Path log) {
      this.host = host;
      this.ip = ip;
      this.port = port;
      this.env = env;
      this.log = log;
    }

    /** The node's address as configured (SOCKET_ADDRESS or ADDRESS). */
    String address() {
      return host + ":" + port;
    }

    /** Where the harness reaches it. */
    String dial() {
      return ip + ":" + port;
    }
  }

  /** Options of a cluster; see {@link LocalCluster#builder(String)}. */
  public static final class Builder {
    private final String name;
    private int nodeCount = 4;
    private Integer shardCount = 2;
    private Integer replFactor;
    private int idleCount;
    private final Map<String, String> extraEnv = new LinkedHashMap<>();
    private Path dataRoot;
    private Duration startTimeout = START_TIMEOUT;
    private Predicate<String> readiness = LocalCluster::servesHttp;
    private final List<String> alsoInView = new ArrayList<>();
    private final Map<String, String> hostNames = new LinkedHashMap<>();

    private Builder(String name) {
      this.name = name;
    }

    public Builder nodes(int count) {
      if (count < 1) {
        throw new IllegalArgumentException("nodes must be >= 1");
      }
      this.nodeCount = count;
      return this;
    }

    /** Shard dialect with {@code SHARD_COUNT=count}. */
    public Builder shards(int count) {
      this.shardCount = count;
      this.replFactor = null;
      return this;
    }

    /** Shard dialect without {@code SHARD_COUNT}: the whole cluster is one shard. */
    public Builder noShardCount() {
      this.shardCount = null;
      this.replFactor = null;
      return this;
    }

    /** View-change dialect: {@code ADDRESS} and {@code REPL_FACTOR=factor}. */
    public Builder replFactor(int factor) {
      this.replFactor = factor;
      this.shardCount = null;
      return this;
    }

    /**
     * View-change dialect: {@code count} more nodes (indexes after the others) started with the
     * same environment and VIEW, which does not list them: idle until a view change names them.
     */
    public Builder idleNodes(int count) {
      if (count < 0) {
        throw new IllegalArgumentException("idle nodes must be >= 0");
      }
      this.idleCount = count;
      return this;
    }

    /**
     * Addresses appended to every node's VIEW that this harness does not start: peers the test
     * plays itself (for example an in-process fake that answers the internal protocol).
     */
    public Builder alsoInView(String... addresses) {
      alsoInView.addAll(List.of(addresses));
      return this;
    }

    /**
     * Nodes listen on host names: node {@code i} on the {@code i}-th name of
     * {@code nameToIp} (in its iteration order), which a hosts file maps to its loopback
     * address (127.0.0.x). Every node's address, VIEW and answers use the names.
     */
    public Builder hostNames(Map<String, String> nameToIp) {
      hostNames.clear();
      hostNames.putAll(nameToIp);
      return this;
    }

    /** Durable nodes: node {@code i} gets {@code DATA_DIR=<root>/node-<port>}. */
    public Builder dataDirs(Path root) {
      this.dataRoot = root;
      return this;
    }

    /** An environment variable given to every node (e.g. {@code LOG_LEVEL}, tunables). */
    public Builder env(String key, String value) {
      extraEnv.put(key, value);
      return this;
    }

    /**
     * How long the nodes may take to serve, at the first start and at every restart (default
     * {@link #START_TIMEOUT}), for tests that start many nodes on a machine others share.
     */
    public Builder startTimeout(Duration timeout) {
      this.startTimeout = timeout;
      return this;
    }

    /**
     * How the harness asks a node, by the address it dials, whether it serves (default:
     * {@code GET /health/ready} over plain HTTP answers 200): a cluster that serves HTTPS only
     * gives a check over HTTPS.
     */
    public Builder readiness(Predicate<String> serves) {
      this.readiness = serves;
      return this;
    }

    /** Starts the nodes and waits until each serves. */
    public LocalCluster start() {
      return new LocalCluster(this);
    }
  }

  /** @param name directory name of this cluster's logs, usually the test class's simple name */
  public static Builder builder(String name) {
    return new Builder(name);
  }

  private LocalCluster(Builder b) {
    this.jar = Commands.requireJar();
    this.startTimeout = b.startTimeout;
    this.readiness = b.readiness;
    this.logDir = Paths.get(System.getProperty("kvs.logs", "target/node-logs"), b.name);
    prepareLogDir(logDir);
    if (b.idleCount > 0 && b.replFactor == null) {
      throw new IllegalArgumentException("idle nodes need the view-change dialect (replFactor)");
    }
    List<Integer> ports = freePorts(b.nodeCount + b.idleCount);
    List<String> hosts = new ArrayList<>(b.hostNames.keySet());
    if (!hosts.isEmpty() && hosts.size() != ports.size()) {
      throw new IllegalArgumentException(hosts.size() + " host names for " + ports.size()
          + " nodes");
    }
    while (hosts.size() < ports.size()) {
      hosts.add(HOST);
    }
    this.hostsFile = b.hostNames.isEmpty() ? null : logDir.resolve("hosts");
    String view = Stream.concat(
            IntStream.range(0, b.nodeCount).mapToObj(i -> hosts.get(i) + ":" + ports.get(i)),
            b.alsoInView.stream())
        .collect(Collectors.joining(","));
    Map<String, String> env = new LinkedHashMap<>();
    env.put("VIEW", view);
    env.put("EXIT_WITH_PARENT", "1"); // a test JVM killed mid-run leaves no node behind
    if (b.replFactor != null) {
      env.put("REPL_FACTOR", Integer.toString(b.replFactor));
    } else if (b.shardCount != null) {
      env.put("SHARD_COUNT", Integer.toString(b.shardCount));
    }
    env.putAll(b.extraEnv);
    this.commonEnv = Map.copyOf(env);
    this.addressVariable = b.replFactor != null ? "ADDRESS" : "SOCKET_ADDRESS";
    for (int i = 0; i < ports.size(); i++) {
      int port = ports.get(i);
      String host = hosts.get(i);
      Map<String, String> nodeEnv = new LinkedHashMap<>(commonEnv);
      nodeEnv.put(addressVariable, host + ":" + port);
      if (b.dataRoot != null) {
        nodeEnv.put("DATA_DIR", b.dataRoot.resolve("node-" + port).toString());
      }
      nodes.add(new Node(host, b.hostNames.getOrDefault(host, HOST), port, nodeEnv,
          logDir.resolve("node-" + port + ".log")));
    }
    try {
      writeHostsFile();
      nodes.forEach(this::launch);
      awaitServing(IntStream.range(0, nodes.size()).boxed().collect(Collectors.toList()));
    } catch (RuntimeException | Error e) {
      close();
      throw e;
    }
  }

  /** Number of nodes (started or stopped). */
  public int size() {
    return nodes.size();
  }

  /**
   * Where to send node i requests: {@code 127.0.0.1:port}, or for a node on a host name the IP
   * address the name points to now (the test JVM does not resolve the names).
   */
  public String node(int i) {
    return nodes.get(i).dial();
  }

  /** Node i's address as configured ({@code SOCKET_ADDRESS} or {@code ADDRESS}), as in VIEW. */
  public String address(int i) {
    return nodes.get(i).address();
  }

  /**
   * Points stopped node i's host name at {@code ip} (a rescheduled pod's new address): the
   * hosts file changes at once for every node; node i listens there when started again.
   */
  public void moveHost(int i, String ip) {
    Node n = nodes.get(i);
    if (hostsFile == null || n.host.equals(HOST)) {
      throw new IllegalStateException("node " + n.address() + " has no host name to move");
    }
    if (n.process != null && n.process.isAlive()) {
      throw new IllegalStateException("stop node " + n.address() + " before moving it");
    }
    n.ip = ip;
    writeHostsFile();
  }

  /** The hosts file of a cluster of host names. */
  public Path hostsFile() {
    if (hostsFile == null) {
      throw new IllegalStateException("this cluster's nodes listen on " + HOST);
    }
    return hostsFile;
  }

  /** Every node address as configured, in index order. */
  public List<String> addresses() {
    return nodes.stream().map(Node::address).collect(Collectors.toUnmodifiableList());
  }

  /** Index of the node with this address. */
  public int indexOf(String address) {
    for (int i = 0; i < nodes.size(); i++) {
      if (nodes.get(i).address().equals(address)) {
        return i;
      }
    }
    throw new IllegalArgumentException("no node " + address + " in " + addresses());
  }

  /** The VIEW every node was started with. */
  public String view() {
    return commonEnv.get("VIEW");
  }

  /** Log file of node i. */
  public Path log(int i) {
    return nodes.get(i).log;
  }

  public boolean isRunning(int i) {
    Process p = nodes.get(i).process;
    return p != null && p.isAlive();
  }

  /** Process id of node i (for signals such as SIGSTOP). */
  public long pid(int i) {
    Process p = nodes.get(i).process;
    if (p == null) {
      throw new IllegalStateException("node " + node(i) + " is not running");
    }
    return p.pid();
  }

  /** Kills node i with SIGKILL and reaps it. */
  public void stop(int i) {
    Node n = nodes.get(i);
    if (n.process == null) {
      return;
    }
    n.process.destroyForcibly();
    reap(n, STOP_TIMEOUT);
  }

  /** Restarts every stopped node at once (same addresses and environments), waits for all. */
  public void startAll() {
    List<Integer> started = new ArrayList<>();
    for (int i = 0; i < nodes.size(); i++) {
      Node n = nodes.get(i);
      if (n.process == null || !n.process.isAlive()) {
        launch(n);
        started.add(i);
      }
    }
    awaitServing(started);
  }

  /** Sends SIGTERM to node i and waits for it to exit; returns its exit code. */
  public int terminate(int i) {
    Node n = nodes.get(i);
    if (n.process == null) {
      throw new IllegalStateException("node " + n.address() + " is not running");
    }
    Process p = n.process;
    p.destroy(); // SIGTERM on Unix
    try {
      if (!p.waitFor(STOP_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
        throw new AssertionError("node " + n.address() + " did not exit within " + STOP_TIMEOUT
            + " of SIGTERM\n" + tail(n));
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    } finally {
      if (!p.isAlive()) {
        LIVE.remove(p);
        n.process = null;
      }
    }
    return p.exitValue();
  }

  /** Pauses node i with SIGSTOP (it keeps its sockets but answers nothing). */
  public void pause(int i) {
    signal(i, "STOP");
  }

  /** Resumes a node paused by {@link #pause(int)}. */
  public void resume(int i) {
    signal(i, "CONT");
  }

  /** Restarts node i with its original address and environment and waits until it serves. */
  public void start(int i) {
    start(i, Map.of());
  }

  /**
   * Restarts node i with its address and environment and returns at once, before it serves
   * (for tests of what a node answers while it starts); {@link #awaitServing(int)} waits.
   */
  public void launch(int i) {
    Node n = nodes.get(i);
    if (n.process != null && n.process.isAlive()) {
      throw new IllegalStateException("node " + n.address() + " is already running");
    }
    launch(n);
  }

  /** Whether node i's process runs. */
  public boolean running(int i) {
    Process p = nodes.get(i).process;
    return p != null && p.isAlive();
  }

  /** Whether Debian's {@code faketime} is installed (clock faults need it). */
  public static boolean faketimeAvailable() {
    return Commands.which("faketime").isPresent();
  }

  /**
   * Restarts stopped node i with its address and environment under {@code faketime}, its wall
   * clock moved by {@code offsetS} seconds (the monotonic clock untouched, so timers keep their
   * pace), and waits until it serves; 0 starts it plainly. For this start only.
   */
  public void startWithClockOffset(int i, long offsetS) {
    Node n = nodes.get(i);
    if (n.process != null && n.process.isAlive()) {
      throw new IllegalStateException("node " + n.address() + " is already running");
    }
    launch(n, n.env, offsetS == 0 ? List.of()
        : List.of("faketime", "-f", String.format("%+ds", offsetS)));
    awaitServing(List.of(i));
  }

  /** Waits until node i serves (answers GET /health/ready with 200). */
  public void awaitServing(int i) {
    awaitServing(List.of(i));
  }

  /**
   * Restarts node i with its address and environment, with the variables in {@code set} set
   * and those named in {@code unset} removed, and waits until it serves. The change holds for
   * this start only.
   */
  public void start(int i, Map<String, String> set, String... unset) {
    Node n = nodes.get(i);
    if (n.process != null && n.process.isAlive()) {
      throw new IllegalStateException("node " + n.address() + " is already running");
    }
    Map<String, String> env = new LinkedHashMap<>(n.env);
    env.putAll(set);
    for (String name : unset) {
      env.remove(name);
    }
    launch(n, env);
    awaitServing(List.of(i));
  }

  /**
   * Starts one more node on a new port, with the cluster's environment and a VIEW of the
   * cluster's nodes plus itself, changed by {@code set} and {@code unset} (for example without
   * SHARD_COUNT, so that it joins the running cluster), and waits until it serves.
   *
   * @return the new node's index
   */
  public int addNode(Map<String, String> set, String... unset) {
    if (hostsFile != null) {
      throw new IllegalStateException("addNode is not supported with host names");
    }
    int port = freePorts(1).get(0);
    String address = HOST + ":" + port;
    Map<String, String> env = new LinkedHashMap<>(commonEnv);
    env.put("VIEW", commonEnv.get("VIEW") + "," + address);
    env.put(addressVariable, address);
    env.putAll(set);
    for (String name : unset) {
      env.remove(name);
    }
    nodes.add(new Node(HOST, HOST, port, env, logDir.resolve("node-" + port + ".log")));
    int index = nodes.size() - 1;
    launch(nodes.get(index));
    awaitServing(List.of(index));
    return index;
  }

  /** Last lines of node i's log, for assertion messages. */
  public String logTail(int i) {
    return tail(nodes.get(i));
  }

  /** Kills every node process and waits for each to exit. Idempotent. */
  @Override
  public void close() {
    for (Node n : nodes) {
      if (n.process != null) {
        n.process.destroyForcibly();
      }
    }
    AssertionError failure = null;
    for (Node n : nodes) {
      if (n.process != null) {
        try {
          reap(n, STOP_TIMEOUT);
        } catch (AssertionError e) {
          failure = e; // keep reaping the others first
        }
      }
    }
    if (failure != null) {
      throw failure;
    }
  }

  // ---------------------------------------------------------------------------------------------

  /**
   * Creates the log directory and, the first time this JVM uses it, deletes node logs left by
   * an earlier run; logs of earlier clusters of this run stay (their ports differ).
   */
  private static void prepareLogDir(Path dir) {
    try {
      Files.createDirectories(dir);
      if (!LOG_DIRS_PREPARED.add(dir.toAbsolutePath().normalize())) {
        return;
      }
      try (var old = Files.list(dir)) {
        for (Path p : (Iterable<Path>) old::iterator) {
          if (p.getFileName().toString().matches("node-\\d+\\.log")) {
            Files.delete(p);
          }
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot prepare log directory " + dir, e);
    }
  }

  /**
   * Ports free right now on 127.0.0.1, distinct from each other and from every port handed out
   * earlier in this JVM. Another process may still grab one before the node binds it; the node
   * then fails to start and the error names the port.
   */
  private static List<Integer> freePorts(int count) {
    List<Integer> ports = new ArrayList<>();
    List<ServerSocket> held = new ArrayList<>();
    try {
      while (ports.size() < count) {
        ServerSocket socket = new ServerSocket(0, 1, InetAddress.getByName(HOST));
        held.add(socket); // held open until all are chosen, so no port comes twice
        if (PORTS_USED.add(socket.getLocalPort())) {
          ports.add(socket.getLocalPort());
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot find free ports", e);
    } finally {
      for (ServerSocket s : held) {
        try {
          s.close();
        } catch (IOException e) {
          // Closing a bound, never-accepted socket cannot lose data; the port is free either way.
          throw new UncheckedIOException(e);
        }
      }
    }
    return ports;
  }

  /**
   * Writes the hosts file (every name to its current IP, and localhost) to a temporary file
   * renamed over the old one, so a node resolving meanwhile reads one version or the other.
   */
  private void writeHostsFile() {
    if (hostsFile == null) {
      return;
    }
    StringBuilder text = new StringBuilder("127.0.0.1 localhost\n");
    for (Node n : nodes) {
      if (!n.host.equals(HOST)) {
        text.append(n.ip).append(' ').append(n.host).append('\n');
      }
    }
    try {
      Path next = hostsFile.resolveSibling(hostsFile.getFileName() + ".next");
      Files.writeString(next, text, StandardCharsets.US_ASCII);
      Files.move(next, hostsFile, StandardCopyOption.REPLACE_EXISTING,
          StandardCopyOption.ATOMIC_MOVE);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + hostsFile, e);
    }
  }

  private void launch(Node n) {
    launch(n, n.env);
  }

  private void launch(Node n, Map<String, String> env) {
    launch(n, env, List.of());
  }

  /** Starts node {@code n}'s process, its command run by {@code wrapper} (e.g. faketime). */
  private void launch(Node n, Map<String, String> env, List<String> wrapper) {
    if (n.process != null) {
      LIVE.remove(n.process); // exited on its own; nothing left to reap
    }
    List<String> command = new ArrayList<>(wrapper);
    command.add(Paths.get(System.getProperty("java.home"), "bin", "java").toString());
    command.addAll(JVM_FLAGS);
    if (hostsFile != null) {
      RESOLVER_FLAGS.forEach(f -> command.add(String.format(f, hostsFile.toAbsolutePath())));
    }
    command.add("-jar");
    command.add(jar.toString());
    ProcessBuilder pb = new ProcessBuilder(command);
    pb.environment().keySet().removeIf(k -> k.equals("SOCKET_ADDRESS") || k.equals("ADDRESS")
        || k.equals("VIEW") || k.equals("SHARD_COUNT") || k.equals("REPL_FACTOR")
        || k.equals("DATA_DIR") || k.equals("JAVA_TOOL_OPTIONS"));
    pb.environment().putAll(env);
    if (!wrapper.isEmpty()) {
      pb.environment().put("FAKETIME_DONT_FAKE_MONOTONIC", "1");
    }
    pb.redirectErrorStream(true);
    pb.redirectOutput(ProcessBuilder.Redirect.appendTo(n.log.toFile()));
    try {
      Files.writeString(n.log, "=== " + Instant.now() + " start " + String.join(" ", command)
          + " env " + redacted(env) + "\n", StandardCharsets.UTF_8,
          StandardOpenOption.CREATE, StandardOpenOption.APPEND);
      n.process = pb.start();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start node " + n.address(), e);
    }
    LIVE.add(n.process);
  }

  /** {@code env} with the values of secrets and tokens left out (logs are kept and shared). */
  private static Map<String, String> redacted(Map<String, String> env) {
    Map<String, String> out = new LinkedHashMap<>(env);
    out.replaceAll((k, v) -> k.contains("SECRET") || k.contains("TOKEN") ? "(set)" : v);
    return out;
  }

  private void awaitServing(List<Integer> indexes) {
    List<String> failures = new ArrayList<>();
    Instant deadline = Instant.now().plus(startTimeout);
    for (int i : indexes) {
      Node n = nodes.get(i);
      Duration left = Duration.between(Instant.now(), deadline);
      try {
        await("node " + n.address() + " serving")
            .atMost(left.isNegative() ? Duration.ofMillis(1) : left)
            .pollInterval(Duration.ofMillis(100))
            .pollDelay(Duration.ZERO)
            .failFast("node " + n.address() + " exited", () -> !n.process.isAlive())
            .until(() -> readiness.test(n.dial()));
      } catch (RuntimeException | AssertionError e) { // timeout, or failFast: the node exited
        failures.add(n.address() + ": " + (n.process.isAlive()
            ? "not ready (GET /health/ready) within " + startTimeout
            : "exited with code " + n.process.exitValue()));
      }
    }
    if (!failures.isEmpty()) {
      StringBuilder message = new StringBuilder("nodes failed to start: " + failures);
      for (int i : indexes) {
        Node n = nodes.get(i);
        if (failures.stream().anyMatch(f -> f.startsWith(n.address() + ":"))) {
          message.append("\n--- tail of ").append(n.log).append('\n').append(tail(n));
        }
      }
      throw new AssertionError(message.toString());
    }
  }

  private static boolean servesHttp(String dial) {
    try {
      // Serving, and done copying its shard's data from a peer.
      return Http.get(dial, "/health/ready").status() == 200;
    } catch (AssertionError connectionFailed) {
      return false;
    }
  }

  private void signal(int i, String signal) {
    long pid = pid(i);
    try {
      Process kill = new ProcessBuilder("kill", "-" + signal, Long.toString(pid)).start();
      if (!kill.waitFor(5, TimeUnit.SECONDS) || kill.exitValue() != 0) {
        throw new AssertionError("kill -" + signal + " " + pid + " failed");
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }

  private static void reap(Node n, Duration timeout) {
    Process p = n.process;
    try {
      if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
        throw new AssertionError("node " + n.address() + " (pid " + p.pid()
            + ") survived SIGKILL for " + timeout);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
    LIVE.remove(p);
    n.process = null;
  }

  private static String tail(Node n) {
    try {
      String text = new String(Files.readAllBytes(n.log), StandardCharsets.UTF_8);
      List<String> lines = text.lines().collect(Collectors.toList());
      return String.join("\n", lines.subList(Math.max(0, lines.size() - LOG_TAIL_LINES),
          lines.size()));
    } catch (IOException e) {
      return "(cannot read " + n.log + ": " + e + ")";
    }
  }
}
