package ringkv.gossip;

import static com.google.common.base.Preconditions.checkArgument;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.HashSet;
import java.util.Optional;
import java.util.Set;
import java.util.OptionalLong;
import java.util.function.BiPredicate;
import java.util.function.Predicate;
import java.util.function.ToLongFunction;

/**
 * The key-value path of one replica, as the node and the simulation both run it:
 * <ol>
 *   <li><b>Admission.</b> A request waits (bounded) for a version of its key the client has seen
 *       and this replica lacks ({@link #missing}); entries every replica holds (stable) are
 *       ignored, so a collected tombstone never makes a reader wait for ever.
 *   <li><b>After the wait.</b> A read that did not get its dependency fails; a write goes ahead
 *       anyway ({@link #goesAheadWithoutDependency}): its new version is above everything the
 *       client has seen, so it supersedes the missing one wherever that arrives, and a partition
 *       must not stop writes.
 *   <li><b>Execution</b> ({@link #perform}): reads merge the entry's causes into the client's
 *       context; writes are versioned, stored with their (pruned) causes, and queued for the
 *       shard's other replicas; a full queue refuses the write.
 *   <li><b>The answer's context</b> is the client's, raised by what the request taught it,
 *       bounded by {@link ContextBound}: it round-trips.
 *   <li><b>Peers' entries</b> ({@link #applyFromPeers}): a replicated, pulled or repaired entry
 *       for a key this node does not own is dropped (a stale sender's); one at or below its
 *       shard's stable time for a key this replica has nothing for is a stale duplicate of a
 *       write a collected tombstone superseded, and is dropped; copied data (catch-up, view-change
 *       transfers) is merged as is.
 * </ol>
 * Every change of what the replica holds releases the waits it satisfies; the ids come back in
 * the results for the caller to complete.
 *
 * <p>No clock, no I/O. Not thread-safe; confine to one event loop.
 */
public final class KeyValueCore {
  /** A client operation. */
  public enum Op { GET, PUT, DELETE }

  /** What an operation did. */
  public enum Outcome { FOUND, NOT_FOUND, CREATED, UPDATED, DELETED, QUEUE_FULL }

  /**
   * The result of an operation: the value read (FOUND only); the entry it wrote
   * (CREATED, UPDATED, DELETED) or observed (FOUND, NOT_FOUND: the entry read, a tombstone or
   * null); the context to answer with; and the waits this operation's write released.
   */
  public record Result(Outcome outcome, String valueJson, Entry entry, CausalContext context,
      List<Long> released) {
    public Result {
      Objects.requireNonNull(outcome, "outcome");
      Objects.requireNonNull(context, "context");
      released = List.copyOf(released);
    }

    /** Whether the operation wrote (and queued) a new version. */
    public boolean wrote() {
      return outcome == Outcome.CREATED || outcome == Outcome.UPDATED
          || outcome == Outcome.DELETED;
    }
  }

  /** Entries merged from peers: how many were newer, and the waits they released. */
  public record Applied(int fresh, List<Long> released) {}

  private final String self;
  private final Replica replica;
  private final NodeStability stability;
  private final Waits waits;
  /** Keys changed since tracking started (a view change's copy), or null when not tracking. */
  private Set<String> changed;

  public KeyValueCore(String self, Replica replica, NodeStability stability, int waitersMax) {
    checkArgument(self != null && !self.isEmpty(), "self");
    this.self = self;
    this.replica = Objects.requireNonNull(replica, "replica");
    this.stability = Objects.requireNonNull(stability, "stability");
    this.waits = new Waits(waitersMax);
  }

  public Replica replica() {
    return replica;
  }

  /**
   * From now on, records every key whose entry this replica changes (a client's write, a peer's
   * entry applied): what a view change copied early must be sent again at its stop.
   */
  public void trackChanges() {
    changed = new HashSet<>();
  }

  /** The keys changed since {@link #trackChanges}, and tracking stops. */
  public Set<String> takeChanges() {
    Set<String> out = changed == null ? Set.of() : changed;
    changed = null;
    return out;
  }

  private void changed(String key) {
    if (changed != null) {
      changed.add(key);
    }
  }

  public NodeStability stability() {
    return stability;
  }

  /** The version of {@code key} the client has seen (and that is not stable) this replica lacks. */
  public Optional<Version> missing(String key, CausalContext sent) {
    Version needed = sent.get(key);
    if (needed.equals(Version.ZERO) || replica.held(key).isAtLeast(needed)) {
      return Optional.empty();
    }
    return stability.stablePredicate(replica).test(key, needed)
        ? Optional.empty() : Optional.of(needed);
  }

  /** Whether {@code op} is performed when the version it waited for did not come in time. */
  public static boolean goesAheadWithoutDependency(Op op) {
    return op != Op.GET;
  }

  /**
   * Whether a replica that has not copied its shard yet (it started without its data) may serve
   * a request from its own store when no replica holding the shard's data answers: only one
   * whose causal context is empty. That client has observed nothing, so whatever this store holds
   * is causally consistent for it (a write is concurrent with everything it did not see, and its
   * counter comes from this node's clock); a client that observed anything may have observed a
   * write whose context entry was pruned as stable, which an empty store would read past (sim
   * seed 20275). Replies never prune a context to empty ({@link ContextBound} keeps
   * {@link ContextBound#ENTRIES_MAX}), so "empty" does mean "observed nothing". Keeps a replica
   * partitioned from its peers since it started writable. The one rule of the node's KvService
   * and the simulation.
   */
  public static boolean servesBeforeCopy(CausalContext context) {
    return context.isEmpty();
  }

  /**
   * Whether a node stopped by a view change (prepared: writes refused while what changed during
   * the copy travels) serves {@code op} on {@code key} from its own store: only a read, only of a
   * key it holds under the installed layout ({@code ownsKey}: it has not dropped it, nothing can
   * write it meanwhile), only when this node serves some shard of the layout being installed
   * ({@code inNextLayout}), and only when it holds the very version of the key the client's
   * context names, not merely one stable for it.
   *
   * <p>Why that is enough: a write of a moving key at its new owner, once that owner committed,
   * is newer than anything the stopped node holds; a client that saw it carries it in its context
   * (refused here, 500 as before) until the new owner prunes it as stable, and the new owner's
   * stable time stays 0 until every node serving a shard of the new layout has reported at the
   * new epoch ({@link NodeStability#stableTime}) — which this node does only after it installed
   * it, so never while it is stopped. A node leaving the layout is not waited for, hence
   * {@code inNextLayout}. The stable predicate of {@link #missing} is not used here for the same
   * reason: the installed layout's stable time does not cover writes made under the next one.
   * The one rule of the node's KvService and the simulation.
   */
  public boolean servesInStop(Op op, String key, CausalContext sent, boolean ownsKey,
      boolean inNextLayout) {
    if (op != Op.GET || !ownsKey || !inNextLayout) {
      return false;
    }
    Version needed = sent.get(key);
    return needed.equals(Version.ZERO) || replica.held(key).isAtLeast(needed);
  }

  /** Parks a request until this replica holds {@code needed}; empty when too many wait. */
  public OptionalLong await(String key, Version needed, long deadlineMs) {
    return waits.await(key, needed, deadlineMs);
  }

  /** Removes wait {@code id}; false when it was released or expired already. */
  public boolean cancelWait(long id) {
    return waits.cancel(id);
  }

  /** The waits due at {@code nowMs}, removed. */
  public List<Long> expireWaits(long nowMs) {
    return waits.expire(nowMs);
  }

  /** Requests waiting for dependencies now. */
  public int waiting() {
    return waits.size();
  }

  /**
   * Performs {@code op} on {@code key} here (this node serves the key's shard); {@code sent} is
   * the client's context as it sent it.
   */
  public Result perform(Op op, String key, String valueJson, CausalContext sent, long nowMs) {
    return perform(op, key, valueJson, sent, nowMs, ContextBound.ENTRIES_MAX);
  }

  /**
   * As {@link #perform(Op, String, String, CausalContext, long)}, the reply's context bounded to
   * {@code contextEntries} entries ({@link ContextBound}; at least 1, so a context that observed
   * something never comes back empty): a client that drops the stable entries it no longer
   * needs asks for fewer than {@link ContextBound#ENTRIES_MAX}.
   */
  public Result perform(Op op, String key, String valueJson, CausalContext sent, long nowMs,
      int contextEntries) {
    checkArgument(contextEntries >= 1 && contextEntries <= ContextBound.ENTRIES_MAX,
        "contextEntries must be 1 to %s", ContextBound.ENTRIES_MAX);
    // One predicate per request: the stable times it computes serve the pruning and the reply.
    BiPredicate<String, Version> stable = stability.stablePredicate(replica);
    CausalContext known = NodeStability.prune(sent, stable);
    List<String> targets = stability.shards().membersOf(stability.shards().shardOf(key))
        .stream().filter(m -> !m.equals(self)).toList();
    switch (op) {
      case GET -> {
        Replica.ReadResult r = replica.read(key, known);
        return r.found()
            ? answer(Outcome.FOUND, r.entry().value(), r.entry(), sent, r.context(), stable,
                contextEntries)
            : answer(Outcome.NOT_FOUND, null, r.entry(), sent, r.context(), stable,
                contextEntries);
      }
      case PUT, DELETE -> {
        if (op == Op.PUT) {
          Objects.requireNonNull(valueJson, "valueJson");
        }
        Entry current = replica.store().get(key);
        if (!replica.hasRoomFor(key, targets)) {
          return new Result(Outcome.QUEUE_FULL, null, null, sent, List.of());
        }
        Replica.WriteResult w = op == Op.PUT
            ? replica.put(key, valueJson, known, targets, nowMs)
            : replica.delete(key, known, targets, nowMs);
        if (w.entry() == null) {
          return answer(Outcome.NOT_FOUND, null, current, sent, w.context(), stable,
              contextEntries);
        }
        changed(key);
        Outcome outcome = op == Op.DELETE ? Outcome.DELETED
            : w.existed() ? Outcome.UPDATED : Outcome.CREATED;
        return answer(outcome, null, w.entry(), sent, w.context(), stable, contextEntries,
            waits.onHeld(key, w.entry().version()));
      }
      default -> throw new IllegalStateException("unknown op " + op);
    }
  }

  private Result answer(Outcome outcome, String valueJson, Entry entry, CausalContext sent,
      CausalContext learned, BiPredicate<String, Version> stable, int contextEntries) {
    return answer(outcome, valueJson, entry, sent, learned, stable, contextEntries, List.of());
  }

  private Result answer(Outcome outcome, String valueJson, Entry entry, CausalContext sent,
      CausalContext learned, BiPredicate<String, Version> stable, int contextEntries,
      List<Long> released) {
    CausalContext context = ContextBound.reply(sent, learned, contextEntries, stable);
    return new Result(outcome, valueJson, entry, context, released);
  }

  /**
   * Merges entries from peers. {@code fromQueue}: replicated, pulled or repaired writes, merged
   * only for keys {@code owns} accepts and dropped when stale (see the class comment); otherwise
   * copied data, merged as is.
   */
  public Applied applyFromPeers(List<Entry> entries, boolean fromQueue, Predicate<String> owns) {
    return apply(entries, fromQueue, owns, true);
  }

  private Applied apply(List<Entry> entries, boolean fromQueue, Predicate<String> owns,
      boolean track) {
    int fresh = 0;
    List<Long> released = new ArrayList<>();
    ToLongFunction<String> stableOfKey = stability.stableTimeOfKey(replica);
    for (Entry e : entries) {
      if (fromQueue && !owns.test(e.key())) {
        continue;
      }
      boolean applied = fromQueue
          ? replica.applyReplicated(e, stableOfKey)
          : replica.apply(e);
      if (applied) {
        fresh++;
        if (track) {
          changed(e.key());
        }
      }
      if (waits.waitsFor(e.key())) {
        released.addAll(waits.onHeld(e.key(), replica.held(e.key())));
      }
    }
    return new Applied(fresh, released);
  }

  /**
   * Merges keys a view change's sender copied here ({@link #applyFromPeers}, as copied data),
   * without recording them as changes: this node is their receiver, never their sender (a
   * {@link TransferPlan} receiver did not hold the key), so its stop has nothing to send again
   * for them. Recorded, they made every receiver's stop walk each key it had received (about
   * 220 ms of its 500 window for 16,800 keys in a reshard of 100,000).
   */
  public Applied applyTransferred(List<Entry> entries) {
    return apply(entries, false, key -> true, false);
  }

  /**
   * One page of the tombstone sweep: a tombstone goes when it and each of its causes is at or
   * below the stable time of its own key's shard (a client that read "not found" has observed the
   * delete and must see its causes, which only stability then guarantees).
   */
  public Replica.Sweep sweepTombstones(String afterKey, int limit) {
    return replica.collectTombstones(stability.stableTimeOfKey(replica), afterKey, limit);
  }

  /**
   * Whether tombstones may be swept now: the node serves a shard ({@code inShard}), no view
   * change is under way (a delete collected after its key was copied would leave the copy's
   * older value at the new owner) and it is not catching up (what it copies may still need the
   * tombstone to be stale-checked). The one rule of the node's TombstoneSweeper and the
   * simulation.
   */
  public static boolean maySweepTombstones(boolean inShard, boolean changeUnderWay,
      boolean catchingUp) {
    return inShard && !changeUnderWay && !catchingUp;
  }

  /**
   * Which of its own writes a node restarted with durable data queues again: those it made
   * ({@code self}) with a counter above its saved stable mark {@code mark} (some peer may not
   * have acknowledged them; the queue was in memory). Reads the whole store: run it where a
   * scan may block. The one selection of the node's outbox rebuild and the simulation; pass
   * the result to {@link #requeue}.
   */
  public static List<Entry> unacknowledgedOwn(Store store, String self, long mark) {
    List<Entry> own = new ArrayList<>();
    store.forEach(e -> {
      if (e.version().node().equals(self) && e.version().counter() > mark) {
        own.add(e);
      }
    });
    return own;
  }

  /** What {@link #requeue} did: writes queued again, and writes the queue bound left out. */
  public record Requeued(int queued, int overflow) {}

  /**
   * After a restart with durable data: the replication queue was in memory, so {@code own}
   * (this node's writes above its saved stable mark {@code mark}, which some peer may lack) are
   * queued again for its shard's peers — those of keys it still owns ({@code owns}) — and, for
   * a key that left it (a change committed while its queue still owed a write of it: its store
   * keeps such keys until delivered, {@link KeptKeys}), for the key's owners. Each stands
   * for every write of its key above the mark (an older one it overwrote may be undelivered
   * too), so the node's report stays at or below the mark until they are acknowledged. Writes a
   * full queue cannot take are left to anti-entropy, and the node holds its stable time until
   * that has run: its report must not vouch for writes no queue delivers.
   */
  public Requeued requeue(List<Entry> own, long mark, Predicate<String> owns) {
    List<String> shardPeers = stability.shards().shardPeersOf(self);
    int queued = 0;
    int overflow = 0;
    for (Entry e : own) {
      List<String> targets = owns.test(e.key()) ? shardPeers : ownersOf(e.key());
      if (targets.isEmpty()) {
        continue;
      }
      replica.clock().observe(e.version().counter());
      if (!replica.hasRoomFor(e.key(), targets)) {
        overflow++;
        continue;
      }
      replica.queue().enqueue(e, targets, Math.min(mark + 1, e.version().counter()));
      queued++;
    }
    if (overflow > 0) {
      stability.hold(NodeStability.OUTBOX_OVERFLOW, replica.clock().current());
    }
    return new Requeued(queued, overflow);
  }

  /** The owners of {@code key} under the layout stability knows, this node left out. */
  private List<String> ownersOf(String key) {
    ShardMap shards = stability.shards();
    return shards.membersOf(shards.shardOf(key)).stream().filter(n -> !n.equals(self)).toList();
  }
}
