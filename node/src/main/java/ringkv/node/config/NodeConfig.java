package ringkv.node.config;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import ringkv.node.storage.DurabilityMode;
import ringkv.ring.NodeAddress;
import ringkv.ring.Ring;

/**
 * Everything a node is configured with, parsed once at start from the environment (and flags of
 * the same meaning: {@code --shard-count 2} is {@code SHARD_COUNT=2}). Units are last in names.
 * Nothing else in the node reads the environment.
 *
 * @param dialect the dialect whose conventions (shard id type) shared endpoints such as
 *     {@code /ring} follow: view-change when started with {@code ADDRESS}, else shard
 * @param address this node's {@code host:port}; it listens on exactly that
 * @param view every node of the cluster as configured at start
 * @param shardCount {@code SHARD_COUNT}, if given (shard dialect)
 * @param replFactor {@code REPL_FACTOR}, if given (view-change dialect)
 * @param dataDir {@code DATA_DIR}, if given (durable storage)
 * @param bindHost {@code BIND_ADDRESS}: the host (IP address or name) the node listens on;
 *     default the host of its own address. {@code 0.0.0.0} listens on every interface (the
 *     container image's default, so a container attached to a second network answers there).
 * @param causalWaitMs how long the shard dialect waits for a read's causal dependencies
 * @param kvsCausalWaitMs the same wait in the view-change dialect (then 400, SPEC §4)
 * @param kvsRequestTimeoutMs how long a view-change dialect key-value request may take before
 *     it answers 503 (SPEC §4: 5 s)
 * @param batchIntervalMs {@code BATCH_INTERVAL_MS}: the least time between two replication
 *     batches to one peer after a batch of several writes, so that under a stream of writes a
 *     batch carries many of them ({@code ReplicationQueue.Limits#batchIntervalMsMin}; a batch
 *     of one write is followed at once); 0 sends each as soon as the previous one is
 *     acknowledged
 * @param acksWaitMs how long a write that asked for more replicas ({@code RingKV-Acks}) waits
 *     for their acknowledgements before it answers 503 with how many held it
 * @param antiEntropyIntervalMs how often a node reconciles its shard's data with one peer
 * @param exitWithParent {@code EXIT_WITH_PARENT=1}: the node stops (gracefully) when the process
 *     that started it exits, so a supervisor that dies without stopping it (a test JVM killed
 *     with SIGKILL) leaves no node behind
 * @param logFormat {@code LOG_FORMAT}: {@code text} (default) or {@code json}, one JSON object
 *     per line with the node, the epoch and the request id
 * @param clockAheadMsMax how far ahead of this node's wall clock a Lamport counter may be, from
 *     a client or a peer ({@code CounterBound})
 * @param epochAheadMax how far ahead of this node's configuration a newer one may be
 *     ({@code EpochBound})
 * @param signatureWindowMs how far a signed peer request's timestamp may be from this node's
 *     clock (a sender whose clock is further off is told this node's time and corrects itself)
 * @param noncesMax signed requests remembered at once to refuse replays (then 503)
 * @param idleTimeoutMs a connection silent this long is closed
 * @param requestReadTimeoutMs a request whose body (or a new connection whose first request)
 *     has not fully arrived this long after it started is cut off, freeing its slot
 * @param connectionsMax open connections; a new one beyond it is closed at once
 * @param clientRequestsInFlightMax client requests served at once (then 503)
 * @param peerRequestsInFlightMax peer requests served at once (then 503), a budget of their
 *     own so client load never starves heartbeats and replication
 * @param security secrets and TLS files ({@link SecurityConfig}); its string form names no value
 * @param durability {@code DURABILITY} (with {@code DATA_DIR}): when an acknowledged write is on
 *     the disk: {@code sync} (default; group commit), {@code periodic}, {@code os}
 * @param fsyncIntervalMs {@code FSYNC_INTERVAL_MS}: the background sync interval of
 *     {@code periodic}
 * @param scrubBytesPerSec {@code SCRUB_BYTES_PER_SEC}: the rate at which the background scrub
 *     verifies the stored records (0: no scrub)
 */
public record NodeConfig(
    Dialect dialect,
    NodeAddress address,
    List<NodeAddress> view,
    OptionalInt shardCount,
    OptionalInt replFactor,
    Optional<Path> dataDir,
    String bindHost,
    int vnodesPerShard,
    long causalWaitMs,
    long kvsCausalWaitMs,
    long kvsRequestTimeoutMs,
    long acksWaitMs,
    long forwardTimeoutMs,
    long connectTimeoutMs,
    long replicationTickMs,
    long heartbeatIntervalMs,
    long failureTimeoutMs,
    long viewChangeTimeoutMs,
    long retryDelayMsMin,
    long retryDelayMsMax,
    int queueEntriesMax,
    int batchEntriesMax,
    long batchIntervalMs,
    int waitersMax,
    int bodyBytesMax,
    long antiEntropyIntervalMs,
    boolean exitWithParent,
    LogFormat logFormat,
    long clockAheadMsMax,
    long epochAheadMax,
    long signatureWindowMs,
    int noncesMax,
    long idleTimeoutMs,
    long requestReadTimeoutMs,
    int connectionsMax,
    int clientRequestsInFlightMax,
    int peerRequestsInFlightMax,
    SecurityConfig security,
    DurabilityMode durability,
    long fsyncIntervalMs,
    long scrubBytesPerSec) {

  /** The two HTTP dialects; every node serves both, this picks shared conventions. */
  public enum Dialect {
    SHARD,
    VIEW_CHANGE
  }

  /** How the node writes its log lines ({@code LOG_FORMAT}). */
  public enum LogFormat {
    TEXT,
    JSON;

    /** The value as written in {@code LOG_FORMAT}. */
    public String text() {
      return name().toLowerCase(java.util.Locale.ROOT);
    }
  }

  /** Thrown for a bad setting; the message is the one line printed before exiting. */
  public static final class BadConfigException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    BadConfigException(String message) {
      super(message);
    }
  }

  /** Tunables with their defaults, in the order they are printed at start. */
  static final Map<String, Long> DEFAULTS = defaults();

  private static Map<String, Long> defaults() {
    Map<String, Long> d = new LinkedHashMap<>();
    d.put("VNODES_PER_SHARD", (long) Ring.DEFAULT_VNODES_PER_SHARD);
    d.put("CAUSAL_WAIT_MS", 3_000L);
    d.put("KVS_CAUSAL_WAIT_MS", 2_000L);
    d.put("KVS_REQUEST_TIMEOUT_MS", 5_000L);
    d.put("ACKS_WAIT_MS", 2_000L);
    d.put("FORWARD_TIMEOUT_MS", 4_500L);
    d.put("CONNECT_TIMEOUT_MS", 500L);
    d.put("REPLICATION_TICK_MS", 25L);
    d.put("HEARTBEAT_INTERVAL_MS", 250L);
    d.put("FAILURE_TIMEOUT_MS", 1_500L);
    d.put("VIEW_CHANGE_TIMEOUT_MS", 20_000L);
    d.put("RETRY_DELAY_MS_MIN", 20L);
    d.put("RETRY_DELAY_MS_MAX", 2_000L);
    d.put("QUEUE_ENTRIES_MAX", 100_000L);
    d.put("BATCH_ENTRIES_MAX", 512L);
    d.put("BATCH_INTERVAL_MS", 5L);
    d.put("WAITERS_MAX", 10_000L);
    d.put("BODY_BYTES_MAX", 1_048_576L);
    d.put("ANTI_ENTROPY_INTERVAL_MS", 10_000L);
    d.put("EXIT_WITH_PARENT", 0L);
    d.put("CLOCK_AHEAD_MS_MAX", ringkv.gossip.CounterBound.AHEAD_MS_MAX_DEFAULT);
    d.put("EPOCH_AHEAD_MAX", ringkv.gossip.EpochBound.AHEAD_MAX_DEFAULT);
    d.put("SIGNATURE_WINDOW_MS", 30_000L);
    d.put("NONCES_MAX", 1_000_000L);
    d.put("IDLE_TIMEOUT_MS", 120_000L);
    d.put("REQUEST_READ_TIMEOUT_MS", 15_000L);
    d.put("CONNECTIONS_MAX", 4_096L);
    d.put("CLIENT_REQUESTS_IN_FLIGHT_MAX", 10_000L);
    d.put("PEER_REQUESTS_IN_FLIGHT_MAX", 10_000L);
    d.put("FSYNC_INTERVAL_MS", 1_000L);
    d.put("SCRUB_BYTES_PER_SEC", 1_048_576L);
    return java.util.Collections.unmodifiableMap(d);
  }

  /** Parses flags ({@code --name value} or {@code --name=value}) over the environment. */
  public static NodeConfig parse(Map<String, String> environment, String[] args) {
    Map<String, String> settings = new LinkedHashMap<>(environment);
    for (int i = 0; i < args.length; i++) {
      String arg = args[i];
      if (!arg.startsWith("--") || arg.length() == 2) {
        throw new BadConfigException(
            "unexpected argument \"" + arg + "\" (flags look like --view)");
      }
      String name = arg.substring(2);
      String value;
      int eq = name.indexOf('=');
      if (eq >= 0) {
        value = name.substring(eq + 1);
        name = name.substring(0, eq);
      } else if (i + 1 < args.length) {
        value = args[++i];
      } else {
        throw new BadConfigException("flag --" + name + " needs a value");
      }
      String variable = name.toUpperCase(java.util.Locale.ROOT).replace('-', '_');
      if (SecurityConfig.SECRETS.stream().anyMatch(variable::startsWith)) {
        // A flag is visible to every user of the machine (ps): secrets come from the
        // environment or a file. The message names the flag, never its value.
        throw new BadConfigException("--" + name + " cannot be a flag (ps shows flags): set "
            + variable + " in the environment or " + variable.replace("_FILE", "")
            + "_FILE to a file holding it");
      }
      if (!isKnown(variable)) {
        throw new BadConfigException("unknown flag --" + name);
      }
      settings.put(variable, value);
    }
    return fromSettings(settings);
  }

  private static boolean isKnown(String variable) {
    return DEFAULTS.containsKey(variable) || SecurityConfig.TLS.contains(variable)
        || List.of("SOCKET_ADDRESS", "ADDRESS", "VIEW", "SHARD_COUNT", "REPL_FACTOR", "DATA_DIR",
            "LOG_FORMAT", "BIND_ADDRESS", "DURABILITY").contains(variable);
  }

  private static NodeConfig fromSettings(Map<String, String> s) {
    NodeAddress address = address(s);
    List<NodeAddress> view = view(s);
    OptionalInt shardCount = optionalInt(s, "SHARD_COUNT", 1, Ring.SHARD_COUNT_MAX);
    OptionalInt replFactor = optionalInt(s, "REPL_FACTOR", 1, NodeAddress.ADDRESSES_PER_LIST_MAX);
    Optional<Path> dataDir = Optional.ofNullable(blankToNull(s.get("DATA_DIR"))).map(Path::of);
    if (shardCount.isPresent() && view.contains(address)
        && shardCount.getAsInt() > view.size()) {
      throw new BadConfigException("SHARD_COUNT=" + shardCount.getAsInt()
          + " is more than the " + view.size() + " nodes in VIEW");
    }
    if (replFactor.isPresent() && view.contains(address)
        && view.size() % replFactor.getAsInt() != 0) {
      throw new BadConfigException("REPL_FACTOR=" + replFactor.getAsInt()
          + " does not divide the " + view.size() + " nodes in VIEW");
    }
    long retryMin = number(s, "RETRY_DELAY_MS_MIN", 1, 60_000);
    long retryMax = number(s, "RETRY_DELAY_MS_MAX", 1, 600_000);
    if (retryMax < retryMin) {
      throw new BadConfigException("RETRY_DELAY_MS_MAX must be >= RETRY_DELAY_MS_MIN");
    }
    Dialect dialect = blankToNull(s.get("SOCKET_ADDRESS")) == null
        ? Dialect.VIEW_CHANGE : Dialect.SHARD;
    return new NodeConfig(dialect, address, view, shardCount, replFactor, dataDir,
        bindHost(s, address),
        (int) number(s, "VNODES_PER_SHARD", 1, Ring.VNODES_PER_SHARD_MAX),
        number(s, "CAUSAL_WAIT_MS", 1, 60_000),
        number(s, "KVS_CAUSAL_WAIT_MS", 1, 60_000),
        number(s, "KVS_REQUEST_TIMEOUT_MS", 1, 600_000),
        number(s, "ACKS_WAIT_MS", 1, 60_000),
        number(s, "FORWARD_TIMEOUT_MS", 1, 120_000),
        number(s, "CONNECT_TIMEOUT_MS", 1, 60_000),
        number(s, "REPLICATION_TICK_MS", 1, 60_000),
        number(s, "HEARTBEAT_INTERVAL_MS", 1, 60_000),
        number(s, "FAILURE_TIMEOUT_MS", 1, 600_000),
        number(s, "VIEW_CHANGE_TIMEOUT_MS", 100, 3_600_000),
        retryMin, retryMax,
        (int) number(s, "QUEUE_ENTRIES_MAX", 1, 10_000_000),
        (int) number(s, "BATCH_ENTRIES_MAX", 1, 100_000),
        number(s, "BATCH_INTERVAL_MS", 0, 1_000),
        (int) number(s, "WAITERS_MAX", 1, 1_000_000),
        (int) number(s, "BODY_BYTES_MAX", 1024, 64 * 1024 * 1024),
        number(s, "ANTI_ENTROPY_INTERVAL_MS", 10, 3_600_000),
        number(s, "EXIT_WITH_PARENT", 0, 1) == 1,
        logFormat(s),
        number(s, "CLOCK_AHEAD_MS_MAX", 1_000, 365L * 24 * 3600 * 1000),
        number(s, "EPOCH_AHEAD_MAX", 2, 1L << 40),
        number(s, "SIGNATURE_WINDOW_MS", 1_000, 3_600_000),
        (int) number(s, "NONCES_MAX", 1_000, 100_000_000),
        number(s, "IDLE_TIMEOUT_MS", 1_000, 3_600_000),
        number(s, "REQUEST_READ_TIMEOUT_MS", 100, 3_600_000),
        (int) number(s, "CONNECTIONS_MAX", 16, 1_000_000),
        (int) number(s, "CLIENT_REQUESTS_IN_FLIGHT_MAX", 1, 1_000_000),
        (int) number(s, "PEER_REQUESTS_IN_FLIGHT_MAX", 1, 1_000_000),
        SecurityConfig.parse(s),
        durability(s),
        number(s, "FSYNC_INTERVAL_MS", 1, 3_600_000),
        number(s, "SCRUB_BYTES_PER_SEC", 0, 1L << 40));
  }

  private static LogFormat logFormat(Map<String, String> s) {
    String raw = blankToNull(s.get("LOG_FORMAT"));
    if (raw == null) {
      return LogFormat.TEXT;
    }
    for (LogFormat f : LogFormat.values()) {
      if (f.text().equals(raw)) {
        return f;
      }
    }
    throw new BadConfigException("LOG_FORMAT=\"" + raw + "\" is not one of: text, json");
  }

  private static String bindHost(Map<String, String> s, NodeAddress address) {
    String raw = blankToNull(s.get("BIND_ADDRESS"));
    if (raw == null) {
      return address.host();
    }
    try {
      return NodeAddress.parse(raw + ":" + address.port()).host();
    } catch (IllegalArgumentException e) {
      throw new BadConfigException("BIND_ADDRESS=\"" + raw + "\" is not a host (an IP address"
          + " such as 0.0.0.0, or a name; the port is the node's own): " + e.getMessage());
    }
  }

  private static DurabilityMode durability(Map<String, String> s) {
    String raw = blankToNull(s.get("DURABILITY"));
    if (raw == null) {
      return DurabilityMode.SYNC;
    }
    try {
      return DurabilityMode.parse(raw);
    } catch (IllegalArgumentException e) {
      throw new BadConfigException("DURABILITY=" + e.getMessage());
    }
  }

  private static NodeAddress address(Map<String, String> s) {
    String socket = blankToNull(s.get("SOCKET_ADDRESS"));
    String plain = blankToNull(s.get("ADDRESS"));
    if (socket == null && plain == null) {
      throw new BadConfigException("SOCKET_ADDRESS (or ADDRESS) is required, e.g. 127.0.0.1:8085");
    }
    if (socket != null && plain != null && !socket.equals(plain)) {
      throw new BadConfigException(
          "SOCKET_ADDRESS and ADDRESS disagree: " + socket + " vs " + plain);
    }
    String name = socket != null ? "SOCKET_ADDRESS" : "ADDRESS";
    try {
      return NodeAddress.parse(socket != null ? socket : plain);
    } catch (IllegalArgumentException e) {
      throw new BadConfigException(name + ": " + e.getMessage());
    }
  }

  private static List<NodeAddress> view(Map<String, String> s) {
    String raw = blankToNull(s.get("VIEW"));
    if (raw == null) {
      throw new BadConfigException("VIEW is required: the comma-separated addresses of all nodes");
    }
    try {
      return NodeAddress.parseList(raw).stream().sorted().toList();
    } catch (IllegalArgumentException e) {
      throw new BadConfigException("VIEW: " + e.getMessage());
    }
  }

  private static OptionalInt optionalInt(Map<String, String> s, String name, long min, long max) {
    String raw = blankToNull(s.get(name));
    return raw == null
        ? OptionalInt.empty()
        : OptionalInt.of((int) parseNumber(name, raw, min, max));
  }

  private static long number(Map<String, String> s, String name, long min, long max) {
    String raw = blankToNull(s.get(name));
    return raw == null ? DEFAULTS.get(name) : parseNumber(name, raw, min, max);
  }

  private static long parseNumber(String name, String raw, long min, long max) {
    long value;
    try {
      value = Long.parseLong(raw.trim());
    } catch (NumberFormatException e) {
      throw new BadConfigException(name + "=\"" + raw + "\" is not a whole number");
    }
    if (value < min || value > max) {
      throw new BadConfigException(
          name + "=" + value + " is out of range [" + min + ", " + max + "]");
    }
    return value;
  }

  private static String blankToNull(String value) {
    return value == null || value.isBlank() ? null : value.trim();
  }

  public boolean inView() {
    return view.contains(address);
  }

  /**
   * Whether this node starts idle: a view-change dialect node whose address is not in its VIEW
   * belongs to no cluster and contacts nobody until a view change names it (SPEC §1).
   */
  public boolean startsIdle() {
    return dialect == Dialect.VIEW_CHANGE && !inView();
  }

  /** Whether the environment fixes the initial layout (SHARD_COUNT or REPL_FACTOR). */
  public boolean layoutGiven() {
    return shardCount.isPresent() || replFactor.isPresent();
  }

  /** The one line printed at start: every tunable with its effective value. */
  public String describe() {
    StringBuilder line = new StringBuilder("config address=" + address + " view=" + view.size()
        + " nodes shard-count=" + (shardCount.isPresent() ? shardCount.getAsInt()
            : replFactor.isPresent() ? "view/repl-factor" : "from-cluster")
        + " repl-factor=" + (replFactor.isPresent() ? replFactor.getAsInt() : "-")
        + " data-dir=" + dataDir.map(Path::toString).orElse("(memory)"));
    tunables().forEach((name, value) -> line.append(' ').append(name).append('=').append(value));
    return line.append(' ').append(security).toString();
  }

  /** The tunables by their environment names, in the order {@link #describe()} prints them. */
  private Map<String, Object> tunables() {
    Map<String, Object> t = new LinkedHashMap<>();
    t.put("BIND_ADDRESS", bindHost);
    t.put("VNODES_PER_SHARD", vnodesPerShard);
    t.put("CAUSAL_WAIT_MS", causalWaitMs);
    t.put("KVS_CAUSAL_WAIT_MS", kvsCausalWaitMs);
    t.put("KVS_REQUEST_TIMEOUT_MS", kvsRequestTimeoutMs);
    t.put("ACKS_WAIT_MS", acksWaitMs);
    t.put("FORWARD_TIMEOUT_MS", forwardTimeoutMs);
    t.put("CONNECT_TIMEOUT_MS", connectTimeoutMs);
    t.put("REPLICATION_TICK_MS", replicationTickMs);
    t.put("HEARTBEAT_INTERVAL_MS", heartbeatIntervalMs);
    t.put("FAILURE_TIMEOUT_MS", failureTimeoutMs);
    t.put("VIEW_CHANGE_TIMEOUT_MS", viewChangeTimeoutMs);
    t.put("RETRY_DELAY_MS_MIN", retryDelayMsMin);
    t.put("RETRY_DELAY_MS_MAX", retryDelayMsMax);
    t.put("QUEUE_ENTRIES_MAX", queueEntriesMax);
    t.put("BATCH_ENTRIES_MAX", batchEntriesMax);
    t.put("BATCH_INTERVAL_MS", batchIntervalMs);
    t.put("WAITERS_MAX", waitersMax);
    t.put("BODY_BYTES_MAX", bodyBytesMax);
    t.put("ANTI_ENTROPY_INTERVAL_MS", antiEntropyIntervalMs);
    t.put("EXIT_WITH_PARENT", exitWithParent ? 1 : 0);
    t.put("LOG_FORMAT", logFormat.text());
    t.put("CLOCK_AHEAD_MS_MAX", clockAheadMsMax);
    t.put("EPOCH_AHEAD_MAX", epochAheadMax);
    t.put("SIGNATURE_WINDOW_MS", signatureWindowMs);
    t.put("NONCES_MAX", noncesMax);
    t.put("IDLE_TIMEOUT_MS", idleTimeoutMs);
    t.put("REQUEST_READ_TIMEOUT_MS", requestReadTimeoutMs);
    t.put("CONNECTIONS_MAX", connectionsMax);
    t.put("CLIENT_REQUESTS_IN_FLIGHT_MAX", clientRequestsInFlightMax);
    t.put("PEER_REQUESTS_IN_FLIGHT_MAX", peerRequestsInFlightMax);
    t.put("DURABILITY", durability.label());
    t.put("FSYNC_INTERVAL_MS", fsyncIntervalMs);
    t.put("SCRUB_BYTES_PER_SEC", scrubBytesPerSec);
    return t;
  }
}
