package ringkv.bench;

import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import ringkv.client.RingKvClient;

/**
 * The options of one bench run, parsed once from the command line; see {@link #USAGE}.
 *
 * <p>Exactly one of {@code target} and {@code startNodes} is set. Immutable; thread-safe.
 *
 * @param records records inserted by the load phase
 * @param valueSize characters of each value (a JSON string)
 * @param connections concurrent operations (each waits for its answer; with a rate, the
 *     bound on operations outstanding)
 * @param durationMs measured phase
 * @param warmupMs unmeasured phase before it
 * @param workload operation mix
 * @param zipfian zipfian (YCSB scrambled) key choice, else uniform
 * @param target a node of a running cluster, or null
 * @param startNodes nodes of a local cluster to start, or 0
 * @param startShards its SHARD_COUNT
 * @param routing client routing (smart = ring-aware, naive = a random node)
 * @param ceiling also measure the trivial HTTP server
 * @param json where to write the JSON report, or null
 * @param nodeJar the node's executable jar (for {@code --start-cluster})
 * @param logDir where started processes log
 * @param seed seed of the load generator's randomness
 * @param rate open-loop operations per second in total, or 0 for a closed loop
 * @param lag probe replication lag during the measured phase
 * @param lagIntervalMs time between two lag probes
 * @param atHalfMax measure the maximum throughput (closed loop), then run again at half of it
 *     with the lag probe
 * @param nodeJvmFlags JVM flags of started nodes and of the ceiling server
 * @param clientIoThreads event loop threads of the client library
 * @param clientNativeTransport let the client library use Netty's epoll transport
 * @param caPem CA (PEM) to trust for HTTPS to a {@code --target} that serves TLS, or null:
 *     plain HTTP
 * @param token bearer token sent on every request (env {@code CLIENT_TOKEN}), or null
 */
public record BenchOptions(long records, int valueSize, int connections, long durationMs,
    long warmupMs, Workload workload, boolean zipfian, String target, int startNodes,
    int startShards, RingKvClient.Routing routing, boolean ceiling, Path json, Path nodeJar,
    Path logDir, long seed, double rate, boolean lag, long lagIntervalMs, boolean atHalfMax,
    List<String> nodeJvmFlags, int clientIoThreads, boolean clientNativeTransport, Path caPem,
    Secret token) {

  /** A secret read from the environment; its {@code toString()} never shows it. */
  public record Secret(String value) {
    @Override
    public String toString() {
      return "(set)";
    }
  }

  /**
   * JVM flags of the nodes --start-cluster starts (and of the ceiling server): a node as it
   * would run in production (both JIT tiers, serial GC suits a one-event-loop process, a heap
   * that holds a million 100-byte records).
   */
  public static final List<String> NODE_JVM_FLAGS_DEFAULT =
      List.of("-Xms64m", "-Xmx512m", "-XX:+UseSerialGC");

  /** Highest --rate accepted (ops/s). */
  public static final long RATE_MAX = 10_000_000;
  /** Default time between two lag probes. */
  public static final long LAG_INTERVAL_MS_DEFAULT = 20;

  public static final String USAGE = String.join("\n",
      "Usage: ./kvs bench [options]   (java -jar bench/target/kvs-bench.jar [options])",
      "",
      "YCSB-style load against RingKV through the client library. Load phase (not timed):",
      "insert --records records; then --warmup, then --duration measured.",
      "",
      "  --target H:P              a node of a running cluster (shard dialect), or",
      "  --start-cluster N,S       start N local nodes with SHARD_COUNT=S, stop them at the end",
      "                            (default: --start-cluster 6,2)",
      "  --workload A|B|C|W        A 50/50 read/update, B 95/5, C read only, W update only (A)",
      "  --distribution uniform|zipfian   key choice; zipfian = YCSB's, constant 0.99 (zipfian)",
      "  --records N               records loaded and then used (100000)",
      "  --value-size N            characters per value (100)",
      "  --connections N           concurrent operations, closed loop; with --rate the most",
      "                            operations outstanding (16)",
      "  --duration T              measured time, e.g. 30s, 2m, 500ms (30s)",
      "  --warmup T                unmeasured time before it (5s)",
      "  --routing smart|naive     ring-aware client, or a random node per request (smart)",
      "  --rate N                  open loop: N operations/s in total on one fixed schedule that",
      "                            the connections share (a free one takes the next operation);",
      "                            latency counts from each operation's scheduled time",
      "                            (coordinated omission corrected); operations issued late (all",
      "                            connections busy) or missed are reported (default: closed loop)",
      "  --lag                     during the measured phase, probe replication lag: PUT a",
      "                            probe key (lagprobe-*) on one member of a shard, poll the",
      "                            other members until they show it; p50/p99/p99.9/max",
      "  --lag-interval T          time between two lag probes, shards in turn (20ms)",
      "  --at-half-max             run twice on one cluster: closed loop for the maximum",
      "                            throughput, then --rate at half of it with --lag (issue 7:",
      "                            replication lag p99 at half the maximum throughput)",
      "  --ceiling                 also measure a trivial HTTP server (fixed JSON answers) with",
      "                            the same load generator (closed loop), and print ratios",
      "  --json FILE               also write the results as JSON",
      "  --node-jar FILE           node jar for --start-cluster (node/target/kvs-node.jar)",
      "  --logs DIR                logs of started processes (logs/bench)",
      "  --node-jvm-flags \"F ...\"  JVM flags of started nodes and of the ceiling server",
      "                            (" + String.join(" ", NODE_JVM_FLAGS_DEFAULT) + ")",
      "  --seed N                  seed of the load generator (random)",
      "  --client-io-threads N     event loop threads of the client library ("
          + RingKvClient.IO_THREADS_DEFAULT + ")",
      "  --client-transport epoll|nio   the client library's transport: Netty's native epoll",
      "                            (where it loads, else NIO) or the JDK's NIO (epoll)",
      "  --cacert FILE             HTTPS to --target, trusting this CA (PEM; the nodes'",
      "                            TLS_CA); default env KVS_CA, else TLS_CA (plain HTTP)",
      "  env CLIENT_TOKEN          sent as the bearer token on every request (secured",
      "                            clusters; the lag probe's requests too)",
      "  --help",
      "",
      "./kvs bench --compare redis [options] instead runs RingKV against a Redis Cluster of",
      "the same shape in one run (its options: ./kvs bench --compare redis --help).");

  public BenchOptions {
    check(records >= 1, "--records must be >= 1");
    check(valueSize >= 1 && valueSize <= 512 * 1024, "--value-size must be in 1..524288");
    check(connections >= 1 && connections <= 4096, "--connections must be in 1..4096");
    check(durationMs >= 1, "--duration must be positive");
    check(warmupMs >= 0, "--warmup must not be negative");
    check((target == null) != (startNodes == 0), "give either --target or --start-cluster");
    check(startNodes == 0 || (startShards >= 1 && startShards <= startNodes),
        "--start-cluster N,S needs 1 <= S <= N");
    check(rate >= 0 && rate <= RATE_MAX, "--rate must be in 1.." + RATE_MAX);
    check(lagIntervalMs >= 1, "--lag-interval must be positive");
    check(!(atHalfMax && rate > 0), "--at-half-max chooses the rate itself; drop --rate");
    check(clientIoThreads >= 1 && clientIoThreads <= 64, "--client-io-threads must be in 1..64");
    check(caPem == null || target != null,
        "--cacert needs --target (--start-cluster starts plain HTTP nodes)");
  }

  private static void check(boolean ok, String message) {
    if (!ok) {
      throw new IllegalArgumentException(message);
    }
  }

  /**
   * Parses the command line.
   *
   * @return null when {@code --help} was asked
   * @throws IllegalArgumentException with a one-line message for a bad option
   */
  public static BenchOptions parse(String... args) {
    return parse(System.getenv(), args);
  }

  /** {@link #parse(String...)} with {@code env} as the environment. */
  public static BenchOptions parse(java.util.Map<String, String> env, String... args) {
    Path caPem = null;
    long records = 100_000;
    int valueSize = 100;
    int connections = 16;
    long durationMs = 30_000;
    long warmupMs = 5_000;
    Workload workload = Workload.A;
    boolean zipfian = true;
    String target = null;
    int nodes = 0;
    int shards = 0;
    RingKvClient.Routing routing = RingKvClient.Routing.SMART;
    boolean ceiling = false;
    Path json = null;
    Path nodeJar = Path.of("node", "target", "kvs-node.jar");
    Path logDir = Path.of("logs", "bench");
    long seed = System.nanoTime();
    long rate = 0;
    boolean lag = false;
    long lagIntervalMs = LAG_INTERVAL_MS_DEFAULT;
    boolean atHalfMax = false;
    List<String> nodeJvmFlags = NODE_JVM_FLAGS_DEFAULT;
    int clientIoThreads = RingKvClient.IO_THREADS_DEFAULT;
    boolean clientNativeTransport = true;
    OptionWords words = new OptionWords(args);
    while (words.hasNext()) {
      String option = words.next();
      switch (option) {
        case "--help", "-h" -> {
          return null;
        }
        case "--ceiling" -> ceiling = true;
        case "--lag" -> lag = true;
        case "--at-half-max" -> atHalfMax = true;
        default -> {
          String value = words.value(option);
          switch (option) {
            case "--records" -> records = number(option, value);
            case "--value-size" -> valueSize = (int) number(option, value);
            case "--connections", "--concurrency" -> connections = (int) number(option, value);
            case "--duration" -> durationMs = durationMs(option, value);
            case "--warmup" -> warmupMs = durationMs(option, value);
            case "--workload" -> workload = workload(value);
            case "--distribution" -> zipfian = distribution(value);
            case "--target" -> target = address(value);
            case "--start-cluster" -> {
              String[] parts = value.split(",", -1);
              check(parts.length == 2, "--start-cluster takes N,S (e.g. 6,2)");
              nodes = (int) number(option, parts[0]);
              shards = (int) number(option, parts[1]);
            }
            case "--routing" -> routing = routing(value);
            case "--json" -> json = Path.of(value);
            case "--node-jar" -> nodeJar = Path.of(value);
            case "--logs" -> logDir = Path.of(value);
            case "--node-jvm-flags" -> nodeJvmFlags = OptionWords.jvmFlags(value);
            case "--seed" -> seed = number(option, value);
            case "--client-io-threads" -> clientIoThreads = (int) number(option, value);
            case "--client-transport" -> clientNativeTransport = clientTransport(value);
            case "--cacert" -> caPem = Path.of(value);
            case "--rate" -> rate = rate(option, value);
            case "--lag-interval" -> lagIntervalMs = durationMs(option, value);
            default -> throw new IllegalArgumentException("unknown option " + option
                + " (see --help)");
          }
        }
      }
    }
    check(target == null || nodes == 0, "give either --target or --start-cluster, not both");
    if (target == null && nodes == 0) {
      nodes = 6;
      shards = 2;
    }
    Path ca = caPem == null && target != null ? caFromEnv(env) : caPem;
    return new BenchOptions(records, valueSize, connections, durationMs, warmupMs, workload,
        zipfian, target, nodes, shards, routing, ceiling, json, nodeJar, logDir, seed, rate, lag,
        lagIntervalMs, atHalfMax, nodeJvmFlags, clientIoThreads, clientNativeTransport, ca,
        clientToken(env));
  }

  /** {@code --rate}: operations per second, at least 1. */
  private static long rate(String option, String value) {
    long rate = number(option, value);
    check(rate >= 1, "--rate must be in 1.." + RATE_MAX);
    return rate;
  }

  /** {@code CLIENT_TOKEN} from the environment, or null. */
  private static Secret clientToken(java.util.Map<String, String> env) {
    String token = nonEmpty(env.get("CLIENT_TOKEN"));
    return token == null ? null : new Secret(token);
  }

  /** The CA of a --target cluster given no --cacert: {@code KVS_CA}, else {@code TLS_CA}. */
  private static Path caFromEnv(java.util.Map<String, String> env) {
    String fromEnv = nonEmpty(env.get("KVS_CA")) != null ? env.get("KVS_CA")
        : nonEmpty(env.get("TLS_CA"));
    return fromEnv == null ? null : Path.of(fromEnv);
  }

  private static String nonEmpty(String value) {
    return value == null || value.isEmpty() ? null : value;
  }

  private static long number(String option, String value) {
    try {
      long n = Long.parseLong(value.replace("_", ""));
      if (n < 0) {
        throw new NumberFormatException();
      }
      return n;
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(option + " needs a non-negative integer, got "
          + value);
    }
  }

  /** {@code 500ms}, {@code 10s}, {@code 2m}; a bare number is seconds. */
  static long durationMs(String option, String value) {
    String v = value.strip().toLowerCase(Locale.ROOT);
    long unit = 1000;
    if (v.endsWith("ms")) {
      unit = 1;
      v = v.substring(0, v.length() - 2);
    } else if (v.endsWith("s")) {
      v = v.substring(0, v.length() - 1);
    } else if (v.endsWith("m")) {
      unit = 60_000;
      v = v.substring(0, v.length() - 1);
    }
    return number(option, v) * unit;
  }

  private static Workload workload(String value) {
    try {
      return Workload.valueOf(value.strip().toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("--workload must be A, B, C or W, got " + value);
    }
  }

  private static boolean distribution(String value) {
    return either("--distribution", value, "zipfian", "uniform");
  }

  private static boolean clientTransport(String value) {
    return either("--client-transport", value, "epoll", "nio");
  }

  /**
   * An option with two values (any case): true for {@code yes}, false for {@code no}; the
   * error names both in alphabetical order.
   */
  private static boolean either(String option, String value, String yes, String no) {
    String v = value.strip().toLowerCase(Locale.ROOT);
    if (v.equals(yes)) {
      return true;
    }
    if (v.equals(no)) {
      return false;
    }
    boolean yesFirst = yes.compareTo(no) < 0;
    throw new IllegalArgumentException(option + " must be " + (yesFirst ? yes : no) + " or "
        + (yesFirst ? no : yes) + ", got " + value);
  }

  private static RingKvClient.Routing routing(String value) {
    switch (value.strip().toLowerCase(Locale.ROOT)) {
      case "smart":
        return RingKvClient.Routing.SMART;
      case "naive":
        return RingKvClient.Routing.RANDOM_NODE;
      default:
        throw new IllegalArgumentException("--routing must be smart or naive, got " + value);
    }
  }

  private static String address(String value) {
    int colon = value.lastIndexOf(':');
    if (colon < 1 || !value.substring(colon + 1).matches("\\d{1,5}")) {
      throw new IllegalArgumentException("--target must be host:port, got " + value);
    }
    return value;
  }

  /** The key of record {@code n}, as YCSB names them. */
  public static String key(long n) {
    return "user" + n;
  }

  /** {@code "6 nodes / 2 shards"} or {@code "host:port"}. */
  public String describeCluster() {
    return target != null ? target : startNodes + " node" + (startNodes == 1 ? "" : "s") + " / "
        + startShards + " shard" + (startShards == 1 ? "" : "s");
  }
}
