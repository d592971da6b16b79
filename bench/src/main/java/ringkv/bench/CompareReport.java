package ringkv.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.ToDoubleFunction;

/**
 * What {@code --compare redis} measured, side by side: per side and phase the throughput,
 * latency percentiles, server CPU per operation (all server processes, /proc utime+stime during
 * the phase, divided by the phase's operations) and the load generator's own CPU per operation,
 * the ratios RingKV/Redis, and where each side's server CPU went by thread group. Formats it as
 * text and JSON. Pure: no I/O but {@link #writeJson}. Immutable.
 */
final class CompareReport implements BenchMain.Printable {
  static final String RINGKV = "ringkv";
  static final String REDIS = "redis";
  /** Thread groups listed per side and phase in the text. */
  static final int THREAD_GROUPS_SHOWN = 8;
  private static final ObjectMapper MAPPER = new ObjectMapper()
      .enable(SerializationFeature.INDENT_OUTPUT);

  /**
   * One phase of one side. Latencies in microseconds; CPU in nanoseconds; load averages as
   * /proc/loadavg's first three fields at the phase's start and end; the timeslices the
   * servers' threads got (about their wake-ups; -1 when unknown).
   */
  record Phase(String name, long ops, long errors, Map<String, Long> errorsByKind,
      double seconds, double p50Micros, double p99Micros, double p999Micros,
      long serverCpuNanos, long generatorCpuNanos, Map<String, Long> serverCpuByServer,
      Map<String, Long> serverCpuByThreadGroup, String loadAverageStart,
      String loadAverageEnd, long serverTimeslices, long serverSystemCpuNanos) {
    Phase {
      errorsByKind = Map.copyOf(errorsByKind);
      serverCpuByServer = Map.copyOf(serverCpuByServer);
      serverCpuByThreadGroup = Map.copyOf(serverCpuByThreadGroup);
    }

    double throughput() {
      return seconds > 0 ? ops / seconds : 0;
    }

    /** Server CPU per operation, µs; NaN without operations or a CPU figure. */
    double serverCpuMicrosPerOp() {
      return perOp(serverCpuNanos);
    }

    double generatorCpuMicrosPerOp() {
      return perOp(generatorCpuNanos);
    }

    /** Share of the servers' CPU spent in the kernel (system calls, TCP), in percent. */
    double serverKernelPercent() {
      return serverCpuNanos <= 0 || serverSystemCpuNanos < 0 ? Double.NaN
          : 100.0 * serverSystemCpuNanos / serverCpuNanos;
    }

    /** Times a server thread was put on a CPU, per operation. */
    double serverWakeupsPerOp() {
      return serverTimeslices < 0 || ops == 0 ? Double.NaN : (double) serverTimeslices / ops;
    }

    /** Cores the servers kept busy on average. */
    double serverCores() {
      return serverCpuNanos < 0 || seconds <= 0 ? Double.NaN : serverCpuNanos / 1e9 / seconds;
    }

    double generatorCores() {
      return generatorCpuNanos < 0 || seconds <= 0 ? Double.NaN
          : generatorCpuNanos / 1e9 / seconds;
    }

    double perOp(long nanos) {
      return nanos < 0 || ops == 0 ? Double.NaN : nanos / 1000.0 / ops;
    }
  }

  /** The servers with no load: CPU over a window, and by thread group. */
  record Idle(double seconds, long serverCpuNanos, Map<String, Long> serverCpuByThreadGroup,
      String loadAverage) {
    Idle {
      serverCpuByThreadGroup = Map.copyOf(serverCpuByThreadGroup);
    }

    /** Milliseconds of CPU per second of wall time, all servers together. */
    double serverCpuMsPerSecond() {
      return seconds <= 0 || serverCpuNanos < 0 ? Double.NaN : serverCpuNanos / 1e6 / seconds;
    }
  }

  /** One side: its phases (and how its warm-up went), or why it did not run. */
  record Side(String name, String description, String skipped, Phase load,
      JitWarmup.Outcome warmup, Phase get, Phase put, Idle idle) {
    static Side skipped(String name, String why) {
      return new Side(name, null, why, null, null, null, null, null);
    }

    boolean ran() {
      return skipped == null;
    }

    Phase phase(String phase) {
      return switch (phase) {
        case "load" -> load;
        case "get" -> get;
        case "put" -> put;
        default -> throw new IllegalArgumentException(phase);
      };
    }
  }

  private final CompareOptions options;
  private final List<String> args;
  private final Side ringKv;
  private final Side redis;

  CompareReport(CompareOptions options, List<String> args, Side ringKv, Side redis) {
    this.options = options;
    this.args = List.copyOf(args);
    this.ringKv = ringKv;
    this.redis = redis;
  }

  /** {@code a / b}; NaN when either is unknown or {@code b} is not positive. */
  static double ratio(double a, double b) {
    return Double.isNaN(a) || Double.isNaN(b) || b <= 0 || a < 0 ? Double.NaN : a / b;
  }

  /** A ratio with two decimals, or {@code "-"} when there is none. */
  static String ratioText(double r) {
    return Double.isNaN(r) ? "-" : String.format(Locale.ROOT, "%.2f", r);
  }

  /** A figure with {@code decimals} decimals and thousands separators, or {@code "-"}. */
  static String number(double v, int decimals) {
    return Double.isNaN(v) ? "-" : String.format(Locale.ROOT, "%,." + decimals + "f", v);
  }

  String header() {
    return String.format(Locale.ROOT, "RingKV against Redis Cluster: %s each side; %,d keys,"
        + " values of %d bytes; %d connections (closed loop, smart-routed); warm-up %s to %s"
        + " until the JIT compilers use at most %s%% of the servers' CPU; %s per phase; load"
        + " generator: %d thread%s, %d cores; seed %d",
        options.shape(), options.keys(), options.valueSize(), options.connections(),
        seconds(options.warmup().minMs()), seconds(options.warmup().maxMs()),
        number(options.warmup().settledPercent(), 1), seconds(options.durationMs()),
        options.threads(),
        options.threads() == 1 ? "" : "s", Runtime.getRuntime().availableProcessors(),
        options.seed());
  }

  private static String seconds(long ms) {
    return ms % 1000 == 0 ? ms / 1000 + " s" : String.format(Locale.ROOT, "%.1f s", ms / 1e3);
  }

  @Override
  public String text() {
    StringBuilder b = new StringBuilder();
    b.append("\n== ").append(header()).append('\n');
    for (Side s : List.of(ringKv, redis)) {
      b.append("   ").append(label(s.name())).append(": ")
          .append(s.ran() ? s.description() : "skipped: " + s.skipped()).append('\n');
    }
    b.append(String.format(Locale.ROOT, "%n%-34s %14s %14s %14s%n", "", "RingKV",
        "Redis Cluster", "RingKV/Redis"));
    for (String phase : List.of("get", "put")) {
      String op = phase.equals("get") ? "GET" : "PUT/SET";
      row(b, op + " throughput (ops/s)", phase, Phase::throughput, 0);
      row(b, op + " latency p50 (ms)", phase, p -> p.p50Micros() / 1000, 3);
      row(b, op + " latency p99 (ms)", phase, p -> p.p99Micros() / 1000, 3);
      row(b, op + " server CPU per op (µs)", phase, Phase::serverCpuMicrosPerOp, 1);
      row(b, op + " server CPU (cores busy)", phase, Phase::serverCores, 2);
      row(b, op + " server CPU in kernel (%)", phase, Phase::serverKernelPercent, 0);
      row(b, op + " server wake-ups per op", phase, Phase::serverWakeupsPerOp, 2);
      row(b, op + " load gen. CPU per op (µs)", phase, Phase::generatorCpuMicrosPerOp, 1);
      row(b, op + " errors", phase, p -> p.errors(), 0);
      b.append(String.format(Locale.ROOT, "%-34s %14s %14s%n", op + " load average",
          loadAverages(ringKv, phase), loadAverages(redis, phase)));
    }
    Idle ri = ringKv.ran() ? ringKv.idle() : null;
    Idle di = redis.ran() ? redis.idle() : null;
    if (ri != null || di != null) {
      double a = ri == null ? Double.NaN : ri.serverCpuMsPerSecond();
      double c = di == null ? Double.NaN : di.serverCpuMsPerSecond();
      b.append(String.format(Locale.ROOT, "%-34s %14s %14s %14s%n",
          "idle server CPU (ms per s)", number(a, 1), number(c, 1), ratioText(ratio(a, c))));
    }
    b.append('\n').append(generatorCheck()).append('\n');
    for (Side s : List.of(ringKv, redis)) {
      appendDetails(b, s);
    }
    return b.toString();
  }

  private void row(StringBuilder b, String label, String phase, ToDoubleFunction<Phase> f,
      int decimals) {
    double a = value(ringKv, phase, f);
    double c = value(redis, phase, f);
    boolean errors = label.endsWith("errors");
    b.append(String.format(Locale.ROOT, "%-34s %14s %14s %14s%n", label, number(a, decimals),
        number(c, decimals), errors ? "" : ratioText(ratio(a, c))));
  }

  private static double value(Side s, String phase, ToDoubleFunction<Phase> f) {
    if (!s.ran() || s.phase(phase) == null) {
      return Double.NaN;
    }
    return f.applyAsDouble(s.phase(phase));
  }

  private static String loadAverages(Side s, String phase) {
    if (!s.ran() || s.phase(phase) == null) {
      return "-";
    }
    Phase p = s.phase(phase);
    return first(p.loadAverageStart()) + " → " + first(p.loadAverageEnd());
  }

  /** The 1-minute figure of a load average line. */
  private static String first(String loadAverage) {
    return loadAverage.split(" ")[0];
  }

  /**
   * Whether the load generator cost less CPU per operation than the servers in every measured
   * phase, with its figures: the rule that makes the comparison one of servers.
   */
  String generatorCheck() {
    List<String> figures = new ArrayList<>();
    boolean ok = true;
    boolean any = false;
    for (Side s : List.of(ringKv, redis)) {
      for (String phase : List.of("get", "put")) {
        Phase p = s.ran() ? s.phase(phase) : null;
        if (p == null || Double.isNaN(p.generatorCpuMicrosPerOp())) {
          continue;
        }
        any = true;
        double g = p.generatorCpuMicrosPerOp();
        double server = p.serverCpuMicrosPerOp();
        ok &= g < server;
        figures.add(String.format(Locale.ROOT, "%s %s %.1f µs/op (%.0f%% of the servers')",
            label(s.name()), phase.toUpperCase(Locale.ROOT), g, 100 * ratio(g, server)));
      }
    }
    if (!any) {
      return "load generator CPU: not measured";
    }
    return (ok ? "load generator below the servers' CPU per operation in every phase: "
        : "WARNING: the load generator costs more CPU per operation than the servers in some"
            + " phase, so it may be the bottleneck: ") + String.join("; ", figures);
  }

  private static String label(String name) {
    return name.equals(RINGKV) ? "RingKV" : "Redis Cluster";
  }

  private void appendDetails(StringBuilder b, Side s) {
    if (!s.ran()) {
      return;
    }
    b.append('\n').append(label(s.name())).append(":\n");
    if (s.load() != null) {
      b.append(String.format(Locale.ROOT, "  load: %,d keys written in %.1f s, errors %d%s%n",
          s.load().ops(), s.load().seconds(), s.load().errors(),
          s.load().errorsByKind().isEmpty() ? "" : " " + s.load().errorsByKind()));
    }
    if (s.warmup() != null && !s.warmup().compilerPercentByCycle().isEmpty()) {
      b.append(String.format(Locale.ROOT, "  warm-up: %.0f s, %s; JIT compilers' share of the"
          + " servers' CPU per cycle (%%): %s%n", s.warmup().seconds(),
          s.warmup().settled() ? "settled" : "NOT settled", s.warmup().compilerPercentByCycle()
              .stream().map(d -> number(d, 1)).toList()));
    }
    for (String phase : List.of("get", "put")) {
      Phase p = s.phase(phase);
      if (p == null) {
        continue;
      }
      b.append(String.format(Locale.ROOT, "  %s: %,d ops in %.1f s, p99.9 %.3f ms%s%n",
          phase.toUpperCase(Locale.ROOT), p.ops(), p.seconds(), p.p999Micros() / 1000,
          p.errorsByKind().isEmpty() ? "" : ", errors " + p.errorsByKind()));
      b.append("    server CPU by thread group (µs per op): ")
          .append(groups(p.serverCpuByThreadGroup(), p.ops(), -1)).append('\n');
      b.append("    server CPU by process (cores): ")
          .append(byServer(p.serverCpuByServer(), p.seconds())).append('\n');
    }
    if (s.idle() != null) {
      b.append(String.format(Locale.ROOT, "  idle %.1f s (load average %s): %.1f ms of CPU"
          + " per s; by thread group (ms per s): %s%n", s.idle().seconds(),
          first(s.idle().loadAverage()), s.idle().serverCpuMsPerSecond(),
          groups(s.idle().serverCpuByThreadGroup(), 0, s.idle().seconds())));
    }
  }

  /** The largest thread groups: per operation (µs) when {@code ops > 0}, else ms per second. */
  static String groups(Map<String, Long> nanosByGroup, long ops, double seconds) {
    List<String> out = new ArrayList<>();
    nanosByGroup.entrySet().stream()
        .sorted(Map.Entry.<String, Long>comparingByValue().reversed()
            .thenComparing(Map.Entry.comparingByKey()))
        .limit(THREAD_GROUPS_SHOWN)
        .forEach(e -> out.add(e.getKey() + " " + (ops > 0
            ? number(e.getValue() / 1000.0 / ops, 1)
            : number(e.getValue() / 1e6 / seconds, 1))));
    return out.isEmpty() ? "-" : String.join(", ", out);
  }

  private static String byServer(Map<String, Long> nanosByServer, double seconds) {
    List<String> out = new ArrayList<>();
    nanosByServer.forEach((server, n) -> out.add(server + " "
        + number(seconds > 0 ? n / 1e9 / seconds : Double.NaN, 2)));
    return out.isEmpty() ? "-" : String.join(", ", out);
  }

  @Override
  public ObjectNode json() {
    ObjectNode root = MAPPER.createObjectNode();
    root.put("tool", "kvs bench --compare redis");
    root.set("args", MAPPER.valueToTree(args));
    ObjectNode o = root.putObject("options");
    o.put("keys", options.keys());
    o.put("valueSize", options.valueSize());
    o.put("connections", options.connections());
    o.put("shards", options.shards());
    o.put("replicas", options.replicas());
    o.put("warmupMinMs", options.warmup().minMs());
    o.put("warmupMaxMs", options.warmup().maxMs());
    o.put("jitSettledPercent", options.warmup().settledPercent());
    o.put("durationMs", options.durationMs());
    o.put("idleMs", options.idleMs());
    o.put("threads", options.threads());
    o.put("seed", options.seed());
    o.set("nodeJvmFlags", MAPPER.valueToTree(options.nodeJvmFlags()));
    o.put("cores", Runtime.getRuntime().availableProcessors());
    ObjectNode sides = root.putObject("sides");
    for (Side s : List.of(ringKv, redis)) {
      sides.set(s.name(), sideJson(s));
    }
    ObjectNode ratios = root.putObject("ratios");
    ratios.put("meaning", "RingKV / Redis Cluster");
    for (String phase : List.of("get", "put")) {
      ObjectNode r = ratios.putObject(phase);
      ratio(r, "throughput", phase, Phase::throughput);
      ratio(r, "p50", phase, Phase::p50Micros);
      ratio(r, "p99", phase, Phase::p99Micros);
      ratio(r, "serverCpuPerOp", phase, Phase::serverCpuMicrosPerOp);
    }
    root.put("generatorCheck", generatorCheck());
    return root;
  }

  private void ratio(ObjectNode r, String field, String phase, ToDoubleFunction<Phase> f) {
    putNumber(r, field, ratio(value(ringKv, phase, f), value(redis, phase, f)));
  }

  private static ObjectNode sideJson(Side s) {
    ObjectNode n = MAPPER.createObjectNode();
    if (!s.ran()) {
      n.put("skipped", s.skipped());
      return n;
    }
    n.put("description", s.description());
    for (String phase : List.of("load", "get", "put")) {
      Phase p = s.phase(phase);
      if (p != null) {
        n.set(phase, phaseJson(p));
      }
    }
    if (s.warmup() != null) {
      ObjectNode w = n.putObject("warmup");
      w.put("seconds", s.warmup().seconds());
      w.put("settled", s.warmup().settled());
      w.set("compilerCpuPercentByCycle",
          MAPPER.valueToTree(s.warmup().compilerPercentByCycle()));
    }
    if (s.idle() != null) {
      ObjectNode i = n.putObject("idle");
      i.put("seconds", s.idle().seconds());
      i.put("serverCpuMsPerSecond", s.idle().serverCpuMsPerSecond());
      i.set("serverCpuNanosByThreadGroup", MAPPER.valueToTree(new LinkedHashMap<>(
          s.idle().serverCpuByThreadGroup())));
      i.put("loadAverage", s.idle().loadAverage());
    }
    return n;
  }

  private static ObjectNode phaseJson(Phase p) {
    ObjectNode n = MAPPER.createObjectNode();
    n.put("ops", p.ops());
    n.put("errors", p.errors());
    n.set("errorsByKind", MAPPER.valueToTree(p.errorsByKind()));
    n.put("seconds", p.seconds());
    n.put("throughput", p.throughput());
    n.put("p50Micros", p.p50Micros());
    n.put("p99Micros", p.p99Micros());
    n.put("p999Micros", p.p999Micros());
    n.put("serverCpuNanos", p.serverCpuNanos());
    putNumber(n, "serverCpuMicrosPerOp", p.serverCpuMicrosPerOp());
    n.put("serverSystemCpuNanos", p.serverSystemCpuNanos());
    n.put("serverTimeslices", p.serverTimeslices());
    putNumber(n, "serverWakeupsPerOp", p.serverWakeupsPerOp());
    n.put("generatorCpuNanos", p.generatorCpuNanos());
    putNumber(n, "generatorCpuMicrosPerOp", p.generatorCpuMicrosPerOp());
    n.set("serverCpuNanosByProcess", MAPPER.valueToTree(p.serverCpuByServer()));
    n.set("serverCpuNanosByThreadGroup", MAPPER.valueToTree(p.serverCpuByThreadGroup()));
    n.put("loadAverageStart", p.loadAverageStart());
    n.put("loadAverageEnd", p.loadAverageEnd());
    return n;
  }

  /** {@code v} as {@code field}, or null when it is NaN (unknown). */
  private static void putNumber(ObjectNode n, String field, double v) {
    if (Double.isNaN(v)) {
      n.putNull(field);
    } else {
      n.put(field, v);
    }
  }
}
