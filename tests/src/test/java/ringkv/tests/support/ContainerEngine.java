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
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
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
import org.awaitility.Awaitility;
import org.awaitility.core.ConditionTimeoutException;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.opentest4j.TestAbortedException;

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
  private static final List<String> SEARCH_PATH =
      List.of("/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin");

  private static ContainerEngine shared;
  private static Throwable sharedFailure;

  static {
    Runtime.getRuntime().addShutdownHook(new Thread(ContainerEngine::closeShared,
        "ringkv-container-engine-reaper"));
  }

  /** Absolute paths of the tools; the optional ones are null when missing. */
  record Tools(String ip, String nsenter, String dockerd, String docker, String socat,
      String debootstrap, String iptablesRestore, String compose) {}

  /** Result of a command: exit code (-1: did not finish) and its merged output. */
  public record Result(int code, String output) {
    public boolean ok() {
      return code == 0;
    }
  }

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
    Path jar = requireJar();
    Path dockerfile = jar.getParent().getParent().getParent().resolve("Dockerfile");
    if (!Files.isRegularFile(dockerfile)) {
      throw new IllegalStateException("no Dockerfile at " + dockerfile);
    }
    this.logDir = Paths.get(System.getProperty("kvs.logs", "target/node-logs"),
        "container-engine");
    removeLeftovers(tools);
    long pid = ProcessHandle.current().pid();
    this.namespace = NAMESPACE_PREFIX + pid + "-"
        + Integer.toHexString(ThreadLocalRandom.current().nextInt(0x100000, 0xffffff));
    try {
      Files.createDirectories(logDir);
      this.workDir = Files.createTempDirectory(WORK_ROOT, WORK_DIR_PREFIX + pid + "-");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    try {
      long startNs = System.nanoTime();
      check(run(SHORT, null, null, tools.ip(), "netns", "add", namespace), "ip netns add");
      check(inNamespace(null, tools.ip(), "link", "set", "lo", "up"), "lo up");
      if (!startDaemon("overlay2")) {
        System.out.println("[containers] dockerd cannot use overlay2 here (see "
            + logDir.resolve("dockerd-overlay2.log") + "); falling back to vfs");
        if (!startDaemon("vfs")) {
          throw new AssertionError("dockerd exited with overlay2 and with vfs; see "
              + logDir.resolve("dockerd-vfs.log"));
        }
      }
      ensureBaseTar(tools);
      check(run(LONG, BASE_TAR, null, tools.docker(), "-H", host(), "import", "-",
          BASE_IMAGE), "docker import");
      buildImage(dockerfile, jar);
      this.partitionProblem = probePartitions();
      System.out.printf("[containers] engine in namespace %s (storage %s) with image %s ready"
          + " in %d ms%n", namespace, storageDriver, IMAGE,
          TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startNs));
    } catch (IOException e) {
      close();
      throw new UncheckedIOException(e);
    } catch (RuntimeException | Error e) {
      close();
      throw e;
    }
  }

  /** The network namespace the engine and every container with host networking live in. */
  public String namespace() {
    return namespace;
  }

  /** {@code DOCKER_HOST} of this engine. */
  public String host() {
    return "unix://" + workDir.resolve("docker.sock");
  }

  public String storageDriver() {
    return storageDriver;
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
    return run(timeout, null, null, command.toArray(String[]::new));
  }

  /**
   * A command in the machine's namespace with {@code DOCKER_HOST} set to this engine, plus
   * {@code env} (e.g. docker-compose).
   */
  public Result withEngine(Duration timeout, Map<String, String> env, String... command) {
    Map<String, String> all = new LinkedHashMap<>(env);
    all.put("DOCKER_HOST", host());
    return run(timeout, null, all, command);
  }

  /** A command inside the namespace (nsenter), e.g. iptables; stdin from a file or nothing. */
  public Result inNamespace(Path stdin, String... args) {
    List<String> command = new ArrayList<>(List.of(tools.nsenter(), "--net=" + nsPath()));
    command.addAll(List.of(args));
    return run(SHORT, stdin, null, command.toArray(String[]::new));
  }

  /** Loads iptables rules ({@code iptables-restore --noflush} format) into the namespace. */
  public Result restoreRules(String rules) {
    if (tools.iptablesRestore() == null) {
      return new Result(-1, "no iptables-restore on the PATH");
    }
    Path file = null;
    try {
      file = Files.createTempFile(workDir, "rules", ".txt");
      Files.writeString(file, rules, StandardCharsets.UTF_8);
      return inNamespace(file, tools.iptablesRestore(), "--noflush");
    } catch (IOException e) {
      return new Result(-1, "cannot write rules: " + e);
    } finally {
      deleteQuietly(file);
    }
  }

  /** Removes every iptables rule of the namespace's OUTPUT chains (filter and mangle). */
  public void flushRules() {
    if (partitionProblem == null) {
      restoreRules("*mangle\n-F OUTPUT\nCOMMIT\n*filter\n-F OUTPUT\nCOMMIT\n");
    }
  }

  /**
   * Starts {@code socat} inside the namespace relaying the Unix socket {@code socket} to the TCP
   * {@code address}, and waits until the socket exists. The caller destroys the process.
   */
  public Process bridge(Path socket, String address, Path log) {
    return startBridge(tools, nsPath(), socket, address, log);
  }

  /**
   * The same for a namespace this engine does not own ({@code /var/run/netns/<name>}); aborts
   * the calling test when the tools are missing.
   */
  public static Process bridge(String namespace, Path socket, String address, Path log) {
    return startBridge(requireTools(), "/var/run/netns/" + namespace, socket, address, log);
  }

  private static Process startBridge(Tools tools, String nsPath, Path socket, String address,
      Path log) {
    try {
      Process p = new ProcessBuilder(tools.nsenter(), "--net=" + nsPath, tools.socat(),
          "UNIX-LISTEN:" + socket + ",fork,unlink-early,mode=600",
          "TCP:" + address + ",connect-timeout=2")
          .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
          .start();
      Awaitility.await("bridge " + socket).atMost(Duration.ofSeconds(10))
          .pollInterval(Duration.ofMillis(20))
          .failFast("bridge to " + address + " exited", () -> !p.isAlive())
          .until(() -> Files.exists(socket));
      return p;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start socat for " + address, e);
    }
  }

  /**
   * Leaves the engine as it started: removes every container (and its anonymous volumes),
   * every volume and the iptables rules of the namespace.
   */
  public void reset() {
    List<String> containers = lines(docker(SHORT, "ps", "-aq"));
    if (!containers.isEmpty()) {
      List<String> rm = new ArrayList<>(List.of("rm", "-f", "-v"));
      rm.addAll(containers);
      check(docker(SHORT.multipliedBy(2), rm.toArray(String[]::new)), "docker rm");
    }
    List<String> volumes = lines(docker(SHORT, "volume", "ls", "-q"));
    if (!volumes.isEmpty()) {
      List<String> rm = new ArrayList<>(List.of("volume", "rm", "-f"));
      rm.addAll(volumes);
      check(docker(SHORT, rm.toArray(String[]::new)), "docker volume rm");
    }
    flushRules();
  }

  private static List<String> lines(Result r) {
    check(r, "docker");
    return r.output().lines().map(String::strip).filter(s -> !s.isEmpty()).toList();
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
    removeNamespace(tools, namespace);
    unmountUnder(workDir);
    run(LONG, null, null, "rm", "-rf", workDir.toString());
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
      run(SHORT, null, null, "rm", "-rf", workDir.resolve("exec").toString(),
          workDir.resolve("root-" + driver).toString());
      return false;
    }
    Result info = docker(SHORT, "info", "--format", "{{.Driver}}");
    check(info, "docker info");
    storageDriver = info.output().strip();
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
    check(docker(LONG, "build", "-q", "--build-arg", "BASE_IMAGE=" + BASE_IMAGE, "-t", IMAGE,
        context.toString()), "docker build");
  }

  /** Loads rules that match nothing with every match the partitions use, then removes them. */
  private String probePartitions() {
    if (tools.iptablesRestore() == null) {
      return "no iptables-restore on the PATH (apt-get install -y iptables)";
    }
    Result probe = restoreRules("*mangle\n-A OUTPUT -m owner --gid-owner 42399 -m conntrack"
        + " --ctstate NEW -j CONNMARK --set-mark 4095\nCOMMIT\n*filter\n-A OUTPUT -m connmark"
        + " --mark 4094 -m conntrack --ctorigdst 127.0.0.254/32 -j DROP\nCOMMIT\n");
    if (!probe.ok()) {
      return "iptables with the owner, conntrack and connmark matches does not work in a"
          + " network namespace here (" + probe.output().strip() + ")";
    }
    check(restoreRules("*mangle\n-F OUTPUT\nCOMMIT\n*filter\n-F OUTPUT\nCOMMIT\n"),
        "iptables flush");
    return null;
  }

  private String nsPath() {
    return "/var/run/netns/" + namespace;
  }

  static void check(Result r, String what) {
    if (r.code() != 0) {
      throw new AssertionError(what + " failed (" + r.code() + "): " + r.output());
    }
  }

  private static void deleteQuietly(Path file) {
    if (file == null) {
      return;
    }
    try {
      Files.deleteIfExists(file);
    } catch (IOException e) {
      System.err.println("cannot delete " + file + ": " + e);
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
      System.out.println("[containers] building the base image's root file system with"
          + " debootstrap into " + BASE_TAR + " (once, about a minute)");
      Path tmp = Files.createTempDirectory(CACHE, "rootfs.");
      try {
        String mirror = Files.readAllLines(Paths.get("/etc/apt/sources.list.d/debian.sources"))
            .stream().filter(l -> l.startsWith("URIs:")).map(l -> l.substring(5).strip())
            .findFirst().orElse("http://deb.debian.org/debian");
        check(run(LONG, null, null, tools.debootstrap(), "--variant=minbase",
            "--include=openjdk-17-jre-headless,ca-certificates", "bookworm",
            tmp.resolve("rootfs").toString(), mirror), "debootstrap");
        Path part = CACHE.resolve("ringkv-base.tar.tmp");
        check(run(LONG, null, null, "tar", "-C", tmp.resolve("rootfs").toString(), "-cf",
            part.toString(), "."), "tar");
        Files.move(part, BASE_TAR, StandardCopyOption.REPLACE_EXISTING,
            StandardCopyOption.ATOMIC_MOVE);
      } finally {
        run(LONG, null, null, "rm", "-rf", tmp.toString());
      }
    }
  }

  /** Runs a command (stdin from a file or nothing, extra environment) with a deadline. */
  public static Result run(Duration timeout, Path stdin, Map<String, String> env,
      String... command) {
    Path out = null;
    try {
      out = Files.createTempFile("ringkv-docker-cmd", ".out");
      ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true)
          .redirectOutput(out.toFile());
      pb.redirectInput(stdin == null ? ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))
          : ProcessBuilder.Redirect.from(stdin.toFile()));
      if (env != null) {
        pb.environment().putAll(env);
      }
      Process p = pb.start();
      if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
        p.descendants().forEach(ProcessHandle::destroyForcibly);
        p.destroyForcibly();
        awaitExit(p.toHandle());
        return new Result(-1, String.join(" ", command) + " took over " + timeout + ":\n"
            + Files.readString(out, StandardCharsets.UTF_8));
      }
      return new Result(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8));
    } catch (IOException e) {
      return new Result(-1, String.join(" ", command) + ": " + e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return new Result(-1, String.join(" ", command) + ": interrupted");
    } finally {
      deleteQuietly(out);
    }
  }

  /**
   * Kills every process in network namespace {@code ns} (a few rounds: a dying parent may
   * leave children), then deletes it.
   */
  public static void removeNamespace(String ns) {
    removeNamespace(requireTools(), ns);
  }

  private static void removeNamespace(Tools tools, String ns) {
    for (int round = 0; round < 5; round++) {
      List<ProcessHandle> alive = run(SHORT, null, null, tools.ip(), "netns", "pids", ns)
          .output().lines().map(String::strip).filter(s -> s.matches("\\d+"))
          .map(Long::parseLong).map(ProcessHandle::of).flatMap(Optional::stream).toList();
      if (alive.isEmpty()) {
        break;
      }
      alive.forEach(ProcessHandle::destroyForcibly);
      alive.forEach(ContainerEngine::awaitExit);
    }
    Result del = run(SHORT, null, null, tools.ip(), "netns", "del", ns);
    if (del.code() != 0 && !del.output().contains("No such file")) {
      System.err.println("cannot delete network namespace " + ns + ": " + del.output());
    }
  }

  /** Whether network namespace {@code ns} exists. */
  public static boolean namespaceExists(String ns) {
    return Files.exists(Paths.get("/var/run/netns", ns));
  }

  /** Unmounts what lies under {@code dir} (dockerd leaves mounts that rm -rf cannot cross). */
  public static void unmountUnder(Path dir) {
    try {
      String prefix = dir.toAbsolutePath() + "/";
      List<String> points = Files.readAllLines(Paths.get("/proc/self/mounts")).stream()
          .map(l -> l.split(" ")[1]).filter(m -> m.startsWith(prefix))
          .sorted(Collections.reverseOrder()).toList();
      for (String point : points) {
        run(SHORT, null, null, "umount", "-l", point);
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

  /**
   * Namespaces ({@code ringkv-docker-t<pid>-…}) and working directories
   * ({@code /var/tmp/ringkv-docker-<pid>-…}) of JVMs that died before cleaning up.
   */
  private static void removeLeftovers(Tools tools) {
    for (String line : run(SHORT, null, null, tools.ip(), "netns", "list").output().lines()
        .toList()) {
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
          run(LONG, null, null, "rm", "-rf", p.toString());
        }
      }
    } catch (IOException e) {
      System.err.println("cannot list " + WORK_ROOT + ": " + e);
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
    if (Files.isRegularFile(BASE_TAR)) {
      missing.remove("debootstrap");
    }
    Assumptions.assumeTrue(missing.isEmpty(), "container tests need " + missing + " on the PATH"
        + " (apt-get install -y docker.io debootstrap socat; .ci/run installs them)");
    return new Tools(found.get("ip"), found.get("nsenter"), found.get("dockerd"),
        found.get("docker"), found.get("socat"), found.get("debootstrap"),
        which("iptables-restore").orElse(null), which("docker-compose").orElse(null));
  }

  static Optional<String> which(String tool) {
    List<String> dirs = new ArrayList<>();
    String path = System.getenv("PATH");
    if (path != null) {
      dirs.addAll(List.of(path.split(":")));
    }
    dirs.addAll(SEARCH_PATH);
    return dirs.stream().filter(d -> !d.isEmpty()).map(d -> Paths.get(d, tool))
        .filter(Files::isExecutable).map(Path::toString).findFirst();
  }

  /** The node jar {@code mvn package} built (system property {@code kvs.jar}). */
  public static Path requireJar() {
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
