package ringkv.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import ringkv.client.RingKvClient;

/*
 * Goal: the load generator loads exactly --records records, then runs the workload's mix for
 * the measured duration with --connections concurrent operations, accounts every operation
 * once (histograms agree with counts), prints progress once per second, and the report renders
 * it as text and JSON with the ratio to the ceiling.
 *
 * With --rate, the open loop issues no more than its schedule allows, accounts every issued
 * operation once (issued = completed + failed), and the measure window opens and closes once
 * around the measured phase.
 *
 * Method: an in-process CeilingServer as the target (fixed answers), short phases (1.5 s
 * measured, 0.5 s warm-up), assertions on the returned results and the printed output. The
 * open-loop bound is structural (an operation is never issued before its due time), not a
 * timing guess.
 */
class LoadRunnerTest {
  @Test
  void loadsThenMeasuresAndReports() throws Exception {
    CeilingServer server = new CeilingServer(new InetSocketAddress("127.0.0.1", 0), 100);
    BenchOptions options = BenchOptions.parse("--target", "127.0.0.1:" + server.port(),
        "--records", "500", "--connections", "4", "--duration", "1500ms", "--warmup", "500ms",
        "--workload", "B", "--seed", "1");
    ByteArrayOutputStream printed = new ByteArrayOutputStream();
    PrintStream out = new PrintStream(printed, true, StandardCharsets.UTF_8);
    try (RingKvClient client = RingKvClient.builder(options.target()).inFlightMax(4).build()) {
      LoadRunner runner = new LoadRunner(client, options, "test", out);
      LoadRunner.PhaseResult load = runner.load();
      assertEquals(500, load.ops());
      assertEquals(500, load.updates().getTotalCount());
      assertTrue(load.errors().isEmpty(), load.errors().toString());

      LoadRunner.PhaseResult measure = runner.run();
      assertTrue(measure.ops() > 50, "ops " + measure.ops());
      assertEquals(measure.ops(), measure.all().getTotalCount());
      assertEquals(measure.ops(), measure.reads().getTotalCount()
          + measure.updates().getTotalCount());
      assertEquals(measure.all().getTotalCount(), measure.service().getTotalCount(),
          "closed loop: the service time is the latency");
      double readShare = measure.reads().getTotalCount() / (double) measure.ops();
      assertTrue(readShare > 0.85, "workload B reads " + readShare);
      assertTrue(measure.seconds() >= 1.4 && measure.seconds() < 5, "" + measure.seconds());
      assertTrue(measure.errors().isEmpty(), measure.errors().toString());

      Report report = new Report(options, List.of("--workload", "B"), List.of(
          new Report.Target("ringkv", "stand-in", load, measure, client.stats()),
          new Report.Target("ceiling", "trivial HTTP server", null, measure, client.stats())));
      String text = report.text();
      assertTrue(text.contains("ringkv / ceiling: throughput 1.000"), text);
      assertEquals(1.0, report.json().path("ratio-to-ceiling").path("throughput").asDouble());
      assertEquals(measure.ops(), report.json().path("targets").get(0).path("measure")
          .path("ops").asLong());
    } finally {
      server.close();
    }
    String progress = printed.toString(StandardCharsets.UTF_8);
    assertTrue(progress.contains("[test] measure"), progress);
    assertTrue(progress.contains("ops/s"), progress);
  }

  @Test
  void openLoopKeepsToItsSchedule() throws Exception {
    CeilingServer server = new CeilingServer(new InetSocketAddress("127.0.0.1", 0), 100);
    BenchOptions options = BenchOptions.parse("--target", "127.0.0.1:" + server.port(),
        "--records", "100", "--connections", "4", "--duration", "1500ms", "--warmup", "0ms",
        "--workload", "A", "--rate", "200", "--seed", "2");
    AtomicInteger opened = new AtomicInteger();
    AtomicInteger closed = new AtomicInteger();
    LoadRunner.MeasureWindow window = new LoadRunner.MeasureWindow() {
      @Override
      public void open() {
        opened.incrementAndGet();
      }

      @Override
      public void close() {
        closed.incrementAndGet();
      }
    };
    PrintStream out = new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8);
    try (RingKvClient client = RingKvClient.builder(options.target()).inFlightMax(4).build()) {
      LoadRunner runner = new LoadRunner(client, options, "test", out);
      runner.load();
      LoadRunner.PhaseResult m = runner.run(options.rate(), window);
      LoadRunner.RateStats rate = m.rate();
      assertEquals(200, rate.targetOpsPerSec());
      assertEquals(rate.issued(), m.ops() + m.errorCount(), "every issued op accounted once");
      // No warm-up: every operation of the run is in this phase and was issued at or after
      // its due time, before the phase ended (seconds() ends later, after the last answer).
      assertTrue(rate.issued() <= Math.ceil(200 * m.seconds()) + 4,
          rate.issued() + " issued in " + m.seconds() + " s");
      assertTrue(m.ops() > 0);
      assertEquals(m.ops(), m.service().getTotalCount());
      assertTrue(rate.missed() >= 0 && rate.late() <= rate.issued());
    } finally {
      server.close();
    }
    assertEquals(1, opened.get());
    assertEquals(1, closed.get());
  }
}
