package ringkv.bench;

import java.io.IOException;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import ringkv.client.RingKvClient;

/**
 * {@code ./kvs bench}: YCSB-style workloads against RingKV through the client library, and
 * optionally against a trivial HTTP server (the "ceiling") driven by the same load generator in
 * the same run, so RingKV's figures read as ratios of what this machine's HTTP stack allows.
 *
 * <p>Order of a run: RingKV (start the local cluster if asked, load the records, warm up,
 * measure, stop the cluster), then the ceiling if asked (its own JVM with the node's flags, on
 * a machine the cluster no longer loads: the same load phase, warm-up and measure). The load
 * phase warms up the load generator's JIT before anything is measured. Prints a progress line
 * per second and, at the end, the results as text (and as JSON with {@code --json}). Exit code
 * 0, or 1 when the run could not be done, or 2 for bad options.
 *
 * <p>Not thread-safe; one run per instance, from the main thread.
 */
public final class Bench {
  private final BenchOptions options;
  private final List<String> args;
  private final PrintStream out;

  Bench(BenchOptions options, List<String> args, PrintStream out) {
    this.options = options;
    this.args = List.copyOf(args);
    this.out = out;
  }

  public static void main(String[] args) {
    BenchOptions options;
    try {
      options = BenchOptions.parse(args);
    } catch (IllegalArgumentException e) {
      System.err.println("bench: " + e.getMessage());
      System.exit(2);
      return;
    }
    if (options == null) {
      System.out.println(BenchOptions.USAGE);
      return;
    }
    try {
      Report report = new Bench(options, List.of(args), System.out).run();
      System.out.print(report.text());
      if (options.json() != null) {
        report.writeJson(options.json());
        System.out.println("JSON written to " + options.json());
      }
    } catch (IOException | RuntimeException e) {
      System.err.println("bench: " + e);
      System.exit(1);
    }
    System.exit(0);
  }

  /** Runs every target and returns the report. */
  Report run() {
    out.println("bench: " + new Report(options, args, List.of()).header());
    List<Report.Target> targets = new ArrayList<>();
    targets.add(ringKv());
    if (options.ceiling()) {
      targets.add(ceiling());
    }
    return new Report(options, args, targets);
  }

  private RingKvClient client(String seed) {
    return RingKvClient.builder(seed)
        .routing(options.routing())
        .inFlightMax(options.connections())
        .build();
  }

  private Report.Target ceiling() {
    try (ChildProcesses processes = new ChildProcesses(options.logDir())) {
      String address = processes.startCeiling(options.valueSize());
      out.println("bench: ceiling server on " + address + " (fixed JSON answers, "
          + ChildProcesses.NODE_JVM_FLAGS + ")");
      try (RingKvClient client = client(address)) {
        LoadRunner runner = new LoadRunner(client, options, "ceiling", out);
        LoadRunner.PhaseResult load = runner.load();
        LoadRunner.PhaseResult measure = runner.run();
        return new Report.Target("ceiling", "trivial HTTP server", load, measure,
            client.stats());
      }
    }
  }

  private Report.Target ringKv() {
    try (ChildProcesses processes = new ChildProcesses(options.logDir())) {
      String seed = options.target();
      if (seed == null) {
        out.println("bench: starting " + options.describeCluster() + " (logs in "
            + options.logDir() + ")");
        List<String> nodes = processes.startCluster(options.nodeJar(), options.startNodes(),
            options.startShards());
        seed = nodes.get(0);
        out.println("bench: cluster ready: " + nodes);
      }
      try (RingKvClient client = client(seed)) {
        out.println("bench: " + client.ring());
        LoadRunner runner = new LoadRunner(client, options, "ringkv", out);
        out.printf("bench: loading %,d records%n", options.records());
        LoadRunner.PhaseResult load = runner.load();
        out.printf("bench: loaded %,d records in %.1f s, errors %s%n", load.ops(),
            load.seconds(), load.errors());
        LoadRunner.PhaseResult measure = runner.run();
        return new Report.Target("ringkv", options.describeCluster(), load, measure,
            client.stats());
      }
    }
  }
}
