package ringkv.gossip;

import static com.google.common.base.Preconditions.checkArgument;

import java.util.Collection;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Predicate;
import java.util.function.ToLongFunction;

/**
 * The protocol core of one replica: it versions client writes with its Lamport clock, stores them,
 * queues them for the other replicas of its shard, merges replicated writes (higher version wins,
 * tombstones included) and decides whether a client's causal context lets it serve a key.
 *
 * <p>Order of effects (etcd's rule): a write is applied to the store before it is queued, and the
 * caller acknowledges the client only after {@link #put}/{@link #delete} return. Reads are served
 * only when {@link #missing} is empty, i.e. this replica holds at least the version of the key the
 * client has already seen. Callers make writes wait for it too (so "Updated" or a 404 after a
 * delete reflect what the client knows) but may go ahead when it does not come: the new version
 * is above everything in the client's context, so it supersedes the version this replica lacks
 * wherever that arrives — which keeps both sides of a partition writable. A client that has seen
 * a version of the key this replica lacks knows the key exists: a delete then writes its
 * tombstone, and a put counts as an update.
 *
 * <p>Not thread-safe; confine to one event loop.
 */
public record Replica(String self, Store store, ReplicationQueue queue, LamportClock clock) {

  /** The outcome of a read: the stored entry (null if never seen) and the reader's new context. */
  public record ReadResult(Entry entry, CausalContext context) {
    public boolean found() {
      return entry != null && !entry.isTombstone();
    }
  }

  /**
   * The outcome of a write: the entry written (null when a delete found nothing to delete),
   * whether the key held a value before, and the writer's new context.
   */
  public record WriteResult(Entry entry, boolean existed, CausalContext context) {}

  public Replica {
    checkArgument(self != null && !self.isEmpty(), "self");
    Objects.requireNonNull(store, "store");
    Objects.requireNonNull(queue, "queue");
    Objects.requireNonNull(clock, "clock");
  }

  /** Lamport's receive rule for a client's context: later local writes order after it. */
  public void observe(CausalContext context) {
    clock.observe(context.maxCounter());
  }

  /** The version of {@code key} the client has seen that this replica lacks, if any. */
  public Optional<Version> missing(String key, CausalContext context) {
    Version needed = context.get(key);
    if (needed.equals(Version.ZERO)) {
      return Optional.empty();
    }
    return held(key).isAtLeast(needed) ? Optional.empty() : Optional.of(needed);
  }

  /** The version this replica holds for {@code key} ({@link Version#ZERO} if none). */
  public Version held(String key) {
    Entry e = store.get(key);
    return e == null ? Version.ZERO : e.version();
  }

  /** Reads {@code key}; the reader's context absorbs the entry's version and dependencies. */
  public ReadResult read(String key, CausalContext context) {
    observe(context);
    Entry e = store.get(key);
    if (e == null) {
      return new ReadResult(null, context);
    }
    return new ReadResult(e, context.merge(e.deps()).with(key, e.version()));
  }

  /** Whether a write of {@code key} can be queued for every peer (else answer 503). */
  public boolean hasRoomFor(String key, Collection<String> peers) {
    return queue.hasRoomFor(key, peers);
  }

  /** Writes {@code valueJson} to {@code key}, versioned above everything the client has seen. */
  public WriteResult put(
      String key, String valueJson, CausalContext context, Collection<String> peers, long nowMs) {
    Objects.requireNonNull(valueJson, "valueJson");
    return write(key, valueJson, context, peers, nowMs);
  }

  /** Deletes {@code key} with a versioned tombstone; a no-op when it holds no value. */
  public WriteResult delete(
      String key, CausalContext context, Collection<String> peers, long nowMs) {
    Entry current = store.get(key);
    if ((current == null || current.isTombstone()) && !knowsMore(key, context)) {
      observe(context);
      // A 404 tells the client as much as a read of the tombstone would: carry its causes too.
      CausalContext out = current == null
          ? context : context.merge(current.deps()).with(key, current.version());
      return new WriteResult(null, false, out);
    }
    return write(key, null, context, peers, nowMs);
  }

  private WriteResult write(
      String key, String valueJson, CausalContext context, Collection<String> peers, long nowMs) {
    Entry current = store.get(key);
    boolean clientKnowsMore = knowsMore(key, context);
    observe(context);
    if (current != null) {
      clock.observe(current.version().counter());
    }
    Version version = clock.tick(self, nowMs);
    Entry entry = new Entry(key, valueJson, version, context.without((k, v) -> k.equals(key)));
    store.put(entry);
    queue.enqueue(entry, peers);
    boolean existed = current != null && !current.isTombstone() || clientKnowsMore;
    return new WriteResult(entry, existed, context.with(key, version));
  }

  /** Has the client seen a version of {@code key} newer than this replica holds? */
  private boolean knowsMore(String key, CausalContext context) {
    return context.get(key).isNewerThan(held(key));
  }

  /**
   * This replica's contribution to its shard's stable time: every one of {@code peers} has
   * acknowledged every write this replica made with a counter at or below the returned one (and
   * every later write will get a higher counter).
   */
  public long localStable(Collection<String> peers) {
    long stable = clock.current();
    for (String p : peers) {
      java.util.OptionalLong oldest = queue.oldestUnackedCounter(p);
      if (oldest.isPresent()) {
        stable = Math.min(stable, oldest.getAsLong() - 1);
      }
    }
    return stable;
  }

  /**
   * Removes the tombstones that are redundant: a tombstone of key {@code k} at or below
   * {@code stableTimeOfKey(k)} (every replica holds it, so no older write of {@code k} can arrive
   * any more except as a stale duplicate, which {@link #applyReplicated} drops) whose every
   * dependency {@code (k2, v2)} is at or below {@code stableTimeOfKey(k2)}. The second condition
   * matters across shards: a client that had read a value of {@code k} and then reads "not found"
   * has observed the delete and must see its causes, which a read of the tombstone would have
   * merged into its context; once the tombstone is gone they are only guaranteed if every
   * replica of their own shards already holds them. {@code stableTimeOfKey} gives the stable
   * time of the shard owning a key. Returns how many were removed.
   */
  public int collectTombstones(ToLongFunction<String> stableTimeOfKey) {
    return collect(e -> e.version().counter() <= stableTimeOfKey.applyAsLong(e.key())
        && e.deps().keys().entrySet().stream().allMatch(
            d -> d.getValue().counter() <= stableTimeOfKey.applyAsLong(d.getKey())));
  }

  /**
   * {@link #collectTombstones(ToLongFunction)} for a caller that only knows its own shard's
   * {@code stableTime}: it collects only the tombstones at or below it that have no
   * dependencies (a dependency may belong to another shard, whose stability is unknown here).
   */
  public int collectTombstones(long stableTime) {
    return collect(e -> e.version().counter() <= stableTime && e.deps().isEmpty());
  }

  /** One page of a tombstone sweep: how many were collected, and where to resume (null: done). */
  public record Sweep(int removed, String resumeAfter) {}

  /**
   * {@link #collectTombstones(ToLongFunction)} over one page of at most {@code limit} entries
   * after {@code afterKey} (null: from the first key), so a caller can sweep a large store a
   * page at a time without stalling its event loop.
   */
  public Sweep collectTombstones(ToLongFunction<String> stableTimeOfKey, String afterKey,
      int limit) {
    List<Entry> page = store.scanTombstones(afterKey, limit);
    int removed = 0;
    for (Entry e : page) {
      if (e.isTombstone() && e.version().counter() <= stableTimeOfKey.applyAsLong(e.key())
          && e.deps().keys().entrySet().stream().allMatch(
              d -> d.getValue().counter() <= stableTimeOfKey.applyAsLong(d.getKey()))) {
        store.remove(e.key());
        removed++;
      }
    }
    return new Sweep(removed, page.size() < limit ? null : page.get(page.size() - 1).key());
  }

  private int collect(Predicate<Entry> redundantTombstone) {
    List<String> doomed = new java.util.ArrayList<>();
    String after = null;
    List<Entry> page;
    do {
      page = store.scanTombstones(after, COLLECT_PAGE);
      for (Entry e : page) {
        if (redundantTombstone.test(e)) {
          doomed.add(e.key());
        }
      }
      after = page.isEmpty() ? null : page.get(page.size() - 1).key();
    } while (page.size() == COLLECT_PAGE);
    doomed.forEach(store::remove);
    return doomed.size();
  }

  private static final int COLLECT_PAGE = 1024;


  /**
   * Merges a write replicated from a peer's queue or pulled from a peer, unless it is stale: at
   * or below the shard's {@code stableTime} every replica already held it, so if this replica
   * has nothing for the key, a collected tombstone superseded it and it must not come back (a
   * late duplicate of a batch, or a pull answer that was in flight while the tombstone was
   * written, replicated and collected). Only data copied into a replica that may legitimately
   * lack stable writes (catch-up after a restart without data, a view-change transfer) must use
   * {@link #apply}. A key the store quarantined (its record was found damaged, so it reads as
   * absent, {@link Store#isQuarantined}) is not "nothing": this replica may have held any version
   * of it, so a replica's copy is merged even at or below the stable time (the repair).
   */
  public boolean applyReplicated(Entry incoming, long stableTime) {
    return applyReplicated(incoming, key -> stableTime);
  }

  /**
   * As {@link #applyReplicated(Entry, long)}, with the stable time of the key's shard asked of
   * {@code stableOfKey} only when it matters: when this replica has nothing for the key (a
   * replicated write of a key it holds, the common case, needs one store lookup and no
   * stability computation).
   */
  public boolean applyReplicated(Entry incoming, java.util.function.ToLongFunction<String>
      stableOfKey) {
    String key = incoming.key();
    long counter = incoming.version().counter();
    clock.observe(counter);
    Entry current = store.get(key);
    if (current == null && !store.isQuarantined(key)
        && counter <= stableOfKey.applyAsLong(key)) {
      return false;
    }
    if (!incoming.supersedes(current)) {
      return false;
    }
    store.put(incoming);
    return true;
  }

  /**
   * Merges a write replicated from a peer (or pulled from one): kept only if newer than what this
   * replica holds. Returns whether it was applied.
   */
  public boolean apply(Entry incoming) {
    clock.observe(incoming.version().counter());
    Entry current = store.get(incoming.key());
    if (!incoming.supersedes(current)) {
      return false;
    }
    store.put(incoming);
    return true;
  }

  @Override
  public String toString() {
    return "Replica{" + self + " clock=" + clock.current() + " keys=" + store.size()
        + " queued=" + queue.pendingTotal() + "}";
  }
}
