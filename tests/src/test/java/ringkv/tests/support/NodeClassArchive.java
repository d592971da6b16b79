package ringkv.tests.support;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.awaitility.Awaitility;
import ringkv.tools.launch.NodeLauncher;

/**
 * A class-data-sharing archive (AppCDS, JDK 17's dynamic archive) of the node jar, so that the
 * node JVMs the tests start load their classes from a mapped file instead of parsing and
 * verifying them from the 50 MB jar: a node's start-up CPU falls from about 2.1-2.4 s to about
 * 1.0 s (measured on the 2-core machine), and the tests start some 180 nodes per run, often six
 * at once.
 *
 * <p>Made once per jar (its size and modification time, and the JDK, name the file) by a
 * single-node run with {@code -XX:ArchiveClassesAtExit}: started, awaited until
 * {@code GET /health/ready} answers 200, stopped with SIGTERM (the JVM writes the archive as it
 * exits). The archive lies in {@code target/node-class-archive/}, next to the node logs.
 *
 * <p>Only an optimisation: the node behaves the same with or without it. If the archive cannot
 * be made, {@link #flags()} is empty and the nodes start as before (the reason is printed once);
 * {@code -Dkvs.node.cds=false} turns it off. The JVM validates the archive against the jar's
 * path, size and time and ignores it silently when they differ (its cds log is off), so a
 * stale archive costs nothing but the speed. Only for nodes started from {@code kvs.jar} itself
 * (LocalCluster): a copy of the jar elsewhere does not match.
 */
public final class NodeClassArchive {
  static final String ENABLED_PROPERTY = "kvs.node.cds";
  private static final Duration READY = Duration.ofSeconds(60);
  private static final Duration EXIT = Duration.ofSeconds(30);

  private static List<String> flags;

  private NodeClassArchive() {}

  /**
   * JVM flags that make a node started from {@code kvs.jar} use the archive (made on first
   * call), or none.
   */
  public static synchronized List<String> flags() {
    if (flags == null) {
      flags = make();
    }
    return flags;
  }

  private static List<String> make() {
    if (!Boolean.parseBoolean(System.getProperty(ENABLED_PROPERTY, "true"))) {
      return List.of();
    }
    Path jar = Commands.requireJar();
    Path dir = Paths.get(System.getProperty("kvs.logs", "target/node-logs")).toAbsolutePath()
        .resolveSibling("node-class-archive");
    try {
      Path archive = dir.resolve(String.format("kvs-node-%d-%d-java%s.jsa", Files.size(jar),
          Files.getLastModifiedTime(jar).toMillis(), Runtime.version().feature() + "."
          + Runtime.version().update()));
      if (!Files.isRegularFile(archive)) {
        Files.createDirectories(dir);
        dump(jar, archive, dir.resolve("dump.log"));
      }
      // The archive is world-readable (0644), like the jar, for nodes run under other uids.
      return List.of("-XX:SharedArchiveFile=" + archive, "-Xlog:cds=off",
          "-Xlog:cds+dynamic=off");
    } catch (IOException | RuntimeException | AssertionError e) {
      System.out.println("[cds] no class-data archive for the nodes, they start without one: "
          + e);
      return List.of();
    }
  }

  /** Runs one node with {@code -XX:ArchiveClassesAtExit} and moves its archive into place. */
  private static void dump(Path jar, Path archive, Path log) throws IOException {
    Path part = archive.resolveSibling(archive.getFileName() + "." + ProcessHandle.current()
        .pid() + ".part");
    String address = LocalCluster.HOST + ":" + NodeLauncher.freePorts(LocalCluster.HOST, 1)
        .get(0);
    List<String> command = new ArrayList<>(List.of(
        Paths.get(System.getProperty("java.home"), "bin", "java").toString()));
    command.addAll(LocalCluster.JVM_FLAGS);
    command.addAll(List.of("-XX:ArchiveClassesAtExit=" + part, "-jar", jar.toString()));
    ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true)
        .redirectOutput(log.toFile());
    pb.environment().keySet().removeIf(k -> k.equals("JAVA_TOOL_OPTIONS")
        || k.equals("DATA_DIR") || k.equals("REPL_FACTOR") || k.equals("ADDRESS"));
    pb.environment().put("SOCKET_ADDRESS", address);
    pb.environment().put("VIEW", address);
    pb.environment().put("SHARD_COUNT", "1");
    pb.environment().put("EXIT_WITH_PARENT", "1");
    long startNs = System.nanoTime();
    Process node = pb.start();
    try {
      Awaitility.await("archive run of " + address + " ready").atMost(READY)
          .pollInterval(Duration.ofMillis(100)).ignoreExceptions()
          .until(() -> !node.isAlive() || Http.get(address, "/health/ready").status() == 200);
      if (!node.isAlive()) {
        throw new IllegalStateException("the archive run exited: " + Files.readString(log,
            StandardCharsets.UTF_8));
      }
      node.destroy(); // SIGTERM: the JVM writes the archive on its way out
      if (!node.waitFor(EXIT.toMillis(), TimeUnit.MILLISECONDS)) {
        throw new IllegalStateException("the archive run did not exit within " + EXIT);
      }
      if (!Files.isRegularFile(part) || Files.size(part) == 0) {
        throw new IllegalStateException("no archive written (exit " + node.exitValue()
            + "), see " + log);
      }
      Files.move(part, archive, StandardCopyOption.ATOMIC_MOVE,
          StandardCopyOption.REPLACE_EXISTING);
      System.out.printf("[cds] class-data archive of the node jar made in %d ms: %s%n",
          TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startNs), archive);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    } finally {
      node.destroyForcibly();
      Commands.awaitExit(node.toHandle(), EXIT);
      Commands.deleteQuietly(part);
    }
  }
}
