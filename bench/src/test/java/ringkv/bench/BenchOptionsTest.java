package ringkv.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import ringkv.client.RingKvClient;

/*
 * Goal: the command line of ./kvs bench parses to what its usage says, with the defaults of the
 * issue (100,000 records, 100-byte values), and rejects bad input with a one-line message.
 *
 * Method: table of command lines and their parsed options or error messages.
 */
class BenchOptionsTest {
  @Test
  void defaults() {
    BenchOptions o = BenchOptions.parse();
    assertEquals(100_000, o.records());
    assertEquals(100, o.valueSize());
    assertEquals(16, o.connections());
    assertEquals(30_000, o.durationMs());
    assertEquals(5_000, o.warmupMs());
    assertEquals(Workload.A, o.workload());
    assertTrue(o.zipfian());
    assertEquals(6, o.startNodes());
    assertEquals(2, o.startShards());
    assertNull(o.target());
    assertEquals(RingKvClient.Routing.SMART, o.routing());
    assertFalse(o.ceiling());
    assertEquals(0, o.rate(), "closed loop");
    assertFalse(o.lag());
    assertEquals(20, o.lagIntervalMs());
    assertFalse(o.atHalfMax());
  }

  @Test
  void pacingAndLagOptions() {
    BenchOptions o = BenchOptions.parse("--rate", "1500", "--lag", "--lag-interval", "50ms");
    assertEquals(1500, o.rate());
    assertTrue(o.lag());
    assertEquals(50, o.lagIntervalMs());
    assertFalse(o.atHalfMax());
    BenchOptions half = BenchOptions.parse("--at-half-max", "--lag-interval=10ms");
    assertTrue(half.atHalfMax());
    assertEquals(0, half.rate(), "the rate comes from the closed-loop phase");
    assertEquals(10, half.lagIntervalMs());
  }

  @Test
  void nodeJvmFlags() {
    assertEquals(BenchOptions.NODE_JVM_FLAGS_DEFAULT, BenchOptions.parse().nodeJvmFlags());
    assertEquals(List.of("-Xmx1g", "-XX:TieredStopAtLevel=1"),
        BenchOptions.parse("--node-jvm-flags", " -Xmx1g  -XX:TieredStopAtLevel=1 ")
            .nodeJvmFlags());
    assertEquals(List.of(), BenchOptions.parse("--node-jvm-flags=").nodeJvmFlags());
  }

  @Test
  void everyOption() {
    BenchOptions o = BenchOptions.parse(Map.of(), "--records", "10000", "--value-size=200",
        "--connections", "32", "--duration", "10s", "--warmup", "500ms", "--workload", "c",
        "--distribution", "uniform", "--target", "127.0.0.1:8082", "--routing", "naive",
        "--ceiling", "--json", "out.json", "--seed", "5", "--logs", "/tmp/l",
        "--client-io-threads", "2", "--client-transport", "nio");
    assertEquals(new BenchOptions(10_000, 200, 32, 10_000, 500, Workload.C, false,
        "127.0.0.1:8082", 0, 0, RingKvClient.Routing.RANDOM_NODE, true, Path.of("out.json"),
        Path.of("node", "target", "kvs-node.jar"), Path.of("/tmp/l"), 5, 0, false,
        BenchOptions.LAG_INTERVAL_MS_DEFAULT, false, BenchOptions.NODE_JVM_FLAGS_DEFAULT, 2, false,
        null, null), o);
    assertEquals(RingKvClient.IO_THREADS_DEFAULT, BenchOptions.parse().clientIoThreads());
    assertTrue(BenchOptions.parse().clientNativeTransport());
    BenchOptions cluster = BenchOptions.parse("--start-cluster", "1,1", "--duration", "2m");
    assertEquals(1, cluster.startNodes());
    assertEquals(1, cluster.startShards());
    assertEquals(120_000, cluster.durationMs());
    assertEquals(7_000, BenchOptions.parse("--duration", "7").durationMs());
    assertNull(BenchOptions.parse("--help"));
  }

  @Test
  void badInputIsRejectedWithAMessage() {
    String[][] bad = {
        {"--records"}, {"--records", "x"}, {"--records", "0"}, {"--workload", "Z"},
        {"--distribution", "latest"}, {"--routing", "clever"}, {"--target", "nohost"},
        {"--start-cluster", "6"}, {"--start-cluster", "2,3"}, {"--frobnicate", "1"},
        {"--target", "h:1", "--start-cluster", "6,2"}, {"--duration", "0s"},
        {"--connections", "0"}, {"--rate", "0"}, {"--rate", "fast"},
        {"--rate", "100000000"}, {"--lag-interval", "0ms"}, {"--lag-interval"},
        {"--at-half-max", "--rate", "100"}, {"--client-io-threads", "0"},
        {"--client-transport", "tcp"},
    };
    for (String[] args : bad) {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> BenchOptions.parse(args), String.join(" ", args));
      assertFalse(e.getMessage().contains("\n"), e.getMessage());
    }
  }

  @Test
  void aSecuredTargetTakesTheCaFromTheOptionOrTheEnvironmentAndTheTokenFromTheEnvironment() {
    BenchOptions plain = BenchOptions.parse(Map.of(), "--target", "h:1");
    assertNull(plain.caPem());
    assertNull(plain.token());
    BenchOptions option = BenchOptions.parse(Map.of("TLS_CA", "env.pem"), "--target", "h:1",
        "--cacert", "ca.pem");
    assertEquals(Path.of("ca.pem"), option.caPem());
    assertEquals(Path.of("kvs.pem"), BenchOptions.parse(
        Map.of("KVS_CA", "kvs.pem", "TLS_CA", "tls.pem"), "--target", "h:1").caPem());
    assertEquals(Path.of("tls.pem"),
        BenchOptions.parse(Map.of("TLS_CA", "tls.pem"), "--target", "h:1").caPem());
    assertNull(BenchOptions.parse(Map.of("TLS_CA", "tls.pem")).caPem(),
        "--start-cluster starts plain nodes");
    BenchOptions secured = BenchOptions.parse(Map.of("CLIENT_TOKEN", "bench-secret-token"),
        "--target", "h:1");
    assertEquals("bench-secret-token", secured.token().value());
    assertFalse(secured.toString().contains("bench-secret-token"), secured.toString());
  }

  @Test
  void theCaWithoutATargetIsRefusedAndTheLagProbeRunsOnASecuredCluster() {
    assertThrows(IllegalArgumentException.class,
        () -> BenchOptions.parse(Map.of(), "--cacert", "ca.pem"));
    BenchOptions lag = BenchOptions.parse(Map.of("CLIENT_TOKEN", "t"), "--target", "h:1",
        "--lag");
    assertTrue(lag.lag(), "the probe sends the token too (LagProbeTest)");
    assertEquals("t", lag.token().value());
    BenchOptions half = BenchOptions.parse(Map.of(), "--target", "h:1", "--cacert", "ca.pem",
        "--at-half-max");
    assertEquals(Path.of("ca.pem"), half.caPem());
  }
}
