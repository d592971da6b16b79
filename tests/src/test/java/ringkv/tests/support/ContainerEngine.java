package ringkv.tests.support;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.awaitility.Awaitility;
import org.awaitility.core.ConditionTimeoutException;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.opentest4j.TestAbortedException;
import ringkv.tests.support.Commands.Result;

/**
 * A Docker engine for the container tests, on a machine with no running engine (the recipe of
 * CONTAINERS.md): a private network namespace {@code ringkv-docker-t<jvm pid>-<random>} with only
 * {@code lo} up; a {@code dockerd} started inside it with {@code nsenter} (no bridge, no
 * iptables of its own, data root in a working directory under /var/tmp); the base image
 * imported from a debootstrap tarball cached in {@code /var/cache/ringkv/ringkv-base.tar} (built
 * once, under a file lock); and the image {@value #IMAGE} built from the repository's Dockerfile
 * and the jar {@code mvn package} produced, with {@code BASE_IMAGE=}{@value #BASE_IMAGE}.
 * Containers run with {@code --network host}, that is in the private namespace.
 *
 * <p><b>Storage driver.</b> overlay2 when the kernel and the file system under /var/tmp allow it
 * (each container then costs a thin layer), vfs otherwise (what CONTAINERS.md verified; every
 * layer and container is a full copy of the ~500 MB image, which costs tens of seconds each):
 * the engine starts with overlay2 and, if dockerd exits, again with vfs.
 *
 * <p><b>Shared.</b> Starting an engine and building the image take about 15 s with overlay2,
 * so the container tests share one per JVM: {@link #shared()} starts it on first use, and test
 * classes annotated {@code @ExtendWith(ContainerEngine.Shared.class)} have it stopped when the
 * whole test run ends (JUnit's root store). Users take turns (the tests of a run are
 * sequential: one cluster or compose project at a time) and each leaves the engine as it found
 * it: {@link #reset()} removes every container, volume and iptables rule. A JVM shutdown hook stops
 * it too (and closes what registered with {@link #register}), and engines of JVMs that died
 * are removed by the next one.
 *
 * <p>Without root or the tools (ip, nsenter, dockerd, docker, socat, and debootstrap when the
 * base tarball is not cached), {@link #shared()} aborts the calling test through a JUnit
 * assumption, with the reason. Thread-safe.
 */
public final class ContainerEngine implements AutoCloseable {
  public static final String BASE_IMAGE = "ringkv-base:local";
  public static final String IMAGE = "ringkv:test";
  public static final Path CACHE =
      Paths.get(System.getProperty("ringkv.cache", "/var/cache/ringkv"));
  static final Path BASE_TAR = CACHE.resolve("ringkv-base.tar");
  static final String NAMESPACE_PREFIX = "ringkv-docker-t";
  static final Path WORK_ROOT = Paths.get("/var/tmp");
  static final String WORK_DIR_PREFIX = "ringkv-docker-";
  public static final Duration SHORT = Duration.ofSeconds(30);
  public static final Duration LONG = Duration.ofMinutes(10);
  private static final Pattern OUR_NAMESPACE =
      Pattern.compile(NAMESPACE_PREFIX + "(\\d+)-[0-9a-f]+");
  private static final Pattern OUR_WORK_DIR = Pattern.compile(WORK_DIR_PREFIX + "(\\d+)-.*");
  private static final Duration DAEMON_START = Duration.ofSeconds(60);
  /** Node i of a cluster runs with primary group {@code GID_BASE + i} (see ContainerCluster). */
  static final String OWNER_MATCH = "--gid-owner";

  private static ContainerEngine shared;
  private static Throwable sharedFailure;

  static {
    Runtime.getRuntime().addShutdownHook(new Thread(ContainerEngine::closeShared,
        "ringkv-container-engine-reaper"));
  }

  /** Absolute paths of the tools; the optional ones are null when missing. */
  record Tools(String ip, String nsenter, String dockerd, String docker, String socat,
      String debootstrap, String iptablesRestore, String compose) {}

  /**
   * JUnit extension for test classes that use the shared engine: stops it when the whole test
   * run ends, whichever class used it last.
   */
  public static final class Shared implements BeforeAllCallback {
    @Override
    public void beforeAll(ExtensionContext context) {
      context.getRoot().getStore(ExtensionContext.Namespace.create(Shared.class))
          .getOrComputeIfAbsent(Stopper.class, k -> new Stopper(), Stopper.class);
    }
  }

  /** Closed by JUnit with the root store, at the end of the run. */
  private static final class Stopper implements AutoCloseable {
    @Override
    public void close() {
      closeShared();
    }
  }

  private final Tools tools;
  private final String namespace;
  private final Path workDir;
  private final Path logDir;
  private final Set<AutoCloseable> users = Collections.synchronizedSet(new LinkedHashSet<>());
  private Process dockerd;
  private String storageDriver;
  private String partitionProblem;
  private boolean closed;

  /**
   * The engine of this JVM, started (and the image built) on first use; aborts the calling test
   * when this machine cannot run it. An engine that failed to start is not tried again: later
   * callers get the same failure at once.
   */
  public static synchronized ContainerEngine shared() {
    Tools tools = requireTools();
    if (shared != null) {
      return shared;
    }
    if (sharedFailure != null) {
      throw new AssertionError("the container engine failed to start earlier in this JVM",
          sharedFailure);
    }
    try {
      shared = new ContainerEngine(tools);
    } catch (TestAbortedException e) {
      throw e;
    } catch (RuntimeException | Error e) {
      sharedFailure = e;
      throw e;
    }
    return shared;
  }

  /** Stops the shared engine, if one runs (after closing what registered with it). */
  static synchronized void closeShared() {
    if (shared != null) {
      shared.close();
      shared = null;
    }
  }

  private ContainerEngine(Tools tools) {
    this.tools = tools;
    Path jar = Commands.requireJar();
    Path dockerfile = jar.getParent().getParent().getParent().resolve("Dockerfile");
    if (!Files.isRegularFile(dockerfile)) {
      throw new IllegalStateException("no Dockerfile at " + dockerfile);
    }
    this.logDir = Paths.get(System.getProperty("kvs.logs", "target/node-logs"),
        "container-engine");
    removeLeftovers(tools);
    this.namespace = Netns.newName(NAMESPACE_PREFIX);
    try {
      Files.createDirectories(logDir);
      this.workDir = Files.createTempDirectory(WORK_ROOT, WORK_DIR_PREFIX
          + ProcessHandle.current().pid() + "-");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    Commands.closeOnFailure(this::close, () -> {
      long startNs = System.nanoTime();
      Commands.run(SHORT, tools.ip(), "netns", "add", namespace).checked("ip netns add");
      inNamespace(tools.ip(), "link", "set", "lo", "up").checked("lo up");
      if (!startDaemon("overlay2")) {
        System.out.println("[containers] dockerd cannot use overlay2 here (see "
            + logDir.resolve("dockerd-overlay2.log") + "); falling back to vfs");
        if (!startDaemon("vfs")) {
          throw new AssertionError("dockerd exited with overlay2 and with vfs; see "
              + logDir.resolve("dockerd-vfs.log"));
        }
      }
      ensureBaseTar(tools);
      Commands.runWithInputFile(LONG, BASE_TAR, tools.docker(), "-H", host(), "import", "-",
          BASE_IMAGE).checked("docker import");
      buildImage(dockerfile, jar);
      this.partitionProblem = probePartitions();
      System.out.printf("[containers] engine in namespace %s (storage %s) with image %s ready"
          + " in %d ms%n", namespace, storageDriver, IMAGE,
          TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startNs));
    });
  }

  /** The network namespace the engine and every container with host networking live in. */
  public String namespace() {
    return namespace;
  }

  /** {@code DOCKER_HOST} of this engine. */
  public String host() {
    return "unix://" + workDir.resolve("docker.sock");
  }

  /** A directory of this engine's (deleted with it), for sockets and build contexts. */
  public Path workDir() {
    return workDir;
  }

  /**
   * Why partitions by iptables (owner, conntrack and connmark matches, run in the namespace)
   * are not available, or null when they are.
   */
  public String partitionProblem() {
    return partitionProblem;
  }

  /**
   * Path of {@code docker-compose} (1.29, Debian package docker-compose), if installed; aborts
   * the calling test when containers cannot run here at all.
   */
  public static Optional<String> compose() {
    return Optional.ofNullable(requireTools().compose());
  }


  /** Closed (before the engine stops) by {@link #close()}, unless unregistered first. */
  public void register(AutoCloseable user) {
    users.add(user);
  }

  public void unregister(AutoCloseable user) {
    users.remove(user);
  }

  /** Any docker command against this engine. */
  public Result docker(Duration timeout, String... args) {
    List<String> command = new ArrayList<>(List.of(tools.docker(), "-H", host()));
    command.addAll(List.of(args));
    return Commands.run(timeout, command.toArray(String[]::new));
  }

  /**
   * A command in the machine's namespace with {@code DOCKER_HOST} set to this engine, plus
   * {@code env} (e.g. docker-compose).
   */
  public Result withEngine(Duration timeout, Map<String, String> env, String... command) {
    Map<String, String> all = new LinkedHashMap<>(env);
    all.put("DOCKER_HOST", host());
    return Commands.runWithEnv(timeout, all, command);
  }

  /** A command inside the namespace (nsenter), e.g. iptables. */
  public Result inNamespace(String... args) {
    return Commands.run(SHORT, enter(args));
  }

  /** Loads iptables rules ({@code iptables-restore --noflush} format) into the namespace. */
  public Result restoreRules(String rules) {
    if (tools.iptablesRestore() == null) {
      return new Result(-1, "no iptables-restore on the PATH");
    }
    return Commands.runWithInput(SHORT, rules, enter(tools.iptablesRestore(), "--noflush"));
  }

  /** Removes every iptables rule of the namespace's OUTPUT chains (filter and mangle). */
  public void flushRules() {
    if (partitionProblem == null) {
      restoreRules(Netns.FLUSH_ALL);
    }
  }

  /** {@code args} run inside the namespace: after {@code nsenter --net=<namespace file>}. */
  private String[] enter(String... args) {
    List<String> command = new ArrayList<>(List.of(tools.nsenter(), "--net=" + nsPath()));
    command.addAll(List.of(args));
    return command.toArray(String[]::new);
  }

  /**
   * Starts {@code socat} inside the namespace relaying the Unix socket {@code socket} to the TCP
   * {@code address}, and waits until the socket exists. The caller destroys the process.
   */
  public Process bridge(Path socket, String address, Path log) {
    return Netns.bridge(List.of(tools.nsenter(), "--net=" + nsPath()), tools.socat(), socket,
        address, log);
  }

  /**
   * The same for a namespace this engine does not own ({@code /var/run/netns/<name>}); aborts
   * the calling test when the tools are missing.
   */
  public static Process bridge(String namespace, Path socket, String address, Path log) {
    Tools tools = requireTools();
    return Netns.bridge(List.of(tools.nsenter(), "--net=" + Netns.path(namespace)),
        tools.socat(), socket, address, log);
  }

  /**
   * Leaves the engine as it started: removes every container (and its anonymous volumes),
   * every volume and the iptables rules of the namespace.
   */
  public void reset() {
    List<String> containers = docker(SHORT, "ps", "-aq").checked("docker ps").lines();
    if (!containers.isEmpty()) {
      List<String> rm = new ArrayList<>(List.of("rm", "-f", "-v"));
      rm.addAll(containers);
      docker(SHORT.multipliedBy(2), rm.toArray(String[]::new)).checked("docker rm");
    }
    List<String> volumes = volumes();
    if (!volumes.isEmpty()) {
      List<String> rm = new ArrayList<>(List.of("volume", "rm", "-f"));
      rm.addAll(volumes);
      docker(SHORT, rm.toArray(String[]::new)).checked("docker volume rm");
    }
    flushRules();
  }

  /** The names of the engine's volumes. */
  public List<String> volumes() {
    return docker(SHORT, "volume", "ls", "-q").checked("docker volume ls").lines();
  }

  /**
   * Waits up to {@code atMost} until each of {@code containers} reports healthy (the image's
   * {@code HEALTHCHECK}).
   */
  public void awaitHealthy(List<String> containers, Duration atMost) {
    Awaitility.await().atMost(atMost).untilAsserted(() -> {
      for (String container : containers) {
        Result r = docker(Duration.ofSeconds(10), "inspect", "-f", "{{.State.Health.Status}}",
            container);
        assertEquals("healthy", r.output().strip(), container);
      }
    });
  }

  /**
   * Closes its users, removes the containers, stops the engine, kills whatever is left in the
   * namespace, deletes it and the working directory. Idempotent; never throws.
   */
  @Override
  public void close() {
    List<AutoCloseable> closing;
    synchronized (this) {
      if (closed) {
        return;
      }
      closed = true;
      synchronized (users) {
        closing = new ArrayList<>(users);
      }
    }
    for (AutoCloseable user : closing) {
      try {
        user.close();
      } catch (Exception | AssertionError e) {
        System.err.println("[containers] closing " + user + ": " + e);
      }
    }
    if (dockerd != null && dockerd.isAlive()) {
      List<String> rm = new ArrayList<>(List.of("rm", "-f", "-v"));
      docker(SHORT, "ps", "-aq").output().lines().map(String::strip)
          .filter(s -> s.matches("[0-9a-f]+")).forEach(rm::add);
      if (rm.size() > 3) {
        docker(SHORT.multipliedBy(2), rm.toArray(String[]::new));
      }
      stopDaemon();
    }
    Netns.remove(tools.ip(), namespace);
    unmountUnder(workDir);
    Commands.run(LONG, "rm", "-rf", workDir.toString());
  }

  // ---------------------------------------------------------------------------------------------

  private boolean startDaemon(String driver) throws IOException {
    Path log = logDir.resolve("dockerd-" + driver + ".log");
    dockerd = new ProcessBuilder(tools.nsenter(), "--net=" + nsPath(), tools.dockerd(),
        "--bridge=none", "--iptables=false", "--ip-masq=false", "--ip-forward=false",
        "--storage-driver=" + driver, "--data-root", workDir.resolve("root-" + driver)
        .toString(), "--exec-root", workDir.resolve("exec").toString(), "-H", host(),
        "--pidfile", workDir.resolve("docker.pid").toString())
        .redirectErrorStream(true).redirectOutput(log.toFile()).start();
    try {
      Awaitility.await("dockerd").atMost(DAEMON_START).pollInterval(Duration.ofMillis(300))
          .until(() -> !dockerd.isAlive() || docker(SHORT, "info").ok());
    } catch (ConditionTimeoutException e) {
      throw new AssertionError("dockerd did not answer within " + DAEMON_START + "; see " + log,
          e);
    }
    if (!dockerd.isAlive()) {
      unmountUnder(workDir.resolve("exec"));
      Commands.run(SHORT, "rm", "-rf", workDir.resolve("exec").toString(),
          workDir.resolve("root-" + driver).toString());
      return false;
    }
    storageDriver = docker(SHORT, "info", "--format", "{{.Driver}}").checked("docker info")
        .output().strip();
    return true;
  }

  private void stopDaemon() {
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

  private void buildImage(Path dockerfile, Path jar) throws IOException {
    Path context = workDir.resolve("context");
    Files.createDirectories(context.resolve("node/target"));
    Files.copy(dockerfile, context.resolve("Dockerfile"), StandardCopyOption.REPLACE_EXISTING);
    Files.copy(jar, context.resolve("node/target/kvs-node.jar"),
        StandardCopyOption.REPLACE_EXISTING);
    docker(LONG, "build", "-q", "--build-arg", "BASE_IMAGE=" + BASE_IMAGE, "-t", IMAGE,
        context.toString()).checked("docker build");
  }

  /** Loads rules that match nothing with every match the partitions use, then removes them. */
  private String probePartitions() {
    if (tools.iptablesRestore() == null) {
      return "no iptables-restore on the PATH (apt-get install -y iptables)";
    }
    Result probe = restoreRules(Netns.probeRules(OWNER_MATCH, ContainerCluster.GID_BASE - 1));
    if (!probe.ok()) {
      return "iptables with the owner, conntrack and connmark matches does not work in a"
          + " network namespace here (" + probe.output().strip() + ")";
    }
    restoreRules(Netns.FLUSH_ALL).checked("iptables flush");
    return null;
  }

  private String nsPath() {
    return Netns.path(namespace);
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
      System.out.println("[containers] building the base image's root file system with"
          + " debootstrap into " + BASE_TAR + " (once, about a minute)");
      Path tmp = Files.createTempDirectory(CACHE, "rootfs.");
      try {
        String mirror = Files.readAllLines(Paths.get("/etc/apt/sources.list.d/debian.sources"))
            .stream().filter(l -> l.startsWith("URIs:")).map(l -> l.substring(5).strip())
            .findFirst().orElse("http://deb.debian.org/debian");
        Commands.run(LONG, tools.debootstrap(), "--variant=minbase",
            "--include=openjdk-17-jre-headless,ca-certificates", "bookworm",
            tmp.resolve("rootfs").toString(), mirror).checked("debootstrap");
        Path part = CACHE.resolve("ringkv-base.tar.tmp");
        Commands.run(LONG, "tar", "-C", tmp.resolve("rootfs").toString(), "-cf",
            part.toString(), ".").checked("tar");
        Files.move(part, BASE_TAR, StandardCopyOption.REPLACE_EXISTING,
            StandardCopyOption.ATOMIC_MOVE);
      } finally {
        Commands.run(LONG, "rm", "-rf", tmp.toString());
      }
    }
  }

  /**
   * Kills every process in network namespace {@code ns} (a few rounds: a dying parent may
   * leave children), then deletes it.
   */
  public static void removeNamespace(String ns) {
    Netns.remove(requireTools().ip(), ns);
  }

  /** Unmounts what lies under {@code dir} (dockerd leaves mounts that rm -rf cannot cross). */
  public static void unmountUnder(Path dir) {
    try {
      String prefix = dir.toAbsolutePath() + "/";
      List<String> points = Files.readAllLines(Paths.get("/proc/self/mounts")).stream()
          .map(l -> l.split(" ")[1]).filter(m -> m.startsWith(prefix))
          .sorted(Collections.reverseOrder()).toList();
      for (String point : points) {
        Commands.run(SHORT, "umount", "-l", point);
      }
    } catch (IOException e) {
      System.err.println("cannot read /proc/self/mounts: " + e);
    }
  }

  /**
   * Namespaces ({@code ringkv-docker-t<pid>-…}) and working directories
   * ({@code /var/tmp/ringkv-docker-<pid>-…}) of JVMs that died before cleaning up.
   */
  private static void removeLeftovers(Tools tools) {
    Netns.removeLeftovers(tools.ip(), OUR_NAMESPACE);
    for (Path p : Commands.leftoversOfDeadJvms(WORK_ROOT, OUR_WORK_DIR)) {
      unmountUnder(p);
      Commands.run(LONG, "rm", "-rf", p.toString());
    }
  }

  /**
   * Aborts the calling test, with the reason, unless this machine can run an engine in a
   * private namespace (root, ip, nsenter, dockerd, docker, socat, and a cached base tarball or
   * debootstrap).
   */
  public static void assumeUsable() {
    requireTools();
  }

  /** The tools, or an aborted (skipped) test naming what is missing. */
  static Tools requireTools() {
    Commands.assumeRoot("container tests",
        "a private network namespace with its own dockerd, see CONTAINERS.md");
    List<String> required = new ArrayList<>(List.of("ip", "nsenter", "dockerd", "docker",
        "socat"));
    if (!Files.isRegularFile(BASE_TAR)) {
      required.add("debootstrap");
    }
    Map<String, String> found = Commands.assumeTools("container tests",
        "apt-get install -y docker.io debootstrap socat; .ci/run installs them", required);
    return new Tools(found.get("ip"), found.get("nsenter"), found.get("dockerd"),
        found.get("docker"), found.get("socat"), Commands.which("debootstrap").orElse(null),
        Commands.which("iptables-restore").orElse(null),
        Commands.which("docker-compose").orElse(null));
  }
}
