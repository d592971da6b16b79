package ringkv.gossip;

import static com.google.common.base.Preconditions.checkArgument;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.Set;

/**
 * Writes whose client asked to be answered only once {@code k} replicas of the key's shard hold
 * them (like Redis {@code WAIT} or a Cassandra consistency level): the writing replica holds it
 * itself, so a wait counts the other replicas that acknowledged a replication batch carrying the
 * write, or a newer version of its key (which the replication queue sends in its place), and is
 * released when {@code needed} of them did, or at its deadline with the count reached so far.
 * A peer acknowledges a batch once it holds it as durably as its {@code DURABILITY} says.
 *
 * <p>Waits are named by ids the caller maps to its continuations. No clock, no timers: time
 * comes in as {@code nowMs}; the number of waits is bounded. Not thread-safe; confine to one
 * event loop.
 */
public final class AckWaits {
  /** A wait that ended: how many peers acknowledged, and whether that was enough. */
  public record Released(long id, int acked, int needed) {
    public boolean enough() {
      return acked >= needed;
    }
  }

  private static final class Waiter {
    final long id;
    final String key;
    final Version version;
    final Set<String> peers;
    final Set<String> acked = new HashSet<>();
    final int needed;
    final long deadlineMs;

    Waiter(long id, String key, Version version, Set<String> peers, int needed,
        long deadlineMs) {
      this.id = id;
      this.key = key;
      this.version = version;
      this.peers = Set.copyOf(peers);
      this.needed = needed;
      this.deadlineMs = deadlineMs;
    }
  }

  private final int waitsMax;
  private final Map<String, List<Waiter>> byKey = new HashMap<>();
  private final Map<Long, Waiter> byId = new HashMap<>();
  private long nextId = 1;

  public AckWaits(int waitsMax) {
    checkArgument(waitsMax >= 0, "waitsMax must be >= 0");
    this.waitsMax = waitsMax;
  }

  /**
   * Waits until {@code needed} of {@code peers} acknowledge {@code version} of {@code key} (or a
   * newer one), at the latest until {@code deadlineMs}; its id, or empty when {@code waitsMax}
   * writes wait already (the caller answers 503).
   */
  public OptionalLong await(String key, Version version, Set<String> peers, int needed,
      long deadlineMs) {
    checkArgument(needed >= 1 && needed <= peers.size(), "needed must be 1..%s", peers.size());
    if (byId.size() >= waitsMax) {
      return OptionalLong.empty();
    }
    Waiter w = new Waiter(nextId++, key, version, peers, needed, deadlineMs);
    byKey.computeIfAbsent(key, k -> new ArrayList<>()).add(w);
    byId.put(w.id, w);
    return OptionalLong.of(w.id);
  }

  /** {@code peer} acknowledged a batch of {@code entries}: the waits now satisfied. */
  public List<Released> onAcked(String peer, List<Entry> entries) {
    if (byId.isEmpty()) {
      return List.of();
    }
    List<Released> released = new ArrayList<>();
    for (Entry e : entries) {
      List<Waiter> list = byKey.get(e.key());
      if (list == null) {
        continue;
      }
      Iterator<Waiter> it = list.iterator();
      while (it.hasNext()) {
        Waiter w = it.next();
        if (w.peers.contains(peer) && e.version().isAtLeast(w.version) && w.acked.add(peer)
            && w.acked.size() >= w.needed) {
          it.remove();
          byId.remove(w.id);
          released.add(new Released(w.id, w.acked.size(), w.needed));
        }
      }
      if (list.isEmpty()) {
        byKey.remove(e.key());
      }
    }
    return released;
  }

  /** The waits whose deadline passed by {@code nowMs}, with the count they reached. */
  public List<Released> expire(long nowMs) {
    List<Released> released = new ArrayList<>();
    Iterator<Waiter> it = byId.values().iterator();
    while (it.hasNext()) {
      Waiter w = it.next();
      if (w.deadlineMs <= nowMs) {
        it.remove();
        List<Waiter> list = byKey.get(w.key);
        list.remove(w);
        if (list.isEmpty()) {
          byKey.remove(w.key);
        }
        released.add(new Released(w.id, w.acked.size(), w.needed));
      }
    }
    return released;
  }

  /** Writes waiting now. */
  public int size() {
    return byId.size();
  }
}
