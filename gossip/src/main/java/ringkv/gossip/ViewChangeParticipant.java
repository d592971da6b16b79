package ringkv.gossip;

import static com.google.common.base.Preconditions.checkArgument;

import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import ringkv.ring.ClusterConfig;
import ringkv.ring.NodeAddress;

/**
 * One node's side of a view change: <b>idle</b> → <b>copying</b> (a newer configuration is
 * known and the keys that move are being copied to their new owners while this node keeps
 * serving) → <b>prepared</b> (the short stop: key-value requests are refused with "view change
 * in progress" while what changed during the copy travels) → <b>committed</b> (the caller
 * installs it) or <b>aborted</b> (by the coordinator, or by itself at its deadline when the
 * coordinator vanished); both end idle again. A change may also go from idle straight to
 * prepared (no copy beforehand).
 *
 * <p>Rules: a node prepares one change at a time (another epoch is refused while one is pending;
 * the same epoch again is accepted, so a retried prepare is harmless); only a configuration newer
 * than the installed one, and within {@link EpochBound} of it, is prepared, and only if its
 * participants leave no key that gains an owner without a participant of its new shard holding
 * it ({@link TransferPlan#strandedKeys}); commit and abort name the epoch they mean and are
 * no-ops for any other (a late message of an old change changes nothing).
 *
 * <p>Time comes in as {@code nowMs}. Not thread-safe; confine to one event loop.
 */
public final class ViewChangeParticipant {
  /** The answer to a prepare: empty when prepared, else why not. */
  public record Prepare(Optional<String> refusal) {
    public boolean prepared() {
      return refusal.isEmpty();
    }
  }

  /**
   * A committed change: the configuration to install, how long key-value requests were refused
   * (prepare to commit), and what this node sent.
   */
  public record Commit(ClusterConfig next, long windowMs, long keysSent, long bytesSent) {}

  /** Where a change stands on this node. */
  public enum Phase { IDLE, COPYING, PREPARED }

  private final EpochBound epochs;
  private ClusterConfig pending;
  /** {@code pending}'s fingerprint, computed once per change (checked on every copy batch). */
  private long pendingFingerprint;
  private Phase phase = Phase.IDLE;
  private Set<NodeAddress> participants = Set.of();
  private long preparedAtMs;
  private long deadlineMs;
  private long keysSent;
  private long bytesSent;
  /** Whether the prepared change's transfer began (what changed since then is not sent). */
  private boolean transferring;

  /** A participant that prepares epochs up to {@link EpochBound#AHEAD_MAX_DEFAULT} ahead. */
  public ViewChangeParticipant() {
    this(new EpochBound(EpochBound.AHEAD_MAX_DEFAULT));
  }

  public ViewChangeParticipant(EpochBound epochs) {
    this.epochs = Objects.requireNonNull(epochs, "epochs");
  }

  /**
   * Starts copying for {@code next} over {@code current} while this node keeps serving; the
   * change aborts itself at {@code deadlineMs} unless it is prepared or ends before.
   */
  public Prepare startCopy(ClusterConfig current, ClusterConfig next,
      Set<NodeAddress> participants, long nowMs, long deadlineMs) {
    if (phase == Phase.PREPARED && pending.epoch() == next.epoch()) {
      return new Prepare(Optional.empty()); // already further: a retried copy is harmless
    }
    Prepare p = admit(current, next, participants, nowMs, deadlineMs);
    if (p.prepared()) {
      phase = Phase.COPYING;
    }
    return p;
  }

  /**
   * Prepares {@code next} over {@code current} (the stop: key-value requests are refused from
   * now on); the change aborts itself at {@code deadlineMs}.
   */
  public Prepare prepare(ClusterConfig current, ClusterConfig next,
      Set<NodeAddress> participants, long nowMs, long deadlineMs) {
    Prepare p = admit(current, next, participants, nowMs, deadlineMs);
    if (p.prepared()) {
      if (phase != Phase.PREPARED) {
        preparedAtMs = nowMs; // the window of refused requests starts here
      }
      phase = Phase.PREPARED;
    }
    return p;
  }

  private Prepare admit(ClusterConfig current, ClusterConfig next,
      Set<NodeAddress> participants, long nowMs, long deadlineMs) {
    checkArgument(deadlineMs >= nowMs, "deadline before now");
    if (pending != null && pending.epoch() != next.epoch()) {
      return new Prepare(Optional.of("already installing epoch " + pending.epoch()));
    }
    Optional<String> refusal = epochs.refusal(current.epoch(), next.epoch());
    if (refusal.isEmpty() && pending == null) {
      refusal = new TransferPlan(current, next, participants).strandedKeys();
    }
    if (refusal.isPresent()) {
      return new Prepare(refusal);
    }
    if (pending == null) {
      preparedAtMs = nowMs;
      keysSent = 0;
      bytesSent = 0;
      phase = Phase.COPYING;
    }
    pending = next;
    pendingFingerprint = next.fingerprint();
    this.participants = Set.copyOf(participants);
    this.deadlineMs = deadlineMs;
    return new Prepare(Optional.empty());
  }

  /**
   * The configuration being installed once the stop began (key-value requests are refused);
   * empty while idle or copying.
   */
  public Optional<ClusterConfig> pending() {
    return phase == Phase.PREPARED ? Optional.of(pending) : Optional.empty();
  }

  /**
   * Whether a message from a node holding {@code heardEpoch} is news that makes a node at
   * {@code currentEpoch} fetch that node's configuration: its epoch is newer than the installed
   * one and not older than a change this node has prepared ({@code pending}; the one at the same
   * epoch may have committed elsewhere). The one rule of the node's ConfigSync and the
   * simulation.
   */
  public static boolean isNews(long currentEpoch, Optional<ClusterConfig> pending,
      long heardEpoch) {
    return heardEpoch > currentEpoch
        && pending.map(p -> p.epoch() <= heardEpoch).orElse(true);
  }

  /**
   * Whether a node at {@code epoch} applies a batch of replicated writes (a replication queue's
   * or an anti-entropy push) whose sender was at {@code senderEpoch} when it sent it (0: not
   * said): only at the same epoch; else the sender sends it again, once both are at one epoch.
   * A receiver behind the sender would judge which keys it owns by an older layout and
   * acknowledge, unapplied, writes the newer one gives it. A receiver ahead of the sender would
   * take a batch from before the change, perhaps a duplicate delayed past it, under the new
   * layout's stable time (0 until every node reports at the new epoch), which cannot tell a stale
   * duplicate of a collected delete's value from a new write. The one rule of the node's
   * REPLICATE route and the simulation.
   */
  public static boolean takesBatchAt(long epoch, long senderEpoch) {
    return senderEpoch == 0 || senderEpoch == epoch;
  }

  /** The configuration keys are being copied for, or installed: any change under way. */
  public Optional<ClusterConfig> underWay() {
    return Optional.ofNullable(pending);
  }

  public Phase phase() {
    return phase;
  }

  /** Whether the change of {@code epoch} is under way here (copying or prepared). */
  public boolean isPrepared(long epoch) {
    return pending != null && pending.epoch() == epoch;
  }

  /**
   * Whether keys a sender copies for the change of {@code epoch} whose configuration has the
   * fingerprint {@code change} ({@link ClusterConfig#fingerprint}) are taken here: only while that
   * very change is under way. A batch that arrives after this node aborted (late, or retried by a
   * sender that has not heard of the abort) would otherwise stay as data of a shard this node
   * does not serve, and come back as a stale version if the key later moves here; one of an
   * aborted change that arrives while the next change at the same epoch copies would be taken
   * for that one's (simulation seed 66847: a value older than a collected tombstone came back).
   */
  public boolean acceptsTransfer(long epoch, long change) {
    return isPrepared(epoch) && pendingFingerprint == change;
  }

  /** The participants of the prepared change. */
  public Set<NodeAddress> participants() {
    return participants;
  }

  /** The change's transfer plan from {@code current}; empty if none is under way. */
  public Optional<TransferPlan> plan(ClusterConfig current) {
    return pending == null ? Optional.empty()
        : Optional.of(new TransferPlan(current, pending, participants));
  }

  /**
   * The coordinator is still there (it asked for progress): a change under way aborts itself at
   * {@code deadlineMs} now, not before.
   */
  public void extend(long deadlineMs) {
    if (pending != null) {
      this.deadlineMs = Math.max(this.deadlineMs, deadlineMs);
    }
  }

  /**
   * The prepared change's transfer began: this node sends what changed since its copy began,
   * and nothing that arrives later ({@link #takesReplicatedWrites}).
   */
  public void onTransferStarted() {
    if (phase == Phase.PREPARED) {
      transferring = true;
    }
  }

  /**
   * Whether a peer's replicated write may be applied (and acknowledged) now: not once the
   * prepared change's transfer began, until it commits or aborts. Every participant drained its
   * queue before it prepared, so such a write comes from a node left out of the change (its
   * coordinator saw it down) that still serves the old layout; applied here it would miss the
   * transfer and the new owners would start below what this old owner holds (a value under a
   * tombstone every old replica held: simulation seeds 1039, 2094). Unacknowledged, the sender
   * sends it again; after the commit or abort it is applied if this node still owns the key.
   */
  public boolean takesReplicatedWrites() {
    return !transferring;
  }

  /** This node sent {@code keys} keys in {@code bytes} bytes for the prepared change. */
  public void onSent(long keys, long bytes) {
    keysSent += keys;
    bytesSent += bytes;
  }

  /** Commits the change of {@code epoch} if it is the one prepared; idle afterwards. */
  public Optional<Commit> commit(long epoch, long nowMs) {
    if (!isPrepared(epoch)) {
      return Optional.empty();
    }
    Commit c = new Commit(pending, nowMs - preparedAtMs, keysSent, bytesSent);
    reset();
    return Optional.of(c);
  }

  /** Abandons the change of {@code epoch} if it is the one prepared; returns whether it was. */
  public boolean abort(long epoch) {
    if (!isPrepared(epoch)) {
      return false;
    }
    reset();
    return true;
  }

  /**
   * Aborts a change still copying whose deadline passed (the coordinator vanished before the
   * stop: nothing can have committed); returns its epoch. A change past its deadline once
   * prepared is not aborted here: it is in doubt ({@link #inDoubt}), since the coordinator may
   * have decided to commit it, and is settled by {@link ChangeTermination}.
   */
  public OptionalLong onTick(long nowMs) {
    if (pending != null && phase == Phase.COPYING && nowMs >= deadlineMs) {
      long epoch = pending.epoch();
      reset();
      return OptionalLong.of(epoch);
    }
    return OptionalLong.empty();
  }

  /**
   * The prepared change whose deadline passed without a commit or an abort: its outcome must
   * be asked of the coordinator and the other participants ({@link ChangeTermination}).
   */
  public Optional<ClusterConfig> inDoubt(long nowMs) {
    return phase == Phase.PREPARED && nowMs >= deadlineMs ? Optional.of(pending)
        : Optional.empty();
  }

  /** A newer configuration installed another way (a heartbeat): a prepared older one is moot. */
  public void onInstalled(ClusterConfig installed) {
    Objects.requireNonNull(installed, "installed");
    if (pending != null && !pending.isNewerThan(installed)) {
      reset();
    }
  }

  private void reset() {
    transferring = false;
    pending = null;
    pendingFingerprint = 0;
    phase = Phase.IDLE;
    participants = Set.of();
  }

  @Override
  public String toString() {
    return pending == null ? "ViewChangeParticipant{idle}"
        : "ViewChangeParticipant{" + phase + " epoch=" + pending.epoch() + " deadline="
            + deadlineMs + "}";
  }
}
