package ringkv.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;
import java.util.Map;
import org.HdrHistogram.Histogram;
import org.junit.jupiter.api.Test;
import ringkv.client.RingKvClient;

/*
 * Goal: the report renders the open-loop schedule (target rate, late, missed, service time),
 * the replication lag (samples, p50/p99/p99.9/max, failures, polls, skipped ticks) and issue 7's
 * verdict at half the maximum, and the CPU per operation of the servers and of the bench's own
 * JVM, in the text and in the JSON; ratios to the ceiling stay for the closed-loop target and
 * are withheld when RingKV ran at a fixed rate.
 *
 * Method: hand-made phase results and lag results with known histograms (no cluster, no
 * clock); assertions on the rendered lines and JSON fields.
 */
class ReportTest {
  private static final RingKvClient.Stats STATS = new RingKvClient.Stats(1, 0, 0, 0, 0, 1, 0,
      0);

  /** A histogram of {@code count} values of {@code micros} each. */
  private static Histogram histogram(long micros, long count) {
    Histogram h = new Histogram(3);
    h.recordValueWithCount(micros, count);
    return h;
  }

  private static LoadRunner.PhaseResult closed(long ops, long micros) {
    Histogram h = histogram(micros, ops);
    return new LoadRunner.PhaseResult("measure", ops, 10, h, h, histogram(1, 0), Map.of(), 0, h,
        null);
  }

  private static LoadRunner.PhaseResult paced(long ops, long micros, long serviceMicros) {
    Histogram h = histogram(micros, ops);
    return new LoadRunner.PhaseResult("measure", ops, 10, h, h, histogram(1, 0), Map.of(), 0,
        histogram(serviceMicros, ops), new LoadRunner.RateStats(500, ops, 25, 12.5, 3));
  }

  /** 99 lags of 2 ms and one of 40 ms (p99 = 2 ms, max = 40 ms). */
  private static LagProbe.Result lag(Map<String, Long> failures) {
    Histogram h = histogram(2_000, 99);
    h.recordValue(40_000);
    return new LagProbe.Result(20, 50, h, failures, 4, 600, 1, 30);
  }

  private static Report report(BenchOptions options, Report.Target... targets) {
    return new Report(options, List.of("--at-half-max"), List.of(targets));
  }

  @Test
  void atHalfMaxRendersBothPhasesTheLagAndTheVerdict() {
    BenchOptions options = BenchOptions.parse("--target", "127.0.0.1:1", "--at-half-max",
        "--seed", "1", "--ceiling");
    Report r = report(options,
        new Report.Target(Report.RINGKV, "6 nodes, closed loop", null, closed(10_000, 3_000),
            STATS),
        new Report.Target(Report.RINGKV_HALF_MAX, "6 nodes, 1/2 max", null,
            paced(5_000, 4_000, 1_500), STATS, lag(Map.of())),
        new Report.Target("ceiling", "trivial HTTP server", null, closed(20_000, 1_000), STATS));
    String text = r.text();
    assertTrue(text.contains("closed loop then half its throughput with lag probe"), text);
    assertTrue(text.contains("schedule: target 500 ops/s, achieved 500; 25 of 5,000 issued "
        + "late (0.50%, up to 12.5 ms), 3 missed; latency counts from the scheduled time"), text);
    assertTrue(text.contains("service time (from the call): p50 1.50, p99 1.50"), text);
    assertTrue(text.contains("replication lag (upper bound; a probe every 20 ms, polls 1 ms "
        + "apart): 100 samples from 50 probes: p50 2.00, p99 2.00, p99.9 40.0"), text);
    assertTrue(text.contains("30 samples seen on the first poll (lag below one poll round "
        + "trip); probe failures 0; 600 polls (1 failed); 4 probe ticks skipped"), text);
    assertTrue(text.contains("ringkv / ceiling: throughput 0.500"), "closed-loop ratio: " + text);
    assertTrue(text.contains("issue 7: replication lag p99 2.00 ms at 500 ops/s (half of the "
        + "maximum 1,000 ops/s): target p99 < 50 ms met"), text);

    JsonNode json = r.json();
    assertTrue(json.path("options").path("at-half-max").asBoolean());
    JsonNode half = json.path("targets").get(1);
    assertEquals(Report.RINGKV_HALF_MAX, half.path("name").asText());
    JsonNode schedule = half.path("measure").path("schedule");
    assertEquals(500, schedule.path("target-ops-per-s").asDouble());
    assertEquals(25, schedule.path("late").asLong());
    assertEquals(3, schedule.path("missed").asLong());
    assertEquals(1.5, half.path("measure").path("service-latency-ms").path("p50").asDouble());
    JsonNode lag = half.path("replication-lag");
    assertTrue(lag.path("upper-bound").asBoolean());
    assertEquals(100, lag.path("lag-ms").path("count").asLong());
    assertEquals(2.0, lag.path("lag-ms").path("p99").asDouble());
    assertEquals(40.0, lag.path("lag-ms").path("max").asDouble(), 0.1);
    assertEquals(600, lag.path("polls").asLong());
    assertEquals(30, lag.path("first-poll-samples").asLong());
    assertFalse(json.path("targets").get(0).has("replication-lag"));
    assertFalse(json.path("targets").get(0).path("measure").has("schedule"), "closed loop");
    JsonNode verdict = json.path("at-half-max");
    assertEquals(1_000, verdict.path("max-throughput").asDouble());
    assertEquals(500, verdict.path("rate").asDouble());
    assertEquals(2.0, verdict.path("lag-p99-ms").asDouble());
    assertTrue(verdict.path("met").asBoolean());
    assertEquals(0.5, json.path("ratio-to-ceiling").path("throughput").asDouble());
  }

  @Test
  void probeFailuresOrALagOverTheTargetAreNotMet() {
    BenchOptions options = BenchOptions.parse("--target", "127.0.0.1:1", "--at-half-max");
    Report.Target max = new Report.Target(Report.RINGKV, "closed", null, closed(100, 1), STATS);
    Report failed = report(options, max, new Report.Target(Report.RINGKV_HALF_MAX, "half", null,
        paced(50, 1, 1), STATS, lag(Map.of("not seen within 5000 ms", 2L))));
    assertTrue(failed.text().contains("probe failures {not seen within 5000 ms=2}"),
        failed.text());
    assertTrue(failed.text().contains("NOT met (2 probe failures)"), failed.text());
    assertFalse(failed.json().path("at-half-max").path("met").asBoolean());
    assertEquals(2, failed.json().path("targets").get(1).path("replication-lag")
        .path("failures").path("not seen within 5000 ms").asLong());

    LagProbe.Result slow = new LagProbe.Result(20, 10, histogram(80_000, 10), Map.of(), 0, 10,
        0, 0);
    Report over = report(options, max, new Report.Target(Report.RINGKV_HALF_MAX, "half", null,
        paced(50, 1, 1), STATS, slow));
    assertTrue(over.text().contains("replication lag p99 80.0"), over.text());
    assertTrue(over.text().contains("target p99 < 50 ms NOT met"), over.text());
    assertFalse(over.json().path("at-half-max").path("met").asBoolean());
  }

  @Test
  void aFixedRateRunHasNoRatiosToTheClosedLoopCeiling() {
    BenchOptions options = BenchOptions.parse("--target", "127.0.0.1:1", "--rate", "500",
        "--lag", "--ceiling");
    Report r = report(options,
        new Report.Target(Report.RINGKV, "cluster", null, paced(5_000, 2_000, 1_000), STATS,
            lag(Map.of())),
        new Report.Target("ceiling", "trivial HTTP server", null, closed(20_000, 1_000), STATS));
    String text = r.text();
    assertTrue(text.contains("rate 500 ops/s, lag probe every 20 ms"), text);
    assertTrue(text.contains("no ratios to the ceiling"), text);
    assertFalse(text.contains("ringkv / ceiling"), text);
    assertFalse(text.contains("issue 7:"), "no verdict without --at-half-max: " + text);
    assertTrue(text.contains("replication lag (upper bound"), text);
    assertFalse(r.json().has("ratio-to-ceiling"));
    assertFalse(r.json().has("at-half-max"));
    assertEquals(500, r.json().path("options").path("rate").asDouble());
  }

  @Test
  void startedNodesResidentMemoryIsReported() {
    BenchOptions options = BenchOptions.parse("--start-cluster", "1,1",
        "--node-jvm-flags", "-Xmx1g -XX:+UseSerialGC");
    Report r = new Report(options, List.of(), List.of(new Report.Target(Report.RINGKV, "cluster",
        null, closed(20_000, 1_000), STATS, null, 1_500_000_000L)),
        List.of(new ChildProcesses.NodeMemory("127.0.0.1:9", 412_000_000, 430_000_000)));
    String text = r.text();
    assertTrue(text.contains("nodes' resident memory at the end (peak): 127.0.0.1:9 412 MB "
        + "(430 MB)"), text);
    assertEquals(412_000_000, r.json().path("nodes-memory").get(0).path("rss-bytes").asLong());
    long ops = closed(20_000, 1_000).ops();
    assertTrue(text.contains(String.format(java.util.Locale.ROOT,
        "server CPU: %.1f us per operation (1.5 s", 1.5e9 / 1000 / ops)), text);
    assertEquals(1.5e9 / 1000 / ops,
        r.json().path("targets").get(0).path("server-cpu-us-per-op").asDouble(), 1e-9);
    assertEquals("-Xmx1g", r.json().path("options").path("node-jvm-flags").get(0).asText());
    assertFalse(report(BenchOptions.parse("--target", "127.0.0.1:1"),
        new Report.Target(Report.RINGKV, "cluster", null, closed(20_000, 1_000), STATS)).text()
        .contains("resident memory"), "nothing to say about a cluster the bench did not start");
  }

  @Test
  void theClientsOwnCpuPerOperationIsReported() {
    BenchOptions options = BenchOptions.parse("--target", "127.0.0.1:1");
    long ops = closed(20_000, 1_000).ops();
    Report r = report(options, new Report.Target(Report.RINGKV, "cluster", null,
        closed(20_000, 1_000), STATS, null, -1, new ClientCpuWindow.Used(3_000_000_000L,
            2_000_000_000L, 700, 40)));
    String text = r.text();
    assertTrue(text.contains(String.format(java.util.Locale.ROOT, "client CPU: %.1f us per "
        + "operation", 3e9 / 1000 / ops)), text);
    assertTrue(text.contains(String.format(java.util.Locale.ROOT, "of which %.1f us on the "
        + "client's event loop threads", 2e9 / 1000 / ops)), text);
    JsonNode target = r.json().path("targets").get(0);
    assertEquals(3e9 / 1000 / ops, target.path("client-cpu-us-per-op").asDouble(), 1e-9);
    assertEquals(2e9 / 1000 / ops, target.path("client-io-cpu-us-per-op").asDouble(), 1e-9);
    assertTrue(text.contains("the bench's JIT compiled for 700 ms and its GC ran 40 ms"), text);
    assertEquals(700, target.path("client-jit-ms").asLong());
    assertEquals(40, target.path("client-gc-ms").asLong());
    assertFalse(report(options, new Report.Target(Report.RINGKV, "cluster", null,
        closed(20_000, 1_000), STATS)).text().contains("client CPU"), "unknown: not shown");
  }

  @Test
  void procStatusLinesAreReadInKibibytes() {
    assertEquals(123456, ChildProcesses.kib("VmRSS:\t  123456 kB"));
    assertEquals(-1, ChildProcesses.kib("VmRSS:"));
  }
}
