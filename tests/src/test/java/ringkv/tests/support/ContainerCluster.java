package ringkv.tests.support;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.awaitility.Awaitility;
import ringkv.tests.support.Commands.Result;

/**
 * A cluster of RingKV nodes in real Docker containers, on the engine of this JVM
 * ({@link ContainerEngine#shared()}: a private network namespace with its own dockerd, the image
 * built from the repository's Dockerfile). Node i runs in container {@code n<i+1>} with
 * {@code --network host}, listening on {@code 127.0.0.(i+2):8085} inside the namespace (shard
 * dialect with {@code SHARD_COUNT=2} unless the builder chooses another, see
 * {@link ClusterBuilder}). With {@link Builder#dataVolumes()} node i keeps
 * {@code DATA_DIR=/data} on the named volume {@code data<i+1>}, which {@code docker kill} and
 * {@code docker start} (or {@code stop}/{@code start}) keep. The nodes run with
 * {@link LocalCluster#JVM_FLAGS} ({@code JAVA_TOOL_OPTIONS}) for a quick start on few cores.
 *
 * <p>The test JVM reaches node i as {@link NetnsCluster} does: {@code socat} inside the
 * namespace relays the Unix socket {@code n<i+1>.sock} to the node, and {@link UnixHttp} speaks
 * HTTP over it.
 *
 * <p><b>Partitions.</b> All containers share the namespace's loopback, and the nodes open their
 * outgoing connections without binding a source address (the node's HTTP client sets no local
 * address), so every packet between two nodes has source 127.0.0.1: rules on address pairs
 * cannot tell the sender apart. Nor can the owner's uid: every container runs as the image's
 * user 10001. So node i runs with its own primary group, {@code --user 10001:<42400+i>} (user
 * 10001 still owns {@code /data}); a mangle rule marks every connection a socket of group
 * 42400+i opens with i+1 ({@code -m owner --gid-owner … -j CONNMARK}), and a partition drops,
 * in the filter OUTPUT chain, every packet of the connections one side opened to the other
 * side's addresses ({@code -m connmark --mark a -m conntrack --ctorigdst b}), both directions,
 * both ways, as {@link NetnsCluster} does with uids. The bridges run as root: no rule names them,
 * so the test reaches both sides. Where iptables lacks those matches,
 * {@link #partitionProblem()} says why and partitions are unavailable.
 *
 * <p>Nothing outlives the cluster: {@link #close()} saves each container's log (in
 * {@code target/node-logs/<name>/}), removes the containers and volumes, the rules and the
 * bridges; the engine stays for the next cluster and stops at the end of the run (see
 * {@link ContainerEngine}). Without root or the tools, construction aborts the test through a
 * JUnit assumption, with the reason.
 *
 * <p>Faults are driven from one thread; {@link #send} and {@link #pid} may be called from any.
 */
public final class ContainerCluster implements BridgedCluster {
  public static final int PORT = 8085;
  /** The image's user (Dockerfile), which owns {@code /data}. */
  static final int NODE_UID = 10001;
  /** Node i's primary group; its connections carry the conntrack mark i + 1. */
  static final int GID_BASE = 42_400;
  private static final int LOG_TAIL_LINES = 40;
  private static final int STOP_GRACE_S = 10;
  private static final AtomicInteger SEQUENCE = new AtomicInteger();

  /** Options; see {@link ContainerCluster#builder(String)}. */
  public static final class Builder extends ClusterBuilder<Builder, ContainerCluster> {
    private boolean dataVolumes;

    private Builder(String name) {
      super(name, 4, 200, Duration.ofSeconds(60), ContainerCluster::new);
      shards(2);
    }

    /** Node i gets {@code DATA_DIR=/data} on the named volume {@code data<i+1>}. */
    public Builder dataVolumes() {
      this.dataVolumes = true;
      return this;
    }
  }

  /** @param name directory name of this cluster's logs, usually the test class's simple name */
  public static Builder builder(String name) {
    return new Builder(name);
  }

  private final ContainerEngine engine;
  private final int size;
  private final Duration startTimeout;
  private final Path logDir;
  private final Path dir;
  private final List<Process> bridges = new ArrayList<>();
  /** Host pid of each node's JVM (PID 1 of its container), -1 while it is down. */
  private final AtomicLongArray pids;
  private boolean closed;

  private ContainerCluster(Builder b) {
    this.engine = ContainerEngine.shared();
    this.size = b.nodeCount;
    this.startTimeout = b.startTimeout;
    this.pids = new AtomicLongArray(size);
    this.logDir = b.logDir();
    this.dir = engine.workDir().resolve("cluster-" + SEQUENCE.incrementAndGet());
    engine.reset(); // whatever an earlier user left
    engine.register(this);
    Commands.closeOnFailure(this::close, () -> {
      Files.createDirectories(logDir);
      Files.createDirectories(dir);
      for (int i = 0; i < size; i++) {
        bridges.add(engine.bridge(socket(i), node(i), logDir.resolve("bridge-" + name(i)
            + ".log")));
      }
      if (engine.partitionProblem() == null) {
        markConnections();
      }
      String view = String.join(",", addresses());
      for (int i = 0; i < size; i++) {
        List<String> args = new ArrayList<>(List.of("run", "-d", "--name", name(i),
            "--network", "host", "--user", NODE_UID + ":" + (GID_BASE + i)));
        Map<String, String> env = b.nodeEnv(view, node(i));
        env.put("BIND_ADDRESS", host(i)); // host network: its own address, not the image's 0.0.0.0
        env.put("JAVA_TOOL_OPTIONS", String.join(" ", LocalCluster.JVM_FLAGS));
        if (b.dataVolumes) {
          env.put("DATA_DIR", "/data");
          args.addAll(List.of("-v", "data" + (i + 1) + ":/data"));
        }
        env.forEach((k, v) -> args.addAll(List.of("-e", k + "=" + v)));
        args.add(ContainerEngine.IMAGE);
        docker(ContainerEngine.SHORT.multipliedBy(2), args.toArray(String[]::new))
            .checked("docker run " + name(i));
        pids.set(i, hostPid(i));
      }
      Instant deadline = Instant.now().plus(startTimeout);
      for (int i = 0; i < size; i++) {
        awaitReady(i, Duration.between(Instant.now(), deadline));
      }
    });
  }

  public int size() {
    return size;
  }

  /** Address {@code 127.0.0.(i+2):8085} of node i, as the nodes know each other. */
  @Override
  public String node(int i) {
    return host(i) + ":" + PORT;
  }

  @Override
  public List<String> addresses() {
    return IntStream.range(0, size).mapToObj(this::node).toList();
  }

  public String namespace() {
    return engine.namespace();
  }

  /** Container name of node i. */
  public String name(int i) {
    return "n" + (i + 1);
  }

  /** Where the containers' logs are saved when the cluster closes. */
  public Path logDir() {
    return logDir;
  }

  /** Sends a request to node i through its bridge; {@code rawBody} null means no body. */
  @Override
  public Http.Reply send(int i, String method, String path, String rawBody) {
    return UnixHttp.send(socket(i), node(i), method, path, rawBody);
  }

  public Http.Reply get(int i, String path) {
    return send(i, "GET", path, null);
  }

  /** Host pid of node i's JVM, or -1 while it is killed or stopped. */
  @Override
  public long pid(int i) {
    return pids.get(i);
  }

  /** {@code docker kill} (SIGKILL) node i's container, and waits until it has exited. */
  public void kill(int i) {
    pids.set(i, -1);
    dockerChecked(ContainerEngine.SHORT, "kill", name(i));
    dockerChecked(ContainerEngine.SHORT, "wait", name(i));
  }

  /**
   * {@code docker stop} node i's container: SIGTERM to the node (PID 1), which shuts down
   * gracefully; SIGKILL after 10 s. Returns the container's exit code (143 after SIGTERM).
   */
  public int stop(int i) {
    pids.set(i, -1);
    dockerChecked(ContainerEngine.SHORT.plusSeconds(STOP_GRACE_S), "stop", "-t",
        Integer.toString(STOP_GRACE_S), name(i));
    return Integer.parseInt(dockerChecked(ContainerEngine.SHORT, "inspect", "-f",
        "{{.State.ExitCode}}", name(i)).output().strip());
  }

  /** {@code docker start} node i's container again and waits until the node is ready. */
  public void start(int i) {
    startContainer(i);
    awaitReady(i, startTimeout);
  }

  /** {@code docker start} node i's container again, without waiting for the node. */
  public void startContainer(int i) {
    dockerChecked(ContainerEngine.SHORT, "start", name(i));
    pids.set(i, hostPid(i));
  }

  /**
   * {@code docker pause}: the cgroup freezer stops every process of the container. The freezer
   * can fail to settle while a process is being created ("unable to freeze"; runc then thaws the
   * container again): that is tried again, up to {@link #PAUSE_ATTEMPTS} times, at once.
   */
  public void pause(int i) {
    Result r = docker(ContainerEngine.SHORT, "pause", name(i));
    for (int attempt = 1; !r.ok() && attempt < PAUSE_ATTEMPTS
        && r.output().contains("unable to freeze"); attempt++) {
      r = docker(ContainerEngine.SHORT, "pause", name(i));
    }
    r.checked("docker pause " + name(i));
  }

  static final int PAUSE_ATTEMPTS = 5;

  public void unpause(int i) {
    dockerChecked(ContainerEngine.SHORT, "unpause", name(i));
  }

  /** Why partitions are unavailable here, or null (see the class comment). */
  public String partitionProblem() {
    return engine.partitionProblem();
  }

  /**
   * Cuts the network between the nodes of {@code side} and those of {@code other}, both ways:
   * every packet of a connection a node of one side opened to a node of the other is dropped
   * (connections already open included, in both directions). The rules go in at once;
   * {@link #heal()} ends every partition.
   */
  public void partition(Collection<Integer> side, Collection<Integer> other) {
    if (partitionProblem() != null) {
      throw new IllegalStateException("partitions are unavailable: " + partitionProblem());
    }
    engine.restoreRules(Netns.partitionRules(side, other, this::host))
        .checked("iptables-restore (partition)");
  }

  /** Ends every partition: the nodes reach each other again. */
  public void heal() {
    engine.restoreRules(Netns.FLUSH_FILTER).checked("iptables-restore (heal)");
  }

  private void markConnections() {
    engine.restoreRules(Netns.markRules(ContainerEngine.OWNER_MATCH, GID_BASE, size))
        .checked("iptables-restore (marks)");
  }

  /** IP address {@code 127.0.0.(i+2)} of node i. */
  private String host(int i) {
    return "127.0.0." + (i + 2);
  }

  /** The last lines of node i's container log. */
  @Override
  public String logTail(int i) {
    Result r = docker(ContainerEngine.SHORT, "logs", "--tail", Integer.toString(LOG_TAIL_LINES),
        name(i));
    return r.output();
  }

  /** Any docker command against this cluster's engine. */
  public Result docker(Duration timeout, String... args) {
    return engine.docker(timeout, args);
  }

  /** A command run inside the namespace (nsenter), e.g. iptables. */
  public Result inNamespace(String... args) {
    return engine.inNamespace(args);
  }

  /** {@code docker <args>}; fails naming the command and the container (the last argument). */
  private Result dockerChecked(Duration timeout, String... args) {
    return docker(timeout, args).checked("docker " + args[0] + " " + args[args.length - 1]);
  }

  /** Waits up to {@code atMost} until every container reports healthy (the image's check). */
  public void awaitHealthy(Duration atMost) {
    engine.awaitHealthy(IntStream.range(0, size).mapToObj(this::name).toList(), atMost);
  }

  private long hostPid(int i) {
    long pid = Long.parseLong(dockerChecked(ContainerEngine.SHORT, "inspect", "-f",
        "{{.State.Pid}}", name(i)).output().strip());
    if (pid <= 0) {
      throw new AssertionError(name(i) + " is not running after docker start/run:\n"
          + logTail(i));
    }
    return pid;
  }

  private boolean alive(int i) {
    long pid = pids.get(i);
    return pid > 0 && ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false);
  }

  /** Waits until node i answers {@code GET /health/ready} with 200. */
  private void awaitReady(int i, Duration timeout) {
    try {
      Awaitility.await(name(i) + " (" + node(i) + ") ready")
          .atMost(timeout.isNegative() ? Duration.ofMillis(1) : timeout)
          .pollDelay(Duration.ZERO).pollInterval(Duration.ofMillis(200))
          .failFast(name(i) + " exited", () -> !alive(i))
          .until(() -> ready(i));
    } catch (RuntimeException | AssertionError e) {
      throw new AssertionError(name(i) + " (" + node(i) + ") not ready within " + timeout
          + ": " + e.getMessage() + "\n--- its log:\n" + logTail(i), e);
    }
  }

  private boolean ready(int i) {
    return Netns.ready(socket(i), node(i), Duration.ofSeconds(2));
  }

  private Path socket(int i) {
    return dir.resolve("n" + (i + 1) + ".sock");
  }

  /**
   * Saves container logs, removes containers, volumes and rules (the engine is left as it
   * started), stops the bridges. Idempotent; never throws.
   */
  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    try {
      for (int i = 0; i < size; i++) {
        Result logs = docker(ContainerEngine.SHORT, "logs", name(i));
        writeQuietly(logDir.resolve("container-" + name(i) + ".log"), logs.output());
      }
      engine.reset();
    } catch (RuntimeException | AssertionError e) {
      System.err.println("[containers] cleaning up after " + logDir.getFileName() + ": " + e);
    } finally {
      bridges.forEach(Process::destroyForcibly);
      Commands.run(ContainerEngine.SHORT, "rm", "-rf", dir.toString());
      engine.unregister(this);
    }
  }

  private static void writeQuietly(Path file, String text) {
    try {
      Files.writeString(file, text, StandardCharsets.UTF_8);
    } catch (IOException e) {
      System.err.println("cannot write " + file + ": " + e);
    }
  }

  @Override
  public String toString() {
    return "ContainerCluster(" + logDir.getFileName() + ", " + size + " nodes, "
        + addresses().stream().collect(Collectors.joining(",")) + ")";
  }
}
