package ringkv.tests.support;

import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import ringkv.tests.support.Commands.Result;
import ringkv.tools.launch.NodeLauncher;

/**
 * A cluster of real RingKV node processes inside a network namespace this class creates, so that
 * tests can cut the network between nodes for real (iptables drops their packets) without
 * touching the machine's own namespace. View-change dialect ({@code ADDRESS}, {@code VIEW},
 * {@code REPL_FACTOR=2}) unless the builder chooses another ({@link ClusterBuilder}).
 *
 * <p>Layout: a namespace {@code ringkv-t<jvm pid>-<random>} with only {@code lo} up; node i
 * listens on {@code 127.0.0.(i+2):13800} (all of 127.0.0.0/8 is local inside it). The nodes open
 * their outgoing connections without binding a source address, so every packet between them has
 * source 127.0.0.1 and a rule on source addresses would match nothing. Each node therefore runs
 * under its own uid ({@code setpriv}); a mangle rule marks every connection a node opens with the
 * node's number ({@code -m owner --uid-owner … -j CONNMARK}), and a partition drops, in the
 * filter OUTPUT chain, every packet of the connections one side opened to the other side's
 * addresses ({@code -m connmark --mark a -m conntrack --ctorigdst b}), in both directions and
 * both ways. Marking the connection rather than matching the owner of each packet matters: a
 * socket its node has closed still retransmits its unacknowledged request, with no owner left to
 * match, and that request would cross the partition. Packets are dropped, not rejected: a
 * partitioned peer looks like a silent network.
 *
 * <p>The test JVM stays in the machine's namespace and cannot open TCP connections inside this
 * one. It reaches node i through a Unix domain socket (a file, visible from every namespace):
 * {@code socat UNIX-LISTEN:<dir>/n<i>.sock,fork TCP:127.0.0.(i+2):13800} runs inside the
 * namespace as root, which no partition rule names, so clients reach both sides of a partition
 * (as the clients of SPEC §4 do) and speak HTTP over it with {@link UnixHttp}.
 *
 * <p>Faults besides partitions, for chaos tests: {@link #stop(int)} (SIGKILL), {@link #start(int)}
 * (the same node again, same uid and environment), {@link #pause(int)}/{@link #resume(int)}
 * (SIGSTOP/SIGCONT). {@code ip netns exec} and {@code setpriv} exec their command, so the
 * process this class started is the node's JVM itself and signals reach it. With
 * {@link Builder#dataDirs()} node i keeps its data in {@code DATA_DIR=<work dir>/n<i+1>/data}
 * (owned by its uid) across restarts.
 *
 * <p>Nothing outlives the cluster: {@link #close()} and a JVM shutdown hook kill every process of
 * the namespace ({@code ip netns pids}, so even a child whose {@code ip netns exec} parent died),
 * delete the namespace and the working directory. Namespaces left by a JVM that was killed are
 * removed by the next cluster started on the machine. Without root, {@code ip}, {@code iptables}
 * (with the owner match), {@code socat} or {@code setpriv}, construction aborts the test through
 * a JUnit assumption (skipped, with the reason), never fails it.
 *
 * <p>Not thread-safe for setup and faults; requests ({@link #send}), {@link #isRunning} and
 * {@link #pid} may come from any thread.
 */
public final class NetnsCluster implements BridgedCluster {
  public static final int PORT = 13800;
  /**
   * Node i runs as uid (and gid) {@code UID_BASE + i}, which owns no file of the machine; its
   * connections carry the conntrack mark i + 1.
   */
  static final int UID_BASE = 42_300;
  private static final String OWNER_MATCH = "--uid-owner";
  private static final String NAMESPACE_PREFIX = "ringkv-t";
  private static final Pattern OUR_NAMESPACE =
      Pattern.compile(NAMESPACE_PREFIX + "(\\d+)-[0-9a-f]+");
  /** Working directories and command output files (see {@link Commands}) of a JVM. */
  private static final Pattern OUR_WORK_DIR = Pattern.compile("ringkv-(?:netns|cmd)-(\\d+)-.*");
  private static final Duration COMMAND_TIMEOUT = Duration.ofSeconds(10);
  private static final Duration KILL_TIMEOUT = Duration.ofSeconds(5);
  private static final Duration STOP_TIMEOUT = LocalCluster.STOP_TIMEOUT;
  private static final Duration PING_TIMEOUT = Duration.ofSeconds(2);
  private static final int LOG_TAIL_LINES = 40;

  /** Clusters not yet closed; the shutdown hook closes them. */
  private static final Set<NetnsCluster> LIVE = Collections.synchronizedSet(new HashSet<>());

  static {
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      List<NetnsCluster> all;
      synchronized (LIVE) {
        all = new ArrayList<>(LIVE);
      }
      all.forEach(NetnsCluster::close);
    }, "ringkv-netns-cluster-reaper"));
  }

  /** Absolute paths of the tools, resolved once. */
  private record Tools(String ip, String iptables, String iptablesRestore, String socat,
      String setpriv) {}

  /** One node: address, uid, bridge socket, log, and its process while it runs. */
  private static final class Node {
    final int index;
    final String host;
    final int uid;
    final Path dir;
    final Path socket;
    final Path log;
    final Map<String, String> env;
    /** Volatile: {@link NetnsCluster#isRunning} and {@link NetnsCluster#pid} read it anywhere. */
    volatile Process process;
    Process bridge;

    Node(int index, Path workDir, Path logDir, Map<String, String> env) {
      this.index = index;
      this.host = "127.0.0." + (index + 2);
      this.uid = UID_BASE + index;
      this.dir = workDir.resolve("n" + (index + 1));
      this.socket = workDir.resolve("n" + (index + 1) + ".sock");
      this.log = logDir.resolve("netns-node-" + (index + 1) + "-" + host + ".log");
      this.env = env;
    }

    String address() {
      return host + ":" + PORT;
    }
  }

  /**
   * Options of a cluster; see {@link NetnsCluster#builder(String)}. The view-change dialect with
   * {@code REPL_FACTOR=2} unless a dialect is chosen.
   */
  public static final class Builder extends ClusterBuilder<Builder, NetnsCluster> {
    private boolean dataDirs;

    private Builder(String name) {
      super(name, 4, 200, LocalCluster.START_TIMEOUT, NetnsCluster::new);
      replFactor(2);
    }

    /**
     * Durable nodes: node i gets {@code DATA_DIR} inside its own directory of the cluster's
     * working directory (deleted with the cluster), kept across {@link #stop}/{@link #start}.
     */
    public Builder dataDirs() {
      this.dataDirs = true;
      return this;
    }
  }

  /** @param name directory name of this cluster's logs, usually the test class's simple name */
  public static Builder builder(String name) {
    return new Builder(name);
  }

  private final Tools tools;
  private final String namespace;
  private final Path workDir;
  private final Path logDir;
  private final List<Node> nodes = new ArrayList<>();
  private Path nodeJar;
  private final Duration startTimeout;
  private boolean namespaceCreated;
  private boolean closed;

  private NetnsCluster(Builder b) {
    this.tools = requireTools();
    this.startTimeout = b.startTimeout;
    Path jar = Commands.requireJar();
    this.logDir = b.prepareLogDir("netns-.*\\.log");
    removeLeftovers(tools);
    this.namespace = Netns.newName(NAMESPACE_PREFIX);
    try {
      this.workDir = Files.createTempDirectory("ringkv-netns-" + ProcessHandle.current().pid()
          + "-");
    } catch (IOException e) {
      throw new UncheckedIOException("cannot create a working directory", e);
    }
    LIVE.add(this);
    Commands.closeOnFailure(this::close, () -> {
      createNamespace();
      Files.setPosixFilePermissions(workDir, PosixFilePermissions.fromString("rwxr-xr-x"));
      // A copy every node uid can read, wherever the checkout lies and whatever its modes.
      nodeJar = workDir.resolve("kvs-node.jar");
      Files.copy(jar, nodeJar, StandardCopyOption.REPLACE_EXISTING);
      Files.setPosixFilePermissions(nodeJar, PosixFilePermissions.fromString("rw-r--r--"));
      String view = Stream.iterate(0, i -> i + 1).limit(b.nodeCount)
          .map(i -> "127.0.0." + (i + 2) + ":" + PORT).collect(Collectors.joining(","));
      for (int i = 0; i < b.nodeCount; i++) {
        Map<String, String> env = new LinkedHashMap<>();
        Node n = new Node(i, workDir, logDir, env);
        env.put("EXIT_WITH_PARENT", "1"); // a test JVM killed mid-run leaves no node behind
        env.putAll(b.nodeEnv(view, n.address()));
        if (b.dataDirs) {
          env.put("DATA_DIR", n.dir.resolve("data").toString());
        }
        nodes.add(n);
      }
      markConnections();
      for (Node n : nodes) {
        startBridge(n);
      }
      for (Node n : nodes) {
        launch(n, nodeJar);
      }
      awaitServing(nodes);
    });
  }

  /** Number of nodes. */
  public int size() {
    return nodes.size();
  }

  /** Address {@code 127.0.0.x:13800} of node i, as the nodes know each other. */
  @Override
  public String node(int i) {
    return nodes.get(i).address();
  }

  /** Every node address, in index order. */
  @Override
  public List<String> addresses() {
    return nodes.stream().map(Node::address).collect(Collectors.toUnmodifiableList());
  }

  /** Index of the node with this address. */
  public int indexOf(String address) {
    for (Node n : nodes) {
      if (n.address().equals(address)) {
        return n.index;
      }
    }
    throw new IllegalArgumentException("no node " + address + " in " + addresses());
  }

  /** The namespace's name (for logs and manual inspection). */
  public String namespace() {
    return namespace;
  }

  /** Sends a request to node i through its bridge; {@code rawBody} null means no body. */
  @Override
  public Http.Reply send(int i, String method, String path, String rawBody) {
    Node n = nodes.get(i);
    return UnixHttp.send(n.socket, n.address(), method, path, rawBody);
  }

  public Http.Reply get(int i, String path) {
    return send(i, "GET", path, null);
  }

  public Http.Reply get(int i, String path, JsonNode body) {
    return send(i, "GET", path, write(body));
  }

  public Http.Reply put(int i, String path, JsonNode body) {
    return send(i, "PUT", path, write(body));
  }

  public Http.Reply delete(int i, String path, JsonNode body) {
    return send(i, "DELETE", path, write(body));
  }

  /**
   * Cuts the network between the nodes of {@code side} and those of {@code other}, both ways:
   * every packet of a connection a node of one side opened to a node of the other is dropped
   * (connections already open included, in both directions). Partitions already in place
   * stay; {@link #heal()} ends all. The rules go in at once ({@code iptables-restore
   * --noflush}).
   */
  public void partition(Collection<Integer> side, Collection<Integer> other) {
    inNamespace(Netns.partitionRules(side, other, i -> nodes.get(i).host),
        tools.iptablesRestore(), "--noflush");
  }

  /** Removes every partition: the nodes reach each other again. */
  public void heal() {
    inNamespace(null, tools.iptables(), "-F", "OUTPUT");
  }

  /** The rules in force, as {@code iptables -S OUTPUT} prints them (for messages). */
  public String rules() {
    return inNamespace(null, tools.iptables(), "-S", "OUTPUT");
  }

  /** Log file of node i. */
  public Path log(int i) {
    return nodes.get(i).log;
  }

  public boolean isRunning(int i) {
    Process p = nodes.get(i).process;
    return p != null && p.isAlive();
  }

  /** Process id of node i's JVM, or -1 when it is not running. */
  @Override
  public long pid(int i) {
    Process p = nodes.get(i).process;
    return p != null && p.isAlive() ? p.pid() : -1;
  }

  /** Kills node i with SIGKILL and waits for it to exit. No-op if it is not running. */
  public void stop(int i) {
    Node n = nodes.get(i);
    if (n.process == null) {
      return;
    }
    n.process.destroyForcibly();
    reap(n, KILL_TIMEOUT, "survived SIGKILL for " + KILL_TIMEOUT);
  }

  /**
   * Stops node i with SIGTERM ({@code ip netns exec} and {@code setpriv} exec the node, so the
   * process this cluster started is the JVM), waits for its exit and forgets the process.
   */
  public void terminate(int i) {
    Node n = nodes.get(i);
    if (n.process == null || !n.process.isAlive()) {
      throw new IllegalStateException("node " + n.address() + " is not running");
    }
    n.process.destroy();
    reap(n, STOP_TIMEOUT, "did not exit within " + STOP_TIMEOUT + " of SIGTERM");
  }

  /** Waits for node n's signalled process to exit, then forgets it; fails saying {@code late}. */
  private void reap(Node n, Duration timeout, String late) {
    try {
      if (!n.process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
        throw new AssertionError("node " + n.address() + " (pid " + n.process.pid() + ") "
            + late + "\n" + logTail(n.index));
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
    n.process = null;
  }

  /** Starts node i again (same address, uid and environment) and waits until it serves. */
  public void start(int i) {
    Node n = nodes.get(i);
    if (n.process != null && n.process.isAlive()) {
      throw new IllegalStateException("node " + n.address() + " is already running");
    }
    try {
      launch(n, nodeJar);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start node " + n.address(), e);
    }
    awaitServing(List.of(n));
  }

  /** Pauses node i with SIGSTOP (it keeps its sockets but answers nothing). */
  public void pause(int i) {
    signal(i, "STOP");
  }

  /** Resumes a node paused by {@link #pause(int)}. */
  public void resume(int i) {
    signal(i, "CONT");
  }

  private void signal(int i, String signal) {
    Node n = nodes.get(i);
    if (n.process == null || !n.process.isAlive()) {
      throw new IllegalStateException("node " + n.address() + " is not running");
    }
    Result r = Commands.run(COMMAND_TIMEOUT, "kill", "-" + signal,
        Long.toString(n.process.pid()));
    if (!r.ok()) {
      throw new AssertionError("kill -" + signal + " " + n.process.pid() + " (" + n.address()
          + ") failed: " + r.output());
    }
  }

  /** Last lines of node i's log, for assertion messages. */
  @Override
  public String logTail(int i) {
    Path log = nodes.get(i).log;
    try {
      List<String> lines = Files.readAllLines(log, StandardCharsets.UTF_8);
      return String.join("\n", lines.subList(Math.max(0, lines.size() - LOG_TAIL_LINES),
          lines.size()));
    } catch (IOException e) {
      return "(cannot read " + log + ": " + e + ")";
    }
  }

  /**
   * Kills every process of the namespace (nodes, bridges, their children), deletes the namespace
   * and the working directory. Idempotent; never throws, so it cannot hide a test's failure.
   */
  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    for (Node n : nodes) {
      for (Process p : new Process[] {n.process, n.bridge}) {
        if (p != null) {
          p.destroyForcibly();
        }
      }
    }
    if (namespaceCreated) {
      Netns.remove(tools.ip(), namespace);
    }
    for (Node n : nodes) {
      for (Process p : new Process[] {n.process, n.bridge}) {
        if (p != null) {
          Commands.awaitExit(p.toHandle(), KILL_TIMEOUT);
        }
      }
    }
    Commands.deleteTree(workDir);
    LIVE.remove(this);
  }

  // ---------------------------------------------------------------------------------------------

  private void createNamespace() {
    Result add = Commands.run(COMMAND_TIMEOUT, tools.ip(), "netns", "add", namespace);
    Assumptions.assumeTrue(add.ok(), "network namespaces are unavailable here (ip netns add "
        + namespace + ": " + add.output().strip() + "); partition tests skipped");
    namespaceCreated = true;
    inNamespace(null, tools.ip(), "link", "set", "lo", "up");
    // Probe the matches and targets the partitions rely on (rules that match nothing).
    Result probe = Commands.runWithInput(COMMAND_TIMEOUT, Netns.probeRules(OWNER_MATCH,
        UID_BASE - 1), tools.ip(), "netns", "exec", namespace, tools.iptablesRestore(),
        "--noflush");
    Assumptions.assumeTrue(probe.ok(), "iptables with the owner, conntrack and connmark"
        + " matches does not work in a network namespace here (" + probe.output().strip()
        + "); partition tests skipped");
    inNamespace(null, tools.iptables(), "-t", "mangle", "-F", "OUTPUT");
    heal();
  }

  /** Marks each connection a node opens with the node's number (index + 1), in every state. */
  private void markConnections() {
    inNamespace(Netns.markRules(OWNER_MATCH, UID_BASE, nodes.size()), tools.iptablesRestore(),
        "--noflush");
  }

  private void startBridge(Node n) {
    n.bridge = Netns.bridge(List.of(tools.ip(), "netns", "exec", namespace), tools.socat(),
        n.socket, n.address(),
        logDir.resolve("netns-bridge-" + (n.index + 1) + "-" + n.host + ".log"));
  }

  private void launch(Node n, Path nodeJar) throws IOException {
    Files.createDirectories(n.dir);
    Files.setAttribute(n.dir, "unix:uid", n.uid);
    Files.setAttribute(n.dir, "unix:gid", n.uid);
    List<String> command = new ArrayList<>(List.of(tools.ip(), "netns", "exec", namespace,
        tools.setpriv(), "--reuid=" + n.uid, "--regid=" + n.uid, "--clear-groups", "--",
        Paths.get(System.getProperty("java.home"), "bin", "java").toString()));
    command.addAll(LocalCluster.JVM_FLAGS);
    command.addAll(List.of("-XX:-UsePerfData", "-Djava.io.tmpdir=" + n.dir,
        "-jar", nodeJar.toString()));
    ProcessBuilder pb = new ProcessBuilder(command).directory(n.dir.toFile());
    pb.environment().keySet().removeIf(NodeLauncher.NODE_VARIABLES::contains);
    pb.environment().putAll(n.env);
    pb.redirectErrorStream(true);
    pb.redirectOutput(ProcessBuilder.Redirect.appendTo(n.log.toFile()));
    Files.writeString(n.log, "=== " + Instant.now() + " namespace " + namespace + " uid " + n.uid
        + " start " + String.join(" ", command) + " env " + n.env + "\n",
        StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
    n.process = pb.start();
  }

  private void awaitServing(List<Node> starting) {
    Instant deadline = Instant.now().plus(startTimeout);
    List<String> failures = new ArrayList<>();
    for (Node n : starting) {
      Duration left = Duration.between(Instant.now(), deadline);
      try {
        await("node " + n.address() + " serving")
            .atMost(left.isNegative() ? Duration.ofMillis(1) : left)
            .pollInterval(Duration.ofMillis(100))
            .pollDelay(Duration.ZERO)
            .failFast("node " + n.address() + " exited", () -> !n.process.isAlive())
            .until(() -> serves(n));
      } catch (RuntimeException | AssertionError e) {
        failures.add(n.address() + ": " + (n.process.isAlive()
            ? "not ready (GET /health/ready) within " + startTimeout
            : "exited with code " + n.process.exitValue()) + "\n--- tail of " + n.log + "\n"
            + logTail(n.index));
      }
    }
    if (!failures.isEmpty()) {
      throw new AssertionError("nodes failed to start in " + namespace + ": "
          + String.join("\n", failures));
    }
  }

  /** Serving and caught up: a node still catching up forwards to peers a partition cuts off. */
  private boolean serves(Node n) {
    return Netns.ready(n.socket, n.address(), PING_TIMEOUT);
  }

  /** Runs a command inside the namespace; fails the test if it exits non-zero. */
  private String inNamespace(String stdin, String... command) {
    List<String> full = new ArrayList<>(List.of(tools.ip(), "netns", "exec", namespace));
    full.addAll(List.of(command));
    String[] line = full.toArray(String[]::new);
    Result r = stdin == null ? Commands.run(COMMAND_TIMEOUT, line)
        : Commands.runWithInput(COMMAND_TIMEOUT, stdin, line);
    return r.checked(String.join(" ", full)).output();
  }

  /**
   * Namespaces, working directories and command output files of JVMs that no longer run (killed
   * before their shutdown hook could clean up).
   */
  private static void removeLeftovers(Tools tools) {
    Netns.removeLeftovers(tools.ip(), OUR_NAMESPACE);
    Commands.leftoversOfDeadJvms(Paths.get(System.getProperty("java.io.tmpdir")), OUR_WORK_DIR)
        .forEach(Commands::deleteTree);
  }

  /** The tools this needs, or an aborted (skipped) test naming what is missing. */
  private static Tools requireTools() {
    Commands.assumeRoot("partition tests", "network namespaces, iptables");
    Map<String, String> found = Commands.assumeTools("partition tests",
        "apt-get install -y iptables socat; .ci/run installs them",
        List.of("ip", "iptables", "iptables-restore", "socat", "setpriv"));
    return new Tools(found.get("ip"), found.get("iptables"), found.get("iptables-restore"),
        found.get("socat"), found.get("setpriv"));
  }

  private static String write(JsonNode body) {
    if (body == null) {
      return null;
    }
    try {
      return Http.MAPPER.writeValueAsString(body);
    } catch (JsonProcessingException e) {
      throw new IllegalArgumentException(e);
    }
  }
}
