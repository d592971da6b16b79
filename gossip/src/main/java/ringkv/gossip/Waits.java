package ringkv.gossip;

import static com.google.common.base.Preconditions.checkArgument;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.TreeMap;

/**
 * Requests parked until this replica holds a version of a key their client has already seen.
 * Each wait has a deadline and the number of parked requests is bounded ({@code waitersMax}).
 * Waits are named by ids the caller maps to its own continuations: {@link #onHeld} and
 * {@link #expire} return the ids they release, so the caller completes or fails them.
 *
 * <p>No clock, no timers: time comes in as {@code nowMs}. Not thread-safe; confine to one event
 * loop.
 */
public final class Waits {
  private record Waiter(long id, String key, Version needed, long deadlineMs) {}

  private final int waitersMax;
  private final Map<String, List<Waiter>> byKey = new HashMap<>();
  private final Map<Long, Waiter> byId = new HashMap<>();
  /** Waiters by deadline, then id: what {@link #expire} takes from the front. */
  private final TreeMap<Long, Map<Long, Waiter>> byDeadline = new TreeMap<>();
  private long nextId = 1;

  public Waits(int waitersMax) {
    checkArgument(waitersMax >= 0, "waitersMax must be >= 0");
    this.waitersMax = waitersMax;
  }

  /**
   * Parks a wait for {@code key} at {@code needed} or newer until {@code deadlineMs}; returns its
   * id, or empty when {@code waitersMax} requests wait already (the caller answers 503).
   */
  public OptionalLong await(String key, Version needed, long deadlineMs) {
    if (byId.size() >= waitersMax) {
      return OptionalLong.empty();
    }
    Waiter w = new Waiter(nextId++, key, needed, deadlineMs);
    byKey.computeIfAbsent(key, k -> new ArrayList<>()).add(w);
    byId.put(w.id(), w);
    byDeadline.computeIfAbsent(deadlineMs, d -> new HashMap<>()).put(w.id(), w);
    return OptionalLong.of(w.id());
  }

  /** Whether any request waits for a version of {@code key}. */
  public boolean waitsFor(String key) {
    return byKey.containsKey(key);
  }

  /** This replica now holds {@code held} for {@code key}: the waits it satisfies, released. */
  public List<Long> onHeld(String key, Version held) {
    List<Waiter> list = byKey.get(key);
    if (list == null) {
      return List.of();
    }
    List<Long> released = new ArrayList<>();
    Iterator<Waiter> it = list.iterator();
    while (it.hasNext()) {
      Waiter w = it.next();
      if (held.isAtLeast(w.needed())) {
        it.remove();
        forget(w);
        released.add(w.id());
      }
    }
    if (list.isEmpty()) {
      byKey.remove(key);
    }
    return released;
  }

  /** The waits whose deadline is at or before {@code nowMs}, removed (the caller fails them). */
  public List<Long> expire(long nowMs) {
    List<Long> expired = new ArrayList<>();
    while (!byDeadline.isEmpty() && byDeadline.firstKey() <= nowMs) {
      for (Waiter w : List.copyOf(byDeadline.firstEntry().getValue().values())) {
        cancel(w.id());
        expired.add(w.id());
      }
    }
    expired.sort(Long::compare);
    return expired;
  }

  /** Removes wait {@code id}; false if it was no longer waiting (released or expired). */
  public boolean cancel(long id) {
    Waiter w = byId.get(id);
    if (w == null) {
      return false;
    }
    List<Waiter> list = byKey.get(w.key());
    list.remove(w);
    if (list.isEmpty()) {
      byKey.remove(w.key());
    }
    forget(w);
    return true;
  }

  private void forget(Waiter w) {
    byId.remove(w.id());
    Map<Long, Waiter> at = byDeadline.get(w.deadlineMs());
    at.remove(w.id());
    if (at.isEmpty()) {
      byDeadline.remove(w.deadlineMs());
    }
  }

  /** Requests waiting now. */
  public int size() {
    return byId.size();
  }

  @Override
  public String toString() {
    return "Waits{" + byId.size() + " on " + byKey.keySet() + "}";
  }
}
