package ringkv.gossip;

import java.util.List;
import java.util.function.Consumer;

/**
 * Where a replica keeps its entries (values and tombstones). Implementations: {@link MemoryStore};
 * the node adds a durable one. Calls are synchronous and short; the caller confines them to one
 * thread. "Key order" is {@link KeyOrder}: UTF-8 byte order, the same in every implementation
 * (replicas page through each other's data with {@link #scan}). {@code StoreContract} in the
 * gossip test-jar is the suite every implementation passes.
 *
 * <p><b>Quarantine.</b> A durable implementation checks every record it reads. A record that
 * fails its check (damaged on the disk) is moved aside, never served: from then on the key is
 * absent for {@link #get}, {@link #scan}, {@link #forEach} and the counts, as if it had never
 * been written here, and it is listed by {@link #quarantinedKeys} until a {@link #put} (a repair
 * from a replica, or a new write) or a {@link #remove} of that key clears it. Its owner should
 * fetch such keys again from a replica, and must not take the absence for the truth: applying a
 * replica's copy must not be refused because the key is locally unknown (see
 * {@link #isQuarantined}). Stores that never damage records (in memory) quarantine nothing.
 */
public interface Store {

  /** The entry for {@code key} (value or tombstone), or null if the key was never seen. */
  Entry get(String key);

  /** Stores {@code entry}, replacing whatever the key had. */
  void put(Entry entry);

  /** Forgets {@code key} entirely (used to collect tombstones every replica has). */
  void remove(String key);

  /** Number of keys holding a value (tombstones excluded). */
  long liveCount();

  /** Number of entries, tombstones included. */
  long size();

  /** Visits every entry, tombstones included, in key order. */
  void forEach(Consumer<Entry> visitor);

  /**
   * Up to {@code limit} entries (tombstones included) with keys strictly after {@code afterKey}
   * ({@code null}: from the first key), in key order: pages for streaming a replica's data with
   * bounded memory. {@code afterKey} need not be present. {@code limit} must be at least 1.
   */
  List<Entry> scan(String afterKey, int limit);

  /**
   * Like {@link #scan}, but only tombstones: what a tombstone sweep visits, so that its cost
   * follows the number of deletes, not the size of the store.
   */
  List<Entry> scanTombstones(String afterKey, int limit);

  /** Number of tombstones held. */
  default long tombstoneCount() {
    return size() - liveCount();
  }

  /** Number of keys whose record was found damaged and is awaiting repair (see above). */
  default long quarantinedCount() {
    return 0;
  }

  /**
   * Up to {@code limit} (at least 1) quarantined keys strictly after {@code afterKey}
   * ({@code null}: from the first), in key order: the keys to fetch again from a replica.
   */
  default List<String> quarantinedKeys(String afterKey, int limit) {
    if (limit < 1) {
      throw new IllegalArgumentException("limit must be > 0, got " + limit);
    }
    return List.of();
  }

  /**
   * Whether {@code key}'s record was found damaged and is awaiting repair: the key reads as
   * absent, but this replica may have held any version of it.
   */
  default boolean isQuarantined(String key) {
    return false;
  }
}
