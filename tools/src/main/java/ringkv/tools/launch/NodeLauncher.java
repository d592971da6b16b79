package ringkv.tools.launch;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import javax.net.ssl.SSLContext;

/**
 * The one launcher of local node processes, used by {@code ./kvs up} (the CLI's {@code up}),
 * the bench ({@code --start-cluster}) and the black-box tests ({@code LocalCluster}).
 *
 * <p>Each node is {@code java <jvm flags> -jar kvs-node.jar}, configured by its environment
 * (SOCKET_ADDRESS or ADDRESS, VIEW, SHARD_COUNT, DATA_DIR, CLUSTER_SECRET, ...) as an operator
 * runs it; the launcher's own environment is inherited except the per-node variables of
 * {@link #NODE_VARIABLES}, and every node gets {@code EXIT_WITH_PARENT=1}, so a launcher killed
 * with SIGKILL leaves no node behind. Output goes to the node's log file, appended across
 * restarts, each start headed by a line with the command and the environment (secrets hidden).
 *
 * <p><b>Readiness</b> has one definition ({@link #awaitReady}): every node started together
 * answers {@code GET /health/ready} with 200 (serving, its shard's data copied from a peer)
 * and all of them report the same {@code epoch}. A node that exits while awaited, or a
 * deadline ({@code startTimeout}) passed, fails the wait with the tail of the node's log.
 *
 * <p>Processes never outlive the JVM: {@link #close()} stops every node (SIGTERM, SIGKILL after
 * {@code stopGrace}; at once with a grace of zero) and a shutdown hook does the same for
 * launchers not closed, e.g. on Ctrl-C.
 *
 * <p>Not thread-safe: drive one launcher from one thread; only the shutdown hook runs apart.
 */
public final class NodeLauncher implements AutoCloseable {
  /** Variables that are per node: never inherited from the launcher's environment. */
  public static final Set<String> NODE_VARIABLES = Set.of("SOCKET_ADDRESS", "ADDRESS", "VIEW",
      "SHARD_COUNT", "REPL_FACTOR", "DATA_DIR", "JAVA_TOOL_OPTIONS");
  public static final String READY_PATH = "/health/ready";
  /** How long SIGKILL may take to end a process before it counts as a failure. */
  public static final Duration KILL_TIMEOUT = Duration.ofSeconds(10);
  static final int LOG_TAIL_LINES = 40;

  /** Every node process alive in this JVM, stopped by the shutdown hook. */
  private static final Set<Process> LIVE = Collections.synchronizedSet(new HashSet<>());
  /** Ports handed out in this JVM, never reused, so a restarting node's port stays its own. */
  private static final Set<Integer> PORTS_USED = Collections.synchronizedSet(new HashSet<>());

  static {
    Runtime.getRuntime().addShutdownHook(new Thread(NodeLauncher::reapAll, "ringkv-reaper"));
  }

  /** A node: how it is named (address), where the launcher reaches it (dial), its env, log. */
  public record NodeSpec(String address, String dial, Map<String, String> env, Path log) {
    public NodeSpec {
      env = Map.copyOf(env);
    }
  }

  /** One node and its current process (null while it is down). */
  private static final class Node {
    NodeSpec spec;
    Process process;

    Node(NodeSpec spec) {
      this.spec = spec;
    }
  }

  private final Path jar;
  private final List<String> jvmFlags;
  private final Duration startTimeout;
  private final Duration stopGrace;
  private final Set<String> unset;
  private final Readiness readiness;
  private final List<Node> nodes = new ArrayList<>();

  private NodeLauncher(Builder b) {
    if (!Files.isRegularFile(b.jar)) {
      throw new IllegalStateException("no node jar at " + b.jar.toAbsolutePath()
          + ": build it with mvn -B -q package -DskipTests");
    }
    this.jar = b.jar.toAbsolutePath();
    this.jvmFlags = List.copyOf(b.jvmFlags);
    this.startTimeout = b.startTimeout;
    this.stopGrace = b.stopGrace;
    this.unset = Set.copyOf(b.unset);
    this.readiness = new Readiness(b.tls, b.startTimeout);
  }

  /** Options of a launcher of nodes running {@code jar} (node/target/kvs-node.jar). */
  public static Builder builder(Path jar) {
    return new Builder(jar);
  }

  /** Options; see {@link NodeLauncher#builder}. */
  public static final class Builder {
    private final Path jar;
    private List<String> jvmFlags = List.of();
    private Duration startTimeout = Duration.ofSeconds(30);
    private Duration stopGrace = Duration.ofSeconds(5);
    private SSLContext tls;
    private final Set<String> unset = new HashSet<>();

    private Builder(Path jar) {
      this.jar = jar;
    }

    /** JVM flags of every node (before {@code -jar}). */
    public Builder jvmFlags(List<String> flags) {
      this.jvmFlags = List.copyOf(flags);
      return this;
    }

    /** How long nodes started together may take until they are ready (default 30 s). */
    public Builder startTimeout(Duration timeout) {
      this.startTimeout = timeout;
      return this;
    }

    /** SIGTERM first and SIGKILL after this on {@link #close()}; zero: SIGKILL at once. */
    public Builder stopGrace(Duration grace) {
      this.stopGrace = grace;
      return this;
    }

    /** The nodes serve HTTPS: readiness is asked over HTTPS trusting this context. */
    public Builder tls(SSLContext context) {
      this.tls = context;
      return this;
    }

    /** More variables of the launcher's environment that the nodes must not inherit. */
    public Builder unset(String... names) {
      unset.addAll(List.of(names));
      return this;
    }

    public NodeLauncher build() {
      return new NodeLauncher(this);
    }
  }

  // --- describing nodes --------------------------------------------------------------------

  /**
   * Adds the nodes of a shard-dialect cluster on {@code host}: one per port, each with
   * SOCKET_ADDRESS, the VIEW of all of them, SHARD_COUNT ({@code null}: none, one shard of all
   * nodes), DATA_DIR {@code <dataRoot>/node-<port>} if {@code dataRoot} is given, the
   * variables of {@code env}, and the log {@code <logDir>/node-<port>.log}. Starts nothing.
   *
   * @return the new nodes' indexes
   */
  public List<Integer> addShardCluster(String host, List<Integer> ports, Integer shardCount,
      Path dataRoot, Map<String, String> env, Path logDir) {
    String view = ports.stream().map(p -> host + ":" + p).collect(Collectors.joining(","));
    List<Integer> added = new ArrayList<>();
    for (int port : ports) {
      Map<String, String> nodeEnv = new LinkedHashMap<>(env);
      nodeEnv.put("SOCKET_ADDRESS", host + ":" + port);
      nodeEnv.put("VIEW", view);
      if (shardCount != null) {
        nodeEnv.put("SHARD_COUNT", Integer.toString(shardCount));
      }
      if (dataRoot != null) {
        nodeEnv.put("DATA_DIR", dataRoot.resolve("node-" + port).toString());
      }
      added.add(add(new NodeSpec(host + ":" + port, host + ":" + port, nodeEnv,
          logDir.resolve("node-" + port + ".log"))));
    }
    return added;
  }

  /** Adds a node (not started); returns its index. */
  public int add(NodeSpec spec) {
    nodes.add(new Node(spec));
    return nodes.size() - 1;
  }

  /** Changes where node i is reached (its host name moved); the node must be down. */
  public void redial(int i, String dial) {
    Node n = nodes.get(i);
    checkDown(n);
    n.spec = new NodeSpec(n.spec.address(), dial, n.spec.env(), n.spec.log());
  }

  public int size() {
    return nodes.size();
  }

  public NodeSpec spec(int i) {
    return nodes.get(i).spec;
  }

  /** Every node's address, in index order. */
  public List<String> addresses() {
    return nodes.stream().map(n -> n.spec.address()).collect(Collectors.toUnmodifiableList());
  }

  // --- starting and awaiting ---------------------------------------------------------------

  /** Starts every node that is down and waits until they are ready together. */
  public void startAll() {
    List<Integer> started = new ArrayList<>();
    for (int i = 0; i < nodes.size(); i++) {
      if (!isRunning(i)) {
        launch(i);
        started.add(i);
      }
    }
    awaitReady(started);
  }

  /** Starts node i with its environment and returns at once (see {@link #awaitReady}). */
  public void launch(int i) {
    launch(i, nodes.get(i).spec.env(), List.of(), List.of());
  }

  /**
   * Starts node i with environment {@code env} (this start only), its command run by {@code
   * wrapper} (e.g. {@code faketime -f +60s}; empty: none), with {@code extraJvmFlags} after the
   * launcher's JVM flags. Returns at once.
   */
  public void launch(int i, Map<String, String> env, List<String> wrapper,
      List<String> extraJvmFlags) {
    Node n = nodes.get(i);
    checkDown(n);
    List<String> command = new ArrayList<>(wrapper);
    command.add(Paths.get(System.getProperty("java.home"), "bin", "java").toString());
    command.addAll(jvmFlags);
    command.addAll(extraJvmFlags);
    command.add("-jar");
    command.add(jar.toString());
    ProcessBuilder pb = new ProcessBuilder(command);
    pb.environment().keySet().removeIf(k -> NODE_VARIABLES.contains(k) || unset.contains(k));
    pb.environment().put("EXIT_WITH_PARENT", "1");
    pb.environment().putAll(env);
    if (!wrapper.isEmpty()) {
      // libfaketime's settings for a JVM: the monotonic clock stays real (timers, timeouts), and
      // without its "monotonic fix" (condition variables it rewrites on every wait) a JVM starts
      // in 2 s under faketime instead of 12-30 s; the wall clock is moved all the same.
      pb.environment().put("FAKETIME_DONT_FAKE_MONOTONIC", "1");
      pb.environment().put("FAKETIME_FORCE_MONOTONIC_FIX", "0");
    }
    pb.redirectErrorStream(true);
    pb.redirectOutput(ProcessBuilder.Redirect.appendTo(n.spec.log().toFile()));
    try {
      Files.createDirectories(n.spec.log().toAbsolutePath().getParent());
      Files.writeString(n.spec.log(), "=== " + Instant.now() + " start "
          + String.join(" ", command) + " env " + redacted(env) + "\n", StandardCharsets.UTF_8,
          StandardOpenOption.CREATE, StandardOpenOption.APPEND);
      n.process = pb.start();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start node " + n.spec.address(), e);
    }
    LIVE.add(n.process);
  }

  /** Waits until node i is ready ({@link #awaitReady(Collection)} of one node). */
  public void awaitReady(int i) {
    awaitReady(List.of(i));
  }

  /**
   * The readiness rule ({@link Readiness}): waits until every node of {@code indexes} answers
   * {@code GET /health/ready} with 200 and all report the same epoch; throws
   * {@link LaunchException} with the tail of each failed node's log otherwise.
   */
  public void awaitReady(Collection<Integer> indexes) {
    readiness.await(indexes, i -> nodes.get(i).spec, i -> nodes.get(i).process, this::tail);
  }

  /** The epoch node {@code dial} reports when it answers GET /health/ready with 200. */
  public OptionalLong readyEpoch(String dial) {
    return readiness.readyEpoch(dial);
  }

  // --- faults and stopping -----------------------------------------------------------------

  public boolean isRunning(int i) {
    Process p = nodes.get(i).process;
    return p != null && p.isAlive();
  }

  /** Node i's process (for its pid, CPU time, exit code); empty if never started or reaped. */
  public java.util.Optional<Process> process(int i) {
    return java.util.Optional.ofNullable(nodes.get(i).process);
  }

  /** Process id of running node i. */
  public long pid(int i) {
    Process p = nodes.get(i).process;
    if (p == null) {
      throw new IllegalStateException("node " + nodes.get(i).spec.address() + " is not running");
    }
    return p.pid();
  }

  /** Kills node i with SIGKILL and reaps it; nothing if it is down. */
  public void kill(int i) {
    Node n = nodes.get(i);
    if (n.process == null) {
      return;
    }
    reap(n, ProcessTree.kill(n.process), KILL_TIMEOUT);
  }

  /**
   * Sends SIGTERM to node i and waits up to {@code timeout} for it to exit; returns its exit
   * code. Throws {@link LaunchException} (the node still running) if it does not exit.
   */
  public int terminate(int i, Duration timeout) {
    Node n = nodes.get(i);
    if (n.process == null) {
      throw new IllegalStateException("node " + n.spec.address() + " is not running");
    }
    Process p = n.process;
    if (!ProcessTree.waitFor(ProcessTree.terminate(p), timeout)) {
      throw new LaunchException("node " + n.spec.address() + " did not exit within " + timeout
          + " of SIGTERM\n" + tail(i), null);
    }
    LIVE.remove(p);
    n.process = null;
    return p.exitValue();
  }

  /** Sends {@code kill -<signal>} (e.g. STOP, CONT) to running node i (and a wrapper's node). */
  public void signal(int i, String signal) {
    pid(i); // throws if the node is down
    List<String> command = new ArrayList<>(List.of("kill", "-" + signal));
    ProcessTree.of(nodes.get(i).process).forEach(h -> command.add(Long.toString(h.pid())));
    try {
      Process kill = new ProcessBuilder(command).start();
      if (!kill.waitFor(5, TimeUnit.SECONDS) || kill.exitValue() != 0) {
        throw new LaunchException(String.join(" ", command) + " failed", null);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new LaunchException("interrupted", e);
    }
  }

  /**
   * Stops every node: SIGTERM, then SIGKILL for those still running after the stop grace (at
   * once with a grace of zero), and reaps them. Idempotent. Throws {@link LaunchException} if
   * a node survives SIGKILL, after reaping the others.
   */
  @Override
  public void close() {
    List<Node> running = nodes.stream().filter(n -> n.process != null)
        .collect(Collectors.toList());
    Map<Node, List<ProcessHandle>> trees = new LinkedHashMap<>();
    if (stopGrace.isZero()) {
      running.forEach(n -> trees.put(n, ProcessTree.kill(n.process)));
    } else {
      running.forEach(n -> trees.put(n, ProcessTree.terminate(n.process)));
      long deadline = System.nanoTime() + stopGrace.toNanos();
      for (Node n : running) {
        ProcessTree.waitFor(trees.get(n),
            Duration.ofNanos(Math.max(0, deadline - System.nanoTime())));
      }
      trees.values().forEach(tree -> tree.forEach(ProcessHandle::destroyForcibly));
    }
    LaunchException failure = null;
    for (Node n : running) {
      try {
        reap(n, trees.get(n), KILL_TIMEOUT);
      } catch (LaunchException e) {
        failure = e; // reap the others first
      }
    }
    if (failure != null) {
      throw failure;
    }
  }

  /** The last lines of node i's log, for error messages. */
  public String tail(int i) {
    Path log = nodes.get(i).spec.log();
    try {
      List<String> lines = Files.readAllLines(log, StandardCharsets.UTF_8);
      return String.join("\n", lines.subList(Math.max(0, lines.size() - LOG_TAIL_LINES),
          lines.size()));
    } catch (IOException | UncheckedIOException e) {
      return "(cannot read " + log + ": " + e + ")";
    }
  }

  // --- helpers -----------------------------------------------------------------------------

  /**
   * Ports free right now on {@code host}, distinct from each other and from every port handed
   * out earlier in this JVM. Another process may still take one before a node binds it; the
   * node then fails to start and its log names the port.
   */
  public static List<Integer> freePorts(String host, int count) {
    List<Integer> ports = new ArrayList<>();
    List<ServerSocket> held = new ArrayList<>();
    try {
      while (ports.size() < count) {
        ServerSocket socket = new ServerSocket(0, 1, InetAddress.getByName(host));
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
          // A bound, never-accepted socket: the port is free either way.
        }
      }
    }
    return ports;
  }

  /** {@code env} with the values of secrets and tokens hidden (logs are kept and shared). */
  public static Map<String, String> redacted(Map<String, String> env) {
    Map<String, String> out = new LinkedHashMap<>(env);
    out.replaceAll((k, v) -> k.contains("SECRET") || k.contains("TOKEN") ? "(set)" : v);
    return out;
  }

  private static void checkDown(Node n) {
    if (n.process != null && n.process.isAlive()) {
      throw new IllegalStateException("node " + n.spec.address() + " is already running");
    }
    if (n.process != null) {
      LIVE.remove(n.process); // exited on its own: nothing left to reap
      n.process = null;
    }
  }

  private static void reap(Node n, List<ProcessHandle> tree, Duration timeout) {
    Process p = n.process;
    if (!ProcessTree.waitFor(tree, timeout)) {
      throw new LaunchException("node " + n.spec.address() + " (pid " + p.pid()
          + ") survived SIGKILL for " + timeout, null);
    }
    LIVE.remove(p);
    n.process = null;
  }

  /** The shutdown hook: SIGTERM to every live node, SIGKILL to those left after 5 s. */
  private static void reapAll() {
    List<Process> all;
    synchronized (LIVE) {
      all = new ArrayList<>(LIVE);
    }
    List<List<ProcessHandle>> trees = all.stream().map(ProcessTree::terminate).toList();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
    for (List<ProcessHandle> tree : trees) {
      ProcessTree.waitFor(tree, Duration.ofNanos(Math.max(0, deadline - System.nanoTime())));
    }
    trees.forEach(tree -> tree.forEach(ProcessHandle::destroyForcibly));
    trees.forEach(tree -> ProcessTree.waitFor(tree, Duration.ofSeconds(5)));
  }
}
