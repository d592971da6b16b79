package ringkv.bench;

import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/**
 * The options of {@code ./kvs bench --compare redis}, parsed once; see {@link #USAGE}.
 * Immutable; thread-safe.
 *
 * @param keys keys written by the load phase and then used (uniformly)
 * @param valueSize bytes of each value (RingKV stores them as a JSON string, 2 bytes more)
 * @param connections connections of the load generator, spread evenly over the servers that
 *     take requests (RingKV: every node; Redis: the masters)
 * @param shards shards (Redis: masters)
 * @param replicas copies of each shard (Redis: a master and {@code replicas - 1} replicas)
 * @param warmup the unmeasured warm-up after the load: its bounds and when the JIT counts as
 *     settled ({@link JitWarmup})
 * @param durationMs each measured phase (GET, then PUT)
 * @param idleMs a window with no load at the end, for the servers' idle CPU (0: none)
 * @param ringKv measure RingKV
 * @param redis measure Redis Cluster
 * @param threads load generator threads
 * @param json where to write the JSON report, or null
 * @param nodeJar the RingKV node's executable jar
 * @param logDir where started processes log (and Redis keeps its cluster files)
 * @param nodeJvmFlags JVM flags of the RingKV nodes
 * @param redisServer the redis-server executable, or null to look on the PATH
 * @param redisCli the redis-cli executable, or null to look on the PATH
 * @param seed seed of the generator's key and operation choices and of the values
 */
record CompareOptions(int keys, int valueSize, int connections, int shards, int replicas,
    JitWarmup warmup, long durationMs, long idleMs, boolean ringKv, boolean redis, int threads,
    Path json, Path nodeJar, Path logDir, List<String> nodeJvmFlags, Path redisServer,
    Path redisCli, long seed) {

  /**
   * The RingKV nodes' JVM flags unless {@code --node-jvm-flags} says otherwise: both JIT tiers,
   * as a node runs in production. Six JVMs starting together on two cores keep their C2
   * compilers busy for a minute or more under load, which the warm-up waits out
   * ({@link JitWarmup}); C1 alone settles sooner but its code costs 2.4-4 times as much per
   * request (BENCHMARKS.md, "Against Redis Cluster").
   */
  static final List<String> NODE_JVM_FLAGS_DEFAULT = List.of("-Xms64m", "-Xmx512m",
      "-XX:+UseSerialGC");
  /** Default warm-up bounds and the JIT share that counts as settled. */
  static final long WARMUP_MIN_MS_DEFAULT = 30_000;
  static final long WARMUP_MAX_MS_DEFAULT = 300_000;
  static final double JIT_SETTLED_PERCENT_DEFAULT = 3;

  public static final String USAGE = String.join("\n",
      "Usage: ./kvs bench --compare redis [options]",
      "       (java -jar bench/target/kvs-bench.jar --compare redis [options])",
      "",
      "Starts a RingKV cluster and a Redis Cluster of the same shape (S shards x R copies:",
      "S masters and S*(R-1) replicas), one after the other, and drives both with the same",
      "load generator (Java NIO, closed loop, one request outstanding per connection; HTTP/1.1",
      "keep-alive to RingKV, RESP to Redis), smart-routed: each key goes straight to the",
      "server that serves it (RingKV: its shard's member by rendezvous, from GET /ring; Redis:",
      "its slot's master). Phases on each side: load (write every key), warm-up (cycles of",
      "5 s of half GETs and half PUTs, 5 s of GETs, 5 s of PUTs, until the servers' JIT",
      "compilers have settled), GET, PUT/SET, then an idle window. Prints throughput, p50/p99,",
      "the CPU (utime+stime from /proc) of all server processes per operation and the load",
      "generator's own CPU per operation, side by side, with the ratios RingKV/Redis.",
      "Redis comes from the OS packages (apt-get install -y redis-server redis-tools); where",
      "redis-server is missing, it says so and measures RingKV alone.",
      "",
      "  --keys N                  keys (3000)",
      "  --value-size N            bytes per value (100)",
      "  --connections N           load generator connections (48)",
      "  --shards N                shards / Redis masters, >= 3 (3)",
      "  --replicas N              copies per shard, >= 2 (2): 6 server processes per side",
      "  --warmup T                least warm-up per side, e.g. 30s, 2m (30s; 0: none)",
      "  --warmup-max T            most warm-up per side (5m): the warm-up goes on past",
      "                            --warmup until the servers' JIT compiler threads used at",
      "                            most --jit-settled of their CPU over a cycle (15 s); equal",
      "                            to --warmup: a fixed warm-up",
      "  --jit-settled PCT         compilers' share of the servers' CPU that counts as",
      "                            settled, in percent (3)",
      "  --duration T              each measured phase, GET and PUT (20s)",
      "  --idle T                  idle window at the end, server CPU with no load (5s; 0: no)",
      "  --only ringkv|redis       measure one side only",
      "  --threads N               load generator threads (1)",
      "  --json FILE               also write the results as JSON",
      "  --node-jar FILE           node jar (node/target/kvs-node.jar)",
      "  --logs DIR                logs of started processes (logs/bench)",
      "  --node-jvm-flags \"F ...\"  JVM flags of the RingKV nodes ("
          + String.join(" ", NODE_JVM_FLAGS_DEFAULT) + ")",
      "  --redis-server FILE       redis-server to run (the one on the PATH)",
      "  --redis-cli FILE          redis-cli to run (the one on the PATH)",
      "  --seed N                  seed of keys, operations and values (random)",
      "  --help");

  CompareOptions {
    check(keys >= 1 && keys <= 10_000_000, "--keys must be in 1..10000000");
    check(valueSize >= 1 && valueSize <= 64 * 1024, "--value-size must be in 1..65536");
    check(shards >= 3 && shards <= 64, "--shards must be in 3..64 (Redis Cluster needs 3"
        + " masters)");
    check(replicas >= 2 && replicas <= 8, "--replicas must be in 2..8");
    check(connections >= shards * replicas && connections <= 4096,
        "--connections must be in " + shards * replicas + "..4096 (one per server at least)");
    check(durationMs >= 1, "--duration must be positive");
    check(threads >= 1 && threads <= 64, "--threads must be in 1..64");
    check(ringKv || redis, "nothing to measure");
    nodeJvmFlags = List.copyOf(nodeJvmFlags);
  }

  private static void check(boolean ok, String message) {
    if (!ok) {
      throw new IllegalArgumentException(message);
    }
  }

  /** Whether the command line asks for the comparison ({@code --compare ...}). */
  static boolean asked(String... args) {
    for (String a : args) {
      if (a.equals("--compare") || a.startsWith("--compare=")) {
        return true;
      }
    }
    return false;
  }

  /**
   * Parses the command line.
   *
   * @return null when {@code --help} was asked
   * @throws IllegalArgumentException with a one-line message for a bad option
   */
  static CompareOptions parse(String... args) {
    int keys = 3000;
    int valueSize = 100;
    int connections = 48;
    int shards = 3;
    int replicas = 2;
    long warmupMs = WARMUP_MIN_MS_DEFAULT;
    long warmupMaxMs = -1;
    double jitSettled = JIT_SETTLED_PERCENT_DEFAULT;
    long durationMs = 20_000;
    long idleMs = 5_000;
    boolean ringKv = true;
    boolean redis = true;
    int threads = 1;
    Path json = null;
    Path nodeJar = Path.of("node", "target", "kvs-node.jar");
    Path logDir = Path.of("logs", "bench");
    List<String> nodeJvmFlags = NODE_JVM_FLAGS_DEFAULT;
    Path redisServer = null;
    Path redisCli = null;
    long seed = System.nanoTime();
    boolean compare = false;
    OptionWords words = new OptionWords(args);
    while (words.hasNext()) {
      String option = words.next();
      if (option.equals("--help") || option.equals("-h")) {
        return null;
      }
      String value = words.value(option);
      switch (option) {
        case "--compare" -> {
          check(value.equals("redis"), "--compare knows only redis, got " + value);
          compare = true;
        }
        case "--keys", "--records" -> keys = (int) number(option, value, Integer.MAX_VALUE);
        case "--value-size" -> valueSize = (int) number(option, value, Integer.MAX_VALUE);
        case "--connections" -> connections = (int) number(option, value, Integer.MAX_VALUE);
        case "--shards" -> shards = (int) number(option, value, Integer.MAX_VALUE);
        case "--replicas" -> replicas = (int) number(option, value, Integer.MAX_VALUE);
        case "--warmup" -> warmupMs = BenchOptions.durationMs(option, value);
        case "--warmup-max" -> warmupMaxMs = BenchOptions.durationMs(option, value);
        case "--jit-settled" -> jitSettled = percent(option, value);
        case "--duration" -> durationMs = BenchOptions.durationMs(option, value);
        case "--idle" -> idleMs = BenchOptions.durationMs(option, value);
        case "--only" -> {
          switch (value.strip().toLowerCase(Locale.ROOT)) {
            case "ringkv" -> redis = false;
            case "redis" -> ringKv = false;
            default -> throw new IllegalArgumentException("--only must be ringkv or redis,"
                + " got " + value);
          }
        }
        case "--threads" -> threads = (int) number(option, value, Integer.MAX_VALUE);
        case "--json" -> json = Path.of(value);
        case "--node-jar" -> nodeJar = Path.of(value);
        case "--logs" -> logDir = Path.of(value);
        case "--node-jvm-flags" -> nodeJvmFlags = OptionWords.jvmFlags(value);
        case "--redis-server" -> redisServer = Path.of(value);
        case "--redis-cli" -> redisCli = Path.of(value);
        case "--seed" -> seed = number(option, value, Long.MAX_VALUE);
        default -> throw new IllegalArgumentException("unknown option " + option
            + " for --compare (see --compare redis --help)");
      }
    }
    check(compare, "--compare redis is missing");
    long max = warmupMaxMs >= 0 ? warmupMaxMs : Math.max(warmupMs, WARMUP_MAX_MS_DEFAULT);
    check(max >= warmupMs, "--warmup-max must be at least --warmup");
    return new CompareOptions(keys, valueSize, connections, shards, replicas,
        new JitWarmup(warmupMs, max, jitSettled), durationMs, idleMs, ringKv, redis, threads,
        json, nodeJar, logDir, nodeJvmFlags,
        redisServer, redisCli, seed);
  }

  private static long number(String option, String value, long max) {
    try {
      long n = Long.parseLong(value.strip().replace("_", ""));
      if (n < 0 || n > max) {
        throw new NumberFormatException();
      }
      return n;
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(option + " needs a non-negative integer, got "
          + value);
    }
  }

  private static double percent(String option, String value) {
    try {
      double d = Double.parseDouble(value.strip());
      if (d >= 0 && d <= 100) {
        return d;
      }
    } catch (NumberFormatException e) {
      // Falls through to the message.
    }
    throw new IllegalArgumentException(option + " needs a percentage (0..100), got " + value);
  }

  /** Server processes per side. */
  int servers() {
    return shards * replicas;
  }

  /** {@code "6 nodes = 3 shards x 2 replicas"}. */
  String shape() {
    return servers() + " servers = " + shards + " shards x " + replicas + " replicas";
  }
}
