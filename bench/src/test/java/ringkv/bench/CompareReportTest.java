package ringkv.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/*
 * Goal: the comparison's report says what was measured, side by side and exactly: throughput,
 * percentiles, server CPU per operation (CPU nanoseconds / operations), the load generator's
 * own, ratios RingKV/Redis (none where a side is missing), whether the generator stayed below
 * the servers, and the same figures in the JSON.
 *
 * Method: reports built from hand-made phases with round figures; the text and JSON checked
 * field by field.
 */
class CompareReportTest {
  private static final CompareOptions OPTIONS = CompareOptions.parse("--compare", "redis",
      "--seed", "1");

  /** {@code ops} in 10 s; CPU given per operation in µs. */
  private static CompareReport.Phase phase(String name, long ops, double p50Micros,
      double serverMicrosPerOp, double generatorMicrosPerOp) {
    return new CompareReport.Phase(name, ops, 0, Map.of(), 10.0, p50Micros, 4 * p50Micros,
        8 * p50Micros, Math.round(serverMicrosPerOp * 1000 * ops),
        Math.round(generatorMicrosPerOp * 1000 * ops), Map.of("127.0.0.1:1", 5_000_000_000L),
        Map.of("vert.x-eventloo", 3_000_000_000L, "C2 CompilerThre", 1_000_000_000L),
        "0.50 0.40 0.30", "1.20 0.60 0.40", 3 * ops,
        Math.round(serverMicrosPerOp * 1000 * ops) / 4);
  }

  private static CompareReport.Side side(String name, double scale) {
    return new CompareReport.Side(name, name + " cluster", null,
        phase("load", 3000, 100, 50, 5), new JitWarmup.Outcome(45, true, List.of(30.0, 8.0, 2.5)),
        phase("get", (long) (500_000 * scale), 800 / scale, 15 / scale, 5),
        phase("put", (long) (400_000 * scale), 1000 / scale, 30 / scale, 6),
        new CompareReport.Idle(5.0, 750_000_000L, Map.of("vert.x-eventloo", 700_000_000L),
            "0.1 0.1 0.1"));
  }

  private final CompareReport both = new CompareReport(OPTIONS, List.of("--compare", "redis"),
      side("ringkv", 0.25), side("redis", 1));

  @Test
  void perOperationFiguresAreCpuOverOperations() {
    CompareReport.Phase p = phase("get", 100_000, 500, 104, 8);
    assertEquals(10_000, p.throughput(), 1e-9);
    assertEquals(104, p.serverCpuMicrosPerOp(), 1e-6);
    assertEquals(8, p.generatorCpuMicrosPerOp(), 1e-6);
    assertEquals(1.04, p.serverCores(), 1e-6);
    assertTrue(Double.isNaN(phase("get", 0, 1, 1, 1).serverCpuMicrosPerOp()));
    assertTrue(Double.isNaN(new CompareReport.Phase("get", 5, 0, Map.of(), 1, 1, 1, 1, -1, -1,
        Map.of(), Map.of(), "", "", -1, -1).serverCpuMicrosPerOp()));
    assertEquals(25.0, p.serverKernelPercent(), 1e-6);
    assertEquals(3.0, p.serverWakeupsPerOp(), 1e-9);
  }

  @Test
  void ratiosAndNumbersFormat() {
    assertEquals(0.25, CompareReport.ratio(1, 4), 1e-12);
    assertTrue(Double.isNaN(CompareReport.ratio(1, 0)));
    assertTrue(Double.isNaN(CompareReport.ratio(Double.NaN, 2)));
    assertEquals("0.29", CompareReport.ratioText(16_536.0 / 56_940));
    assertEquals("6.93", CompareReport.ratioText(104.0 / 15));
    assertEquals("-", CompareReport.ratioText(Double.NaN));
    assertEquals("16,536", CompareReport.number(16_536.4, 0));
    assertEquals("-", CompareReport.number(Double.NaN, 1));
  }

  @Test
  void theTextPutsBothSidesAndTheRatioOnOneRow() {
    String text = both.text();
    assertTrue(text.contains("6 servers = 3 shards x 2 replicas each side; 3,000 keys"), text);
    for (String row : List.of(
        "GET throughput \\(ops/s\\) +12,500 +50,000 +0\\.25",
        "GET server CPU per op \\(µs\\) +60\\.0 +15\\.0 +4\\.00",
        "PUT/SET latency p50 \\(ms\\) +4\\.000 +1\\.000 +4\\.00",
        "GET load gen\\. CPU per op \\(µs\\) +5\\.0 +5\\.0 +1\\.00",
        "GET load average +0\\.50 → 1\\.20 +0\\.50 → 1\\.20",
        "idle server CPU \\(ms per s\\) +150\\.0 +150\\.0 +1\\.00",
        "GET server CPU in kernel \\(%\\) +25 +25 +1\\.00",
        "GET server wake-ups per op +3\\.00 +3\\.00 +1\\.00")) {
      assertTrue(text.matches("(?s).*" + row + "\n.*"), row + " in\n" + text);
    }
    assertTrue(text.contains("vert.x-eventloo"), text);
    assertTrue(text.contains("warm-up 30 s to 300 s until the JIT compilers use at most 3.0%"),
        text);
    assertTrue(text.contains("  warm-up: 45 s, settled; JIT compilers' share of the servers'"
        + " CPU per cycle (%): [30.0, 8.0, 2.5]"), text);
  }

  @Test
  void theGeneratorCheckComparesItWithTheServersInEveryPhase() {
    assertTrue(both.generatorCheck().startsWith("load generator below the servers'"),
        both.generatorCheck());
    // Redis GET: 15 µs of servers, 5 µs of generator: 33%.
    assertTrue(both.generatorCheck().contains("Redis Cluster GET 5.0 µs/op (33% of the"
        + " servers')"), both.generatorCheck());
    CompareReport.Side cheap = new CompareReport.Side("redis", "r", null, null, null,
        phase("get", 100, 1, 2, 3), phase("put", 100, 1, 2, 1), null);
    CompareReport r = new CompareReport(OPTIONS, List.of(), side("ringkv", 1), cheap);
    assertTrue(r.generatorCheck().startsWith("WARNING"), r.generatorCheck());
  }

  @Test
  void aSkippedSideLeavesNoRatios(@TempDir Path dir) throws Exception {
    CompareReport r = new CompareReport(OPTIONS, List.of(), side("ringkv", 1),
        CompareReport.Side.skipped("redis", "redis-server is not installed"));
    assertTrue(r.text().contains("Redis Cluster: skipped: redis-server is not installed"));
    assertTrue(r.text().matches("(?s).*GET throughput \\(ops/s\\) +50,000 +- +-\n.*"),
        r.text());
    Path file = dir.resolve("sub/r.json");
    r.writeJson(file);
    JsonNode json = new ObjectMapper().readTree(Files.readString(file));
    assertTrue(json.path("ratios").path("get").path("throughput").isNull());
    assertEquals("redis-server is not installed",
        json.path("sides").path("redis").path("skipped").asText());
  }

  @Test
  void theJsonHoldsEveryFigureAndTheRatios() {
    JsonNode json = both.json();
    JsonNode get = json.path("sides").path("ringkv").path("get");
    assertEquals(125_000, get.path("ops").asLong());
    assertEquals(12_500, get.path("throughput").asDouble(), 1e-9);
    assertEquals(60, get.path("serverCpuMicrosPerOp").asDouble(), 1e-6);
    assertEquals(5, get.path("generatorCpuMicrosPerOp").asDouble(), 1e-6);
    assertEquals(375_000, get.path("serverTimeslices").asLong());
    assertEquals(3.0, get.path("serverWakeupsPerOp").asDouble(), 1e-9);
    assertEquals(3_200, get.path("p50Micros").asDouble(), 1e-9);
    assertEquals("0.50 0.40 0.30", get.path("loadAverageStart").asText());
    assertEquals(3_000_000_000L,
        get.path("serverCpuNanosByThreadGroup").path("vert.x-eventloo").asLong());
    assertEquals(0.25, json.path("ratios").path("get").path("throughput").asDouble(), 1e-9);
    assertEquals(4.0, json.path("ratios").path("put").path("serverCpuPerOp").asDouble(), 1e-9);
    assertEquals(4.0, json.path("ratios").path("get").path("p99").asDouble(), 1e-9);
    assertEquals(150.0, json.path("sides").path("redis").path("idle")
        .path("serverCpuMsPerSecond").asDouble(), 1e-9);
    assertEquals(48, json.path("options").path("connections").asInt());
    assertEquals(300_000, json.path("options").path("warmupMaxMs").asLong());
    JsonNode warmup = json.path("sides").path("ringkv").path("warmup");
    assertTrue(warmup.path("settled").asBoolean());
    assertEquals(45, warmup.path("seconds").asDouble(), 1e-9);
    assertEquals(2.5, warmup.path("compilerCpuPercentByCycle").path(2).asDouble(), 1e-9);
  }

  @Test
  void threadGroupsAreListedLargestFirst() {
    assertEquals("a 3.0, b 1.0", CompareReport.groups(Map.of("b", 1000L, "a", 3000L), 1, 0));
    assertEquals("a 3.0, b 1.0",
        CompareReport.groups(Map.of("b", 1_000_000L, "a", 3_000_000L), 0, 1.0));
    assertEquals("-", CompareReport.groups(Map.of(), 1, 1));
  }
}
