package ringkv.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/*
 * Goal: ./kvs bench --compare redis works end to end on this machine: it starts a Redis Cluster
 * (3 masters + 3 replicas) and a 6-node RingKV cluster, drives both with every phase without an
 * error answer, reports CPU figures and ratios, writes the JSON, and leaves no server process
 * behind.
 *
 * Method: one run with tiny durations and few keys, in process (RedisCompare.run). Skipped,
 * with the reason, where redis-server/redis-cli are not installed or the node jar is not built.
 * Nothing is asserted about speed.
 */
class RedisCompareEndToEndTest {
  private static final Path NODE_JAR = Path.of("..", "node", "target", "kvs-node.jar");

  @Test
  void comparesBothSidesAndStopsEveryProcess(@TempDir Path dir) throws Exception {
    assumeTrue(RedisCluster.onPath("redis-server").isPresent()
        && RedisCluster.onPath("redis-cli").isPresent(),
        "redis-server/redis-cli not installed (apt-get install -y redis-server redis-tools):"
            + " end-to-end comparison skipped");
    assumeTrue(Files.isRegularFile(NODE_JAR), "no " + NODE_JAR + " (mvn -B -q -pl node -am"
        + " package -DskipTests): end-to-end comparison skipped");
    assumeTrue(ProcCpu.available(), "no /proc: end-to-end comparison skipped");
    Path json = dir.resolve("compare.json");
    String[] args = {"--compare", "redis", "--keys", "300", "--connections", "12",
        "--warmup", "1s", "--warmup-max", "1s", "--duration", "1s", "--idle", "500ms",
        "--json", json.toString(),
        "--node-jar", NODE_JAR.toString(), "--logs", dir.resolve("logs").toString(),
        "--node-jvm-flags", "-Xms32m -Xmx128m -XX:+UseSerialGC -XX:TieredStopAtLevel=1"};
    CompareOptions options = CompareOptions.parse(args);
    ByteArrayOutputStream progress = new ByteArrayOutputStream();
    RedisCompare compare = new RedisCompare(options, List.of(args),
        new PrintStream(progress, true, StandardCharsets.UTF_8));
    CompareReport report = compare.run();
    report.writeJson(json);

    JsonNode root = new ObjectMapper().readTree(Files.readString(json));
    for (String side : List.of("ringkv", "redis")) {
      JsonNode s = root.path("sides").path(side);
      assertFalse(s.has("skipped"), side + ": " + s);
      assertEquals(300, s.path("load").path("ops").asLong(), side);
      for (String phase : List.of("load", "get", "put")) {
        JsonNode p = s.path(phase);
        assertEquals(0, p.path("errors").asLong(), side + " " + phase + ": " + p);
        assertTrue(p.path("ops").asLong() > 0, side + " " + phase);
        assertTrue(p.path("serverCpuNanos").asLong() >= 0, side + " " + phase);
        assertTrue(p.path("generatorCpuNanos").asLong() >= 0, side + " " + phase);
        assertEquals(6, p.path("serverCpuNanosByProcess").size(), side + " " + phase);
      }
      assertTrue(s.path("idle").path("seconds").asDouble() > 0, side);
      // A fixed warm-up of one cycle (three slices of 333 ms), settled or not.
      assertEquals(1, s.path("warmup").path("compilerCpuPercentByCycle").size(), side);
      assertEquals(1.0, s.path("warmup").path("seconds").asDouble(), 0.5, side);
    }
    assertTrue(root.path("ratios").path("get").path("throughput").isNumber());
    assertTrue(root.path("ratios").path("put").path("throughput").isNumber());
    assertTrue(report.text().contains("RingKV/Redis"));

    List<Long> servers = compare.startedServers();
    assertEquals(12, servers.size(), servers.toString());
    for (long pid : servers) {
      assertFalse(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false),
          "server process " + pid + " still running after the run");
    }
  }
}
