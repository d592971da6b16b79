package ringkv.bench;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import ringkv.tools.launch.NodeLauncher;

/**
 * The processes a bench run starts and stops: a local RingKV cluster (started by {@link
 * NodeLauncher}, the launcher of {@code ./kvs up} and of the tests), the
 * ceiling server, and for {@code --compare redis} the {@code redis-server} processes. Each
 * logs to its own file; {@link #close()} stops them all (SIGTERM, then SIGKILL after {@link
 * #STOP_TIMEOUT_MS}), and a shutdown hook does the same on Ctrl-C.
 *
 * <p>Not thread-safe: the bench's main thread starts and stops; the hook only closes.
 */
final class ChildProcesses implements AutoCloseable {
  static final String HOST = "127.0.0.1";
  /** Resident memory of a started node, from /proc (Linux); bytes. */
  record NodeMemory(String address, long rssBytes, long peakRssBytes) {}

  static final long START_TIMEOUT_MS = 60_000;
  static final long STOP_TIMEOUT_MS = 10_000;
  private static final long POLL_MS = 100;

  private final Path logDir;
  private final List<String> jvmFlags;
  /** The started nodes (null until {@link #startCluster}); {@link #close()} stops them. */
  private volatile NodeLauncher launcher;
  private final List<Process> processes = Collections.synchronizedList(new ArrayList<>());
  private final HttpClient http = HttpClient.newBuilder()
      .version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofMillis(500)).build();
  private final Thread hook = new Thread(this::close, "bench-reaper");

  ChildProcesses(Path logDir, List<String> jvmFlags) {
    this.logDir = logDir;
    this.jvmFlags = List.copyOf(jvmFlags);
    try {
      Files.createDirectories(logDir);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot create " + logDir, e);
    }
    Runtime.getRuntime().addShutdownHook(hook);
  }

  /**
   * Starts {@code nodes} nodes with SHARD_COUNT={@code shards} on free ports through the one
   * local launcher ({@link NodeLauncher}, as {@code ./kvs up} and the tests start nodes), waits
   * until they are ready by its rule, and returns their addresses.
   */
  List<String> startCluster(Path nodeJar, int nodes, int shards) {
    if (launcher != null) {
      throw new IllegalStateException("a cluster is already started");
    }
    launcher = NodeLauncher.builder(nodeJar).jvmFlags(jvmFlags)
        .startTimeout(Duration.ofMillis(START_TIMEOUT_MS))
        .stopGrace(Duration.ofMillis(STOP_TIMEOUT_MS)).build();
    launcher.addShardCluster(HOST, freePorts(nodes), shards, null, Map.of(), logDir);
    launcher.startAll();
    return launcher.addresses();
  }

  /** Starts the ceiling server in its own JVM with the node's flags; returns its address. */
  String startCeiling(int valueSize) {
    int port = freePorts(1).get(0);
    List<String> command = new ArrayList<>(java());
    command.addAll(jvmFlags);
    command.add("-cp");
    command.add(System.getProperty("java.class.path"));
    command.add(CeilingServer.class.getName());
    command.add(Integer.toString(port));
    command.add(Integer.toString(valueSize));
    launch(command, Map.of(), "ceiling-" + port + ".log");
    String address = HOST + ":" + port;
    awaitCeiling(address);
    return address;
  }

  /**
   * Starts {@code command} (any program, e.g. {@code redis-server}) logging to {@code logName};
   * {@link #close()} stops it with the others.
   */
  Process start(List<String> command, String logName) {
    return launch(command, Map.of(), logName);
  }

  /** Process ids of the started nodes, by address, in start order. */
  Map<String, Long> nodePids() {
    return nodeProcesses().entrySet().stream().collect(Collectors.toMap(Map.Entry::getKey,
        e -> e.getValue().pid(), (a, b) -> a, LinkedHashMap::new));
  }

  /** The started nodes' processes, by address, in start order. */
  private Map<String, Process> nodeProcesses() {
    Map<String, Process> out = new LinkedHashMap<>();
    NodeLauncher nodes = launcher;
    for (int i = 0; nodes != null && i < nodes.size(); i++) {
      int index = i;
      nodes.process(i).ifPresent(p -> out.put(nodes.spec(index).address(), p));
    }
    return out;
  }

  Path logDir() {
    return logDir;
  }

  private static List<String> java() {
    return List.of(Paths.get(System.getProperty("java.home"), "bin", "java").toString());
  }

  /**
   * CPU time (user + system) used so far by every process started here and still running, in
   * nanoseconds; -1 where the platform does not say.
   */
  long cpuNanos() {
    long total = 0;
    List<Process> all;
    synchronized (processes) {
      all = new ArrayList<>(processes);
    }
    all.addAll(nodeProcesses().values());
    if (all.isEmpty()) {
      return -1;
    }
    for (Process p : all) {
      java.util.Optional<Duration> cpu = p.info().totalCpuDuration();
      if (cpu.isEmpty()) {
        return -1;
      }
      total += cpu.get().toNanos();
    }
    return total;
  }

  /**
   * A window around a measured phase that also records the CPU time the started processes
   * used during it ({@link #usedNanos}, -1 when unknown), then opens and closes {@code inner}.
   */
  final class CpuWindow extends SampledWindow {
    private long start = -1;
    private long used = -1;

    CpuWindow(LoadRunner.MeasureWindow inner) {
      super(inner);
    }

    @Override
    void sampleAtOpen() {
      start = cpuNanos();
    }

    @Override
    void sampleAtClose() {
      used = delta(start, cpuNanos());
    }

    long usedNanos() {
      return used;
    }
  }

  /**
   * Resident memory (VmRSS) and its peak (VmHWM) of every started node still running, read from
   * /proc; empty where there is no /proc.
   */
  List<NodeMemory> nodeMemory() {
    List<NodeMemory> out = new ArrayList<>();
    for (Map.Entry<String, Process> e : nodeProcesses().entrySet()) {
      Path status = Path.of("/proc", Long.toString(e.getValue().pid()), "status");
      if (!e.getValue().isAlive() || !Files.isReadable(status)) {
        continue;
      }
      try {
        long rss = -1;
        long peak = -1;
        for (String line : Files.readAllLines(status, StandardCharsets.UTF_8)) {
          if (line.startsWith("VmRSS:")) {
            rss = kib(line);
          } else if (line.startsWith("VmHWM:")) {
            peak = kib(line);
          }
        }
        if (rss >= 0 && peak >= 0) {
          out.add(new NodeMemory(e.getKey(), rss * 1024, peak * 1024));
        }
      } catch (IOException ex) {
        // The process exited meanwhile: nothing to report for it.
      }
    }
    return out;
  }

  /** The number of "VmRSS:   1234 kB". */
  static long kib(String line) {
    String digits = line.replaceAll("[^0-9]", "");
    return digits.isEmpty() ? -1 : Long.parseLong(digits);
  }

  private Process launch(List<String> command, Map<String, String> env, String logName) {
    Path log = logDir.resolve(logName);
    ProcessBuilder pb = new ProcessBuilder(command);
    pb.environment().keySet().removeIf(NodeLauncher.NODE_VARIABLES::contains);
    pb.environment().putAll(env);
    pb.redirectErrorStream(true);
    pb.redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
    try {
      Files.writeString(log, "=== " + Instant.now() + " " + String.join(" ", command) + " "
          + env + "\n", StandardCharsets.UTF_8, java.nio.file.StandardOpenOption.CREATE,
          java.nio.file.StandardOpenOption.APPEND);
      Process p = pb.start();
      processes.add(p);
      return p;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start " + command, e);
    }
  }

  /**
   * Waits until the ceiling server answers {@code GET /health/ready} with 200 (it is no node:
   * no epoch, no shard; nodes are awaited by {@link NodeLauncher}'s rule).
   */
  private void awaitCeiling(String address) {
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(START_TIMEOUT_MS);
    while (!ready(address)) {
      for (Process p : List.copyOf(processes)) {
        if (!p.isAlive()) {
          throw new IllegalStateException("a started process exited with code "
              + p.exitValue() + "; see the logs in " + logDir);
        }
      }
      if (System.nanoTime() - deadline > 0) {
        throw new IllegalStateException(address + " not ready within " + START_TIMEOUT_MS
            + " ms; see the logs in " + logDir);
      }
      try {
        Thread.sleep(POLL_MS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted while starting processes", e);
      }
    }
  }

  private boolean ready(String address) {
    HttpRequest request = HttpRequest.newBuilder(URI.create("http://" + address
        + "/health/ready")).timeout(Duration.ofSeconds(2)).GET().build();
    try {
      HttpResponse<String> r = http.send(request, HttpResponse.BodyHandlers.ofString());
      return r.statusCode() == 200;
    } catch (IOException e) {
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  /** Stops every process started so far (SIGTERM, then SIGKILL). Idempotent. */
  @Override
  public void close() {
    NodeLauncher nodes = launcher;
    if (nodes != null) {
      nodes.close();
    }
    List<Process> all;
    synchronized (processes) {
      all = new ArrayList<>(processes);
      processes.clear();
    }
    all.forEach(Process::destroy);
    for (Process p : all) {
      try {
        if (!p.waitFor(STOP_TIMEOUT_MS, TimeUnit.MILLISECONDS)) {
          p.destroyForcibly().waitFor(STOP_TIMEOUT_MS, TimeUnit.MILLISECONDS);
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        p.destroyForcibly();
      }
    }
    if (Thread.currentThread() != hook) {
      try {
        Runtime.getRuntime().removeShutdownHook(hook);
      } catch (IllegalStateException shuttingDown) {
        // The JVM is already exiting; the hook runs (and finds nothing left to stop).
      }
    }
  }

  /** Ports free now on 127.0.0.1, distinct from each other and from earlier ones. */
  static List<Integer> freePorts(int count) {
    return NodeLauncher.freePorts(HOST, count);
  }
}
