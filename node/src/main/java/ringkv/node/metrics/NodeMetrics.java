package ringkv.node.metrics;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.binder.MeterBinder;
import io.micrometer.core.instrument.config.MeterFilter;
import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmInfoMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.FileDescriptorMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.IntSupplier;
import ringkv.gossip.KeyValueCore;
import ringkv.gossip.ReplicationQueue;
import ringkv.gossip.Store;
import ringkv.node.config.NodeConfig;
import ringkv.node.storage.RocksDbStore;
import ringkv.node.time.Clock;
import ringkv.ring.NodeAddress;

/**
 * Everything {@code GET /metrics} reports, in one Micrometer Prometheus registry per node: built
 * once by the composition root, handed to the classes that record (through their constructors),
 * scraped by the metrics route. Names follow Prometheus conventions through Micrometer's naming
 * ({@code ringkv.replication.batches} becomes {@code ringkv_replication_batches_total}, a timer
 * {@code ringkv_..._seconds}, base units only). Every family that does not depend on peers is
 * registered here, at start, so a fresh node lists them all; per-peer series follow the view.
 *
 * <p>Label sets are bounded: routes are templates ({@link RouteLabel}), outcomes are enums,
 * peers are the nodes of the current view only (series of nodes that left are removed).
 * Recording costs an array index and an add: meters are resolved once, here or on first use.
 *
 * <p>Gauges read the node's state when scraped, which happens on the node's event loop (the
 * route runs there), like every recording call. Not thread-safe; confine to the event loop.
 */
public final class NodeMetrics implements AutoCloseable {
  /** How a forwarded request ended, as the forwarding node saw it. */
  public enum Forward {
    /** A member of the owning shard answered (with the request's result). */
    ANSWERED,
    /** The owner refused the request with an error (passed on to the client as it is). */
    OWNER_ERROR,
    /** No member could be reached or none answered in time (503). */
    UNAVAILABLE
  }

  /** How a request parked for a causal dependency this replica lacked came out of its wait. */
  public enum CausalWait {
    /** The dependency arrived (replicated or pulled) and the request went on. */
    RELEASED,
    /** It did not arrive in time: a read fails (503, or 400 in the view-change dialect). */
    TIMED_OUT,
    /** It did not arrive in time, and the write went ahead anyway (it supersedes it). */
    WENT_AHEAD,
    /** Too many requests were waiting already: refused at once (503). */
    REFUSED
  }

  private static final Duration[] WAIT_BUCKETS = {Duration.ofMillis(1), Duration.ofMillis(5),
      Duration.ofMillis(25), Duration.ofMillis(100), Duration.ofMillis(250),
      Duration.ofMillis(500), Duration.ofSeconds(1), Duration.ofSeconds(2),
      Duration.ofSeconds(3), Duration.ofSeconds(5)};
  private static final Duration[] ROUND_BUCKETS = {Duration.ofMillis(10),
      Duration.ofMillis(100), Duration.ofSeconds(1), Duration.ofSeconds(10),
      Duration.ofSeconds(60), Duration.ofSeconds(600)};
  private static final Duration[] WINDOW_BUCKETS = {Duration.ofMillis(10),
      Duration.ofMillis(50), Duration.ofMillis(100), Duration.ofMillis(250),
      Duration.ofMillis(500), Duration.ofSeconds(1), Duration.ofSeconds(2),
      Duration.ofSeconds(5), Duration.ofSeconds(10), Duration.ofSeconds(30)};
  /** RocksDB properties reported with DATA_DIR: metric name, property, base unit (or null). */
  private static final String[][] ROCKSDB_PROPERTIES = {
      {"ringkv.rocksdb.estimated.keys", "rocksdb.estimate-num-keys", null,
          "Keys in the entries column family, as RocksDB estimates them"},
      {"ringkv.rocksdb.sst.files.size", "rocksdb.total-sst-files-size", "bytes",
          "Size of all SST files of the entries column family"},
      {"ringkv.rocksdb.live.data.size", "rocksdb.estimate-live-data-size", "bytes",
          "Estimated size of the live data of the entries column family"},
      {"ringkv.rocksdb.memtables.size", "rocksdb.cur-size-all-mem-tables", "bytes",
          "Size of the memtables of the entries column family"}};

  private final PrometheusMeterRegistry registry =
      new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
  private final Clock clock;
  private final ClusterView cluster;
  private final ReplicationQueue queue;
  private final KeyValueCore core;
  private final HttpMetrics http;
  private final JvmGcMetrics gc = new JvmGcMetrics();
  private final Timer[] forwards = new Timer[Forward.values().length];
  private final Timer[] causalWaits = new Timer[CausalWait.values().length];
  private final Timer roundsCompleted;
  private final Timer roundsFailed;
  private final Counter keysPulled;
  private final Counter keysPushed;
  private final Counter valueConflicts;
  private final Counter changesCoordinated;
  private final Counter changesCoordinatedAborted;
  private final Counter changesCommitted;
  private final Counter changesAborted;
  private final Counter changesTimedOut;
  private final Timer changeWindow;
  private final Counter movedKeys;
  private final Counter movedBytes;
  private final CounterTimeline timeline = new CounterTimeline();
  private final Map<String, PeerReplication> replication = new HashMap<>();
  private final Map<String, Gauge> up = new HashMap<>();

  public NodeMetrics(NodeConfig config, Clock clock, ClusterView cluster, KeyValueCore core,
      RocksDbStore durable) {
    this.clock = clock;
    this.cluster = cluster;
    this.core = core;
    this.queue = core.replica().queue();
    this.http = new HttpMetrics(registry, clock);
    // Micrometer reports the process's CPU time in nanoseconds (process_cpu_time_ns_total);
    // Prometheus' convention and its own clients say process_cpu_seconds_total.
    registry.config().meterFilter(MeterFilter.deny(id -> id.getName().equals("process.cpu.time")));
    registerProcessMetrics();
    Gauge.builder("ringkv.node.info", () -> 1)
        .description("This node: its address and the dialect it was started with")
        .tag("address", config.address().toString())
        .tag("dialect", config.dialect() == NodeConfig.Dialect.SHARD ? "shard" : "view-change")
        .register(registry);
    Gauge.builder("ringkv.config.epoch", cluster, c -> c.epoch())
        .strongReference(true)
        .description("Epoch of the cluster configuration this node has installed")
        .register(registry);
    registerStoreGauges(core.replica().store(), durable);
    Gauge.builder("ringkv.causal.waits.pending", core, KeyValueCore::waiting)
        .strongReference(true)
        .description("Requests waiting now for a causal dependency").register(registry);
    for (Forward f : Forward.values()) {
      forwards[f.ordinal()] = Timer.builder("ringkv.forwarded.requests")
          .description("Key-value requests this node forwarded to a member of the owning shard")
          .tag("outcome", label(f)).serviceLevelObjectives(HttpMetrics.BUCKETS)
          .register(registry);
    }
    for (CausalWait w : CausalWait.values()) {
      causalWaits[w.ordinal()] = Timer.builder("ringkv.causal.waits")
          .description("Requests that waited for a causal dependency, by how the wait ended")
          .tag("outcome", label(w)).serviceLevelObjectives(WAIT_BUCKETS).register(registry);
    }
    roundsCompleted = round("completed");
    roundsFailed = round("failed");
    keysPulled = repaired("pulled");
    keysPushed = repaired("pushed");
    valueConflicts = Counter.builder("ringkv.anti.entropy.value.conflicts")
        .description("Keys anti-entropy found held at one version with different bytes by this "
            + "node and a peer (each repaired to the copy with the higher checksum)")
        .register(registry);
    changesCoordinated = viewChanges("coordinator", "committed");
    changesCoordinatedAborted = viewChanges("coordinator", "aborted");
    changesCommitted = viewChanges("participant", "committed");
    changesAborted = viewChanges("participant", "aborted");
    changesTimedOut = viewChanges("participant", "timed_out");
    changeWindow = Timer.builder("ringkv.view.change.window")
        .description("How long this node answered key-value requests with 500 \"View change "
            + "in progress\": from its prepare to its commit")
        .serviceLevelObjectives(WINDOW_BUCKETS).register(registry);
    movedKeys = Counter.builder("ringkv.view.change.keys.moved")
        .description("Keys this node sent to their new owners during view changes")
        .register(registry);
    movedBytes = Counter.builder("ringkv.view.change.moved").baseUnit("bytes")
        .description("Bytes of keys this node sent to their new owners during view changes")
        .register(registry);
    refreshPeers();
  }

  /** The process's CPU time and the JVM's own meters. */
  private void registerProcessMetrics() {
    if (ManagementFactory.getOperatingSystemMXBean()
        instanceof com.sun.management.OperatingSystemMXBean os) {
      FunctionCounter.builder("process.cpu", os, o -> o.getProcessCpuTime() / 1e9)
          .description("CPU time used by the node's process").baseUnit("seconds")
          .register(registry);
    }
    for (MeterBinder jvm : new MeterBinder[] {new JvmMemoryMetrics(), gc,
        new JvmThreadMetrics(), new ClassLoaderMetrics(), new JvmInfoMetrics(),
        new ProcessorMetrics(), new UptimeMetrics(), new FileDescriptorMetrics()}) {
      jvm.bindTo(registry);
    }
  }

  /** What the store holds; with RocksDB, its properties too. */
  private void registerStoreGauges(Store store, RocksDbStore durable) {
    Gauge.builder("ringkv.store.keys", store, Store::liveCount)
        .strongReference(true)
        .description("Keys holding a value in this node's store (tombstones excluded)")
        .register(registry);
    Gauge.builder("ringkv.store.tombstones", store, Store::tombstoneCount)
        .strongReference(true)
        .description("Tombstones (deletes not collected yet) in this node's store")
        .register(registry);
    Gauge.builder("ringkv.store.quarantined", store, Store::quarantinedCount)
        .strongReference(true)
        .description("Keys whose stored record failed its checksum, awaiting repair from a "
            + "replica")
        .register(registry);
    if (durable != null) {
      for (String[] p : ROCKSDB_PROPERTIES) {
        String property = p[1];
        Gauge.builder(p[0], durable, d -> orNaN(d.entriesProperty(property)))
            .strongReference(true)
            .description(p[3] + " (" + property + ")").baseUnit(p[2]).register(registry);
      }
    }
  }

  private Timer round(String outcome) {
    return Timer.builder("ringkv.anti.entropy.rounds")
        .description("Anti-entropy rounds this node ran with a peer of its shard")
        .tag("outcome", outcome).serviceLevelObjectives(ROUND_BUCKETS).register(registry);
  }

  private Counter repaired(String direction) {
    return Counter.builder("ringkv.anti.entropy.keys.repaired")
        .description("Keys anti-entropy repaired: pulled (newer at the peer) or pushed")
        .tag("direction", direction).register(registry);
  }

  private Counter viewChanges(String role, String outcome) {
    return Counter.builder("ringkv.view.changes")
        .description("View changes this node coordinated or took part in, by outcome")
        .tag("role", role).tag("outcome", outcome).register(registry);
  }

  private static String label(Enum<?> value) {
    return value.name().toLowerCase(Locale.ROOT);
  }

  private static double orNaN(long value) {
    return value < 0 ? Double.NaN : value;
  }

  /** Registers the gauge of requests in flight (read from {@code inFlight} when scraped). */
  /** Keys quarantined here that no replica could give back ({@code LostKeys}). */
  public void watchLostKeys(IntSupplier lost) {
    Gauge.builder("ringkv.store.keys.lost", lost, IntSupplier::getAsInt)
        .strongReference(true)
        .description("Keys whose stored record here is damaged and that no replica of their "
            + "shard could give back; reads of them here answer 500 \"Key is lost\"")
        .register(registry);
  }

  public void watchInFlight(IntSupplier inFlight) {
    Gauge.builder("ringkv.http.requests.in.flight", inFlight, IntSupplier::getAsInt)
        .strongReference(true)
        .description("HTTP requests being served now (bounded; beyond the bound: 503)")
        .register(registry);
  }

  // ---------------------------------------------------------------- recording

  public HttpMetrics http() {
    return http;
  }

  public void forwarded(Forward outcome, long nanos) {
    forwards[outcome.ordinal()].record(nanos, TimeUnit.NANOSECONDS);
  }

  public void causalWait(CausalWait outcome, long nanos) {
    causalWaits[outcome.ordinal()].record(nanos, TimeUnit.NANOSECONDS);
  }

  /** A round of anti-entropy ended; {@code pushed}/{@code pulled}: keys it repaired. */
  public void antiEntropyRound(boolean completed, long nanos, long pushed, long pulled) {
    (completed ? roundsCompleted : roundsFailed).record(nanos, TimeUnit.NANOSECONDS);
    keysPushed.increment(pushed);
    keysPulled.increment(pulled);
  }

  /** Anti-entropy found {@code keys} keys held at one version with different bytes. */
  public void antiEntropyValueConflicts(int keys) {
    valueConflicts.increment(keys);
  }

  /** A view change this node coordinated ended. */
  public void viewChangeCoordinated(boolean committed) {
    (committed ? changesCoordinated : changesCoordinatedAborted).increment();
  }

  /** This node committed a view change it had prepared {@code windowMs} before. */
  public void viewChangeCommitted(long windowMs) {
    changesCommitted.increment();
    changeWindow.record(windowMs, TimeUnit.MILLISECONDS);
  }

  /** This node abandoned a prepared view change: told to, or at its deadline. */
  public void viewChangeAborted(boolean timedOut) {
    (timedOut ? changesTimedOut : changesAborted).increment();
  }

  /** This node sent {@code keys} keys in {@code bytes} bytes during a view change. */
  public void viewChangeSent(long keys, long bytes) {
    movedKeys.increment(keys);
    movedBytes.increment(bytes);
  }

  public void batchAcknowledged(String peer, int entries) {
    PeerReplication p = replication(peer);
    p.acknowledged.increment();
    p.entries.increment(entries);
  }

  public void batchFailed(String peer) {
    replication(peer).failed.increment();
  }

  /**
   * The replication driver ran at {@code nowMs}: notes where the Lamport clock is (the ages of
   * queued writes are told from it) and forgets what no queued write needs.
   */
  public void replicationFlushed(long nowMs) {
    timeline.sample(core.replica().clock().current(), nowMs);
    long oldest = Long.MAX_VALUE;
    for (NodeAddress peer : cluster.shardPeers()) {
      OptionalLong c = queue.oldestUnackedCounter(peer.toString());
      if (c.isPresent()) {
        oldest = Math.min(oldest, c.getAsLong());
      }
    }
    if (oldest == Long.MAX_VALUE) {
      timeline.clear();
    } else {
      timeline.forgetBelow(oldest);
    }
  }

  // ---------------------------------------------------------------- peers

  /** The replication meters of {@code peer}, registered on first use. */
  private PeerReplication replication(String peer) {
    PeerReplication p = replication.get(peer);
    if (p == null) {
      p = new PeerReplication(peer);
      replication.put(peer, p);
    }
    return p;
  }

  /**
   * Makes the per-peer series follow the current configuration: replication series for the
   * other members of this node's shard, liveness for every other node of the view; series of
   * nodes no longer there are removed (the label set stays bounded by the view).
   */
  private void refreshPeers() {
    Set<String> shardPeers = new HashSet<>();
    for (NodeAddress a : cluster.shardPeers()) {
      shardPeers.add(a.toString());
      replication(a.toString());
    }
    replication.entrySet().removeIf(e -> {
      if (shardPeers.contains(e.getKey())) {
        return false;
      }
      e.getValue().meters.forEach(registry::remove);
      return true;
    });
    List<NodeAddress> others = cluster.others();
    Set<String> names = new HashSet<>();
    for (NodeAddress a : others) {
      String name = a.toString();
      names.add(name);
      up.computeIfAbsent(name, n -> Gauge.builder("ringkv.peer.up", () -> cluster.isLive(a)
              ? 1 : 0)
          .description("Failure detector: 1 when the peer answers, 0 when it is held down")
          .tag("peer", n).register(registry));
    }
    up.entrySet().removeIf(e -> {
      if (names.contains(e.getKey())) {
        return false;
      }
      registry.remove(e.getValue());
      return true;
    });
  }

  /** The meters of replication to one peer. */
  private final class PeerReplication {
    final Counter acknowledged;
    final Counter failed;
    final Counter entries;
    final List<Meter> meters;

    PeerReplication(String peer) {
      acknowledged = batches(peer, "acknowledged");
      failed = batches(peer, "failed");
      entries = Counter.builder("ringkv.replication.entries.acknowledged")
          .description("Entries the peer acknowledged").tag("peer", peer).register(registry);
      Gauge depth = Gauge.builder("ringkv.replication.queue.entries", () -> queue.pending(peer))
          .description("Writes queued for the peer and not acknowledged yet (in flight too)")
          .tag("peer", peer).register(registry);
      Gauge lag = Gauge.builder("ringkv.replication.lag", () -> lagSeconds(peer))
          .description("Age of the oldest write the peer has not acknowledged (0: none)")
          .baseUnit("seconds").tag("peer", peer).register(registry);
      meters = List.of(acknowledged, failed, entries, depth, lag);
    }

    private Counter batches(String peer, String outcome) {
      return Counter.builder("ringkv.replication.batches")
          .description("Replication batches sent to the peer, by outcome; a failed batch is "
              + "retried after a backoff")
          .tag("peer", peer).tag("outcome", outcome).register(registry);
    }
  }

  private double lagSeconds(String peer) {
    OptionalLong oldest = queue.oldestUnackedCounter(peer);
    return oldest.isEmpty() ? 0 : timeline.ageMs(oldest.getAsLong(), clock.millis()) / 1000.0;
  }

  // ---------------------------------------------------------------- scraping

  /** Prometheus' text format, version 0.0.4. */
  public static final String CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

  /** Every series in Prometheus' text format (per-peer series first follow the view). */
  public String scrape() {
    refreshPeers();
    return registry.scrape();
  }

  /** The registry, for tests. */
  MeterRegistry registry() {
    return registry;
  }

  @Override
  public void close() {
    gc.close();
    registry.close();
  }
}
