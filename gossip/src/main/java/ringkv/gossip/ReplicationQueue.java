package ringkv.gossip;

import static com.google.common.base.Preconditions.checkArgument;
import static com.google.common.base.Preconditions.checkState;

import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.OptionalLong;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.BiPredicate;
import java.util.function.Predicate;

/**
 * The asynchronous outbox of one replica: for every peer of its shard, the writes that peer has
 * not acknowledged yet. Writes go out in batches, one batch in flight per peer; a failed batch is
 * retried after a capped exponential backoff, forever, until the peer acknowledges it.
 *
 * <p>A batch holds at most {@link Limits#batchEntriesMax()} entries and, past its first entry,
 * at most about {@link Limits#batchBytesMax()} bytes, so large values never make a request a peer
 * would refuse. When a peer's previous batch carried more than one write (writes arrive faster
 * than a round trip: a stream of concurrent writes), its next batch goes at least
 * {@link Limits#batchIntervalMsMin()} after the previous one, so each batch carries what came in
 * that interval instead of the few writes of a round trip (a batch costs both nodes an HTTP
 * exchange whatever it holds). After a batch of one write (a quiet spell, or one client writing
 * and waiting for each answer) the next goes as soon as the previous one is acknowledged, so
 * such a writer's writes reach the peer within a round trip, as with no interval.
 *
 * <p>Only the newest version of a key matters under last-writer-wins, so a peer's queue holds at
 * most one entry per key: a newer write replaces a queued older one in place. Duplicated and
 * reordered deliveries are harmless because the receiver keeps the higher version. Each peer's
 * queue (pending plus in flight) is bounded by {@link Limits#queueEntriesMax()}; the caller asks
 * {@link #hasRoomFor} before accepting a client write and answers 503 when there is none.
 *
 * <p>Inputs are method calls ({@link #enqueue}, {@link #onTick}, {@link #onAck},
 * {@link #onSendFailed}); outputs are the {@link Batch} values {@code onTick} returns. No clock,
 * no I/O. Not thread-safe; confine to one event loop.
 */
public final class ReplicationQueue {

  /** Bounds of the queue; units last. */
  public record Limits(
      int queueEntriesMax, int batchEntriesMax, long batchBytesMax, long retryDelayMsMin,
      long retryDelayMsMax, long batchIntervalMsMin) {
    /** Default bound on the estimated size of one batch: well under a peer's body limit. */
    public static final long BATCH_BYTES_MAX_DEFAULT = 4L << 20;
    /** Longest interval between two batches to one peer that a caller may ask for. */
    public static final long BATCH_INTERVAL_MS_MAX = 1_000;

    /** Limits with batches sent as soon as the previous one is acknowledged. */
    public Limits(
        int queueEntriesMax, int batchEntriesMax, long retryDelayMsMin, long retryDelayMsMax) {
      this(queueEntriesMax, batchEntriesMax, retryDelayMsMin, retryDelayMsMax, 0);
    }

    public Limits(int queueEntriesMax, int batchEntriesMax, long retryDelayMsMin,
        long retryDelayMsMax, long batchIntervalMsMin) {
      this(queueEntriesMax, batchEntriesMax, BATCH_BYTES_MAX_DEFAULT, retryDelayMsMin,
          retryDelayMsMax, batchIntervalMsMin);
    }

    public Limits {
      checkArgument(batchIntervalMsMin >= 0 && batchIntervalMsMin <= BATCH_INTERVAL_MS_MAX,
          "batchIntervalMsMin must be in 0..%s", BATCH_INTERVAL_MS_MAX);
      checkArgument(batchBytesMax >= 1, "batchBytesMax must be >= 1");
      checkArgument(queueEntriesMax >= 1, "queueEntriesMax must be >= 1");
      checkArgument(batchEntriesMax >= 1, "batchEntriesMax must be >= 1");
      checkArgument(retryDelayMsMin >= 1, "retryDelayMsMin must be >= 1");
      checkArgument(retryDelayMsMax >= retryDelayMsMin, "retryDelayMsMax < retryDelayMsMin");
    }

    public static Limits defaults() {
      return new Limits(100_000, 512, 20, 2_000);
    }

    /** The wait before a peer's queue is sent again after failures. */
    public Backoff retryBackoff() {
      return new Backoff(retryDelayMsMin, retryDelayMsMax);
    }
  }

  /** A batch of entries to send to one peer; acknowledge or fail it by {@link #id()}. */
  public record Batch(String peer, long id, List<Entry> entries) {
    public Batch {
      Objects.requireNonNull(peer, "peer");
      entries = List.copyOf(entries);
      checkArgument(!entries.isEmpty(), "empty batch");
    }
  }

  private static final class PeerQueue {
    final LinkedHashMap<String, Entry> pending = new LinkedHashMap<>();
    /**
     * For each pending key, the lowest counter among the versions its slot stands for: when a
     * newer write replaces a queued one, the peer still lacks the older one until the newer is
     * acknowledged, and stability must not pass it.
     */
    final HashMap<String, Long> pendingSince = new HashMap<>();
    Batch inFlight;
    Map<String, Long> inFlightSince = Map.of();
    long nextAttemptMs;
    /** When its last batch was formed, and how many writes it carried; once {@code sentAny}. */
    long lastSentMs;
    int lastSentEntries;
    boolean sentAny;
    int failures;
    /**
     * Every value of pendingSince and inFlightSince, counted: the oldest unacknowledged counter
     * is its first key, without a pass over a queue that may hold 100,000 keys (it is asked on
     * every request that prunes a causal context).
     */
    final TreeMap<Long, Integer> sinceCounts = new TreeMap<>();

    void countSince(long since) {
      sinceCounts.merge(since, 1, Integer::sum);
    }

    void uncountSince(long since) {
      sinceCounts.compute(since, (k, n) -> n == null || n <= 1 ? null : n - 1);
    }

    int size() {
      return pending.size() + (inFlight == null ? 0 : inFlight.entries().size());
    }
  }

  private final Limits limits;
  private final Map<String, PeerQueue> peers = new TreeMap<>();
  private long nextBatchId = 1;

  public ReplicationQueue(Limits limits) {
    this.limits = Objects.requireNonNull(limits, "limits");
  }

  public Limits limits() {
    return limits;
  }

  /** Can {@code key} be queued for every one of {@code targets} without passing the bound? */
  public boolean hasRoomFor(String key, Collection<String> targets) {
    for (String peer : targets) {
      PeerQueue q = peers.get(peer);
      if (q != null && q.size() >= limits.queueEntriesMax() && !q.pending.containsKey(key)) {
        return false;
      }
    }
    return true;
  }

  /**
   * Queues {@code entry} for each of {@code targets}, replacing an older queued version of the
   * same key. Callers check {@link #hasRoomFor} first; enqueueing past the bound is a bug.
   */
  public void enqueue(Entry entry, Collection<String> targets) {
    enqueue(entry, targets, entry.version().counter());
  }

  /**
   * As {@link #enqueue(Entry, Collection)}, for an entry that stands for every version of its
   * key from counter {@code sinceCounter} on: a write re-queued after a restart may replace
   * older writes of its key that no peer acknowledged either (the queue that knew them died),
   * and stability must not pass them until this entry is acknowledged.
   */
  public void enqueue(Entry entry, Collection<String> targets, long sinceCounter) {
    checkArgument(sinceCounter >= 1 && sinceCounter <= entry.version().counter(),
        "sinceCounter %s outside 1..%s", sinceCounter, entry.version().counter());
    checkState(hasRoomFor(entry.key(), targets), "queue full for %s", entry.key());
    put(entry, targets, sinceCounter);
  }

  /**
   * Queues {@code entry} for {@code targets}, the new owners of its key, past the bound: a node
   * that learned a layout it missed the change of hands over the writes of keys that left it
   * which may not be stable yet ({@link HandOff}) — at most what it wrote or took
   * since its shard's last stable time, and refusing them would lose them.
   */
  public void handOff(Entry entry, Collection<String> targets) {
    put(entry, targets, entry.version().counter());
  }

  private void put(Entry entry, Collection<String> targets, long sinceCounter) {
    for (String peer : targets) {
      PeerQueue q = peers.computeIfAbsent(peer, p -> new PeerQueue());
      Entry queued = q.pending.get(entry.key());
      if (entry.supersedes(queued)) {
        q.pending.put(entry.key(), entry);
      }
      long counter = sinceCounter;
      Long since = q.pendingSince.get(entry.key());
      if (since == null) {
        q.pendingSince.put(entry.key(), counter);
        q.countSince(counter);
      } else if (counter < since) {
        q.pendingSince.put(entry.key(), counter);
        q.uncountSince(since);
        q.countSince(counter);
      }
    }
  }

  /** The batches due at {@code nowMs}: one per peer with no batch in flight and work pending. */
  public List<Batch> onTick(long nowMs) {
    return onTick(nowMs, peer -> true);
  }

  /**
   * As {@link #onTick(long)}, skipping peers {@code reachable} rejects (a failure detector says
   * they are down): their writes stay queued, and {@link #onPeerUp} sends them at once.
   */
  public List<Batch> onTick(long nowMs, java.util.function.Predicate<String> reachable) {
    List<Batch> due = new ArrayList<>();
    for (Map.Entry<String, PeerQueue> e : peers.entrySet()) {
      PeerQueue q = e.getValue();
      if (q.inFlight != null || q.pending.isEmpty() || nowMs < dueMs(q)
          || !reachable.test(e.getKey())) {
        continue;
      }
      List<Entry> entries = new ArrayList<>(Math.min(q.pending.size(), limits.batchEntriesMax()));
      Map<String, Long> since = new HashMap<>();
      Iterator<Entry> it = q.pending.values().iterator();
      long bytes = 0;
      while (it.hasNext() && entries.size() < limits.batchEntriesMax()
          && (entries.isEmpty() || bytes < limits.batchBytesMax())) {
        Entry next = it.next();
        bytes += next.sizeEstimateBytes();
        entries.add(next);
        since.put(next.key(), q.pendingSince.remove(next.key()));
        it.remove();
      }
      q.inFlight = new Batch(e.getKey(), nextBatchId++, entries);
      q.inFlightSince = since;
      q.lastSentMs = nowMs;
      q.lastSentEntries = entries.size();
      q.sentAny = true;
      due.add(q.inFlight);
    }
    return due;
  }

  /**
   * When {@code q}'s next batch may go: after its backoff, and after its batch interval when
   * the previous batch carried more than one write.
   */
  private long dueMs(PeerQueue q) {
    return q.sentAny && q.lastSentEntries > 1
        ? Math.max(q.nextAttemptMs, q.lastSentMs + limits.batchIntervalMsMin())
        : q.nextAttemptMs;
  }

  /**
   * The earliest time at which {@link #onTick} would send a batch that it cannot send yet (a
   * peer with pending writes, none in flight, waiting for its interval or backoff); empty when
   * no such peer waits. A driver sets a timer for it, so the last writes of a burst do not wait
   * for its periodic tick.
   */
  public OptionalLong nextDueMs(long nowMs) {
    long next = Long.MAX_VALUE;
    for (PeerQueue q : peers.values()) {
      if (q.inFlight == null && !q.pending.isEmpty()) {
        long due = dueMs(q);
        if (due > nowMs) {
          next = Math.min(next, due);
        }
      }
    }
    return next == Long.MAX_VALUE ? OptionalLong.empty() : OptionalLong.of(next);
  }

  /** {@code peer} stored batch {@code batchId}; its next batch may go after its interval. */
  public void onAck(String peer, long batchId, long nowMs) {
    PeerQueue q = peers.get(peer);
    if (q == null || q.inFlight == null || q.inFlight.id() != batchId) {
      return; // a late ack for a batch already retried or a peer already removed
    }
    q.inFlightSince.values().forEach(q::uncountSince);
    q.inFlight = null;
    q.inFlightSince = Map.of();
    q.failures = 0;
    q.nextAttemptMs = nowMs;
  }

  /** Whether some peer has not acknowledged a write of {@code key} yet (queued or in flight). */
  public boolean owes(String key) {
    for (PeerQueue q : peers.values()) {
      if (q.pending.containsKey(key) || q.inFlightSince.containsKey(key)) {
        return true;
      }
    }
    return false;
  }

  /** Batch {@code batchId} did not reach {@code peer}: requeue it and back off. */
  public void onSendFailed(String peer, long batchId, long nowMs) {
    PeerQueue q = peers.get(peer);
    if (q == null || q.inFlight == null || q.inFlight.id() != batchId) {
      return;
    }
    LinkedHashMap<String, Entry> requeued = new LinkedHashMap<>();
    for (Entry entry : q.inFlight.entries()) {
      requeued.put(entry.key(), entry);
    }
    // Entries queued while the batch was out are newer or for other keys; keep the newest.
    q.pending.forEach(
        (key, entry) -> requeued.merge(key, entry, (a, b) -> b.supersedes(a) ? b : a));
    q.pending.clear();
    q.pending.putAll(requeued);
    q.inFlightSince.forEach((key, since) -> {
      Long pending = q.pendingSince.get(key);
      if (pending == null) {
        q.pendingSince.put(key, since); // still counted, now as pending
      } else {
        q.pendingSince.put(key, Math.min(pending, since));
        q.uncountSince(Math.max(pending, since)); // two counted, one kept
      }
    });
    q.inFlight = null;
    q.inFlightSince = Map.of();
    q.failures++;
    q.nextAttemptMs = nowMs + retryDelayMs(q.failures);
  }

  /** Capped exponential backoff: min, 2·min, 4·min, … up to max. */
  long retryDelayMs(int failures) {
    return limits.retryBackoff().delayMs(failures);
  }

  /** {@code peer} is reachable again: forget its backoff so its queue goes out now. */
  public void onPeerUp(String peer, long nowMs) {
    PeerQueue q = peers.get(peer);
    if (q != null) {
      q.failures = 0;
      q.nextAttemptMs = Math.min(q.nextAttemptMs, nowMs);
    }
  }

  /** Drops the queues of peers that are no longer replicas of this shard. */
  public void retainPeers(Set<String> current) {
    peers.keySet().retainAll(current);
  }

  /**
   * A new layout installed: keeps, for each peer, only the writes of keys that peer owns under
   * it ({@code peerOwnsKey}), and drops the queues left empty. For a peer of this node's new
   * shard that drops the keys the shard no longer holds: their new owners received them in the
   * change's transfer, and sent anyway such a write reaches a peer left out of the change that
   * still serves the old layout, which takes it below a tombstone every new owner may hold
   * already (simulation seeds 2112, 2297). A write still owed to a peer outside the new shard
   * that owns its key under the new layout is kept: that peer was left out of the change (its
   * coordinator saw it down, so this node's queue could not drain to it before the stop), no
   * transfer carries the write to it, and dropped here it would be lost (seed 2242, a change
   * moving this node away from a key its old peers keep). Such writes keep this node's stable
   * report at 0 until they are acknowledged ({@link #owesOutside}).
   */
  public void retain(BiPredicate<String, String> peerOwnsKey) {
    for (var it = peers.entrySet().iterator(); it.hasNext(); ) {
      var e = it.next();
      String peer = e.getKey();
      dropKeys(peer, e.getValue(), key -> peerOwnsKey.test(peer, key));
      if (e.getValue().pending.isEmpty() && e.getValue().inFlight == null) {
        it.remove();
      }
    }
  }

  /** Whether a write is still owed to a peer not in {@code shardPeers}. */
  public boolean owesOutside(Collection<String> shardPeers) {
    for (var e : peers.entrySet()) {
      if (!shardPeers.contains(e.getKey())
          && (!e.getValue().pending.isEmpty() || e.getValue().inFlight != null)) {
        return true;
      }
    }
    return false;
  }

  private static void dropKeys(String peer, PeerQueue q, Predicate<String> keyStays) {
    for (var it = q.pending.keySet().iterator(); it.hasNext(); ) {
      String key = it.next();
      if (!keyStays.test(key)) {
        it.remove();
        q.uncountSince(q.pendingSince.remove(key));
      }
    }
    if (q.inFlight == null
        || q.inFlight.entries().stream().allMatch(e -> keyStays.test(e.key()))) {
      return;
    }
    List<Entry> kept = new ArrayList<>();
    Map<String, Long> keptSince = new HashMap<>();
    for (Entry e : q.inFlight.entries()) {
      Long since = q.inFlightSince.get(e.key());
      if (keyStays.test(e.key())) {
        kept.add(e);
        if (since != null) {
          keptSince.put(e.key(), since);
        }
      } else if (since != null) {
        q.uncountSince(since);
      }
    }
    // An acknowledgement of the batch still settles what is left of it; a failure requeues
    // only that.
    q.inFlight = kept.isEmpty() ? null : new Batch(peer, q.inFlight.id(), kept);
    q.inFlightSince = Map.copyOf(keptSince);
  }

  /** Entries not yet acknowledged by {@code peer} (pending and in flight). */
  public int pending(String peer) {
    PeerQueue q = peers.get(peer);
    return q == null ? 0 : q.size();
  }

  public long pendingTotal() {
    long total = 0;
    for (PeerQueue q : peers.values()) {
      total += q.size();
    }
    return total;
  }

  public boolean isDrained() {
    return pendingTotal() == 0;
  }

  /**
   * The lowest Lamport counter of a queued write {@code peer} has not acknowledged, if any —
   * including writes a newer queued version of the same key replaced.
   */
  public OptionalLong oldestUnackedCounter(String peer) {
    PeerQueue q = peers.get(peer);
    if (q == null || q.size() == 0) {
      return OptionalLong.empty();
    }
    return OptionalLong.of(q.sinceCounts.firstKey());
  }

  /** {@link #oldestUnackedCounter} by a pass over the queue: the definition, for tests. */
  OptionalLong oldestUnackedCounterByScan(String peer) {
    PeerQueue q = peers.get(peer);
    if (q == null || q.size() == 0) {
      return OptionalLong.empty();
    }
    long min = Long.MAX_VALUE;
    for (long since : q.pendingSince.values()) {
      min = Math.min(min, since);
    }
    for (long since : q.inFlightSince.values()) {
      min = Math.min(min, since);
    }
    return OptionalLong.of(min);
  }

  /** One status line per peer, for logs and failing simulations. */
  public String describe() {
    StringBuilder sb = new StringBuilder();
    peers.forEach((peer, q) -> sb.append(peer).append(" pending=").append(q.pending.size())
        .append(" inFlight=").append(q.inFlight == null ? 0 : q.inFlight.entries().size())
        .append(" failures=").append(q.failures).append(" next=").append(q.nextAttemptMs)
        .append('\n'));
    return sb.toString();
  }
}
