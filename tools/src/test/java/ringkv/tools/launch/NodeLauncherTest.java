package ringkv.tools.launch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Goal: the one launcher of local nodes starts real node processes, finds them ready by its
 * one rule, kills, restarts and stops them, and leaves no process behind, also when a node
 * cannot start. Method: two real nodes (node/target/kvs-node.jar, built by mvn package) on
 * free ports of 127.0.0.1 in one shard; every pid seen is checked dead at the end.
 */
class NodeLauncherTest {
  private static final String HOST = "127.0.0.1";
  private static final List<String> JVM_FLAGS =
      List.of("-Xmx128m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1");

  static Path nodeJar() {
    Path jar = Path.of(System.getProperty("kvs.jar", "../node/target/kvs-node.jar"));
    if (!Files.isRegularFile(jar)) {
      throw new IllegalStateException("no node jar at " + jar.toAbsolutePath()
          + ": run mvn -B -q package -DskipTests first");
    }
    return jar;
  }

  @Test
  void startsTwoNodesKillsRestartsAndStopsThemAll(@TempDir Path dir) {
    List<Long> pids = new ArrayList<>();
    NodeLauncher launcher = NodeLauncher.builder(nodeJar()).jvmFlags(JVM_FLAGS)
        .startTimeout(Duration.ofSeconds(60)).stopGrace(Duration.ofSeconds(5)).build();
    try (launcher) {
      List<Integer> ports = NodeLauncher.freePorts(HOST, 2);
      launcher.addShardCluster(HOST, ports, 1, dir.resolve("data"),
          Map.of("CLUSTER_SECRET", "node-launcher-test-secret-0123456789"), dir);
      launcher.startAll();
      pids.add(launcher.pid(0));
      pids.add(launcher.pid(1));
      OptionalLong epoch = launcher.readyEpoch(launcher.spec(0).dial());
      assertTrue(epoch.isPresent());
      assertEquals(epoch, launcher.readyEpoch(launcher.spec(1).dial()));
      assertEquals(dir.resolve("data").resolve("node-" + ports.get(0)).toString(),
          launcher.spec(0).env().get("DATA_DIR"));

      launcher.kill(1);
      assertFalse(launcher.isRunning(1));
      assertTrue(ProcessHandle.of(pids.get(1)).isEmpty()
          || !ProcessHandle.of(pids.get(1)).get().isAlive());
      assertTrue(launcher.readyEpoch(launcher.spec(1).dial()).isEmpty());

      launcher.launch(1);
      pids.add(launcher.pid(1));
      launcher.awaitReady(List.of(0, 1));
      assertEquals(epoch, launcher.readyEpoch(launcher.spec(1).dial()));

      int code = launcher.terminate(0, Duration.ofSeconds(10)); // a graceful stop: SIGTERM
      assertTrue(code == 0 || code == 143, "exit code " + code);
      assertFalse(launcher.isRunning(0));
      launcher.startAll(); // only node 0 was down
      pids.add(launcher.pid(0));
      assertTrue(Files.readString(dir.resolve("node-" + ports.get(0) + ".log"))
          .contains("CLUSTER_SECRET=(set)"), "the secret is hidden in the log's start line");
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
    for (long pid : pids) {
      assertFalse(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false),
          "pid " + pid + " outlived close()");
    }
  }

  /**
   * A wrapper that forks the node (faketime does) used to leave the node running after kill():
   * the restart then failed on the store's LOCK (ChaosLocalTest, a clock-offset restart). The
   * wrapper here is a shell that runs the node as a child and waits for it.
   */
  @Test
  void killingAWrappedNodeKillsTheNodeSoItRestartsOnItsData(@TempDir Path dir) {
    NodeLauncher launcher = NodeLauncher.builder(nodeJar()).jvmFlags(JVM_FLAGS)
        .startTimeout(Duration.ofSeconds(60)).stopGrace(Duration.ofSeconds(5)).build();
    List<Long> pids = new ArrayList<>();
    try (launcher) {
      List<Integer> ports = NodeLauncher.freePorts(HOST, 2);
      launcher.addShardCluster(HOST, ports, 1, dir.resolve("data"), Map.of(), dir);
      launcher.startAll();
      launcher.kill(1);
      List<String> forking = List.of("sh", "-c", "\"$@\"; exit $?", "sh");
      launcher.launch(1, launcher.spec(1).env(), forking, List.of());
      launcher.awaitReady(List.of(0, 1));
      ProcessHandle wrapper = ProcessHandle.of(launcher.pid(1)).orElseThrow();
      List<ProcessHandle> children = wrapper.children().toList();
      assertEquals(1, children.size(), "the wrapper runs the node as its child");
      pids.add(children.get(0).pid());

      launcher.kill(1);
      assertFalse(children.get(0).isAlive(), "the wrapped node outlived kill()");
      launcher.launch(1); // same DATA_DIR: its store's lock must be free
      launcher.awaitReady(List.of(0, 1));

      launcher.kill(1);
      launcher.launch(1, launcher.spec(1).env(), forking, List.of());
      launcher.awaitReady(List.of(0, 1));
      pids.add(ProcessHandle.of(launcher.pid(1)).orElseThrow().children().findFirst()
          .orElseThrow().pid());
    }
    for (long pid : pids) {
      assertFalse(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false),
          "pid " + pid + " outlived close()");
    }
  }

  @Test
  void aNodeThatExitsFailsTheWaitWithItsLog(@TempDir Path dir) {
    try (NodeLauncher launcher = NodeLauncher.builder(nodeJar()).jvmFlags(JVM_FLAGS)
        .startTimeout(Duration.ofSeconds(60)).stopGrace(Duration.ZERO).build()) {
      // SHARD_COUNT=5 for 2 nodes: not enough nodes for a shard each, the node refuses to start.
      launcher.addShardCluster(HOST, NodeLauncher.freePorts(HOST, 2), 5, null, Map.of(), dir);
      LaunchException e = assertThrows(LaunchException.class, launcher::startAll);
      assertTrue(e.getMessage().contains("exited with code"), e.getMessage());
      assertTrue(e.getMessage().contains("--- tail of"), e.getMessage());
    }
  }
}
