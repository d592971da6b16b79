package ringkv.gossip.sim;

import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Random;
import ringkv.gossip.CausalContext;
import ringkv.gossip.KeyValueCore;
import ringkv.gossip.Version;
import ringkv.gossip.sim.SimClient.Kind;
import ringkv.gossip.sim.SimClient.Op;
import ringkv.gossip.sim.SimNetwork.Delivery;
import ringkv.ring.ClusterConfig;
import ringkv.ring.NodeAddress;
import ringkv.ring.Ring;

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
 * <p>Every node runs the production protocol core (see {@link SimNode}): stability reports over
 * the faulty network, reply contexts bounded by {@code ContextBound}, tombstone sweeps,
 * anti-entropy rounds. In half the runs processes also die and come back during the faults
 * phase: a node that keeps its data on disk loses its queue, one that does not loses its store
 * too and copies its shard from a peer before it serves again (a node without durable data is
 * only killed when every write it holds is held by another replica as well, so nothing
 * acknowledged is lost by design). Clients go to a serving replica; an operation waiting for a
 * dependency that does not come fails if it is a read and goes ahead if it is a write, as in
 * the real node. The context size clients carry is recorded.
 *
 * <p>{@link #runFaultFree} runs a perfect network instead of the faults phase, for a given
 * number of client operations (the bounded-context demonstration).
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
  private final SimViewChanges views;
  private final SimPlacement placement;
  private final SimConvergence convergence;
  /** The epoch each node was at when last checked. */
  private final Map<String, Long> epochs = new java.util.HashMap<>();
  private final List<String> keys = new ArrayList<>();
  private final List<SimClient> clients = new ArrayList<>();
  private final SafetyChecker checker;
  private long tick;
  private String phase = "faults";
  private long nextFaultChangeTick;
  private long reads;
  private long writes;
  private long noOpDeletes;
  private long unavailableQueueFull;
  private long unavailableDependency;
  private long pulls;
  private long tombstonesCollected;
  private long crashes;
  private long nextCrashChangeTick;
  private long contextSizeMax;
  private long contextSizeSum;
  private long contextSamples;
  private long ticksToConverge = -1;
  private long writesAfterWait;
  private long unavailableViewChange;
  private long nextViewChangeTick;
  private long servedBeforeCopy;
  private long servedInStop;
  /** Draws new client sessions only, so runs without them keep the seed's schedule. */
  private final Random sessions;
  private final double newSessionProbability;

  public SimCluster(long seed, ReplicaBug bug) {
    this(seed, bug, null);
  }

  /**
   * A cluster drawn from the seed, with view changes in half the runs when {@code viewChanges}
   * (whatever -Dsim.viewChanges says).
   */
  public SimCluster(long seed, ReplicaBug bug, boolean viewChanges) {
    this(seed, bug, null, viewChanges);
  }

  /** A cluster of the given shape ({@code null}: drawn from the seed). */
  public SimCluster(long seed, ReplicaBug bug, SimConfig config) {
    this(seed, bug, config, Boolean.getBoolean("sim.viewChanges"));
  }

  /**
   * A cluster drawn from the seed as {@link #SimCluster(long, ReplicaBug, boolean)}, whose
   * clients also start new sessions (empty context, new id) with probability
   * {@code newSessionProbability} before an operation. Drawn from a second generator, so the
   * rest of the seed's schedule is the same until a new session changes what clients do.
   */
  public SimCluster(long seed, ReplicaBug bug, boolean viewChanges,
      double newSessionProbability) {
    this(seed, bug, null, viewChanges, newSessionProbability);
  }

  private SimCluster(long seed, ReplicaBug bug, SimConfig config, boolean viewChanges) {
    this(seed, bug, config, viewChanges, 0);
  }

  private SimCluster(long seed, ReplicaBug bug, SimConfig config, boolean viewChanges,
      double newSessionProbability) {
    this.seed = seed;
    this.bug = Objects.requireNonNull(bug, "bug");
    this.random = new Random(seed);
    this.sessions = new Random(~seed);
    this.newSessionProbability = newSessionProbability;
    this.config = config == null ? SimConfig.random(random, viewChanges) : config;
    this.network = new SimNetwork(random, clock);
    this.views = new SimViewChanges(random);
    this.placement = new SimPlacement(nodes, keys);
    this.checker = new SafetyChecker(k -> placement.latest().shardOf(k),
        this.config.keys() > SMALL_KEY_SET, this::boundByFloors);
    this.convergence = new SimConvergence(nodes, placement, views, checker);
    build();
  }

  /**
   * Whether {@code node} is bound by {@code key}'s tombstone floor: it is at the newest epoch, or
   * a member of the key's shard under it (see SafetyChecker).
   */
  private boolean boundByFloors(String node, String key) {
    ClusterConfig latest = placement.latest();
    return nodes.get(node).config().epoch() == latest.epoch()
        || latest.membersOf(latest.shardOf(key)).contains(NodeAddress.parse(node));
  }

  /** Up to this many keys, every check looks at every key of the shard; above, touched ones. */
  private static final int SMALL_KEY_SET = 64;

  /**
   * The cluster: nodes {@code n<i>:1} in the initial configuration of the real ring (node i in
   * shard i mod N + 1), keys {@code k<i>} hashed to shards by it.
   */
  private void build() {
    for (int i = 0; i < config.keys(); i++) {
      keys.add("k" + i);
    }
    List<NodeAddress> view = new ArrayList<>();
    for (int i = 0; i < config.shards() * config.replicasPerShard(); i++) {
      view.add(new NodeAddress("n" + i, 1));
    }
    ClusterConfig initial = ClusterConfig.initial(view, config.shards(),
        Ring.DEFAULT_VNODES_PER_SHARD);
    for (NodeAddress address : initial.view()) {
      long skewMs = config.clockSkewMsMax() == 0 ? 0 : random.nextInt(
          (int) config.clockSkewMsMax() + 1);
      boolean durable = random.nextDouble() < config.durableProbability();
      SimNode node = new SimNode(address.toString(), initial, config.limits(), skewMs,
          config.batchTimeoutMs(), config.aeEveryTicks() * config.tickMs(), durable, bug,
          network);
      nodes.put(node.id(), node);
    }
    for (int c = 0; c < config.clients(); c++) {
      clients.add(new SimClient("c" + c));
    }
  }

  /** Runs both phases; returns at the first violation, or after convergence. */
  public SimResult run() {
    return thenHealed(() -> {
      for (int i = 0; i < config.faultTicks(); i++) {
        step(true, true);
      }
    });
  }

  /**
   * Runs a perfect network (no faults phase) until clients have finished {@code ops}
   * operations, then the healed phase; returns at the first violation, or after convergence.
   */
  public SimResult runFaultFree(long ops) {
    phase = "fault-free";
    return thenHealed(() -> {
      long ticksMax = 10 * ops + 1_000;
      while (operations() < ops) {
        if (tick >= ticksMax) {
          throw new SimViolation("liveness", operations() + " of " + ops + " operations in "
              + tick + " ticks");
        }
        step(false, true);
      }
    });
  }

  /**
   * Runs {@code first}, then the healed phase; the result, with the first violation (an
   * exception counts as one) if any.
   */
  private SimResult thenHealed(Runnable first) {
    try {
      first.run();
      heal();
      return result(null);
    } catch (SimViolation violation) {
      return result(violation);
    } catch (RuntimeException e) {
      return result(new SimViolation("exception", e.toString(), e));
    }
  }

  /** Checks {@code node} after it may have changed, dropped keys first. */
  private void checkNode(SimNode node, Collection<String> touched) {
    List<String> dropped = node.takeDropped();
    checker.onDropped(node.id(), dropped);
    Long epoch = epochs.put(node.id(), node.config().epoch());
    boolean installed = epoch != null && epoch != node.config().epoch();
    if (installed) {
      // Keys the new configuration does not give the node are dropped, the stored ones above;
      // a tombstone it had collected leaves nothing to drop, yet binds it no more either: it
      // may own the key again later, when a replica of the key's shard may have collected a
      // newer tombstone that never reached it (seed 23581).
      checker.onDropped(node.id(), keys.stream()
          .filter(k -> node.config().shardOf(k) != node.shard()).toList());
    }
    checker.checkNode(node, keysToCheck(touched));
    if (installed && node.serves()) {
      // A configuration installed: nothing the node now serves may be below a tombstone floor.
      checker.checkCaughtUp(node, keysOfNode(node));
    }
  }

  private long operations() {
    return reads + writes + noOpDeletes + unavailableQueueFull + unavailableDependency;
  }

  private void step(boolean faults, boolean writesAllowed) {
    clock.advance(config.tickMs());
    tick++;
    if (faults && tick >= nextFaultChangeTick) {
      changeFaults();
      nextFaultChangeTick = tick + 1 + random.nextInt(config.faultChangeTicksMax());
    }
    if (faults && config.crashEveryTicksMax() > 0 && tick >= nextCrashChangeTick) {
      crashOrRestart();
      nextCrashChangeTick = tick + 1 + random.nextInt(config.crashEveryTicksMax());
    }
    if (faults && config.viewChangeEveryTicksMax() > 0 && tick >= nextViewChangeTick) {
      views.maybeStart(nodes.values(), clock.nowMs());
      nextViewChangeTick = tick + 1 + random.nextInt(config.viewChangeEveryTicksMax());
    }
    Delivery delivery;
    while ((delivery = network.poll()) != null) {
      SimNode node = nodes.get(delivery.to());
      boolean served = node.serves();
      node.onDelivery(delivery, clock.nowMs());
      checkNode(node, SimMessage.keysIn(delivery.message()));
      if (!served && node.serves()) {
        checker.checkCaughtUp(node, keysOfNode(node));
      }
    }
    int index = 0;
    for (SimNode node : nodes.values()) {
      boolean served = node.serves();
      node.onTick(clock.nowMs());
      checkNode(node, List.of());
      if (!served && node.serves()) {
        checker.checkCaughtUp(node, keysOfNode(node));
      }
      // Staggered, so nodes do not all report in the same tick.
      if ((tick + index) % config.heartbeatEveryTicks() == 0) {
        node.heartbeat(clock.nowMs());
      }
      if ((tick + index) % config.sweepEveryTicks() == 0) {
        Collection<String> tombstones = checker.tombstonesHeld(node.id());
        tombstonesCollected += node.sweep();
        checker.checkNode(node, keysToCheck(tombstones));
      }
      if ((tick + index) % config.aeEveryTicks() == 0) {
        node.antiEntropy(clock.nowMs());
      }
      index++;
    }
    for (SimClient client : clients) {
      clientStep(client, writesAllowed);
    }
    for (String key : checker.drainDirty()) {
      checker.updateTombstoneFloor(key, placement.membersOf(placement.latest().shardOf(key)));
    }
    views.observe();
  }

  /** The keys of the shard {@code node}'s own configuration gives it. */
  private List<String> keysOfNode(SimNode node) {
    return keys.stream().filter(k -> node.config().shardOf(k) == node.shard()).toList();
  }

  /**
   * Restarts a dead process, or kills one: never more than one replica of a shard at a time,
   * and a node without durable data only while every write it holds is held elsewhere too.
   */
  private void crashOrRestart() {
    for (SimNode node : nodes.values()) {
      if (node.phase() == SimNode.Phase.DOWN) {
        restart(node);
        return;
      }
    }
    List<SimNode> all = new ArrayList<>(nodes.values());
    SimNode victim = all.get(random.nextInt(all.size()));
    int shard = placement.shardOf(victim);
    boolean shardBusy = shard < 0 || placement.membersOf(shard).stream()
        .anyMatch(n -> n.phase() != SimNode.Phase.UP);
    // A node without durable data holds the only copy of what a change copied to it, and of
    // the writes its queue still owes to a node outside its shard: after a change, writes of
    // keys that left it, which its store no longer holds (seed 4335: killed then, it lost one).
    if (shardBusy || (!victim.durable() && (views.underWay(nodes.values())
        || holdsAUniqueWrite(victim, shard)
        || victim.replica().queue().owesOutside(victim.peers())))) {
      return;
    }
    victim.crash();
    crashes++;
    for (SimClient client : clients) {
      if (client.pending() != null && client.pending().node().equals(victim.id())) {
        client.finish(); // its connection died: no answer, and nothing was done
        unavailableDependency++;
      }
    }
  }

  private void restart(SimNode node) {
    node.restart(clock.nowMs());
    if (!node.durable()) {
      checker.onWiped(node.id());
    }
    checker.checkNode(node, keys);
  }

  /** Whether {@code node} holds a version of a key newer than every other replica does. */
  private boolean holdsAUniqueWrite(SimNode node, int shard) {
    for (String key : placement.keysOf(shard)) {
      Version mine = checker.effective(node.id(), key);
      Version best = Version.ZERO;
      for (SimNode other : placement.membersOf(shard)) {
        if (other != node) {
          best = Version.max(best, checker.effective(other.id(), key));
        }
      }
      if (mine.isNewerThan(best)) {
        return true;
      }
    }
    return false;
  }

  /** Every key for small key sets (the strongest check), else the touched ones. */
  private Collection<String> keysToCheck(Collection<String> touched) {
    return keys.size() <= SMALL_KEY_SET ? keys : touched;
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
      if (newSessionProbability > 0 && sessions.nextDouble() < newSessionProbability) {
        client.newSession();
      }
      Op op = newOp(writesAllowed, client.context());
      if (op == null) {
        unavailableDependency++; // no replica of the key's shard serves now: 503
        return;
      }
      client.start(op);
    }
    Op op = client.pending();
    SimNode node = nodes.get(op.node());
    CausalContext context = client.context();
    if (!node.servesKey(op.key(), context, op.kind().op())) {
      client.finish(); // stopped by a view change, or the key moved: 500/503, allowed
      unavailableViewChange++;
      return;
    }
    if (!node.canServe(op.key(), context)) {
      boolean late = tick - op.startTick() >= config.opTimeoutTicks();
      if (late && !KeyValueCore.goesAheadWithoutDependency(op.kind().op())) {
        client.finish();
        unavailableDependency++;
        return;
      }
      if (!late) {
        if (tick - op.lastPullTick() >= config.pullEveryTicks()) {
          node.pull(op.key());
          client.start(op.pulledAt(tick));
          pulls++;
        }
        return;
      }
      writesAfterWait++; // the dependency did not come: the write goes ahead
    }
    client.finish();
    if (node.servesInStop(op.key(), context, op.kind().op())) {
      servedInStop++;
    } else if (!node.servesKey(op.key())) {
      servedBeforeCopy++;
    }
    execute(client, op, node, context);
    checker.checkNode(node, keysToCheck(List.of(op.key())));
    long size = client.context().size();
    contextSizeMax = Math.max(contextSizeMax, size);
    contextSizeSum += size;
    contextSamples++;
  }

  /**
   * A random operation at a random replica of its key's shard that serves a client with
   * {@code context} (a replica still copying its shard does when cut off from its peers and the
   * context is empty); null if none serves.
   */
  private Op newOp(boolean writesAllowed, CausalContext context) {
    double dice = random.nextDouble();
    Kind kind = !writesAllowed || dice < 0.45 ? Kind.GET : dice < 0.85 ? Kind.PUT : Kind.DELETE;
    String key = keys.get(random.nextInt(keys.size()));
    // Any node whose own configuration gives it the key's shard serves it (one that missed a
    // change's commit too, until it learns the newer epoch).
    List<SimNode> serving =
        nodes.values().stream().filter(n -> n.servesKey(key, context, kind.op())).toList();
    if (serving.isEmpty()) {
      return null;
    }
    String node = serving.get(random.nextInt(serving.size())).id();
    return new Op(kind, key, node, tick, tick - config.pullEveryTicks());
  }

  /**
   * Serves {@code op} at {@code node} through the production core and checks the outcome;
   * {@code before} is the client's context as it sent it.
   */
  private void execute(SimClient client, Op op, SimNode node, CausalContext before) {
    long localMs = node.localMs(clock.nowMs());
    KeyValueCore.Result r = node.core().perform(op.kind().op(), op.key(),
        op.kind() == Kind.PUT ? client.nextValue() : null, before, localMs);
    switch (r.outcome()) {
      case QUEUE_FULL -> {
        unavailableQueueFull++; // the node answers 503: the queue is full
        return; // the client keeps its context
      }
      case FOUND, NOT_FOUND -> {
        checker.onObserve(client.id(), node.id(), op.key(), r.entry(), before);
        if (op.kind() == Kind.GET) {
          reads++;
        } else {
          noOpDeletes++; // a 404 from DELETE reveals the key's state exactly as a GET does
        }
      }
      default -> {
        checker.onWrite(client.id(), r.entry());
        writes++;
      }
    }
    client.setContext(r.context());
  }

  /** The healed phase: perfect network, reads only, until converged or the bound is hit. */
  private void heal() {
    phase = "healed";
    network.heal();
    network.setOptions(NetworkOptions.perfect());
    for (SimNode node : nodes.values()) {
      if (node.phase() == SimNode.Phase.DOWN) {
        restart(node);
      }
    }
    for (SimClient client : clients) {
      if (client.pending() != null && client.pending().kind() != Kind.GET) {
        client.finish();
        unavailableDependency++;
      }
    }
    for (int i = 1; i <= config.healTicksMax(); i++) {
      step(false, false);
      if (convergence.divergence() == null) {
        ticksToConverge = i;
        convergence.checkNoLostWrites();
        return;
      }
    }
    throw new SimViolation("liveness", "not converged " + config.healTicksMax()
        + " ticks after healing: " + convergence.divergence());
  }

  private SimResult result(SimViolation violation) {
    SimResult.Stats stats = new SimResult.Stats(reads, writes, noOpDeletes,
        unavailableQueueFull, unavailableDependency, pulls, checker.tombstoneFloorsRaised(),
        tombstonesCollected, checker.collectedReads(), contextSizeMax,
        contextSamples == 0 ? 0 : (double) contextSizeSum / contextSamples,
        network.counters(), ticksToConverge, crashes, writesAfterWait, unavailableViewChange,
        views.started(), views.committed(), views.aborted(), views.coordinatorsLost(),
        servedBeforeCopy, servedInStop);
    return new SimResult(seed, bug, config, stats, violation, tick, phase,
        violation == null ? "" : status());
  }

  /** One line for the network, one per client, one per node and one per peer queue. */
  private String status() {
    StringBuilder sb = new StringBuilder("nowMs=").append(clock.nowMs()).append(' ')
        .append(network.describe()).append(' ').append(views).append('\n');
    clients.forEach(c -> sb.append(c).append('\n'));
    nodes.values().forEach(n -> sb.append(n.describe()));
    return sb.toString();
  }
}
