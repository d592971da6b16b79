package ringkv.gossip;

import static com.google.common.base.Preconditions.checkArgument;

import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.function.BiPredicate;
import java.util.function.ToLongFunction;

/**
 * One node's knowledge of stability: its own report (the Lamport counter at or below which every
 * peer of its shard acknowledged all its writes), the reports of every other node, and from them
 * each shard's <em>stable time</em> — at or below it, every replica of the shard holds every write
 * of the shard. Entries at or below their shard's stable time are redundant: dropped from stored
 * dependencies and from oversized client contexts, and tombstones there are collected.
 *
 * <p>Rules that keep a report honest (each one a bug fixed once):
 * <ul>
 *   <li><b>Incarnations.</b> A restarted node may know less than its previous process: a report
 *       from a new incarnation replaces, rather than max-merges with, the old one
 *       ({@link Stability#report(String, long, long)}).
 *   <li><b>Nothing before bootstrap.</b> A node without durable data reports 0 until it has
 *       found out (bootstrap, catch-up) whether its shard holds data: its clock may already have
 *       jumped to the counters it copied, and peers keep the highest report of a process, so a
 *       later hold could not take an early claim back.
 *   <li><b>Holds.</b> A node that may have lost writes it acknowledged but never delivered (it
 *       restarted without durable data into a shard that holds data, or its rebuilt outbox
 *       overflowed the queue bound) reports 0 until anti-entropy has run {@link #HOLD_PASSES}
 *       complete rounds with each live peer of its shard since the hold began: the first gathers
 *       what any peer has, the second hands it to every peer. Release is an explicit step
 *       ({@link #releaseIfRepaired}), not a side effect of asking for the report.
 *   <li><b>Epochs.</b> A report counts acknowledgements from the reporter's shard peers under the
 *       configuration it had: it says nothing about the replicas of another layout. Reports carry
 *       their epoch and only those made at this node's epoch count; installing another epoch
 *       forgets every report. A node that installs a configuration whose transfer it missed
 *       (learned from a peer) holds its own report ({@link #MISSED_VIEW_CHANGE}): its new shard
 *       peers were never queued its writes. No shard is stable until every node serving a shard
 *       has reported above 0 at this epoch: one left out of the change may hold undelivered
 *       writes of any shard's keys.
 * </ul>
 *
 * <p>Inputs are method calls; nothing here reads a clock or does I/O. Not thread-safe; confine to
 * one event loop.
 */
public final class NodeStability {
  /** Complete anti-entropy rounds with each live shard peer that release a hold. */
  public static final int HOLD_PASSES = 2;

  private final String self;
  private final long incarnation;
  private final boolean durable;
  private final Stability reports = new Stability();
  private ShardMap shards;
  /** The epoch of {@link #shards}: only reports made at it count. */
  private long epoch;
  private boolean bootstrapped;
  /** Why this node holds its report at 0, or null. */
  private String holdReason;
  /**
   * This replica's clock when the hold began: every write the hold is about (copied at catch-up,
   * left in an outbox, made under a missed layout) is at or below it.
   */
  private long holdMark;
  /**
   * Complete anti-entropy rounds this node ran with each peer since the hold began that compared
   * entries up to {@link #holdMark}.
   */
  private final Map<String, Integer> roundsSinceHold = new HashMap<>();

  /**
   * @param self this node's id
   * @param incarnation this process's identity (its start time), sent with every report
   * @param durable whether the node keeps its writes and its outbox's stable mark on disk
   * @param shards the current layout
   * @param epoch the epoch of that layout
   */
  public NodeStability(String self, long incarnation, boolean durable, ShardMap shards,
      long epoch) {
    checkArgument(self != null && !self.isEmpty(), "self");
    checkArgument(incarnation >= 0, "incarnation must be >= 0");
    this.self = self;
    this.incarnation = incarnation;
    this.durable = durable;
    this.shards = Objects.requireNonNull(shards, "shards");
    this.epoch = epoch;
  }

  public long incarnation() {
    return incarnation;
  }

  /**
   * Whether the node may serve its shard without having copied it from a peer first. One that
   * kept its data may (it only missed what its peers queue for it anyway); one that lost it must
   * not: its peers' stability reports count acknowledgements its previous process gave, so until
   * it has copied the shard it would take for held what it lacks.
   */
  public boolean maySkipCatchUp() {
    return durable;
  }

  /**
   * Whether a catch-up may end now without a complete copy, serving with what the node kept:
   * its shard has no other replica ({@code peers} is 0: nothing to copy from), or it kept its
   * data ({@link #maySkipCatchUp}) and {@code unanswered} asks in a row, one round over its
   * {@code peers}, went without an answer (every peer was tried once). One round, not more: a
   * node that kept its data only missed what its peers queue for it anyway, so waiting longer
   * for an unreachable peer buys freshness, not safety, at the price of not serving. One that
   * lost its data waits for a peer however many rounds it takes, and so does one that installed
   * a configuration whose transfer it missed ({@link #MISSED_VIEW_CHANGE}): its new shard peers
   * never queued it the writes and deletes made while it was out, so what it kept may be a value
   * older than a delete every replica holds (simulation seed 63319). It does not wait for ever
   * when every member of its shard learned the change at once (seeds 2144, 2268): a node
   * catching up answers its peers' catch-up too. The one rule of the node's CatchUp and the
   * simulation's.
   */
  public boolean mayEndCatchUpUncopied(int unanswered, int peers) {
    checkArgument(unanswered >= 0 && peers >= 0, "unanswered and peers must be >= 0");
    return peers == 0
        || (maySkipCatchUp() && !MISSED_VIEW_CHANGE.equals(holdReason) && unanswered >= peers);
  }

  /**
   * A new layout at {@code nextEpoch} (a view change): forgets every report when the epoch
   * moves (they were made under the old layout), else those of nodes that left.
   */
  public void onLayout(ShardMap next, long nextEpoch) {
    shards = Objects.requireNonNull(next, "next");
    reports.retain(nextEpoch == epoch ? next.nodes() : List.of());
    epoch = nextEpoch;
  }

  /**
   * {@code node}'s process {@code theirIncarnation}, at {@code theirEpoch}, reports
   * {@code stable}; ignored unless made at this node's epoch.
   */
  public void onReport(String node, long theirIncarnation, long theirEpoch, long stable) {
    if (theirEpoch == epoch && !node.equals(self) && shards.nodes().contains(node)) {
      reports.report(node, theirIncarnation, stable);
    }
  }

  /** The epoch whose reports count. */
  public long epoch() {
    return epoch;
  }

  /**
   * This node copied {@code copiedEntries} of its shard from a peer after it started (or after
   * it learned a configuration it had missed). A node without durable data that found data
   * there may have lost writes its previous process acknowledged but never delivered: it holds
   * its report (returns true when that began a hold). Reports may start. {@code mark}: the
   * replica's clock now ({@link #hold}).
   */
  public boolean onCaughtUp(long copiedEntries, long mark) {
    boolean held = !durable && copiedEntries > 0 && hold(RESTARTED_WITHOUT_DATA, mark);
    bootstrapped = true;
    return held;
  }

  /** Hold reason: restarted without durable data into a shard that holds data. */
  public static final String RESTARTED_WITHOUT_DATA = "restarted-without-data-dir";
  /**
   * Hold reason: restarted on durable data written without a sync per write (DURABILITY
   * periodic or os): the power loss or crash may have taken writes it acknowledged to a peer,
   * which then counted them delivered; until anti-entropy has given them back, the shard's
   * stable time must not pass them (a repair at or below it is dropped as a stale duplicate).
   */
  public static final String RESTARTED_UNSYNCED = "restarted-on-unsynced-data";
  /** Hold reason: the rebuilt outbox did not fit the replication queue's bound. */
  public static final String OUTBOX_OVERFLOW = "outbox-overflow";
  /**
   * Hold reason: a configuration was installed whose transfer this node missed (learned from a
   * peer): writes it made under the old one were never queued to its new shard peers.
   */
  public static final String MISSED_VIEW_CHANGE = "missed-view-change";

  /** Bootstrap is over (caught up, skipped or idle): reports may start. */
  public void onBootstrapped() {
    bootstrapped = true;
  }

  public boolean bootstrapped() {
    return bootstrapped;
  }

  /**
   * Holds this node's report at 0 until anti-entropy has repaired its shard (see the class
   * comment); returns false if it already held. {@code mark} is the replica's clock now: only
   * rounds that compare entries up to it count towards the release ({@link
   * #onAntiEntropyRound}).
   */
  public boolean hold(String reason, long mark) {
    Objects.requireNonNull(reason, "reason");
    boolean fresh = holdReason == null;
    holdReason = reason;
    holdMark = fresh ? mark : Math.max(holdMark, mark);
    roundsSinceHold.clear();
    return fresh;
  }

  /**
   * Why this node may not take part in a view change now, if so: it missed the last change
   * (it installed a configuration learned from a peer, {@link #MISSED_VIEW_CHANGE}) and has not
   * been repaired yet, so its new shard's replicas may differ and a transfer, which has one
   * sender per old shard, could leave writes behind (simulation seed 3011). The other holds (a
   * restart without data, an outbox overflow) do not refuse: the copy they may lack is still on
   * the shard's other replicas, which send too, and refusing them failed every change made
   * right after a node's restart (MembershipTest). A node that lost its data and has not
   * copied its shard yet (its peers did not answer) refuses too: it would send its old shard's
   * keys as their one sender with nothing, or with a stale write a peer's queue re-sent it,
   * while the replica holding them is left out (seed 25180: a value older than a tombstone every
   * replica had held reached a new owner that way). A node in no shard (one joining the view
   * while it starts) has nothing to send and is not refused.
   */
  public Optional<String> viewChangeRefusal() {
    if (!durable && !bootstrapped && shards.shardOfNode(self).isPresent()) {
      return Optional.of(self + " restarted without its data and has not copied its shard yet");
    }
    return !MISSED_VIEW_CHANGE.equals(holdReason) ? Optional.empty() : Optional.of(self
        + " holds its stability report (" + holdReason + ") until anti-entropy has repaired"
        + " its shard");
  }

  /**
   * This node installed a configuration learned from a peer (it missed that change's
   * transfer): writes it made under the old one were never queued to its new shard peers, so it
   * holds its report ({@link #MISSED_VIEW_CHANGE}) until anti-entropy has repaired its shard,
   * and meanwhile takes part in no new change ({@link #refusalWhileHeld}). Returns false if it
   * already held. The one rule of the node's ChangeParticipant.adoptLearned and the simulation.
   */
  public boolean onLearnedConfiguration(long mark) {
    return hold(MISSED_VIEW_CHANGE, mark);
  }

  /**
   * Why this node refuses to copy for, or prepare, the change to {@code epoch}, if it does: it
   * holds for a missed view change ({@link #viewChangeRefusal}) and has not already prepared
   * that very change ({@code participant}; a retried call of a change it prepared before the
   * hold is answered as before). The one rule of the node's ChangeParticipant and the
   * simulation.
   */
  public Optional<String> refusalWhileHeld(ViewChangeParticipant participant, long epoch) {
    return participant.isPrepared(epoch) ? Optional.empty() : viewChangeRefusal();
  }

  /** Why the report is held, if it is. */
  public Optional<String> holdReason() {
    return Optional.ofNullable(holdReason);
  }

  /**
   * This node completed an anti-entropy round it started with {@code peer}, comparing entries up
   * to {@code horizon}. It counts towards releasing a hold only if that covers the hold's mark: a
   * round below it compares none of the writes the hold is about, so it repairs none of them on
   * the peer (AntiEntropyTest's restarted author: its first rounds with a peer resumed from a
   * pause ran at that peer's old horizon, found nothing, released the hold, and the shard's
   * stable time then passed writes that peer still lacked, whose repairs it dropped as stale).
   */
  public void onAntiEntropyRound(String peer, long horizon) {
    if (holdReason != null && horizon >= holdMark) {
      roundsSinceHold.merge(peer, 1, Integer::sum);
    }
  }

  /**
   * Releases a hold once anti-entropy has run {@link #HOLD_PASSES} rounds with each of
   * {@code liveShardPeers} (there must be one); returns the hold's reason when it was released.
   */
  public Optional<String> releaseIfRepaired(Collection<String> liveShardPeers) {
    if (holdReason == null || liveShardPeers.isEmpty()) {
      return Optional.empty();
    }
    for (String p : liveShardPeers) {
      if (roundsSinceHold.getOrDefault(p, 0) < HOLD_PASSES) {
        return Optional.empty();
      }
    }
    String reason = holdReason;
    holdReason = null;
    roundsSinceHold.clear();
    return Optional.of(reason);
  }

  /**
   * This node's report: 0 while it may not vouch for anything, else its replica's. It may not
   * while it holds back, and while it still owes a write to a node outside its shard (kept from
   * before a view change, {@link ReplicationQueue#retain}): that node's shard counts this report
   * only as "above 0" ({@link #outsidersSettled}), so only 0 keeps the shard's stable time from
   * passing the write before it arrives.
   */
  public long localStable(Replica replica) {
    if ((!durable && !bootstrapped) || holdReason != null) {
      return 0;
    }
    List<String> shardPeers = shards.shardPeersOf(self);
    if (replica.queue().owesOutside(shardPeers)) {
      return 0;
    }
    return replica.localStable(shardPeers);
  }

  /**
   * The stable time of {@code shard} as this node knows it (0 for an unknown shard, and 0 until
   * every other node of the layout has reported at this epoch: {@link #outsidersSettled}).
   */
  public long stableTime(int shard, Replica replica) {
    List<String> members = shards.membersOf(shard);
    if (!outsidersSettled(members, replica)) {
      return 0;
    }
    long min = Long.MAX_VALUE;
    boolean others = false;
    for (String m : members) {
      if (m.equals(self)) {
        min = Math.min(min, localStable(replica));
      } else {
        others = true;
      }
    }
    if (others) {
      min = Math.min(min, reports.stableTime(members.stream().filter(m -> !m.equals(self))
          .toList()));
    }
    return min == Long.MAX_VALUE ? 0 : min;
  }

  /**
   * Whether every node serving a shard other than {@code members}'s has made a report above 0 at
   * this epoch (0: it holds, or has not bootstrapped), this one included. A node left out of the
   * change that installed this epoch (its coordinator saw it down) kept serving the old layout:
   * until it has installed this one and been repaired it may hold
   * writes of keys now in any shard that it made under the old layout and never delivered, and
   * the members' reports, which only count their own writes, would vouch for them (simulation
   * seeds 1027, 2176: a read served without such a write, or a context entry pruned). That node
   * itself is no exception: while it reports 0 (it hands such writes to their new owners) its
   * own idea of their shard's stable time must not pass them either, or it prunes them from the
   * contexts of the writes it serves (seed 21639: a write's cause pruned there, then read past
   * on a new owner the hand-off had not reached yet).
   */
  private boolean outsidersSettled(List<String> members, Replica replica) {
    if (!members.contains(self) && shards.shardOfNode(self).isPresent()
        && localStable(replica) <= 0) {
      return false;
    }
    for (String n : shards.nodes()) {
      if (!n.equals(self) && !members.contains(n) && shards.shardOfNode(n).isPresent()
          && reports.reportOf(n) <= 0) {
        return false;
      }
    }
    return true;
  }

  /**
   * Whether an entry is at or below the stable time of its key's shard; the stable time of each
   * shard is computed once per predicate (make one per request, not one per node life).
   */
  public BiPredicate<String, Version> stablePredicate(Replica replica) {
    ToLongFunction<String> stableOfKey = stableTimeOfKey(replica);
    long[] floor = {-1};
    return (key, version) -> {
      if (floor[0] < 0) {
        floor[0] = stableFloor(replica);
      }
      return version.counter() <= floor[0] || version.counter() <= stableOfKey.applyAsLong(key);
    };
  }

  /**
   * A lower bound of every shard's {@link #stableTime}, without finding any key's shard: the
   * least of this node's report and every other serving node's (0 while any has not reported).
   * An entry at or below it is stable whatever its key; most entries of a client's context are,
   * so the predicate rarely hashes a key to its shard.
   */
  long stableFloor(Replica replica) {
    long min = shards.shardOfNode(self).isPresent() ? localStable(replica) : Long.MAX_VALUE;
    for (String n : shards.nodes()) {
      if (min <= 0) {
        return 0;
      }
      if (!n.equals(self) && shards.shardOfNode(n).isPresent()) {
        min = Math.min(min, Math.max(0, reports.reportOf(n)));
      }
    }
    return min == Long.MAX_VALUE ? 0 : min;
  }

  /**
   * The stable time of each key's shard, computed once per shard per function (make one per
   * request or sweep page).
   */
  public ToLongFunction<String> stableTimeOfKey(Replica replica) {
    Map<Integer, Long> byShard = new HashMap<>();
    return key -> byShard.computeIfAbsent(shards.shardOf(key), s -> stableTime(s, replica));
  }

  /** {@code ctx} without its stable entries: what stored dependencies and causal waits keep. */
  public CausalContext prune(CausalContext ctx, Replica replica) {
    return prune(ctx, stablePredicate(replica));
  }

  /** {@code ctx} without the entries {@code stable} (a {@link #stablePredicate}) selects. */
  public static CausalContext prune(CausalContext ctx, BiPredicate<String, Version> stable) {
    return ctx.isEmpty() ? ctx : ctx.without(stable);
  }

  /** The layout this node knows. */
  public ShardMap shards() {
    return shards;
  }

  @Override
  public String toString() {
    return "NodeStability{incarnation=" + incarnation + " epoch=" + epoch
        + " bootstrapped=" + bootstrapped + " hold=" + holdReason
        + " rounds=" + roundsSinceHold + " " + reports + "}";
  }
}
