package ringkv.gossip.sim;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Random;
import ringkv.gossip.CausalContext;
import ringkv.gossip.Entry;
import ringkv.gossip.Replica;
import ringkv.gossip.Replica.ReadResult;
import ringkv.gossip.Replica.WriteResult;
import ringkv.gossip.Version;
import ringkv.gossip.sim.SimClient.Kind;
import ringkv.gossip.sim.SimClient.Op;
import ringkv.gossip.sim.SimNetwork.Delivery;

/**
 * A deterministic simulation of a RingKV cluster's replication core: shards of {@link SimNode}s,
 * {@link SimClient}s issuing random gets, puts and deletes on a small key set at random replicas
 * of the owning shard (so causality crosses shards), a {@link SimNetwork} and a {@link SimClock},
 * all in one thread and all driven by one {@link Random} seeded from the run's seed. It runs two
 * phases, as TigerBeetle's VOPR and FoundationDB's clogging tests do:
 *
 * <ol>
 *   <li><b>faults</b>: the network drops, duplicates, delays and reorders messages, and
 *       partitions (symmetric and asymmetric) come and go; {@link SafetyChecker} checks safety
 *       after every delivery and every client operation;
 *   <li><b>healed</b>: the network is perfect and clients only read; every replication queue
 *       must drain and every shard's replicas must hold the same entries, each the newest
 *       acknowledged write of its key, within {@link SimConfig#healTicksMax()} ticks.
 * </ol>
 *
 * <p>A client operation whose replica lacks a dependency ({@code missing}) pulls the key from
 * the shard's other replicas and retries each tick; after {@link SimConfig#opTimeoutTicks()} it
 * fails as unavailable, which is allowed. The first violation ends the run; {@link #run()}
 * returns it with the status of every node.
 *
 * <p>Not thread-safe; a simulation runs in one thread.
 */
public final class SimCluster {
  private final long seed;
  private final ReplicaBug bug;
  private final Random random;
  private final SimConfig config;
  private final SimClock clock = new SimClock();
  private final SimNetwork network;
  private final Map<String, SimNode> nodes = new LinkedHashMap<>();
  private final List<List<SimNode>> shardMembers = new ArrayList<>();
  private final List<List<String>> shardKeys = new ArrayList<>();
  private final List<String> keys = new ArrayList<>();
  private final List<SimClient> clients = new ArrayList<>();
  private final SafetyChecker checker = new SafetyChecker();
  private long tick;
  private String phase = "faults";
  private long nextFaultChangeTick;
  private long reads;
  private long writes;
  private long noOpDeletes;
  private long unavailableQueueFull;
  private long unavailableDependency;
  private long pulls;
  private long ticksToConverge = -1;

  public SimCluster(long seed, ReplicaBug bug) {
    this.seed = seed;
    this.bug = Objects.requireNonNull(bug, "bug");
    this.random = new Random(seed);
    this.config = SimConfig.random(random);
    this.network = new SimNetwork(random, clock);
    build();
  }

  /** The fixed key-to-shard function: {@code k<i>} belongs to shard {@code i mod shards}. */
  public static int shardOf(String key, int shards) {
    return Integer.parseInt(key.substring(1)) % shards;
  }

  private void build() {
    for (int i = 0; i < config.keys(); i++) {
      keys.add("k" + i);
    }
    for (int s = 0; s < config.shards(); s++) {
      int shard = s;
      shardKeys.add(keys.stream().filter(k -> shardOf(k, config.shards()) == shard).toList());
      List<String> ids = new ArrayList<>();
      for (int r = 0; r < config.replicasPerShard(); r++) {
        ids.add("s" + s + "r" + r);
      }
      List<SimNode> members = new ArrayList<>();
      for (String id : ids) {
        List<String> peers = ids.stream().filter(p -> !p.equals(id)).toList();
        long skewMs = config.clockSkewMsMax() == 0 ? 0 : random.nextInt(
            (int) config.clockSkewMsMax() + 1);
        SimNode node = new SimNode(id, s, peers, config.limits(), skewMs,
            config.batchTimeoutMs(), bug, network);
        nodes.put(id, node);
        members.add(node);
      }
      shardMembers.add(List.copyOf(members));
    }
    for (int c = 0; c < config.clients(); c++) {
      clients.add(new SimClient("c" + c));
    }
  }

  /** Runs both phases; returns at the first violation, or after convergence. */
  public SimResult run() {
    try {
      for (int i = 0; i < config.faultTicks(); i++) {
        step(true);
      }
      heal();
      return result(null);
    } catch (SimViolation violation) {
      return result(violation);
    } catch (RuntimeException e) {
      return result(new SimViolation("exception", e.toString(), e));
    }
  }

  private void step(boolean faults) {
    clock.advance(config.tickMs());
    tick++;
    if (faults && tick >= nextFaultChangeTick) {
      changeFaults();
      nextFaultChangeTick = tick + 1 + random.nextInt(config.faultChangeTicksMax());
    }
    Delivery delivery;
    while ((delivery = network.poll()) != null) {
      SimNode node = nodes.get(delivery.to());
      node.onDelivery(delivery, clock.nowMs());
      checker.checkNode(node, shardKeys.get(node.shard()));
    }
    for (SimNode node : nodes.values()) {
      node.onTick(clock.nowMs());
    }
    for (SimClient client : clients) {
      clientStep(client, faults);
    }
    for (int s = 0; s < config.shards(); s++) {
      for (String key : shardKeys.get(s)) {
        checker.updateTombstoneFloor(key, shardMembers.get(s));
      }
    }
  }

  /**
   * New network options and a new partition: none (2 in 5), symmetric, one node cut off, or
   * asymmetric (each directed link blocked with probability 1/4).
   */
  private void changeFaults() {
    network.setOptions(NetworkOptions.random(random));
    network.heal();
    List<String> ids = new ArrayList<>(nodes.keySet());
    switch (random.nextInt(5)) {
      case 0, 1 -> { } // no partition
      case 2 -> network.partition(ids.stream().filter(id -> random.nextBoolean()).toList(), ids);
      case 3 -> network.partition(List.of(ids.get(random.nextInt(ids.size()))), ids);
      default -> {
        for (String from : ids) {
          for (String to : ids) {
            if (!from.equals(to) && random.nextInt(4) == 0) {
              network.block(from, to);
            }
          }
        }
      }
    }
  }

  private void clientStep(SimClient client, boolean writesAllowed) {
    if (client.pending() == null) {
      if (random.nextDouble() >= config.opProbability()) {
        return;
      }
      client.start(newOp(writesAllowed));
    }
    Op op = client.pending();
    SimNode node = nodes.get(op.node());
    if (!node.canServe(op.key(), client.context())) {
      if (tick - op.startTick() >= config.opTimeoutTicks()) {
        client.finish();
        unavailableDependency++;
      } else if (tick - op.lastPullTick() >= config.pullEveryTicks()) {
        node.pull(op.key());
        client.start(op.pulledAt(tick));
        pulls++;
      }
      return;
    }
    client.finish();
    execute(client, op, node);
    checker.checkNode(node, shardKeys.get(node.shard()));
  }

  private Op newOp(boolean writesAllowed) {
    double dice = random.nextDouble();
    Kind kind = !writesAllowed || dice < 0.45 ? Kind.GET : dice < 0.85 ? Kind.PUT : Kind.DELETE;
    String key = keys.get(random.nextInt(keys.size()));
    List<SimNode> members = shardMembers.get(shardOf(key, config.shards()));
    String node = members.get(random.nextInt(members.size())).id();
    return new Op(kind, key, node, tick, tick - config.pullEveryTicks());
  }

  /** Serves {@code op} at {@code node} (its dependencies are present) and checks the outcome. */
  private void execute(SimClient client, Op op, SimNode node) {
    Replica replica = node.replica();
    CausalContext before = client.context();
    long localMs = node.localMs(clock.nowMs());
    if (op.kind() == Kind.GET) {
      ReadResult read = replica.read(op.key(), before);
      checker.onObserve(client.id(), node.id(), op.key(), read.entry(), before);
      client.setContext(read.context());
      reads++;
      return;
    }
    Entry current = replica.store().get(op.key());
    boolean changes = op.kind() == Kind.PUT || (current != null && !current.isTombstone());
    if (changes && !replica.hasRoomFor(op.key(), node.peers())) {
      unavailableQueueFull++; // the node answers 503: the queue is full
      return;
    }
    WriteResult result = op.kind() == Kind.PUT
        ? replica.put(op.key(), client.nextValue(), before, node.peers(), localMs)
        : replica.delete(op.key(), before, node.peers(), localMs);
    if (result.entry() != null) {
      checker.onWrite(client.id(), result.entry());
      writes++;
    } else {
      // A 404 from DELETE reveals the key's state exactly as a 404 from GET does.
      checker.onObserve(client.id(), node.id(), op.key(), current, before);
      noOpDeletes++;
    }
    client.setContext(result.context());
  }

  /** The healed phase: perfect network, reads only, until converged or the bound is hit. */
  private void heal() {
    phase = "healed";
    network.heal();
    network.setOptions(NetworkOptions.perfect());
    for (SimClient client : clients) {
      if (client.pending() != null && client.pending().kind() != Kind.GET) {
        client.finish();
        unavailableDependency++;
      }
    }
    for (int i = 1; i <= config.healTicksMax(); i++) {
      step(false);
      if (divergence() == null) {
        ticksToConverge = i;
        checkNoLostWrites();
        return;
      }
    }
    throw new SimViolation("liveness", "not converged " + config.healTicksMax()
        + " ticks after healing: " + divergence());
  }

  /** Why the cluster has not converged yet, or null if it has. */
  private String divergence() {
    for (SimNode node : nodes.values()) {
      if (!node.isDrained()) {
        return node.id() + " still has " + node.replica().queue().pendingTotal() + " queued";
      }
    }
    for (int s = 0; s < config.shards(); s++) {
      List<SimNode> members = shardMembers.get(s);
      for (String key : shardKeys.get(s)) {
        Entry first = members.get(0).replica().store().get(key);
        for (SimNode other : members) {
          Entry entry = other.replica().store().get(key);
          if (!sameData(first, entry)) {
            return key + ": " + members.get(0).id() + " holds " + first + ", " + other.id()
                + " holds " + entry;
          }
        }
      }
    }
    return null;
  }

  /** Same key, value and version (what a client can see), or both absent. */
  private static boolean sameData(Entry a, Entry b) {
    if (a == null || b == null) {
      return a == b;
    }
    return a.key().equals(b.key()) && Objects.equals(a.value(), b.value())
        && a.version().equals(b.version());
  }

  /** After convergence every replica holds the newest acknowledged write of each key. */
  private void checkNoLostWrites() {
    for (SimNode node : nodes.values()) {
      for (String key : shardKeys.get(node.shard())) {
        Entry entry = node.replica().store().get(key);
        Version newest = checker.history().newest(key);
        if (!newest.equals(entry == null ? Version.ZERO : entry.version())) {
          throw new SimViolation("lost-write", node.id() + " converged on " + entry
              + " but the newest acknowledged write of " + key + " is " + newest);
        }
      }
    }
  }

  private SimResult result(SimViolation violation) {
    SimResult.Stats stats = new SimResult.Stats(reads, writes, noOpDeletes,
        unavailableQueueFull, unavailableDependency, pulls, checker.tombstoneFloorsRaised(),
        network.counters(), ticksToConverge);
    return new SimResult(seed, bug, config, stats, violation, tick, phase,
        violation == null ? "" : status());
  }

  /** One line for the network, one per client, one per node and one per peer queue. */
  private String status() {
    StringBuilder sb = new StringBuilder("nowMs=").append(clock.nowMs()).append(' ')
        .append(network.describe()).append('\n');
    clients.forEach(c -> sb.append(c).append('\n'));
    nodes.values().forEach(n -> sb.append(n.describe()));
    return sb.toString();
  }
}
