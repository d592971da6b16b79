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
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;

/**
 * A cluster of real RingKV node processes inside a network namespace this class creates, so that
 * tests can cut the network between nodes for real (iptables drops their packets) without
 * touching the machine's own namespace. View-change dialect ({@code ADDRESS}, {@code VIEW},
 * {@code REPL_FACTOR}).
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
public final class NetnsCluster implements AutoCloseable {
  public static final int PORT = 13800;
  /**
   * Node i runs as uid (and gid) {@code UID_BASE + i}, which owns no file of the machine; its
   * connections carry the conntrack mark i + 1.
   */
  static final int UID_BASE = 42_300;
  private static final String NAMESPACE_PREFIX = "ringkv-t";
  private static final Pattern OUR_NAMESPACE =
      Pattern.compile(NAMESPACE_PREFIX + "(\\d+)-[0-9a-f]+");
  private static final Pattern OUR_WORK_DIR = Pattern.compile("ringkv-netns-(\\d+)-.*");
  private static final Duration COMMAND_TIMEOUT = Duration.ofSeconds(10);
  private static final Duration KILL_TIMEOUT = Duration.ofSeconds(5);
  private static final int LOG_TAIL_LINES = 40;
  private static final List<String> SEARCH_PATH = List.of("/usr/sbin", "/usr/bin", "/sbin", "/bin");

  /** Clusters not yet closed; the shutdown hook closes them. */
  private static final Set<NetnsCluster> LIVE = Collections.synchronizedSet(new HashSet<>());
  private static final Set<Path> LOG_DIRS_PREPARED = Collections.synchronizedSet(new HashSet<>());

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

  /** Options of a cluster; see {@link NetnsCluster#builder(String)}. */
  public static final class Builder {
    private final String name;
    private int nodeCount = 4;
    private int replFactor = 2;
    private boolean dataDirs;
    private Duration startTimeout = LocalCluster.START_TIMEOUT;
    private final Map<String, String> extraEnv = new LinkedHashMap<>();

    private Builder(String name) {
      this.name = name;
    }

    public Builder nodes(int count) {
      if (count < 1 || count > 200) {
        throw new IllegalArgumentException("nodes must be in [1, 200]");
      }
      this.nodeCount = count;
      return this;
    }

    /** {@code REPL_FACTOR=factor} (view-change dialect). */
    public Builder replFactor(int factor) {
      this.replFactor = factor;
      return this;
    }

    /** An environment variable given to every node (e.g. {@code LOG_LEVEL}, tunables). */
    public Builder env(String key, String value) {
      extraEnv.put(key, value);
      return this;
    }

    /**
     * Durable nodes: node i gets {@code DATA_DIR} inside its own directory of the cluster's
     * working directory (deleted with the cluster), kept across {@link #stop}/{@link #start}.
     */
    public Builder dataDirs() {
      this.dataDirs = true;
      return this;
    }

    /**
     * How long the nodes may take to serve, at the first start and at every restart (default
     * {@link LocalCluster#START_TIMEOUT}).
     */
    public Builder startTimeout(Duration timeout) {
      this.startTimeout = timeout;
      return this;
    }

    /**
     * Creates the namespace, starts bridges and nodes and waits until each node serves; aborts
     * the calling test (JUnit assumption) when namespaces or iptables are unavailable here.
     */
    public NetnsCluster start() {
      return new NetnsCluster(this);
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
    Path jar = requireJar();
    this.logDir = Paths.get(System.getProperty("kvs.logs", "target/node-logs"), b.name);
    prepareLogDir(logDir);
    removeLeftovers(tools);
    long pid = ProcessHandle.current().pid();
    this.namespace = NAMESPACE_PREFIX + pid + "-"
        + Integer.toHexString(ThreadLocalRandom.current().nextInt(0x100000, 0xffffff));
    try {
      this.workDir = Files.createTempDirectory("ringkv-netns-" + pid + "-");
    } catch (IOException e) {
      throw new UncheckedIOException("cannot create a working directory", e);
    }
    LIVE.add(this);
    try {
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
        env.put("VIEW", view);
        env.put("REPL_FACTOR", Integer.toString(b.replFactor));
        env.putAll(b.extraEnv);
        Node n = new Node(i, workDir, logDir, env);
        env.put("ADDRESS", n.address());
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
    } catch (IOException e) {
      close();
      throw new UncheckedIOException(e);
    } catch (RuntimeException | Error e) {
      close();
      throw e;
    }
  }

  /** Number of nodes. */
  public int size() {
    return nodes.size();
  }

  /** Address {@code 127.0.0.x:13800} of node i, as the nodes know each other. */
  public String node(int i) {
    return nodes.get(i).address();
  }

  /** Every node address, in index order. */
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
    Set<Integer> overlap = new HashSet<>(side);
    overlap.retainAll(other);
    if (!overlap.isEmpty()) {
      throw new IllegalArgumentException("nodes " + overlap + " are on both sides");
    }
    StringBuilder rules = new StringBuilder("*filter\n");
    for (int a : side) {
      for (int b : other) {
        rules.append(dropRule(a, nodes.get(b).host));
        rules.append(dropRule(b, nodes.get(a).host));
      }
    }
    rules.append("COMMIT\n");
    inNamespace(rules.toString(), tools.iptablesRestore(), "--noflush");
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
    try {
      if (!n.process.waitFor(KILL_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
        throw new AssertionError("node " + n.address() + " (pid " + n.process.pid()
            + ") survived SIGKILL for " + KILL_TIMEOUT);
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
    Result r = run(null, "kill", "-" + signal, Long.toString(n.process.pid()));
    if (r.code() != 0) {
      throw new AssertionError("kill -" + signal + " " + n.process.pid() + " (" + n.address()
          + ") failed: " + r.output());
    }
  }

  /** Last lines of node i's log, for assertion messages. */
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
      removeNamespace(tools, namespace);
    }
    for (Node n : nodes) {
      for (Process p : new Process[] {n.process, n.bridge}) {
        if (p != null) {
          awaitExit(p.toHandle());
        }
      }
    }
    deleteRecursively(workDir);
    LIVE.remove(this);
  }

  // ---------------------------------------------------------------------------------------------

  private void createNamespace() {
    Result add = run(null, tools.ip(), "netns", "add", namespace);
    Assumptions.assumeTrue(add.code() == 0, "network namespaces are unavailable here (ip netns add "
        + namespace + ": " + add.output().strip() + "); partition tests skipped");
    namespaceCreated = true;
    inNamespace(null, tools.ip(), "link", "set", "lo", "up");
    // Probe the matches and targets the partitions rely on (rules that match nothing).
    String probeRules = "*mangle\n" + markRule(UID_BASE - 1, 0xfff) + "COMMIT\n"
        + "*filter\n" + dropRule(0xffe, "127.0.0.254") + "COMMIT\n";
    Result probe = run(probeRules, tools.ip(), "netns", "exec", namespace,
        tools.iptablesRestore(), "--noflush");
    Assumptions.assumeTrue(probe.code() == 0, "iptables with the owner, conntrack and connmark"
        + " matches does not work in a network namespace here (" + probe.output().strip()
        + "); partition tests skipped");
    inNamespace(null, tools.iptables(), "-t", "mangle", "-F", "OUTPUT");
    heal();
  }

  /** Marks each connection a node opens with the node's number (index + 1), in every state. */
  private void markConnections() {
    StringBuilder rules = new StringBuilder("*mangle\n");
    for (Node n : nodes) {
      rules.append(markRule(n.uid, n.index + 1));
    }
    rules.append("COMMIT\n");
    inNamespace(rules.toString(), tools.iptablesRestore(), "--noflush");
  }

  private static String markRule(int uid, int mark) {
    return "-A OUTPUT -m owner --uid-owner " + uid + " -m conntrack --ctstate NEW"
        + " -j CONNMARK --set-mark " + mark + "\n";
  }

  /** Drops both directions of every connection node {@code fromIndex} opens to {@code host}. */
  private static String dropRule(int fromIndex, String host) {
    return "-A OUTPUT -m connmark --mark " + (fromIndex + 1) + " -m conntrack --ctorigdst "
        + host + "/32 -j DROP\n";
  }

  private void startBridge(Node n) throws IOException {
    List<String> command = List.of(tools.ip(), "netns", "exec", namespace, tools.socat(),
        "UNIX-LISTEN:" + n.socket + ",fork,mode=600",
        "TCP:" + n.address() + ",connect-timeout=2");
    Path bridgeLog = logDir.resolve("netns-bridge-" + (n.index + 1) + "-" + n.host + ".log");
    ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.appendTo(bridgeLog.toFile()));
    n.bridge = pb.start();
    await("bridge " + n.socket).atMost(Duration.ofSeconds(5))
        .pollInterval(Duration.ofMillis(20))
        .failFast("bridge of " + n.address() + " exited", () -> !n.bridge.isAlive())
        .until(() -> Files.exists(n.socket));
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
    pb.environment().keySet().removeIf(k -> k.equals("SOCKET_ADDRESS") || k.equals("ADDRESS")
        || k.equals("VIEW") || k.equals("SHARD_COUNT") || k.equals("REPL_FACTOR")
        || k.equals("DATA_DIR") || k.equals("JAVA_TOOL_OPTIONS"));
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
            ? "not ready (GET /internal/ping) within " + startTimeout
            : "exited with code " + n.process.exitValue()) + "\n--- tail of " + n.log + "\n"
            + logTail(n.index));
      }
    }
    if (!failures.isEmpty()) {
      throw new AssertionError("nodes failed to start in " + namespace + ": "
          + String.join("\n", failures));
    }
  }

  private boolean serves(Node n) {
    try {
      // Serving, and done copying its shard's data (a node still catching up forwards
      // requests to peers, which a partition test would then cut off).
      var reply = UnixHttp.send(n.socket, n.address(), "GET", "/internal/ping", null,
          Duration.ofSeconds(2));
      return reply.status() == 200 && reply.body() != null
          && reply.body().path("ready").asBoolean(false);
    } catch (AssertionError notYet) {
      return false;
    }
  }

  /** Runs a command inside the namespace; fails the test if it exits non-zero. */
  private String inNamespace(String stdin, String... command) {
    List<String> full = new ArrayList<>(List.of(tools.ip(), "netns", "exec", namespace));
    full.addAll(List.of(command));
    Result r = run(stdin, full.toArray(String[]::new));
    if (r.code() != 0) {
      throw new AssertionError(String.join(" ", full) + " exited " + r.code() + ": "
          + r.output());
    }
    return r.output();
  }

  /** Exit code and merged output of a short command. */
  private record Result(int code, String output) {}

  private static Result run(String stdin, String... command) {
    Path out = null;
    try {
      out = Files.createTempFile("ringkv-netns-" + ProcessHandle.current().pid() + "-cmd",
          ".out");
      Process p = new ProcessBuilder(command).redirectErrorStream(true)
          .redirectOutput(out.toFile()).start();
      try (var in = p.getOutputStream()) {
        if (stdin != null) {
          in.write(stdin.getBytes(StandardCharsets.UTF_8));
        }
      }
      if (!p.waitFor(COMMAND_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
        p.destroyForcibly();
        awaitExit(p.toHandle());
        return new Result(-1, String.join(" ", command) + " took over " + COMMAND_TIMEOUT);
      }
      return new Result(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8));
    } catch (IOException e) {
      return new Result(-1, String.join(" ", command) + ": " + e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return new Result(-1, String.join(" ", command) + ": interrupted");
    } finally {
      if (out != null) {
        try {
          Files.deleteIfExists(out);
        } catch (IOException e) {
          // A stray temp file of a few bytes; the command's result is what matters.
          System.err.println("cannot delete " + out + ": " + e);
        }
      }
    }
  }

  /** Kills every process in {@code ns} (a few rounds: a dying parent may leave children), then
   * deletes it. */
  private static void removeNamespace(Tools tools, String ns) {
    for (int round = 0; round < 5; round++) {
      Result pids = run(null, tools.ip(), "netns", "pids", ns);
      List<ProcessHandle> alive = pids.output().lines().map(String::strip)
          .filter(s -> s.matches("\\d+")).map(Long::parseLong)
          .map(ProcessHandle::of).flatMap(Optional::stream).toList();
      if (alive.isEmpty()) {
        break;
      }
      alive.forEach(ProcessHandle::destroyForcibly);
      alive.forEach(NetnsCluster::awaitExit);
    }
    Result del = run(null, tools.ip(), "netns", "del", ns);
    if (del.code() != 0) {
      System.err.println("cannot delete network namespace " + ns + ": " + del.output());
    }
  }

  private static void awaitExit(ProcessHandle p) {
    try {
      p.onExit().get(KILL_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (ExecutionException | TimeoutException e) {
      System.err.println("process " + p.pid() + " survived SIGKILL for " + KILL_TIMEOUT);
    }
  }

  /**
   * Namespaces and working directories of JVMs that no longer run (killed before their
   * shutdown hook could clean up).
   */
  private static void removeLeftovers(Tools tools) {
    Result list = run(null, tools.ip(), "netns", "list");
    for (String line : list.output().lines().toList()) {
      String name = line.strip().split("\\s+")[0];
      Matcher m = OUR_NAMESPACE.matcher(name);
      if (m.matches() && ProcessHandle.of(Long.parseLong(m.group(1))).isEmpty()) {
        removeNamespace(tools, name);
      }
    }
    Path tmp = Paths.get(System.getProperty("java.io.tmpdir"));
    try (Stream<Path> entries = Files.list(tmp)) {
      for (Path p : entries.toList()) {
        Matcher m = OUR_WORK_DIR.matcher(p.getFileName().toString());
        if (m.matches() && ProcessHandle.of(Long.parseLong(m.group(1))).isEmpty()) {
          deleteRecursively(p);
        }
      }
    } catch (IOException e) {
      System.err.println("cannot list " + tmp + ": " + e);
    }
  }

  private static void deleteRecursively(Path dir) {
    if (dir == null || !Files.exists(dir)) {
      return;
    }
    try (Stream<Path> walk = Files.walk(dir)) {
      for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    } catch (IOException e) {
      System.err.println("cannot delete " + dir + ": " + e);
    }
  }

  /** The tools this needs, or an aborted (skipped) test naming what is missing. */
  private static Tools requireTools() {
    boolean root = false;
    try {
      root = ((Integer) Files.getAttribute(Paths.get("/proc/self"), "unix:uid")) == 0;
    } catch (IOException | UnsupportedOperationException e) {
      Assumptions.abort("cannot tell the user id (" + e + "); partition tests need root");
    }
    Assumptions.assumeTrue(root, "partition tests need root (network namespaces, iptables)");
    List<String> missing = new ArrayList<>();
    Map<String, String> found = new LinkedHashMap<>();
    for (String tool : List.of("ip", "iptables", "iptables-restore", "socat", "setpriv")) {
      Optional<String> path = which(tool);
      path.ifPresentOrElse(p -> found.put(tool, p), () -> missing.add(tool));
    }
    Assumptions.assumeTrue(missing.isEmpty(), "partition tests need " + missing + " on the PATH"
        + " (apt-get install -y iptables socat; .ci/run installs them)");
    return new Tools(found.get("ip"), found.get("iptables"), found.get("iptables-restore"),
        found.get("socat"), found.get("setpriv"));
  }

  private static Optional<String> which(String tool) {
    List<String> dirs = new ArrayList<>();
    String path = System.getenv("PATH");
    if (path != null) {
      dirs.addAll(List.of(path.split(":")));
    }
    dirs.addAll(SEARCH_PATH);
    return dirs.stream().filter(d -> !d.isEmpty()).map(d -> Paths.get(d, tool))
        .filter(Files::isExecutable).map(Path::toString).findFirst();
  }

  private static Path requireJar() {
    String property = System.getProperty("kvs.jar");
    if (property == null) {
      throw new IllegalStateException("system property kvs.jar is not set (surefire sets it to"
          + " node/target/kvs-node.jar); run mvn -B package first");
    }
    Path path = Paths.get(property).toAbsolutePath().normalize();
    if (!Files.isRegularFile(path)) {
      throw new IllegalStateException("node jar " + path + " does not exist: run mvn -B package"
          + " first (or mvn -B verify from the repository root)");
    }
    return path;
  }

  /** Creates the log directory; the first time in this JVM, deletes logs of an earlier run. */
  private static void prepareLogDir(Path dir) {
    try {
      Files.createDirectories(dir);
      if (!LOG_DIRS_PREPARED.add(dir.toAbsolutePath().normalize())) {
        return;
      }
      try (Stream<Path> old = Files.list(dir)) {
        for (Path p : old.toList()) {
          if (p.getFileName().toString().matches("netns-.*\\.log")) {
            Files.delete(p);
          }
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot prepare log directory " + dir, e);
    }
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
