package ringkv.bench;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.LocalTime;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SplittableRandom;
import org.HdrHistogram.Histogram;

/**
 * {@code ./kvs bench --compare redis}: RingKV against Redis Cluster in one run, same shape,
 * same workload, same load generator ({@link LoadGenerator}), one side after the other (Redis
 * first: it starts in a second; never both at once, so neither side's idle cost weighs on the
 * other). Per side: start the cluster, write every key (load), warm up until the servers' JIT
 * compilers have settled ({@link JitWarmup}), measure GET, measure PUT/SET, close the
 * generator's connections and measure the idle servers, stop the cluster. Around every phase
 * it reads the CPU of every server process and thread (/proc) and of the generator's own JVM,
 * and the load average.
 *
 * <p>Exit code 0, 1 when the run could not be done, 2 for bad options. Every process it starts
 * is stopped at the end, on failure and on Ctrl-C ({@link ChildProcesses}).
 *
 * <p>Not thread-safe; one run per instance, from the main thread.
 */
public final class RedisCompare {
  /** Characters of generated values. */
  private static final String ALPHABET =
      "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
  /** Quiet time between the last phase and the idle window (replication drains). */
  static final long IDLE_SETTLE_MS = 2_000;
  /** Seconds between two progress lines. */
  static final int PROGRESS_EVERY_S = 5;

  private final CompareOptions options;
  private final List<String> args;
  private final PrintStream out;
  /** Every server process started so far (a test checks none outlives the run). */
  private final List<Long> startedServers = new ArrayList<>();

  RedisCompare(CompareOptions options, List<String> args, PrintStream out) {
    this.options = options;
    this.args = List.copyOf(args);
    this.out = out;
  }

  public static void main(String[] args) {
    BenchMain.run("bench --compare", args, CompareOptions::parse, CompareOptions.USAGE,
        CompareOptions::json,
        options -> new RedisCompare(options, List.of(args), System.out).run());
  }

  /** Runs both sides (or the one asked for) and returns the report. */
  CompareReport run() throws IOException {
    if (!ProcCpu.available()) {
      out.println("bench --compare: no /proc here: CPU figures will be missing");
    }
    CompareReport heading = new CompareReport(options, args,
        CompareReport.Side.skipped(CompareReport.RINGKV, "-"),
        CompareReport.Side.skipped(CompareReport.REDIS, "-"));
    out.println("bench --compare: " + heading.header());
    CompareReport.Side redis = options.redis() ? redisSide()
        : CompareReport.Side.skipped(CompareReport.REDIS, "not asked (--only ringkv)");
    CompareReport.Side ringKv = options.ringKv()
        ? measure(new RingKvCluster(options.nodeJar(), options.servers(), options.shards(),
            options.nodeJvmFlags(), options.logDir()))
        : CompareReport.Side.skipped(CompareReport.RINGKV, "not asked (--only redis)");
    return new CompareReport(options, args, ringKv, redis);
  }

  private CompareReport.Side redisSide() throws IOException {
    Optional<Path> server = Optional.ofNullable(options.redisServer())
        .or(() -> RedisCluster.onPath("redis-server"));
    Optional<Path> cli = Optional.ofNullable(options.redisCli())
        .or(() -> RedisCluster.onPath("redis-cli"));
    if (server.isEmpty() || cli.isEmpty()) {
      String why = (server.isEmpty() ? "redis-server" : "redis-cli") + " is not installed"
          + " (apt-get install -y redis-server redis-tools)";
      out.println("bench --compare: " + why + ": Redis Cluster skipped, RingKV measured alone");
      return CompareReport.Side.skipped(CompareReport.REDIS, why);
    }
    return measure(new RedisCluster(server.get(), cli.get(), options.shards(),
        options.replicas(), options.logDir()));
  }

  /** Process ids of every server started so far. */
  List<Long> startedServers() {
    return List.copyOf(startedServers);
  }

  /** One side, start to stop. */
  private CompareReport.Side measure(ComparedCluster cluster) throws IOException {
    try (cluster) {
      String name = cluster.name();
      out.println("bench --compare: starting " + cluster.describe() + " (logs in "
          + options.logDir() + ")");
      ComparedCluster.Routes routes;
      try {
        routes = cluster.start();
      } finally {
        startedServers.addAll(cluster.servers().keySet());
      }
      out.println("bench --compare: " + name + " ready: " + cluster.servers().values()
          + "; requests go to " + routes.targets());
      List<String> keys = keys(options.keys());
      String value = value(options.valueSize(), options.seed());
      List<LoadGenerator.Target> targets = targets(keys, routes.targets(), routes.ownerOf());
      LoadGenerator.Requests[] requests = new LoadGenerator.Requests[keys.size()];
      for (int i = 0; i < keys.size(); i++) {
        String key = keys.get(i);
        requests[i] = cluster.requests(routes.ownerOf().apply(key), key, value);
      }
      CompareReport.Phase load;
      CompareReport.Phase get;
      CompareReport.Phase put;
      JitWarmup.Outcome warmup;
      try (LoadGenerator generator = new LoadGenerator(targets, requests,
          options.connections(), options.threads(),
          () -> cluster.newParser(options.valueSize()), options.seed())) {
        load = phase(cluster, generator, LoadGenerator.Mode.LOAD, 0, "load");
        warmup = warmup(cluster, generator);
        get = phase(cluster, generator, LoadGenerator.Mode.GET, options.durationMs(), "GET");
        put = phase(cluster, generator, LoadGenerator.Mode.PUT, options.durationMs(), "PUT");
      }
      CompareReport.Idle idle = options.idleMs() > 0 ? idle(cluster) : null;
      return new CompareReport.Side(name, cluster.describe(), null, load, warmup, get, put,
          idle);
    }
  }

  /** Runs one phase and measures the servers' and the generator's CPU around it. */
  private CompareReport.Phase phase(ComparedCluster cluster, LoadGenerator generator,
      LoadGenerator.Mode mode, long durationMs, String label) throws IOException {
    Map<Long, String> servers = cluster.servers();
    String loadStart = ProcCpu.loadAverage();
    // Wall-clock time, to find the phase in a node's JFR recording or GC log.
    out.printf("bench --compare: %s %s%s at %s (load average %s)%n", cluster.name(), label,
        durationMs > 0 ? " for " + durationMs / 1000.0 + " s" : "",
        LocalTime.now().truncatedTo(ChronoUnit.MILLIS), loadStart);
    ProcCpu.Snapshot serversStart = ProcCpu.snapshot(servers.keySet());
    long selfStart = ProcCpu.selfTicks();
    int[] ticks = {0};
    LoadGenerator.PhaseResult r = generator.run(mode, durationMs, done -> {
      if (++ticks[0] % PROGRESS_EVERY_S == 0) {
        out.printf("bench --compare:   %s %s %d s: %,d ops%n", cluster.name(), label,
            ticks[0], done);
      }
    });
    long selfEnd = ProcCpu.selfTicks();
    ProcCpu.Snapshot serversEnd = ProcCpu.snapshot(servers.keySet());
    String loadEnd = ProcCpu.loadAverage();
    long hz = ProcCpu.clockTicksPerSecond();
    ProcCpu.Usage usage = ProcCpu.usage(serversStart, serversEnd, hz);
    ProcCpu.Cpu used = usage.nanos();
    long generatorNanos = selfStart < 0 || selfEnd < 0 ? -1
        : ProcCpu.ticksToNanos(selfEnd - selfStart, hz);
    CompareReport.Phase p = phase(label, r, ProcCpu.available() ? used.total() : -1,
        generatorNanos, byLabel(used.processes(), servers), used.groups(), loadStart,
        loadEnd, usage.timeslices(), ProcCpu.available() ? used.system() : -1);
    out.printf("bench --compare: %s %s: %,.0f ops/s, p50 %.3f ms, p99 %.3f ms, server CPU"
        + " %s µs/op, load generator %s µs/op, errors %d%s%n", cluster.name(), label,
        p.throughput(), p.p50Micros() / 1000, p.p99Micros() / 1000,
        CompareReport.number(p.serverCpuMicrosPerOp(), 1),
        CompareReport.number(p.generatorCpuMicrosPerOp(), 1), p.errors(),
        p.errorsByKind().isEmpty() ? "" : " " + p.errorsByKind());
    if (generator.openConnections() == 0) {
      throw new IOException(cluster.name() + ": every connection was closed during the "
          + label + " phase: " + r.errorsByKind());
    }
    return p;
  }

  /**
   * Cycles of mixed, GET and PUT slices until {@link JitWarmup} says the servers' compilers
   * have settled (or its bound is reached); one line per cycle with the compilers' share.
   */
  private JitWarmup.Outcome warmup(ComparedCluster cluster, LoadGenerator generator)
      throws IOException {
    JitWarmup rule = options.warmup();
    if (!rule.any()) {
      return JitWarmup.Outcome.none();
    }
    out.printf("bench --compare: %s warm-up at %s (load average %s): at least %.0f s, at most"
        + " %.0f s, until the JIT compilers use at most %.1f%% of the servers' CPU over a"
        + " cycle%n", cluster.name(), LocalTime.now().truncatedTo(ChronoUnit.MILLIS),
        ProcCpu.loadAverage(), rule.minMs() / 1e3, rule.maxMs() / 1e3, rule.settledPercent());
    long start = System.nanoTime();
    List<Double> shares = new ArrayList<>();
    while (true) {
      ProcCpu.Snapshot before = ProcCpu.snapshot(cluster.servers().keySet());
      long ops = 0;
      for (LoadGenerator.Mode mode : JitWarmup.CYCLE) {
        ops += generator.run(mode, rule.sliceMs(), done -> { }).ops();
      }
      ProcCpu.Usage usage = ProcCpu.usage(before,
          ProcCpu.snapshot(cluster.servers().keySet()), ProcCpu.clockTicksPerSecond());
      double share = JitWarmup.compilerPercent(usage.nanos().groups());
      shares.add(share);
      long elapsedMs = (System.nanoTime() - start) / 1_000_000;
      JitWarmup.Verdict verdict = rule.after(elapsedMs, share);
      out.printf("bench --compare:   %s warm-up %d s: %,.0f ops/s, JIT compilers %.1f%% of the"
          + " servers' CPU%s%n", cluster.name(), elapsedMs / 1000, ops / usage.seconds(), share,
          verdict == JitWarmup.Verdict.GO_ON ? ""
              : verdict == JitWarmup.Verdict.SETTLED ? ": settled"
              : ": NOT settled at the bound (the phases below include compiling)");
      if (verdict != JitWarmup.Verdict.GO_ON) {
        return new JitWarmup.Outcome(elapsedMs / 1e3, verdict == JitWarmup.Verdict.SETTLED,
            shares);
      }
    }
  }

  /** A phase's figures from the generator's result and the CPU read around it. */
  static CompareReport.Phase phase(String label, LoadGenerator.PhaseResult r,
      long serverCpuNanos, long generatorCpuNanos, Map<String, Long> byServer,
      Map<String, Long> byGroup, String loadStart, String loadEnd, long timeslices,
      long systemNanos) {
    Histogram h = r.latencyNanos();
    return new CompareReport.Phase(label, r.ops(), r.errors(), r.errorsByKind(), r.seconds(),
        micros(h, 50), micros(h, 99), micros(h, 99.9), serverCpuNanos, generatorCpuNanos,
        byServer, byGroup, loadStart, loadEnd, timeslices, systemNanos);
  }

  private static double micros(Histogram h, double percentile) {
    return h.getTotalCount() == 0 ? Double.NaN : h.getValueAtPercentile(percentile) / 1000.0;
  }

  private static Map<String, Long> byLabel(Map<Long, Long> byPid, Map<Long, String> labels) {
    Map<String, Long> out = new LinkedHashMap<>();
    labels.forEach((pid, label) -> out.put(label, byPid.getOrDefault(pid, 0L)));
    return out;
  }

  /** The servers' CPU with no client connected, after a short settle. */
  private CompareReport.Idle idle(ComparedCluster cluster) throws IOException {
    Pause.sleep(IDLE_SETTLE_MS);
    String load = ProcCpu.loadAverage();
    ProcCpu.Snapshot start = ProcCpu.snapshot(cluster.servers().keySet());
    Pause.sleep(options.idleMs());
    ProcCpu.Snapshot end = ProcCpu.snapshot(cluster.servers().keySet());
    ProcCpu.Usage u = ProcCpu.usage(start, end, ProcCpu.clockTicksPerSecond());
    CompareReport.Idle idle = new CompareReport.Idle(u.seconds(),
        ProcCpu.available() ? u.nanos().total() : -1, u.nanos().groups(), load);
    out.printf("bench --compare: %s idle: %s ms of CPU per s over %.1f s%n", cluster.name(),
        CompareReport.number(idle.serverCpuMsPerSecond(), 1), idle.seconds());
    return idle;
  }

  /** The bench's keys {@code user0 .. user{n-1}}. */
  static List<String> keys(int n) {
    List<String> out = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      out.add(BenchOptions.key(i));
    }
    return out;
  }

  /** {@code size} letters and digits, the same for a seed (JSON-safe as is). */
  static String value(int size, long seed) {
    SplittableRandom random = new SplittableRandom(seed);
    StringBuilder b = new StringBuilder(size);
    for (int i = 0; i < size; i++) {
      b.append(ALPHABET.charAt(random.nextInt(ALPHABET.length())));
    }
    return b.toString();
  }

  /**
   * The generator's targets: every server of {@code servers} with the indexes of the keys it
   * owns, in the given order.
   *
   * @throws IllegalStateException if a key's owner is not among {@code servers}, or a server
   *     owns no key (its connections would have nothing to send)
   */
  static List<LoadGenerator.Target> targets(List<String> keys, List<String> servers,
      java.util.function.Function<String, String> ownerOf) {
    Map<String, List<Integer>> owned = new LinkedHashMap<>();
    servers.forEach(s -> owned.put(s, new ArrayList<>()));
    for (int i = 0; i < keys.size(); i++) {
      String owner = ownerOf.apply(keys.get(i));
      List<Integer> list = owned.get(owner);
      if (list == null) {
        throw new IllegalStateException("key " + keys.get(i) + " belongs to " + owner
            + ", not one of " + servers);
      }
      list.add(i);
    }
    List<LoadGenerator.Target> out = new ArrayList<>();
    owned.forEach((server, list) -> {
      if (list.isEmpty()) {
        throw new IllegalStateException(server + " owns none of the " + keys.size()
            + " keys; use more keys");
      }
      out.add(new LoadGenerator.Target(server,
          list.stream().mapToInt(Integer::intValue).toArray()));
    });
    return out;
  }
}
