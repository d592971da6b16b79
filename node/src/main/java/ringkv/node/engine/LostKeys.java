package ringkv.node.engine;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import ringkv.gossip.KeyOrder;
import ringkv.gossip.Store;

/**
 * Issue 15: the keys this node holds quarantined (their stored record was found damaged) that no
 * replica of their shard could give back: every other replica answered a repair request for the
 * key with no copy (it never had one, or its own copy is damaged too), or the shard has no other
 * replica. Such a key is <em>lost</em> on this node: reads of it here answer an error
 * ({@code ErrorCode.KEY_LOST}) instead of "not found", and it is counted ({@code GET /ring},
 * {@code ringkv_store_keys_lost}). It stays quarantined and is still asked for (at the repair's
 * longest delay), so a replica that gains a copy later repairs it; a new write of the key (or a
 * repair) clears its quarantine and so its loss ({@link #prune}).
 *
 * <p>Bounded: at most {@link #KEYS_MAX} keys are tracked (beyond, a key stays merely
 * quarantined). Pure bookkeeping over the store's quarantine, no I/O of its own. Not
 * thread-safe; runs on the node's event loop.
 */
public final class LostKeys {
  /** Lost keys tracked at most. */
  static final int KEYS_MAX = 65_536;

  private final Store store;
  private final TreeSet<String> lost = new TreeSet<>(KeyOrder.COMPARATOR);

  public LostKeys(Store store) {
    this.store = store;
  }

  /**
   * After a repair pass that asked for {@code asked}: {@code denials} says, per key, how many
   * replicas answered with no copy, out of the {@code replicas} other replicas of the shard.
   * Marks lost every key still quarantined that all of them denied; returns the newly lost ones.
   */
  public List<String> judge(List<String> asked, Map<String, Integer> denials, int replicas) {
    List<String> newlyLost = new ArrayList<>();
    for (String key : asked) {
      if (lost.size() >= KEYS_MAX) {
        break;
      }
      if (denials.getOrDefault(key, 0) >= replicas && store.isQuarantined(key)
          && lost.add(key)) {
        newlyLost.add(key);
      }
    }
    return newlyLost;
  }

  /** Whether {@code key} is lost here: quarantined and no replica had a copy. */
  public boolean isLost(String key) {
    return lost.contains(key) && store.isQuarantined(key);
  }

  /** Forgets keys no longer quarantined (a new write, a late repair); returns how many. */
  public int prune() {
    int before = lost.size();
    lost.removeIf(k -> !store.isQuarantined(k));
    return before - lost.size();
  }

  /** Keys lost here now (as of the last {@link #prune}). */
  public int count() {
    return lost.size();
  }
}
