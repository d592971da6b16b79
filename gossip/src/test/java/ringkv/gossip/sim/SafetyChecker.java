package ringkv.gossip.sim;

import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.BiPredicate;
import java.util.function.ToIntFunction;
import ringkv.gossip.CausalContext;
import ringkv.gossip.Entry;
import ringkv.gossip.Version;

/**
 * Checks the simulation's safety properties after every step, against a model kept independently
 * of the code under test:
 *
 * <ul>
 *   <li><b>monotonic</b>: per replica per key, the version held never decreases;
 *   <li><b>fabricated</b>: every entry a replica holds or serves is an acknowledged write;
 *   <li><b>causality/context</b>: a read returns at least the version the client's own context
 *       (as computed by the code) requires for the key;
 *   <li><b>causality/model</b>: a read returns at least what the client must have seen according
 *       to the {@link History}: its own writes, what it read, and transitively everything the
 *       writers of what it read had observed. This catches a code context that lost something;
 *   <li><b>clock</b>: a write's version is above everything its client had observed of keys of
 *       the same shard. (Across shards the code legitimately breaks this: a context entry at or
 *       below its shard's stable time is pruned before the serving replica observes it. That is
 *       harmless: last-writer-wins only compares versions of one key, and a replica of a key's
 *       shard holds every pruned version of it, so its clock is above them anyway);
 *   <li><b>tombstone</b>: once every replica of a shard holds a tombstone of a key (held or
 *       collected), no version older than the oldest of them is ever served or held as a value
 *       again — by a replica of that shard, or by any node at the newest epoch. A node left out
 *       of a change (its coordinator saw it down) keeps serving the old layout until it learns
 *       the new one, by design: a key that left its shard may be deleted by its new owners
 *       meanwhile, and it still serves the value it held (what its clients may read is bound
 *       by the causality checks; that it never comes back is, once the node learns: it drops
 *       the key, or, if its new shard holds the key, is checked as it installs the layout);
 *   <li><b>tombstone/resurrected</b>: a replica that collected a tombstone never again holds a
 *       version of its key older than that tombstone (a stale duplicate, a late pull answer);
 *   <li><b>vanished</b>: a replica only ever forgets a key whose tombstone it held.
 * </ul>
 *
 * <p>A collected tombstone is modelled as still held: the checker remembers the version a
 * replica collected and treats "nothing" there as that tombstone. Reading "nothing" where a
 * tombstone was collected, by a client that knew a value of the key, is a read of that delete:
 * the client learns the delete and everything its writer had observed, exactly as it would
 * have by reading the tombstone before collection.
 *
 * <p>For large key sets ({@code pruneModel}) the model prunes its own knowledge the way the
 * code prunes contexts, but by its own, independent notion of stability: a requirement
 * {@code key >= v} is dropped once every replica of the key's shard holds at least {@code v}
 * (which the monotonic check then enforces forever). This keeps the model's per-write
 * dependencies small; it weakens the collected-tombstone read above, so the fault simulations
 * (8 keys) run without it.
 *
 * <p>Not thread-safe; a simulation runs in one thread.
 */
final class SafetyChecker {

  /**
   * A client must see at least {@code version} of a key because it wrote or read
   * {@code via} (the same key and version when it did so directly, else a dependency of it);
   * {@code collected}: it read "not found" where the delete {@code via} had been collected.
   */
  private record Required(
      Version version, boolean wrote, String viaKey, Version via, boolean collected) {
    String because(String key) {
      String direct = (wrote ? "it wrote " : "it read ") + viaKey + "=" + via
          + (collected ? " (not found: a collected delete)" : "");
      return via.equals(version) && viaKey.equals(key)
          ? direct : direct + " whose writer had seen " + key + "=" + version;
    }
  }

  /** What the checker last saw a replica hold for a key; {@code collected}: it forgot it. */
  private record Held(Version version, boolean tombstone, boolean collected) {}

  private final History history = new History();
  private final ToIntFunction<String> shardOf;
  private final BiPredicate<String, String> boundByFloors;
  private final boolean pruneModel;
  private final Map<String, Map<String, Required>> knowledge = new HashMap<>();
  private final Map<String, Map<String, Held>> held = new HashMap<>();
  private final Map<String, Set<String>> tombstonesHeld = new HashMap<>();
  private final Map<String, Version> tombstoneFloor = new HashMap<>();
  private final Map<String, Version> modelStable = new HashMap<>();
  /** For each key, the newest tombstone of it some replica collected. */
  private final Map<String, Version> collectedInShard = new HashMap<>();
  private final Set<String> dirty = new LinkedHashSet<>();
  private long tombstoneFloorsRaised;
  private long collectedSeen;
  private long collectedReads;

  /**
   * @param shardOf       the shard of a key (the clock check compares keys of one shard)
   * @param pruneModel    prune the model's knowledge by its own notion of stability (see above)
   * @param boundByFloors whether a node is bound by a key's tombstone floor (see the class
   *                      comment): every node but one left out of a change that still serves
   *                      the old layout, of a key whose new shard it is not part of
   */
  SafetyChecker(ToIntFunction<String> shardOf, boolean pruneModel,
      BiPredicate<String, String> boundByFloors) {
    this.shardOf = shardOf;
    this.pruneModel = pruneModel;
    this.boundByFloors = boundByFloors;
  }

  History history() {
    return history;
  }

  /** How often a key's tombstone floor rose: evidence that the tombstone check had work. */
  long tombstoneFloorsRaised() {
    return tombstoneFloorsRaised;
  }

  /** How often the checker saw a replica collect a tombstone. */
  long collectedSeen() {
    return collectedSeen;
  }

  /** Reads of "nothing" at a collected tombstone by a client that knew a value of the key. */
  long collectedReads() {
    return collectedReads;
  }

  private Map<String, Required> knowledgeOf(String client) {
    return knowledge.computeIfAbsent(client, c -> new HashMap<>());
  }

  private Held held(String node, String key) {
    return held.getOrDefault(node, Map.of()).get(key);
  }

  /**
   * The version {@code node} effectively holds for {@code key}: its entry's, or the collected
   * tombstone's (its own, or for a key it never held since it started, the newest one a replica
   * of its shard collected), or {@link Version#ZERO}. Current as of the last
   * {@link #checkNode}.
   */
  Version effective(String node, String key) {
    Held h = held(node, key);
    if (h == null) {
      // Never held since it (re)started: a tombstone its shard collected counts as held.
      return collectedInShard.getOrDefault(key, Version.ZERO);
    }
    return h.version();
  }

  /** Keys whose tombstone {@code node} holds (not yet collected), as last checked. */
  Set<String> tombstonesHeld(String node) {
    return Set.copyOf(tombstonesHeld.getOrDefault(node, Set.of()));
  }

  /**
   * A client observed {@code entry} (null: the key is unknown) of {@code key} at {@code node},
   * by a read or a delete that found nothing to delete; {@code context} is the client's context
   * before the operation.
   */
  void onObserve(String client, String node, String key, Entry entry, CausalContext context) {
    Held h = held(node, key);
    if (entry == null && h == null && collectedInShard.containsKey(key)) {
      // The node never held the key since it (re)started, and a replica of its shard collected
      // the key's tombstone: "nothing" is that delete (a wiped node copied its shard after it).
      h = new Held(collectedInShard.get(key), true, true);
    }
    boolean collected = entry == null && h != null && h.collected();
    Version got = entry != null ? entry.version() : collected ? h.version() : Version.ZERO;
    String what = client + " read " + key + "=" + (entry != null ? got
        : collected ? "nothing (collected tombstone " + got + ")" : "nothing") + " at " + node;
    if (!got.isAtLeast(context.get(key))) {
      throw new SimViolation("causality/context",
          what + " but its context requires " + context.get(key));
    }
    Map<String, Required> known = knowledgeOf(client);
    Required required = known.get(key);
    if (required != null && !got.isAtLeast(required.version())) {
      throw new SimViolation("causality/model", what + " but it must see at least "
          + required.version() + " because " + required.because(key)
          + "; its context says " + context.get(key));
    }
    if (collected && required != null && !history.write(required.version()).entry()
        .isTombstone()) {
      // It knew a value, so "nothing" is the (collected) delete: it learns its causes.
      collectedReads++;
      learnFrom(known, key, history.write(got), true);
      return;
    }
    if (entry == null) {
      return;
    }
    History.Write write = history.write(got);
    if (write == null || !write.sameData(entry)) {
      throw new SimViolation("fabricated", what + ": " + entry + " was never acknowledged");
    }
    checkNotBelowTombstone(node, what, entry);
    learnFrom(known, key, write, false);
  }

  /** The reader of {@code write} learns it and everything its writer had observed. */
  private void learnFrom(
      Map<String, Required> known, String key, History.Write write, boolean collected) {
    Version got = write.entry().version();
    learn(known, key, new Required(got, false, key, got, collected));
    for (Map.Entry<String, Version> dep : write.modelDeps().entrySet()) {
      learn(known, dep.getKey(), new Required(dep.getValue(), false, key, got, collected));
    }
    pruneModel(known);
  }

  /** Drops requirements every replica of their key's shard already meets (pruneModel only). */
  private void pruneModel(Map<String, Required> known) {
    if (pruneModel) {
      known.entrySet().removeIf(e -> e.getValue().version()
          .compareTo(modelStable.getOrDefault(e.getKey(), Version.ZERO)) <= 0);
    }
  }

  /** A client was acknowledged {@code written}; the model records what it had seen. */
  void onWrite(String client, Entry written) {
    Map<String, Required> known = knowledgeOf(client);
    pruneModel(known);
    Map<String, Version> deps = new HashMap<>();
    int shard = shardOf.applyAsInt(written.key());
    for (Map.Entry<String, Required> e : known.entrySet()) {
      if (shardOf.applyAsInt(e.getKey()) == shard
          && !written.version().isNewerThan(e.getValue().version())) {
        throw new SimViolation("clock", client + " wrote " + written + " but had seen "
            + e.getKey() + "=" + e.getValue().version());
      }
      deps.put(e.getKey(), e.getValue().version());
    }
    history.record(written, deps);
    learn(known, written.key(),
        new Required(written.version(), true, written.key(), written.version(), false));
  }

  private static void learn(Map<String, Required> known, String key, Required required) {
    Required current = known.get(key);
    if (current == null || required.version().isNewerThan(current.version())) {
      known.put(key, required);
    }
  }

  /**
   * Checks {@code keys} of one node's store after it may have changed: monotonic (a collected
   * tombstone counts as held), not fabricated, not below a tombstone floor, nothing vanished.
   */
  void checkNode(SimNode node, Collection<String> keys) {
    Map<String, Held> before = held.computeIfAbsent(node.id(), n -> new HashMap<>());
    Set<String> tombstones = tombstonesHeld.computeIfAbsent(node.id(), n -> new HashSet<>());
    for (String key : keys) {
      Entry entry = node.replica().store().get(key);
      Held was = before.get(key);
      if (entry == null) {
        if (was == null || was.collected()) {
          continue;
        }
        if (!was.tombstone()) {
          throw new SimViolation("vanished", node.id() + " held " + key + "=" + was.version()
              + " and now holds nothing");
        }
        before.put(key, new Held(was.version(), true, true));
        collectedInShard.merge(key, was.version(), Version::max);
        tombstones.remove(key);
        collectedSeen++;
        dirty.add(key);
        continue;
      }
      Version now = entry.version();
      Version wasVersion = was == null ? Version.ZERO : was.version();
      if (now.equals(wasVersion) && !was.collected()) {
        continue;
      }
      if (!now.isAtLeast(wasVersion)) {
        if (was.collected()) {
          throw new SimViolation("tombstone/resurrected", node.id() + " collected the tombstone "
              + key + "=" + wasVersion + " and now holds " + entry);
        }
        throw new SimViolation("monotonic", node.id() + " held " + key + "=" + wasVersion
            + " and now holds " + now);
      }
      History.Write write = history.write(now);
      if (write == null || !write.sameData(entry)) {
        throw new SimViolation("fabricated", node.id() + " holds " + entry
            + " which was never acknowledged");
      }
      if (node.servesKey(key)) {
        // A replica copying its shard after a restart may briefly hold a write its peers'
        // queues still carried for its previous process; it serves only once caught up. A
        // view change's receiver holds copies of keys it does not serve yet, which the stop's
        // transfer brings up to date before they are served.
        checkNotBelowTombstone(node.id(), node.id() + " holds " + key, entry);
      }
      before.put(key, new Held(now, entry.isTombstone(), false));
      if (entry.isTombstone()) {
        tombstones.add(key);
      } else {
        tombstones.remove(key);
      }
      dirty.add(key);
    }
  }

  /**
   * {@code node} restarted without its data: its new process starts empty, so what the checker
   * knew it held no longer binds it (it copies its shard again). Writes it held were held by
   * another replica too (the simulation only kills such a node then), so none is lost.
   */
  void onWiped(String node) {
    held.remove(node);
    tombstonesHeld.remove(node);
  }

  /**
   * {@code node} dropped {@code keys} because its configuration no longer gives them to it (a
   * view change committed, or aborted and dropped what it had copied in): what it held of them
   * no longer binds it. The keys' new owners hold them (the convergence check sees to that).
   */
  void onDropped(String node, Collection<String> keys) {
    Map<String, Held> h = held.get(node);
    Set<String> tombstones = tombstonesHeld.get(node);
    for (String key : keys) {
      if (h != null) {
        h.remove(key);
      }
      if (tombstones != null) {
        tombstones.remove(key);
      }
    }
  }

  /** {@code node} caught up and serves again: nothing it holds may be below a tombstone floor. */
  void checkCaughtUp(SimNode node, Collection<String> keys) {
    for (String key : keys) {
      Entry entry = node.replica().store().get(key);
      if (entry != null) {
        checkNotBelowTombstone(node.id(), node.id() + " caught up holding " + key, entry);
      }
    }
  }

  /** Keys some replica changed since the last call (for {@link #updateTombstoneFloor}). */
  Set<String> drainDirty() {
    Set<String> out = new LinkedHashSet<>(dirty);
    dirty.clear();
    return out;
  }

  /**
   * Raises {@code key}'s tombstone floor when every replica of its shard holds a tombstone
   * (collected ones included), and the model's stable version of the key (what every replica
   * holds at least).
   */
  void updateTombstoneFloor(String key, List<SimNode> replicas) {
    Version oldest = null;
    boolean allTombstones = true;
    for (SimNode node : replicas) {
      Held h = held(node.id(), key);
      Version version = h == null ? Version.ZERO : h.version();
      allTombstones &= h != null && h.tombstone();
      oldest = oldest == null ? version : minimum(oldest, version);
    }
    if (oldest != null) {
      modelStable.merge(key, oldest, Version::max);
    }
    if (!allTombstones) {
      return;
    }
    Version floor = tombstoneFloor.get(key);
    if (oldest != null && (floor == null || oldest.isNewerThan(floor))) {
      tombstoneFloor.put(key, oldest);
      tombstoneFloorsRaised++;
    }
  }

  private static Version minimum(Version a, Version b) {
    return a.isNewerThan(b) ? b : a;
  }

  private void checkNotBelowTombstone(String node, String what, Entry entry) {
    Version floor = tombstoneFloor.get(entry.key());
    if (!entry.isTombstone() && floor != null && floor.isNewerThan(entry.version())
        && boundByFloors.test(node, entry.key())) {
      throw new SimViolation("tombstone", what + ": value " + entry.version()
          + " after every replica held the tombstone " + floor);
    }
  }
}
