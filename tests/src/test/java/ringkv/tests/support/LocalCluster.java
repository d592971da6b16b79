package ringkv.tests.support;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import javax.net.ssl.SSLContext;
import ringkv.tools.launch.LaunchException;
import ringkv.tools.launch.NodeLauncher;

/**
 * A cluster of real RingKV node processes on 127.0.0.1, for black-box tests.
 *
 * <p>Each node is {@code java -jar kvs-node.jar} (system property {@code kvs.jar}) with its
 * configuration in the environment, exactly as an operator runs it, started, awaited and
 * stopped by tools' {@link NodeLauncher} (the launcher of {@code ./kvs up} and the bench).
 * Output goes to {@code kvs.logs/<name>/node-<port>.log} (appended across restarts). Nodes
 * load their classes from {@link NodeClassArchive}'s class-data archive, which halves a
 * node's start-up CPU.
 * Construction returns only once the nodes are ready by the launcher's one rule (every node
 * answers {@code GET /health/ready} with 200, serving with its shard's data copied from a
 * peer, and all report the same epoch), or fails with the tail of the logs of the nodes that
 * did not come up.
 *
 * <p>Nodes listen on 127.0.0.1, or on host names ({@link Builder#hostNames}): then every node
 * JVM resolves names through a hosts file this harness writes, with the JDK's resolver
 * ({@code -Dvertx.disableDnsResolver=true -Djdk.net.hosts.file=<file>}, see
 * {@link #RESOLVER_FLAGS}); the test JVM itself cannot resolve them and sends its requests to
 * the IP addresses ({@link #node(int)}).
 *
 * <p>Processes never outlive the test JVM: {@link #close()} kills and reaps them all, and the
 * launcher's JVM shutdown hook does the same for any cluster a failing test forgot to close.
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

  /**
   * JVM flags of a node. C1 only ({@code TieredStopAtLevel=1}) shortens start-up on a 2-core
   * machine where six node JVMs and the test JVM compete for CPU: six nodes served after
   * 4.5-15.5 s (median 7.6 s) with it and 8-23 s (median 11.3 s) without it, five runs each on
   * a busy machine. A node's throughput in these tests is bound by HTTP round trips, not C2.
   */
  public static final List<String> JVM_FLAGS =
      List.of("-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1");
  /**
   * More JVM flags for every node, space-separated, from {@code -Dkvs.node.jvm.extra} (for a
   * diagnosis, e.g. {@code -Xlog:gc} into the node logs); after {@link #JVM_FLAGS}, so a flag
   * given here wins.
   */
  static final String EXTRA_FLAGS_PROPERTY = "kvs.node.jvm.extra";

  private final Path logDir;
  /** Starts, awaits and stops the nodes; node i here is node i there. */
  private final NodeLauncher launcher;
  private final Map<String, String> commonEnv;
  private final String addressVariable;
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

  /**
   * Options of a cluster; see {@link LocalCluster#builder(String)}. The shard dialect with
   * {@code SHARD_COUNT=2} unless a dialect is chosen.
   */
  public static final class Builder extends ClusterBuilder<Builder, LocalCluster> {
    private int idleCount;
    private Path dataRoot;
    private SSLContext tls;
    private final List<String> alsoInView = new ArrayList<>();
    private final Map<String, String> hostNames = new LinkedHashMap<>();

    private Builder(String name) {
      super(name, 4, Integer.MAX_VALUE, START_TIMEOUT, LocalCluster::new);
      shards(2);
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

    /**
     * The nodes serve HTTPS (TLS_CERT): the harness asks them whether they are ready over
     * HTTPS, trusting {@code context}.
     */
    public Builder tls(SSLContext context) {
      this.tls = context;
      return this;
    }
  }

  /** @param name directory name of this cluster's logs, usually the test class's simple name */
  public static Builder builder(String name) {
    return new Builder(name);
  }

  private LocalCluster(Builder b) {
    this.logDir = b.prepareLogDir("node-\\d+\\.log");
    if (b.idleCount > 0 && b.replFactor == null) {
      throw new IllegalArgumentException("idle nodes need the view-change dialect (replFactor)");
    }
    List<Integer> ports = NodeLauncher.freePorts(HOST, b.nodeCount + b.idleCount);
    List<String> hosts = new ArrayList<>(b.hostNames.keySet());
    if (!hosts.isEmpty() && hosts.size() != ports.size()) {
      throw new IllegalArgumentException(hosts.size() + " host names for " + ports.size()
          + " nodes");
    }
    while (hosts.size() < ports.size()) {
      hosts.add(HOST);
    }
    this.hostsFile = b.hostNames.isEmpty() ? null : logDir.resolve("hosts");
    List<String> jvmFlags = new ArrayList<>(JVM_FLAGS);
    jvmFlags.addAll(NodeClassArchive.flags());
    String extra = System.getProperty(EXTRA_FLAGS_PROPERTY, "").trim();
    if (!extra.isEmpty()) {
      jvmFlags.addAll(List.of(extra.split("\\s+")));
    }
    if (hostsFile != null) {
      RESOLVER_FLAGS.forEach(f -> jvmFlags.add(String.format(f, hostsFile.toAbsolutePath())));
    }
    NodeLauncher.Builder launcherOptions = NodeLauncher.builder(Commands.requireJar())
        .jvmFlags(jvmFlags).startTimeout(b.startTimeout).stopGrace(Duration.ZERO);
    if (b.tls != null) {
      launcherOptions.tls(b.tls);
    }
    this.launcher = launcherOptions.build();
    String view = Stream.concat(
            IntStream.range(0, b.nodeCount).mapToObj(i -> hosts.get(i) + ":" + ports.get(i)),
            b.alsoInView.stream())
        .collect(Collectors.joining(","));
    this.commonEnv = Map.copyOf(b.commonEnv(view));
    this.addressVariable = b.addressVariable();
    for (int i = 0; i < ports.size(); i++) {
      int port = ports.get(i);
      String host = hosts.get(i);
      Map<String, String> nodeEnv = b.nodeEnv(view, host + ":" + port);
      if (b.dataRoot != null) {
        nodeEnv.put("DATA_DIR", b.dataRoot.resolve("node-" + port).toString());
      }
      launcher.add(new NodeLauncher.NodeSpec(host + ":" + port,
          b.hostNames.getOrDefault(host, HOST) + ":" + port, nodeEnv,
          logDir.resolve("node-" + port + ".log")));
    }
    try {
      writeHostsFile();
      failingAsAssertion(() -> {
        launcher.startAll();
        return null;
      });
    } catch (RuntimeException | Error e) {
      close();
      throw e;
    }
  }

  /** Number of nodes (started or stopped). */
  public int size() {
    return launcher.size();
  }

  /**
   * Where to send node i requests: {@code 127.0.0.1:port}, or for a node on a host name the IP
   * address the name points to now (the test JVM does not resolve the names).
   */
  public String node(int i) {
    return launcher.spec(i).dial();
  }

  /** Node i's address as configured ({@code SOCKET_ADDRESS} or {@code ADDRESS}), as in VIEW. */
  public String address(int i) {
    return launcher.spec(i).address();
  }

  /**
   * Points stopped node i's host name at {@code ip} (a rescheduled pod's new address): the
   * hosts file changes at once for every node; node i listens there when started again.
   */
  public void moveHost(int i, String ip) {
    String host = hostOf(launcher.spec(i).address());
    if (hostsFile == null || host.equals(HOST)) {
      throw new IllegalStateException("node " + address(i) + " has no host name to move");
    }
    if (launcher.isRunning(i)) {
      throw new IllegalStateException("stop node " + address(i) + " before moving it");
    }
    launcher.redial(i, ip + ":" + portOf(launcher.spec(i).dial()));
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
    return launcher.addresses();
  }

  /** Index of the node with this address. */
  public int indexOf(String address) {
    int i = launcher.addresses().indexOf(address);
    if (i < 0) {
      throw new IllegalArgumentException("no node " + address + " in " + addresses());
    }
    return i;
  }

  /** The VIEW every node was started with. */
  public String view() {
    return commonEnv.get("VIEW");
  }

  /** Log file of node i. */
  public Path log(int i) {
    return launcher.spec(i).log();
  }

  public boolean isRunning(int i) {
    return launcher.isRunning(i);
  }

  /** Process id of node i (for signals such as SIGSTOP). */
  public long pid(int i) {
    return launcher.pid(i);
  }

  /** Kills node i with SIGKILL and reaps it. */
  public void stop(int i) {
    failingAsAssertion(() -> {
      launcher.kill(i);
      return null;
    });
  }

  /** Restarts every stopped node at once (same addresses and environments), waits for all. */
  public void startAll() {
    failingAsAssertion(() -> {
      launcher.startAll();
      return null;
    });
  }

  /** Sends SIGTERM to node i and waits for it to exit; returns its exit code. */
  public int terminate(int i) {
    return failingAsAssertion(() -> launcher.terminate(i, STOP_TIMEOUT));
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
    launcher.launch(i);
  }

  /** Whether node i's process runs. */
  public boolean running(int i) {
    return launcher.isRunning(i);
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
    launcher.launch(i, launcher.spec(i).env(), offsetS == 0 ? List.of()
        : List.of("faketime", "-f", String.format("%+ds", offsetS)), List.of());
    awaitServing(i);
  }

  /** Waits until node i serves (the launcher's readiness rule for one node). */
  public void awaitServing(int i) {
    failingAsAssertion(() -> {
      launcher.awaitReady(i);
      return null;
    });
  }

  /**
   * Restarts node i with its address and environment, with the variables in {@code set} set
   * and those named in {@code unset} removed, and waits until it serves. The change holds for
   * this start only.
   */
  public void start(int i, Map<String, String> set, String... unset) {
    Map<String, String> env = new LinkedHashMap<>(launcher.spec(i).env());
    env.putAll(set);
    for (String name : unset) {
      env.remove(name);
    }
    launcher.launch(i, env, List.of(), List.of());
    awaitServing(i);
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
    int port = NodeLauncher.freePorts(HOST, 1).get(0);
    String address = HOST + ":" + port;
    Map<String, String> env = new LinkedHashMap<>(commonEnv);
    env.put("VIEW", commonEnv.get("VIEW") + "," + address);
    env.put(addressVariable, address);
    env.putAll(set);
    for (String name : unset) {
      env.remove(name);
    }
    int index = launcher.add(new NodeLauncher.NodeSpec(address, address, env,
        logDir.resolve("node-" + port + ".log")));
    launcher.launch(index);
    awaitServing(index);
    return index;
  }

  /** Last lines of node i's log, for assertion messages. */
  public String logTail(int i) {
    return launcher.tail(i);
  }

  /** Kills every node process and waits for each to exit. Idempotent. */
  @Override
  public void close() {
    failingAsAssertion(() -> {
      launcher.close();
      return null;
    });
  }

  // ---------------------------------------------------------------------------------------------

  /**
   * Writes the hosts file (every name to its current IP, and localhost) to a temporary file
   * renamed over the old one, so a node resolving meanwhile reads one version or the other.
   */
  private void writeHostsFile() {
    if (hostsFile == null) {
      return;
    }
    StringBuilder text = new StringBuilder("127.0.0.1 localhost\n");
    for (int i = 0; i < launcher.size(); i++) {
      String host = hostOf(launcher.spec(i).address());
      if (!host.equals(HOST)) {
        text.append(hostOf(launcher.spec(i).dial())).append(' ').append(host).append('\n');
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

  /** What the launcher failed on, as the AssertionError tests have always seen. */
  private static <T> T failingAsAssertion(Supplier<T> action) {
    try {
      return action.get();
    } catch (LaunchException e) {
      throw new AssertionError(e.getMessage(), e);
    }
  }

  private void signal(int i, String signal) {
    failingAsAssertion(() -> {
      launcher.signal(i, signal);
      return null;
    });
  }

  private static String hostOf(String address) {
    return address.substring(0, address.lastIndexOf(':'));
  }

  private static String portOf(String address) {
    return address.substring(address.lastIndexOf(':') + 1);
  }
}
