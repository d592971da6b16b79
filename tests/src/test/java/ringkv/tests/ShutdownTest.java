package ringkv.tests;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import ringkv.tests.support.Http;
import ringkv.tests.support.Http.Reply;
import ringkv.tests.support.LocalCluster;

/*
 * Goal: SIGTERM stops a node gracefully (issue 6 item 6): it exits promptly, logs its shutdown
 * with nothing left unacknowledged in its replication queue, and the writes it acknowledged are
 * on its peer; restarted, it serves again.
 *
 * Method: 2 real nodes in one shard; writes through node 0, SIGTERM to node 0 right after, then
 * its exit code, its log and its peer's data are checked.
 *
 * Also: a node started with EXIT_WITH_PARENT=1 (as every test harness starts nodes) stops when
 * the process that started it dies without stopping it — here a shell killed with SIGKILL, as a
 * test JVM killed mid-run would be.
 */
class ShutdownTest {

  @Test
  void sigtermDrainsAndExits() throws Exception {
    try (LocalCluster cluster = LocalCluster.builder("ShutdownTest").nodes(2).shards(1).start()) {
      for (int i = 0; i < 50; i++) {
        Reply r = Http.put(cluster.node(0), "/key-value-store/s" + i, Http.obj("value", i));
        assertEquals(201, r.status(), r.toString());
      }
      long start = System.nanoTime();
      int exit = cluster.terminate(0);
      long ms = (System.nanoTime() - start) / 1_000_000;
      assertEquals(143, exit, "killed by SIGTERM after a clean shutdown (128 + 15)");
      assertTrue(ms < 8_000, "took " + ms + " ms");
      String log = Files.readString(cluster.log(0));
      assertTrue(log.contains("event=shutdown") && log.contains("unacknowledged-writes=0"),
          cluster.logTail(0));
      for (int i = 0; i < 50; i++) {
        Reply r = Http.get(cluster.node(1), "/key-value-store/s" + i);
        assertEquals(200, r.status(), r.toString());
        assertEquals(i, r.field("value").asInt());
      }
      cluster.start(0);
      await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> assertEquals(200,
          Http.get(cluster.node(0), "/key-value-store/s7").status()));
    }
  }

  @Test
  void nodeStopsWhenItsParentDies() throws Exception {
    int port;
    try (ServerSocket probe = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      port = probe.getLocalPort();
    }
    String address = "127.0.0.1:" + port;
    Path log = Paths.get("target/node-logs/ShutdownParentTest/node-" + port + ".log");
    Files.createDirectories(log.getParent());
    String java = Paths.get(System.getProperty("java.home"), "bin", "java").toString();
    ProcessBuilder parent = new ProcessBuilder("sh", "-c",
        "\"$0\" -Xmx128m -XX:+UseSerialGC -jar \"$1\" >\"$2\" 2>&1 & echo $!; wait",
        java, System.getProperty("kvs.jar"), log.toString());
    parent.environment().putAll(Map.of("SOCKET_ADDRESS", address, "VIEW", address,
        "EXIT_WITH_PARENT", "1"));
    parent.redirectErrorStream(true);
    Process shell = parent.start();
    ProcessHandle node = null;
    try {
      String pid = new BufferedReader(new InputStreamReader(shell.getInputStream(),
          StandardCharsets.US_ASCII)).readLine();
      node = ProcessHandle.of(Long.parseLong(pid.trim())).orElseThrow();
      assertEquals(shell.pid(), node.parent().map(ProcessHandle::pid).orElse(-1L));
      await("node serving").atMost(Duration.ofSeconds(20)).ignoreExceptions()
          .until(() -> Http.get(address, "/health/ready").status() == 200);
      shell.destroyForcibly(); // SIGKILL: the shell cannot stop its child
      shell.waitFor();
      ProcessHandle n = node;
      await("node exits after its parent").atMost(Duration.ofSeconds(20))
          .until(() -> !n.isAlive());
      String text = Files.readString(log);
      assertTrue(text.contains("event=parent-exited"), text);
      assertTrue(text.contains("event=shutdown"), "stopped gracefully: " + text);
    } finally {
      shell.destroyForcibly();
      if (node != null && node.isAlive()) {
        node.destroyForcibly();
        node.onExit().get();
      }
    }
  }
}
