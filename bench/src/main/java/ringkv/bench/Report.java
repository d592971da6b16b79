package ringkv.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;
import java.util.Locale;
import java.util.TreeMap;
import org.HdrHistogram.Histogram;
import ringkv.client.RingKvClient;

/**
 * The results of a bench run, as text for people and as JSON for tools: per target the load
 * phase, the measured phase (throughput, p50/p99/p99.9/max latency in ms, errors by status,
 * reads of missing records; with a rate, the schedule's late and missed operations and the
 * service time), the replication lag the probe saw, the client's counters, RingKV's ratios to
 * the ceiling (closed loop only), and issue 7's lag figure with {@code --at-half-max}.
 *
 * <p>Immutable; thread-safe.
 */
final class Report implements BenchMain.Printable {
  /** Name of RingKV's target (the closed-loop one with {@code --at-half-max}). */
  static final String RINGKV = "ringkv";
  /** Name of RingKV's open-loop target at half its maximum ({@code --at-half-max}). */
  static final String RINGKV_HALF_MAX = "ringkv-half-max";
  /** Issue 7's bound on the replication lag's p99 at half the maximum throughput. */
  static final double LAG_P99_MS_TARGET = 50;

  /**
   * What one target (RingKV or the ceiling) gave; {@code lag} is null without the probe;
   * {@code clientCpu} is what the bench's own JVM used in the measured phase.
   */
  record Target(String name, String description, LoadRunner.PhaseResult load,
      LoadRunner.PhaseResult measure, RingKvClient.Stats client, LagProbe.Result lag,
      long serverCpuNanos, ClientCpuWindow.Used clientCpu) {
    Target {
      clientCpu = clientCpu == null ? ClientCpuWindow.Used.UNKNOWN : clientCpu;
    }

    Target(String name, String description, LoadRunner.PhaseResult load,
        LoadRunner.PhaseResult measure, RingKvClient.Stats client, LagProbe.Result lag,
        long serverCpuNanos) {
      this(name, description, load, measure, client, lag, serverCpuNanos, null);
    }

    Target(String name, String description, LoadRunner.PhaseResult load,
        LoadRunner.PhaseResult measure, RingKvClient.Stats client, LagProbe.Result lag) {
      this(name, description, load, measure, client, lag, -1, null);
    }

    Target(String name, String description, LoadRunner.PhaseResult load,
        LoadRunner.PhaseResult measure, RingKvClient.Stats client) {
      this(name, description, load, measure, client, null, -1, null);
    }

    /**
     * CPU time the bench's JVM (load generator and client library together) used per
     * operation of the measured phase, in microseconds; -1 when unknown.
     */
    double clientCpuUsPerOp() {
      return perOp(clientCpu.processNanos());
    }

    /** The same for the client library's event loop threads alone. */
    double clientIoCpuUsPerOp() {
      return perOp(clientCpu.ioThreadNanos());
    }

    private double perOp(long nanos) {
      return nanos < 0 || measure.ops() == 0 ? -1 : nanos / 1000.0 / measure.ops();
    }

    /**
     * CPU time the server processes (all nodes, or the ceiling server) used per operation of
     * the measured phase, in microseconds; -1 when unknown (a cluster the bench did not start).
     */
    double serverCpuUsPerOp() {
      return perOp(serverCpuNanos);
    }
  }

  private static final ObjectMapper MAPPER = new ObjectMapper()
      .enable(SerializationFeature.INDENT_OUTPUT);

  private final BenchOptions options;
  private final List<Target> targets;
  private final List<String> args;
  private final List<ChildProcesses.NodeMemory> nodeMemory;

  Report(BenchOptions options, List<String> args, List<Target> targets) {
    this(options, args, targets, List.of());
  }

  Report(BenchOptions options, List<String> args, List<Target> targets,
      List<ChildProcesses.NodeMemory> nodeMemory) {
    this.options = options;
    this.args = List.copyOf(args);
    this.targets = List.copyOf(targets);
    this.nodeMemory = List.copyOf(nodeMemory);
  }

  private Target find(String name) {
    return targets.stream().filter(t -> t.name().equals(name)).findFirst().orElse(null);
  }

  static double ms(Histogram h, double percentile) {
    return h.getTotalCount() == 0 ? 0 : h.getValueAtPercentile(percentile) / 1000.0;
  }

  String header() {
    String pace = options.atHalfMax() ? ", closed loop then half its throughput with lag probe"
        : options.rate() > 0 ? String.format(Locale.ROOT, ", rate %.0f ops/s", options.rate())
        : "";
    String lag = options.lag() || options.atHalfMax()
        ? ", lag probe every " + options.lagIntervalMs() + " ms" : "";
    return String.format(Locale.ROOT, "workload %s, %s keys, %,d records x %d B values, "
        + "%d connections, routing %s, warmup %.1fs, duration %.1fs%s%s, %d cores, seed %d",
        options.workload().describe(), options.zipfian() ? "zipfian" : "uniform",
        options.records(), options.valueSize(), options.connections(),
        options.routing() == RingKvClient.Routing.SMART ? "smart" : "naive",
        options.warmupMs() / 1000.0, options.durationMs() / 1000.0, pace, lag,
        Runtime.getRuntime().availableProcessors(), options.seed());
  }

  /** Whether RingKV and the ceiling both ran closed loops, so their ratios mean something. */
  private boolean hasRatios() {
    Target ring = find(RINGKV);
    Target ceiling = find("ceiling");
    return ring != null && ceiling != null && ring.measure().rate() == null
        && ceiling.measure().rate() == null;
  }

  @Override
  public String text() {
    StringBuilder b = new StringBuilder();
    b.append("\n== ").append(header()).append('\n');
    b.append(String.format(Locale.ROOT, "%-28s %10s %9s %9s %9s %9s  %s%n", "target", "ops/s",
        "p50 ms", "p99 ms", "p99.9 ms", "max ms", "errors"));
    for (Target t : targets) {
      LoadRunner.PhaseResult m = t.measure();
      b.append(String.format(Locale.ROOT, "%-28s %10.0f %9.2f %9.2f %9.2f %9.2f  %s%n",
          t.name() + " (" + t.description() + ")", m.throughput(), ms(m.all(), 50),
          ms(m.all(), 99), ms(m.all(), 99.9), m.all().getMaxValue() / 1000.0,
          m.errors().isEmpty() ? "0" : m.errors().toString()));
      for (String kind : List.of("read", "update")) {
        Histogram h = kind.equals("read") ? m.reads() : m.updates();
        if (h.getTotalCount() > 0) {
          b.append(String.format(Locale.ROOT, "  %-26s %10d %9.2f %9.2f %9.2f %9.2f%n",
              kind + "s (count)", h.getTotalCount(), ms(h, 50), ms(h, 99), ms(h, 99.9),
              h.getMaxValue() / 1000.0));
        }
      }
      if (m.notFound() > 0) {
        b.append("  reads of missing records: ").append(m.notFound()).append('\n');
      }
      if (m.rate() != null) {
        appendRate(b, m);
      }
      if (t.lag() != null) {
        appendLag(b, t.lag());
      }
      if (t.load() != null) {
        b.append(String.format(Locale.ROOT, "  load: %,d records in %.1f s (%.0f ops/s), "
            + "errors %s%n", t.load().ops(), t.load().seconds(), t.load().throughput(),
            t.load().errors().isEmpty() ? "0" : t.load().errors()));
      }
      if (t.serverCpuUsPerOp() >= 0) {
        b.append(String.format(Locale.ROOT, "  server CPU: %.1f us per operation (%.1f s in "
            + "the measured phase, all its processes)%n", t.serverCpuUsPerOp(),
            t.serverCpuNanos() / 1e9));
      }
      if (t.clientCpuUsPerOp() >= 0) {
        b.append(String.format(Locale.ROOT, "  client CPU: %.1f us per operation (the bench's "
            + "JVM: load generator and client library, %.1f s in the measured phase), of which "
            + "%.1f us on the client's event loop threads%s%n", t.clientCpuUsPerOp(),
            t.clientCpu().processNanos() / 1e9, t.clientIoCpuUsPerOp(), jitAndGc(t)));
      }
      RingKvClient.Stats s = t.client();
      b.append(String.format(Locale.ROOT, "  client: %d attempts, %d retries (%d view change),"
          + " %d unreachable, %d timeouts, %d ring reads, %d misrouted%n", s.attempts(),
          s.retries(), s.viewChangeRetries(), s.unreachable(), s.timeouts(),
          s.ringRefreshes(), s.misrouted()));
    }
    if (!nodeMemory.isEmpty()) {
      b.append("nodes' resident memory at the end (peak):");
      for (ChildProcesses.NodeMemory m : nodeMemory) {
        b.append(String.format(Locale.ROOT, " %s %.0f MB (%.0f MB)", m.address(),
            m.rssBytes() / 1e6, m.peakRssBytes() / 1e6));
      }
      b.append('\n');
    }
    Target ring = find(RINGKV);
    Target ceiling = find("ceiling");
    if (hasRatios()) {
      b.append(String.format(Locale.ROOT, "ringkv / ceiling: throughput %.3f, p50 latency "
          + "%.2fx, p99 latency %.2fx%n", ratio(ring, ceiling, "throughput"),
          ratio(ring, ceiling, "p50"), ratio(ring, ceiling, "p99")));
    } else if (ring != null && ceiling != null) {
      b.append("no ratios to the ceiling: ringkv ran at a fixed --rate, the ceiling in a "
          + "closed loop\n");
    }
    Target half = find(RINGKV_HALF_MAX);
    if (ring != null && half != null && half.lag() != null) {
      b.append(halfMaxVerdict(ring, half)).append('\n');
    }
    return b.toString();
  }

  private static String jitAndGc(Target t) {
    ClientCpuWindow.Used u = t.clientCpu();
    return u.jitMs() < 0 || u.gcMs() < 0 ? "" : String.format(Locale.ROOT,
        "; in the phase the bench's JIT compiled for %d ms and its GC ran %d ms", u.jitMs(),
        u.gcMs());
  }

  private static void appendRate(StringBuilder b, LoadRunner.PhaseResult m) {
    LoadRunner.RateStats r = m.rate();
    b.append(String.format(Locale.ROOT, "  schedule: target %,.0f ops/s, achieved %,.0f; %,d of "
        + "%,d issued late (%.2f%%, up to %.1f ms), %,d missed; latency counts from the "
        + "scheduled time%n", r.targetOpsPerSec(), m.throughput(), r.late(), r.issued(),
        100 * r.lateFraction(), r.lateMsMax(), r.missed()));
    Histogram s = m.service();
    b.append(String.format(Locale.ROOT, "  service time (from the call): p50 %.2f, p99 %.2f, "
        + "p99.9 %.2f, max %.2f ms%n", ms(s, 50), ms(s, 99), ms(s, 99.9),
        s.getMaxValue() / 1000.0));
  }

  private static void appendLag(StringBuilder b, LagProbe.Result lag) {
    Histogram h = lag.lagMicros();
    b.append(String.format(Locale.ROOT, "  replication lag (upper bound; a probe every %d ms, "
        + "polls %d ms apart): %,d samples from %,d probes: p50 %.2f, p99 %.2f, p99.9 %.2f, "
        + "max %.2f ms%n", lag.intervalMs(), LagProbe.POLL_GAP_MS, h.getTotalCount(),
        lag.probes(), ms(h, 50), ms(h, 99), ms(h, 99.9), h.getMaxValue() / 1000.0));
    b.append(String.format(Locale.ROOT, "    %,d samples seen on the first poll (lag below "
        + "one poll round trip); probe failures %s; %,d polls (%,d failed); %,d probe ticks "
        + "skipped (previous probe still running)%n", lag.firstPollSamples(),
        lag.failures().isEmpty() ? "0" : new TreeMap<>(lag.failures()).toString(), lag.polls(),
        lag.pollErrors(), lag.skippedTicks()));
  }

  /** Whether the lag probe had samples, no failures, and a p99 under the target. */
  static boolean halfMaxMet(Target half) {
    Histogram h = half.lag().lagMicros();
    return h.getTotalCount() > 0 && half.lag().failureCount() == 0
        && ms(h, 99) < LAG_P99_MS_TARGET;
  }

  /** Issue 7's figure: the lag p99 at half the maximum throughput, and whether it is met. */
  static String halfMaxVerdict(Target max, Target half) {
    Histogram h = half.lag().lagMicros();
    double p99 = ms(h, 99);
    boolean met = halfMaxMet(half);
    String why = h.getTotalCount() == 0 ? " (no lag samples)"
        : half.lag().failureCount() > 0 ? " (" + half.lag().failureCount() + " probe failures)"
        : "";
    return String.format(Locale.ROOT, "issue 7: replication lag p99 %.2f ms at %,.0f ops/s "
        + "(half of the maximum %,.0f ops/s): target p99 < %.0f ms %s%s", p99,
        half.measure().throughput(), max.measure().throughput(), LAG_P99_MS_TARGET,
        met ? "met" : "NOT met", why);
  }

  private static double ratio(Target a, Target b, String what) {
    LoadRunner.PhaseResult x = a.measure();
    LoadRunner.PhaseResult y = b.measure();
    double num;
    double den;
    switch (what) {
      case "throughput" -> {
        num = x.throughput();
        den = y.throughput();
      }
      case "p50" -> {
        num = ms(x.all(), 50);
        den = ms(y.all(), 50);
      }
      default -> {
        num = ms(x.all(), 99);
        den = ms(y.all(), 99);
      }
    }
    return den == 0 ? 0 : num / den;
  }

  @Override
  public ObjectNode json() {
    ObjectNode root = MAPPER.createObjectNode();
    root.put("command", "kvs bench " + String.join(" ", args));
    options(root.putObject("options"));
    ArrayNode memory = root.putArray("nodes-memory");
    for (ChildProcesses.NodeMemory m : nodeMemory) {
      memory.addObject().put("address", m.address()).put("rss-bytes", m.rssBytes())
          .put("peak-rss-bytes", m.peakRssBytes());
    }
    ArrayNode runs = root.putArray("targets");
    for (Target t : targets) {
      target(runs.addObject(), t);
    }
    Target ring = find(RINGKV);
    Target ceiling = find("ceiling");
    if (hasRatios()) {
      ObjectNode ratio = root.putObject("ratio-to-ceiling");
      ratio.put("throughput", ratio(ring, ceiling, "throughput"));
      ratio.put("p50-latency", ratio(ring, ceiling, "p50"));
      ratio.put("p99-latency", ratio(ring, ceiling, "p99"));
    }
    Target half = find(RINGKV_HALF_MAX);
    if (ring != null && half != null && half.lag() != null) {
      ObjectNode h = root.putObject("at-half-max");
      h.put("max-throughput", ring.measure().throughput());
      h.put("rate", half.measure().rate() == null ? 0 : half.measure().rate().targetOpsPerSec());
      h.put("throughput", half.measure().throughput());
      h.put("lag-p99-ms", ms(half.lag().lagMicros(), 99));
      h.put("lag-p99-ms-target", LAG_P99_MS_TARGET);
      h.put("lag-samples", half.lag().lagMicros().getTotalCount());
      h.put("lag-probe-failures", half.lag().failureCount());
      h.put("met", halfMaxMet(half));
      h.put("summary", halfMaxVerdict(ring, half));
    }
    return root;
  }

  private void options(ObjectNode o) {
    o.put("workload", options.workload().name());
    o.put("read-fraction", options.workload().readFraction());
    o.put("distribution", options.zipfian() ? "zipfian" : "uniform");
    o.put("records", options.records());
    o.put("value-size", options.valueSize());
    o.put("connections", options.connections());
    o.put("warmup-ms", options.warmupMs());
    o.put("duration-ms", options.durationMs());
    o.put("routing", options.routing() == RingKvClient.Routing.SMART ? "smart" : "naive");
    o.put("cluster", options.describeCluster());
    o.put("seed", options.seed());
    o.put("rate", options.rate());
    o.put("lag", options.lag());
    o.put("lag-interval-ms", options.lagIntervalMs());
    o.put("at-half-max", options.atHalfMax());
    o.put("cores", Runtime.getRuntime().availableProcessors());
    o.put("client-io-threads", options.clientIoThreads());
    o.put("client-transport-requested", options.clientNativeTransport() ? "epoll" : "nio");
    o.put("java", System.getProperty("java.version"));
    ArrayNode flags = o.putArray("node-jvm-flags");
    options.nodeJvmFlags().forEach(flags::add);
  }

  private static void target(ObjectNode r, Target t) {
    r.put("name", t.name());
    r.put("description", t.description());
    if (t.load() != null) {
      r.set("load", phase(t.load()));
    }
    r.set("measure", phase(t.measure()));
    if (t.serverCpuUsPerOp() >= 0) {
      r.put("server-cpu-us-per-op", t.serverCpuUsPerOp());
    }
    if (t.clientCpuUsPerOp() >= 0) {
      r.put("client-cpu-us-per-op", t.clientCpuUsPerOp());
    }
    if (t.clientIoCpuUsPerOp() >= 0) {
      r.put("client-io-cpu-us-per-op", t.clientIoCpuUsPerOp());
    }
    if (t.clientCpu().jitMs() >= 0) {
      r.put("client-jit-ms", t.clientCpu().jitMs());
    }
    if (t.clientCpu().gcMs() >= 0) {
      r.put("client-gc-ms", t.clientCpu().gcMs());
    }
    if (t.lag() != null) {
      r.set("replication-lag", lag(t.lag()));
    }
    RingKvClient.Stats s = t.client();
    ObjectNode c = r.putObject("client");
    c.put("attempts", s.attempts());
    c.put("retries", s.retries());
    c.put("view-change-retries", s.viewChangeRetries());
    c.put("unreachable", s.unreachable());
    c.put("timeouts", s.timeouts());
    c.put("ring-reads", s.ringRefreshes());
    c.put("epoch-changes", s.epochChanges());
    c.put("misrouted", s.misrouted());
  }

  private static ObjectNode lag(LagProbe.Result lag) {
    ObjectNode n = MAPPER.createObjectNode();
    n.put("upper-bound", true);
    n.put("interval-ms", lag.intervalMs());
    n.put("poll-gap-ms", LagProbe.POLL_GAP_MS);
    n.put("probes", lag.probes());
    n.set("lag-ms", latency(lag.lagMicros()));
    ObjectNode failures = n.putObject("failures");
    new TreeMap<>(lag.failures()).forEach(failures::put);
    n.put("polls", lag.polls());
    n.put("poll-errors", lag.pollErrors());
    n.put("skipped-ticks", lag.skippedTicks());
    n.put("first-poll-samples", lag.firstPollSamples());
    return n;
  }

  private static ObjectNode phase(LoadRunner.PhaseResult p) {
    ObjectNode n = MAPPER.createObjectNode();
    n.put("ops", p.ops());
    n.put("seconds", p.seconds());
    n.put("throughput", p.throughput());
    n.set("latency-ms", latency(p.all()));
    if (p.reads().getTotalCount() > 0) {
      n.set("read-latency-ms", latency(p.reads()));
    }
    if (p.updates().getTotalCount() > 0) {
      n.set("update-latency-ms", latency(p.updates()));
    }
    ObjectNode errors = n.putObject("errors");
    p.errors().forEach(errors::put);
    n.put("reads-not-found", p.notFound());
    if (p.rate() != null) {
      LoadRunner.RateStats r = p.rate();
      ObjectNode rate = n.putObject("schedule");
      rate.put("target-ops-per-s", r.targetOpsPerSec());
      rate.put("issued", r.issued());
      rate.put("late", r.late());
      rate.put("late-ms-max", r.lateMsMax());
      rate.put("missed", r.missed());
      rate.put("latency-from", "scheduled time");
      n.set("service-latency-ms", latency(p.service()));
    }
    return n;
  }

  private static ObjectNode latency(Histogram h) {
    ObjectNode n = MAPPER.createObjectNode();
    n.put("count", h.getTotalCount());
    n.put("mean", h.getTotalCount() == 0 ? 0 : h.getMean() / 1000.0);
    n.put("p50", ms(h, 50));
    n.put("p99", ms(h, 99));
    n.put("p99.9", ms(h, 99.9));
    n.put("max", h.getMaxValue() / 1000.0);
    return n;
  }
}
