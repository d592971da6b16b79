package ringkv.tests.support;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
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
import java.util.stream.IntStream;
import org.junit.jupiter.api.Assumptions;

/**
 * A cluster of RingKV nodes in real Docker containers, on a machine with no running Docker
 * engine (the recipe of CONTAINERS.md): a private network namespace
 * {@code ringkv-docker-t<jvm pid>-<random>} with only {@code lo} up; a {@code dockerd} started
 * inside it with {@code nsenter} (no bridge, no iptables, vfs storage, data root in a working
 * directory under /var/tmp); the base image imported from a debootstrap tarball cached in
 * {@code /var/cache/ringkv/ringkv-base.tar} (built once, under a file lock); the image built from
 * the repository's Dockerfile and the jar {@code mvn package} produced, with
 * {@code BASE_IMAGE=ringkv-base:local}; node i in container {@code n<i+1>} with
 * {@code --network host}, listening on {@code 127.0.0.(i+2):8085} inside the namespace (shard
 * dialect). With {@link Builder#dataVolumes()} node i keeps {@code DATA_DIR=/data} on the named
 * volume {@code data<i+1>}.
 *
 * <p>The test JVM reaches node i as {@link NetnsCluster} does: {@code socat} inside the
 * namespace relays the Unix socket {@code <work dir>/n<i+1>.sock} to the node, and
 * {@link UnixHttp} speaks HTTP over it.
 *
 * <p>Nothing outlives the cluster: {@link #close()} (and a JVM shutdown hook) saves each
 * container's log, removes the containers, stops the engine, kills what is left in the namespace,
 * deletes it and the working directory; namespaces of JVMs that died are removed by the next
 * cluster. Without root or the tools (ip, nsenter, dockerd, docker, socat, and debootstrap when
 * the base tarball is not cached), construction aborts the test through a JUnit assumption.
 */
public final class ContainerCluster implements AutoCloseable {
  public static final int PORT = 8085;
  public static final Path CACHE =
      Paths.get(System.getProperty("ringkv.cache", "/var/cache/ringkv"));
  private static final Path BASE_TAR = CACHE.resolve("ringkv-base.tar");
  private static final String NAMESPACE_PREFIX = "ringkv-docker-t";
  private static final Pattern OUR_NAMESPACE =
      Pattern.compile(NAMESPACE_PREFIX + "(\\d+)-[0-9a-f]+");
  private static final Pattern OUR_WORK_DIR = Pattern.compile("ringkv-docker-(\\d+)-.*");
  private static final Path WORK_ROOT = Paths.get("/var/tmp");
  private static final Duration SHORT = Duration.ofSeconds(30);
  private static final Duration LONG = Duration.ofMinutes(10);
  private static final List<String> SEARCH_PATH =
      List.of("/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin");
  private static final Set<ContainerCluster> LIVE =
      Collections.synchronizedSet(new HashSet<>());

  static {
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      List<ContainerCluster> all;
      synchronized (LIVE) {
        all = new ArrayList<>(LIVE);
      }
      all.forEach(ContainerCluster::close);
    }, "ringkv-container-cluster-reaper"));
  }

  private record Tools(String ip, String nsenter, String dockerd, String docker, String socat,
      String debootstrap) {}

  /** Result of a command: exit code (-1: did not finish) and its merged output. */
  public record Result(int code, String output) {}

  /** Options; see {@link ContainerCluster#builder(String)}. */
  public static final class Builder {
    private final String name;
    private int nodes = 4;
    private int shards = 2;
    private boolean dataVolumes;
    private Duration startTimeout = Duration.ofSeconds(60);
    private final Map<String, String> env = new LinkedHashMap<>();

    private Builder(String name) {
      this.name = name;
    }

    public Builder nodes(int count) {
      this.nodes = count;
      return this;
    }

    public Builder shards(int count) {
      this.shards = count;
      return this;
    }

    /** Node i gets {@code DATA_DIR=/data} on the named volume {@code data<i+1>}. */
    public Builder dataVolumes() {
      this.dataVolumes = true;
      return this;
    }

    public Builder env(String key, String value) {
      env.put(key, value);
      return this;
    }

    public Builder startTimeout(Duration timeout) {
      this.startTimeout = timeout;
      return this;
    }

    public ContainerCluster start() {
      return new ContainerCluster(this);
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
  private final int size;
  private final Duration startTimeout;
  private Process dockerd;
  private final List<Process> bridges = new ArrayList<>();
  private boolean closed;

  private ContainerCluster(Builder b) {
    this.tools = requireTools();
    this.size = b.nodes;
    this.startTimeout = b.startTimeout;
    Path jar = requireJar();
    Path dockerfile = jar.getParent().getParent().getParent().resolve("Dockerfile");
    if (!Files.isRegularFile(dockerfile)) {
      throw new IllegalStateException("no Dockerfile at " + dockerfile);
    }
    this.logDir = Paths.get(System.getProperty("kvs.logs", "target/node-logs"), b.name);
    removeLeftovers(tools);
    long pid = ProcessHandle.current().pid();
    this.namespace = NAMESPACE_PREFIX + pid + "-"
        + Integer.toHexString(ThreadLocalRandom.current().nextInt(0x100000, 0xffffff));
    try {
      Files.createDirectories(logDir);
      this.workDir = Files.createTempDirectory(WORK_ROOT, "ringkv-docker-" + pid + "-");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    LIVE.add(this);
    try {
      check(run(SHORT, null, tools.ip(), "netns", "add", namespace), "ip netns add");
      check(run(SHORT, null, tools.ip(), "netns", "exec", namespace, tools.ip(), "link", "set",
          "lo", "up"), "lo up");
      startEngine();
      ensureBaseTar(tools);
      check(run(LONG, BASE_TAR, tools.docker(), "-H", host(), "import", "-",
          "ringkv-base:local"), "docker import");
      Path context = workDir.resolve("context");
      Files.createDirectories(context.resolve("node/target"));
      Files.copy(dockerfile, context.resolve("Dockerfile"));
      Files.copy(jar, context.resolve("node/target/kvs-node.jar"),
          StandardCopyOption.REPLACE_EXISTING);
      check(docker(LONG, "build", "-q", "--build-arg", "BASE_IMAGE=ringkv-base:local", "-t",
          "ringkv:test", context.toString()), "docker build");
      String view = IntStream.range(0, size).mapToObj(this::node)
          .collect(Collectors.joining(","));
      for (int i = 0; i < size; i++) {
        bridges.add(new ProcessBuilder(tools.nsenter(), "--net=" + nsPath(), tools.socat(),
            "UNIX-LISTEN:" + socket(i) + ",fork,unlink-early", "TCP:" + node(i))
            .redirectErrorStream(true)
            .redirectOutput(workDir.resolve("socat-" + (i + 1) + ".log").toFile()).start());
      }
      for (int i = 0; i < size; i++) {
        List<String> args = new ArrayList<>(List.of("run", "-d", "--name", name(i),
            "--network", "host", "-e", "SOCKET_ADDRESS=" + node(i), "-e", "VIEW=" + view,
            "-e", "SHARD_COUNT=" + b.shards));
        if (b.dataVolumes) {
          args.addAll(List.of("-e", "DATA_DIR=/data", "-v", "data" + (i + 1) + ":/data"));
        }
        b.env.forEach((k, v) -> args.addAll(List.of("-e", k + "=" + v)));
        args.add("ringkv:test");
        check(docker(SHORT.multipliedBy(2), args.toArray(String[]::new)), "docker run " + i);
      }
      for (int i = 0; i < size; i++) {
        awaitServing(i);
      }
    } catch (IOException e) {
      close();
      throw new UncheckedIOException(e);
    } catch (RuntimeException | Error e) {
      close();
      throw e;
    }
  }

  public int size() {
    return size;
  }

  /** Address {@code 127.0.0.(i+2):8085} of node i, as the nodes know each other. */
  public String node(int i) {
    return "127.0.0." + (i + 2) + ":" + PORT;
  }

  public List<String> addresses() {
    return IntStream.range(0, size).mapToObj(this::node).toList();
  }

  public String namespace() {
    return namespace;
  }

  /** Container name of node i. */
  public String name(int i) {
    return "n" + (i + 1);
  }

  /** Sends a request to node i through its bridge; {@code rawBody} null means no body. */
  public Http.Reply send(int i, String method, String path, String rawBody) {
    return UnixHttp.send(socket(i), node(i), method, path, rawBody);
  }

  public Http.Reply get(int i, String path) {
    return send(i, "GET", path, null);
  }

  /** {@code docker kill} (SIGKILL) node i's container. */
  public void kill(int i) {
    check(docker(SHORT, "kill", name(i)), "docker kill " + name(i));
  }

  /** {@code docker start} node i's container again and waits until it serves. */
  public void start(int i) {
    check(docker(SHORT, "start", name(i)), "docker start " + name(i));
    awaitServing(i);
  }

  public void pause(int i) {
    check(docker(SHORT, "pause", name(i)), "docker pause " + name(i));
  }

  public void unpause(int i) {
    check(docker(SHORT, "unpause", name(i)), "docker unpause " + name(i));
  }

  /** Any docker command against this cluster's engine. */
  public Result docker(Duration timeout, String... args) {
    List<String> command = new ArrayList<>(List.of(tools.docker(), "-H", host()));
    command.addAll(List.of(args));
    return run(timeout, null, command.toArray(String[]::new));
  }

  /** A command run inside the namespace (nsenter), e.g. iptables. */
  public Result inNamespace(String... args) {
    List<String> command = new ArrayList<>(List.of(tools.nsenter(), "--net=" + nsPath()));
    command.addAll(List.of(args));
    return run(SHORT, null, command.toArray(String[]::new));
  }

  private void awaitServing(int i) {
    org.awaitility.Awaitility.await().atMost(startTimeout)
        .pollInterval(Duration.ofMillis(200)).ignoreExceptions()
        .until(() -> get(i, "/key-value-store-view").status() == 200);
  }

  private void startEngine() throws IOException {
    Path d = workDir;
    dockerd = new ProcessBuilder(tools.nsenter(), "--net=" + nsPath(), tools.dockerd(),
        "--bridge=none", "--iptables=false", "--ip-masq=false", "--ip-forward=false",
        "--storage-driver=vfs", "--data-root", d.resolve("root").toString(),
        "--exec-root", d.resolve("exec").toString(), "-H", host(),
        "--pidfile", d.resolve("docker.pid").toString())
        .redirectErrorStream(true).redirectOutput(logDir.resolve("dockerd.log").toFile())
        .start();
    try {
      org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(60))
          .pollInterval(Duration.ofMillis(300))
          .until(() -> !dockerd.isAlive() || docker(SHORT, "info").code() == 0);
    } catch (org.awaitility.core.ConditionTimeoutException e) {
      throw new AssertionError("dockerd did not answer within 60 s; see "
          + logDir.resolve("dockerd.log"), e);
    }
    if (!dockerd.isAlive()) {
      throw new AssertionError("dockerd exited; see " + logDir.resolve("dockerd.log"));
    }
  }

  private String host() {
    return "unix://" + workDir.resolve("docker.sock");
  }

  private String nsPath() {
    return "/var/run/netns/" + namespace;
  }

  private Path socket(int i) {
    return workDir.resolve("n" + (i + 1) + ".sock");
  }

  /** Saves container logs, removes containers, stops the engine, deletes namespace and dirs. */
  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    try {
      if (dockerd != null && dockerd.isAlive()) {
        for (int i = 0; i < size; i++) {
          Result logs = docker(SHORT, "logs", name(i));
          writeQuietly(logDir.resolve("container-" + name(i) + ".log"), logs.output());
        }
        Result ids = docker(SHORT, "ps", "-aq");
        List<String> rm = new ArrayList<>(List.of("rm", "-f"));
        ids.output().lines().map(String::strip).filter(s -> !s.isEmpty()).forEach(rm::add);
        if (rm.size() > 2) {
          docker(SHORT.multipliedBy(2), rm.toArray(String[]::new));
        }
        stopEngine();
      }
      bridges.forEach(Process::destroyForcibly);
      removeNamespace(tools, namespace);
      unmountUnder(workDir);
      run(LONG, null, "rm", "-rf", workDir.toString());
    } finally {
      LIVE.remove(this);
    }
  }

  private void stopEngine() {
    // dockerd is nsenter's child; nsenter execs it, so the process is dockerd itself.
    dockerd.destroy();
    try {
      if (!dockerd.waitFor(20, TimeUnit.SECONDS)) {
        dockerd.destroyForcibly();
        dockerd.waitFor(10, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      dockerd.destroyForcibly();
    }
  }

  private static void writeQuietly(Path file, String text) {
    try {
      Files.writeString(file, text, StandardCharsets.UTF_8);
    } catch (IOException e) {
      System.err.println("cannot write " + file + ": " + e);
    }
  }

  private static void check(Result r, String what) {
    if (r.code() != 0) {
      throw new AssertionError(what + " failed (" + r.code() + "): " + r.output());
    }
  }

  /** Builds the cached base tarball with debootstrap unless present (file lock across JVMs). */
  private static void ensureBaseTar(Tools tools) throws IOException {
    Files.createDirectories(CACHE);
    try (FileChannel lock = FileChannel.open(CACHE.resolve("base.lock"),
        StandardOpenOption.CREATE, StandardOpenOption.WRITE);
        FileLock held = lock.lock()) {
      if (Files.isRegularFile(BASE_TAR) && Files.size(BASE_TAR) > 0) {
        return;
      }
      Assumptions.assumeTrue(tools.debootstrap() != null, "no cached " + BASE_TAR
          + " and no debootstrap (apt-get install -y debootstrap; .ci/run installs it)");
      Path tmp = Files.createTempDirectory(CACHE, "rootfs.");
      try {
        String mirror = Files.readAllLines(Paths.get("/etc/apt/sources.list.d/debian.sources"))
            .stream().filter(l -> l.startsWith("URIs:")).map(l -> l.substring(5).strip())
            .findFirst().orElse("http://deb.debian.org/debian");
        check(run(LONG, null, tools.debootstrap(), "--variant=minbase",
            "--include=openjdk-17-jre-headless,ca-certificates", "bookworm",
            tmp.resolve("rootfs").toString(), mirror), "debootstrap");
        Path part = CACHE.resolve("ringkv-base.tar.tmp");
        check(run(LONG, null, "tar", "-C", tmp.resolve("rootfs").toString(), "-cf",
            part.toString(), "."), "tar");
        Files.move(part, BASE_TAR, StandardCopyOption.REPLACE_EXISTING,
            StandardCopyOption.ATOMIC_MOVE);
      } finally {
        run(LONG, null, "rm", "-rf", tmp.toString());
      }
    }
  }

  /** Runs a command (stdin from a file or nothing) with a deadline. */
  static Result run(Duration timeout, Path stdin, String... command) {
    Path out = null;
    try {
      out = Files.createTempFile("ringkv-docker-cmd", ".out");
      ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true)
          .redirectOutput(out.toFile());
      pb.redirectInput(stdin == null ? ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))
          : ProcessBuilder.Redirect.from(stdin.toFile()));
      Process p = pb.start();
      if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
        p.destroyForcibly();
        awaitExit(p.toHandle());
        return new Result(-1, String.join(" ", command) + " took over " + timeout);
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
          System.err.println("cannot delete " + out + ": " + e);
        }
      }
    }
  }

  private static void removeNamespace(Tools tools, String ns) {
    for (int round = 0; round < 5; round++) {
      List<ProcessHandle> alive = run(SHORT, null, tools.ip(), "netns", "pids", ns).output()
          .lines().map(String::strip).filter(s -> s.matches("\\d+")).map(Long::parseLong)
          .map(ProcessHandle::of).flatMap(Optional::stream).toList();
      if (alive.isEmpty()) {
        break;
      }
      alive.forEach(ProcessHandle::destroyForcibly);
      alive.forEach(ContainerCluster::awaitExit);
    }
    Result del = run(SHORT, null, tools.ip(), "netns", "del", ns);
    if (del.code() != 0 && !del.output().contains("No such file")) {
      System.err.println("cannot delete network namespace " + ns + ": " + del.output());
    }
  }

  /** dockerd leaves mounts in its exec root (exec/netns/default); rm -rf cannot cross them. */
  private static void unmountUnder(Path dir) {
    try {
      String prefix = dir.toAbsolutePath() + "/";
      List<String> points = Files.readAllLines(Paths.get("/proc/self/mounts")).stream()
          .map(l -> l.split(" ")[1]).filter(m -> m.startsWith(prefix))
          .sorted(Collections.reverseOrder()).toList();
      for (String point : points) {
        run(SHORT, null, "umount", "-l", point);
      }
    } catch (IOException e) {
      System.err.println("cannot read /proc/self/mounts: " + e);
    }
  }

  private static void awaitExit(ProcessHandle p) {
    try {
      p.onExit().get(10, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (ExecutionException | TimeoutException e) {
      System.err.println("process " + p.pid() + " survived SIGKILL for 10 s");
    }
  }

  /** Namespaces and working directories of JVMs that died before cleaning up. */
  private static void removeLeftovers(Tools tools) {
    for (String line : run(SHORT, null, tools.ip(), "netns", "list").output().lines().toList()) {
      String name = line.strip().split("\\s+")[0];
      Matcher m = OUR_NAMESPACE.matcher(name);
      if (m.matches() && ProcessHandle.of(Long.parseLong(m.group(1))).isEmpty()) {
        removeNamespace(tools, name);
      }
    }
    try (var entries = Files.list(WORK_ROOT)) {
      for (Path p : entries.toList()) {
        Matcher m = OUR_WORK_DIR.matcher(p.getFileName().toString());
        if (m.matches() && ProcessHandle.of(Long.parseLong(m.group(1))).isEmpty()) {
          unmountUnder(p);
          run(LONG, null, "rm", "-rf", p.toString());
        }
      }
    } catch (IOException e) {
      System.err.println("cannot list " + WORK_ROOT + ": " + e);
    }
  }

  private static Tools requireTools() {
    boolean root = false;
    try {
      root = ((Integer) Files.getAttribute(Paths.get("/proc/self"), "unix:uid")) == 0;
    } catch (IOException | UnsupportedOperationException e) {
      Assumptions.abort("cannot tell the user id (" + e + "); container tests need root");
    }
    Assumptions.assumeTrue(root, "container tests need root (a private network namespace with"
        + " its own dockerd, see CONTAINERS.md)");
    List<String> missing = new ArrayList<>();
    Map<String, String> found = new LinkedHashMap<>();
    for (String tool : List.of("ip", "nsenter", "dockerd", "docker", "socat", "debootstrap")) {
      which(tool).ifPresentOrElse(p -> found.put(tool, p), () -> missing.add(tool));
    }
    boolean cached = Files.isRegularFile(BASE_TAR);
    if (cached) {
      missing.remove("debootstrap");
    }
    Assumptions.assumeTrue(missing.isEmpty(), "container tests need " + missing + " on the PATH"
        + " (apt-get install -y docker.io debootstrap socat; .ci/run installs them)");
    return new Tools(found.get("ip"), found.get("nsenter"), found.get("dockerd"),
        found.get("docker"), found.get("socat"), found.get("debootstrap"));
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
      throw new IllegalStateException("system property kvs.jar is not set; run mvn package");
    }
    Path path = Paths.get(property).toAbsolutePath().normalize();
    if (!Files.isRegularFile(path)) {
      throw new IllegalStateException("node jar " + path + " does not exist: run mvn package");
    }
    return path;
  }
}
