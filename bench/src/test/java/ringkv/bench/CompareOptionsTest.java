package ringkv.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/*
 * Goal: ./kvs bench --compare redis takes the issue's workload by default (6 servers = 3 x 2,
 * 3,000 keys of 100 bytes, 48 connections, 25 s warm-up), accepts the options ./kvs bench
 * passes first (--node-jar, --logs), and refuses bad command lines with one-line messages.
 *
 * Method: parse command lines and compare the records.
 */
class CompareOptionsTest {
  @Test
  void defaultsAreTheIssuesWorkload() {
    CompareOptions o = CompareOptions.parse("--compare", "redis");
    assertEquals(new CompareOptions(3000, 100, 48, 3, 2, new JitWarmup(30_000, 300_000, 3),
        20_000, 5_000, true, true, 1, null, Path.of("node", "target", "kvs-node.jar"),
        Path.of("logs", "bench"), CompareOptions.NODE_JVM_FLAGS_DEFAULT, null, null, o.seed()),
        o, "the seed is random");
    assertEquals(6, o.servers());
    assertFalse(o.nodeJvmFlags().contains("-XX:TieredStopAtLevel=1"), "both JIT tiers");
    assertEquals("6 servers = 3 shards x 2 replicas", o.shape());
  }

  @Test
  void everyOptionIsRead() {
    CompareOptions o = CompareOptions.parse("--node-jar", "n.jar", "--logs", "L", "--compare",
        "redis", "--keys=500", "--value-size", "10", "--connections", "12", "--shards", "4",
        "--replicas", "3", "--warmup", "500ms", "--warmup-max", "1m", "--jit-settled", "1.5",
        "--duration", "2s", "--idle", "0",
        "--only", "RingKV", "--threads", "2", "--json", "out.json", "--node-jvm-flags",
        " -Xmx1g  -XX:+UseSerialGC ", "--redis-server", "/x/redis-server", "--redis-cli",
        "/x/redis-cli", "--seed", "7");
    assertEquals(new CompareOptions(500, 10, 12, 4, 3, new JitWarmup(500, 60_000, 1.5), 2000,
        0, true, false, 2,
        Path.of("out.json"), Path.of("n.jar"), Path.of("L"), List.of("-Xmx1g",
        "-XX:+UseSerialGC"), Path.of("/x/redis-server"), Path.of("/x/redis-cli"), 7), o);
    assertFalse(CompareOptions.parse("--compare", "redis", "--only", "redis").ringKv());
  }

  @Test
  void aWarmupLongerThanTheDefaultBoundRaisesTheBoundOrIsFixed() {
    assertEquals(new JitWarmup(600_000, 600_000, 3),
        CompareOptions.parse("--compare", "redis", "--warmup", "10m").warmup());
    assertEquals(new JitWarmup(20_000, 20_000, 3), CompareOptions.parse("--compare", "redis",
        "--warmup", "20s", "--warmup-max", "20s").warmup());
    assertThrows(IllegalArgumentException.class, () -> CompareOptions.parse("--compare",
        "redis", "--warmup", "20s", "--warmup-max", "10s"));
    assertThrows(IllegalArgumentException.class, () -> CompareOptions.parse("--compare",
        "redis", "--jit-settled", "101"));
  }

  @Test
  void helpIsNull() {
    assertNull(CompareOptions.parse("--compare", "redis", "--help"));
    assertNull(CompareOptions.parse("-h"));
  }

  @Test
  void theComparisonIsRecognisedAmongBenchOptions() {
    assertTrue(CompareOptions.asked("--logs", "x", "--compare", "redis"));
    assertTrue(CompareOptions.asked("--compare=redis"));
    assertFalse(CompareOptions.asked("--workload", "C", "--ceiling"));
  }

  @Test
  void badCommandLinesAreRefusedWithAMessage() {
    String[][] bad = {
        {"--keys", "10"},
        {"--compare", "memcached"},
        {"--compare", "redis", "--workload", "C"},
        {"--compare", "redis", "--keys"},
        {"--compare", "redis", "--keys", "-3"},
        {"--compare", "redis", "--keys", "0"},
        {"--compare", "redis", "--shards", "2"},
        {"--compare", "redis", "--replicas", "1"},
        {"--compare", "redis", "--connections", "5"},
        {"--compare", "redis", "--duration", "0"},
        {"--compare", "redis", "--only", "both"},
        {"--compare", "redis", "--threads", "0"},
        {"--compare", "redis", "--warmup", "soon"},
    };
    for (String[] args : bad) {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> CompareOptions.parse(args), String.join(" ", args));
      assertFalse(e.getMessage().contains("\n"), e.getMessage());
    }
  }
}
