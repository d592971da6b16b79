package ringkv.bench;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import ringkv.client.RingKvClient;
import ringkv.tools.Tls;

/**
 * {@code ./kvs bench}: YCSB-style workloads against RingKV through the client library, and
 * optionally against a trivial HTTP server (the "ceiling") driven by the same load generator in
 * the same run, so RingKV's figures read as ratios of what this machine's HTTP stack allows.
 *
 * <p>Order of a run: RingKV (start the local cluster if asked, load the records, warm up,
 * measure — with {@code --at-half-max} twice: closed loop for the maximum throughput, then at
 * half of it with the lag probe — stop the cluster), then the ceiling if asked (its own JVM
 * with the node's flags, on a machine the cluster no longer loads: the same load phase,
 * warm-up and a closed-loop measure). The load
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
  /** Resident memory of the started nodes at the end of the run (empty for --target). */
  private List<ChildProcesses.NodeMemory> nodeMemory = List.of();

  Bench(BenchOptions options, List<String> args, PrintStream out) {
    this.options = options;
    this.args = List.copyOf(args);
    this.out = out;
  }

  public static void main(String[] args) {
    if (CompareOptions.asked(args)) {
      RedisCompare.main(args);
      return;
    }
    BenchMain.run("bench", args, BenchOptions::parse, BenchOptions.USAGE, BenchOptions::json,
        options -> new Bench(options, List.of(args), System.out).run());
  }

  /** Runs every target and returns the report. */
  Report run() {
    out.println("bench: " + new Report(options, args, List.of()).header());
    List<Report.Target> targets = new ArrayList<>(ringKv());
    if (options.ceiling()) {
      targets.add(ceiling());
    }
    return new Report(options, args, targets, nodeMemory);
  }

  /**
   * A client of {@code seed}; {@code secured}: with --cacert and the token (not for the
   * ceiling server, which speaks plain HTTP).
   */
  private RingKvClient client(String seed, boolean secured) {
    // One connection per load slot: each slot has one operation outstanding, as each of
    // wrk's connections has one request outstanding.
    RingKvClient.Builder b = RingKvClient.builder(seed)
        .routing(options.routing())
        .inFlightMax(options.connections())
        .connectionsPerNodeMax(options.connections())
        .ioThreads(options.clientIoThreads())
        .nativeTransport(options.clientNativeTransport());
    if (secured && options.caPem() != null) {
      b.tlsCa(options.caPem());
    }
    if (secured && options.token() != null) {
      b.token(options.token().value());
    }
    return b.build();
  }

  private Report.Target ceiling() {
    try (ChildProcesses processes =
        new ChildProcesses(options.logDir(), options.nodeJvmFlags())) {
      String address = processes.startCeiling(options.valueSize());
      out.println("bench: ceiling server on " + address + " (fixed JSON answers, "
          + options.nodeJvmFlags() + ")");
      try (RingKvClient client = client(address, false)) {
        LoadRunner runner = new LoadRunner(client, options, "ceiling", out);
        LoadRunner.PhaseResult load = runner.load();
        ChildProcesses.CpuWindow cpu = processes.new CpuWindow(LoadRunner.MeasureWindow.NONE);
        ClientCpuWindow clientCpu = new ClientCpuWindow(cpu);
        LoadRunner.PhaseResult measure = runner.run(0, clientCpu);
        return new Report.Target("ceiling", "trivial HTTP server", load, measure,
            client.stats(), null, cpu.usedNanos(), clientCpu.used());
      }
    }
  }

  private List<Report.Target> ringKv() {
    try (ChildProcesses processes =
        new ChildProcesses(options.logDir(), options.nodeJvmFlags())) {
      String seed = options.target();
      if (seed == null) {
        out.println("bench: starting " + options.describeCluster() + " (logs in "
            + options.logDir() + ")");
        List<String> nodes = processes.startCluster(options.nodeJar(), options.startNodes(),
            options.startShards());
        seed = nodes.get(0);
        out.println("bench: cluster ready: " + nodes);
      }
      try (RingKvClient client = client(seed, true)) {
        List<Report.Target> targets = measure(client, processes);
        nodeMemory = processes.nodeMemory();
        return targets;
      }
    }
  }

  /** Loads the records, then measures (twice with --at-half-max). */
  private List<Report.Target> measure(RingKvClient client, ChildProcesses processes) {
    out.println("bench: " + client.ring());
    out.println("bench: client transport " + client.transport() + ", "
        + options.clientIoThreads() + " event loop thread(s), " + options.connections()
        + " connections per node at most");
    LoadRunner runner = new LoadRunner(client, options, "ringkv", out);
    out.printf("bench: loading %,d records%n", options.records());
    LoadRunner.PhaseResult load = runner.load();
    out.printf("bench: loaded %,d records in %.1f s, errors %s%n", load.ops(),
        load.seconds(), load.errors());
    if (options.atHalfMax()) {
      return atHalfMax(client, runner, load, processes);
    }
    LagProbe probe = lagProbe(client, options.lag());
    ChildProcesses.CpuWindow cpu = processes.new CpuWindow(window(probe));
    ClientCpuWindow clientCpu = new ClientCpuWindow(cpu);
    LoadRunner.PhaseResult measure = runner.run(options.rate(), clientCpu);
    return List.of(new Report.Target(Report.RINGKV, options.describeCluster(), load,
        measure, client.stats(), probe == null ? null : probe.result(), cpu.usedNanos(),
        clientCpu.used()));
  }

  /**
   * Issue 7's figure on one cluster: the closed loop finds the maximum throughput, then the
   * same workload runs open loop at half of it while the lag probe measures replication lag.
   */
  private List<Report.Target> atHalfMax(RingKvClient client, LoadRunner runner,
      LoadRunner.PhaseResult load, ChildProcesses processes) {
    out.println("bench: phase 1 of 2: closed loop, for the maximum throughput");
    LagProbe maxProbe = lagProbe(client, options.lag());
    ChildProcesses.CpuWindow maxCpu = processes.new CpuWindow(window(maxProbe));
    ClientCpuWindow maxClientCpu = new ClientCpuWindow(maxCpu);
    LoadRunner.PhaseResult max = runner.run(0, maxClientCpu);
    RingKvClient.Stats afterMax = client.stats();
    if (max.ops() == 0) {
      throw new IllegalStateException("the closed-loop phase completed no operation (errors "
          + max.errors() + "); no half rate to run");
    }
    double half = Math.max(1, Math.round(max.throughput() / 2));
    out.printf("bench: phase 2 of 2: open loop at %.0f ops/s (half of %.0f), lag probe every "
        + "%d ms%n", half, max.throughput(), options.lagIntervalMs());
    LagProbe probe = lagProbe(client, true);
    ChildProcesses.CpuWindow halfCpu = processes.new CpuWindow(probe);
    ClientCpuWindow halfClientCpu = new ClientCpuWindow(halfCpu);
    LoadRunner.PhaseResult halfMax = runner.run(half, halfClientCpu);
    return List.of(
        new Report.Target(Report.RINGKV, options.describeCluster() + ", closed loop", load, max,
            afterMax, maxProbe == null ? null : maxProbe.result(), maxCpu.usedNanos(),
            maxClientCpu.used()),
        new Report.Target(Report.RINGKV_HALF_MAX, options.describeCluster() + ", 1/2 max",
            null, halfMax, minus(client.stats(), afterMax), probe.result(),
            halfCpu.usedNanos(), halfClientCpu.used()));
  }

  private LagProbe lagProbe(RingKvClient client, boolean wanted) {
    return wanted ? new LagProbe(client::ring, options.lagIntervalMs(), probeAccess()) : null;
  }

  /** The lag probe reaches the cluster as the bench's client does: --cacert, CLIENT_TOKEN. */
  private LagProbe.Access probeAccess() {
    return new LagProbe.Access(options.caPem() == null ? null : Tls.trusting(options.caPem()),
        options.token() == null ? null : options.token().value());
  }

  private static LoadRunner.MeasureWindow window(LagProbe probe) {
    return probe == null ? LoadRunner.MeasureWindow.NONE : probe;
  }

  /** The client's counters between two snapshots. */
  static RingKvClient.Stats minus(RingKvClient.Stats a, RingKvClient.Stats b) {
    return new RingKvClient.Stats(a.attempts() - b.attempts(), a.retries() - b.retries(),
        a.viewChangeRetries() - b.viewChangeRetries(), a.unreachable() - b.unreachable(),
        a.timeouts() - b.timeouts(), a.ringRefreshes() - b.ringRefreshes(),
        a.epochChanges() - b.epochChanges(), a.misrouted() - b.misrouted());
  }
}
