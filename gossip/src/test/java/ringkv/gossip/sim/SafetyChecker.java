package ringkv.gossip.sim;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
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
 *   <li><b>clock</b>: a write's version is above everything its client had observed;
 *   <li><b>tombstone</b>: once every replica of a shard holds a tombstone of a key, no version
 *       older than the oldest of them is ever served or held as a value again.
 * </ul>
 *
 * <p>Not thread-safe; a simulation runs in one thread.
 */
final class SafetyChecker {

  /**
   * A client must see at least {@code version} of a key because it wrote or read
   * {@code via} (the same key and version when it did so directly, else a dependency of it).
   */
  private record Required(Version version, boolean wrote, String viaKey, Version via) {
    String because(String key) {
      String direct = (wrote ? "it wrote " : "it read ") + viaKey + "=" + via;
      return via.equals(version) && viaKey.equals(key)
          ? direct : direct + " whose writer had seen " + key + "=" + version;
    }
  }

  private final History history = new History();
  private final Map<String, Map<String, Required>> knowledge = new HashMap<>();
  private final Map<String, Map<String, Version>> held = new HashMap<>();
  private final Map<String, Version> tombstoneFloor = new HashMap<>();
  private long tombstoneFloorsRaised;

  History history() {
    return history;
  }

  /** How often a key's tombstone floor rose: evidence that the tombstone check had work. */
  long tombstoneFloorsRaised() {
    return tombstoneFloorsRaised;
  }

  private Map<String, Required> knowledgeOf(String client) {
    return knowledge.computeIfAbsent(client, c -> new HashMap<>());
  }

  /**
   * A client observed {@code entry} (null: the key is unknown) of {@code key} at {@code node},
   * by a read or a delete that found nothing to delete; {@code context} is the client's context
   * before the operation.
   */
  void onObserve(String client, String node, String key, Entry entry, CausalContext context) {
    Version got = entry == null ? Version.ZERO : entry.version();
    String what = client + " read " + key + "=" + (entry == null ? "nothing" : got) + " at "
        + node;
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
    if (entry == null) {
      return;
    }
    History.Write write = history.write(got);
    if (write == null || !write.sameData(entry)) {
      throw new SimViolation("fabricated", what + ": " + entry + " was never acknowledged");
    }
    checkNotBelowTombstone(what, entry);
    learn(known, key, new Required(got, false, key, got));
    for (Map.Entry<String, Version> dep : write.modelDeps().entrySet()) {
      learn(known, dep.getKey(), new Required(dep.getValue(), false, key, got));
    }
  }

  /** A client was acknowledged {@code written}; the model records what it had seen. */
  void onWrite(String client, Entry written) {
    Map<String, Required> known = knowledgeOf(client);
    Map<String, Version> deps = new HashMap<>();
    for (Map.Entry<String, Required> e : known.entrySet()) {
      if (!written.version().isNewerThan(e.getValue().version())) {
        throw new SimViolation("clock", client + " wrote " + written + " but had seen "
            + e.getKey() + "=" + e.getValue().version());
      }
      deps.put(e.getKey(), e.getValue().version());
    }
    history.record(written, deps);
    learn(known, written.key(),
        new Required(written.version(), true, written.key(), written.version()));
  }

  private static void learn(Map<String, Required> known, String key, Required required) {
    Required current = known.get(key);
    if (current == null || required.version().isNewerThan(current.version())) {
      known.put(key, required);
    }
  }

  /** Checks one node's store after it changed: monotonic, not fabricated, not below a floor. */
  void checkNode(SimNode node, List<String> keys) {
    Map<String, Version> before = held.computeIfAbsent(node.id(), n -> new HashMap<>());
    for (String key : keys) {
      Entry entry = node.replica().store().get(key);
      Version now = entry == null ? Version.ZERO : entry.version();
      Version was = before.getOrDefault(key, Version.ZERO);
      if (now.equals(was)) {
        continue;
      }
      if (!now.isNewerThan(was)) {
        throw new SimViolation("monotonic", node.id() + " held " + key + "=" + was
            + " and now holds " + now);
      }
      History.Write write = history.write(now);
      if (write == null || !write.sameData(entry)) {
        throw new SimViolation("fabricated", node.id() + " holds " + entry
            + " which was never acknowledged");
      }
      checkNotBelowTombstone(node.id() + " holds " + key, entry);
      before.put(key, now);
    }
  }

  /** Raises {@code key}'s tombstone floor when every replica of its shard holds a tombstone. */
  void updateTombstoneFloor(String key, List<SimNode> replicas) {
    Version oldest = null;
    for (SimNode node : replicas) {
      Entry entry = node.replica().store().get(key);
      if (entry == null || !entry.isTombstone()) {
        return;
      }
      oldest = oldest == null ? entry.version() : minimum(oldest, entry.version());
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

  private void checkNotBelowTombstone(String what, Entry entry) {
    Version floor = tombstoneFloor.get(entry.key());
    if (!entry.isTombstone() && floor != null && floor.isNewerThan(entry.version())) {
      throw new SimViolation("tombstone", what + ": value " + entry.version()
          + " after every replica held the tombstone " + floor);
    }
  }
}
