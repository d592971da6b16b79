package ringkv.gossip;

import static com.google.common.base.Preconditions.checkArgument;

import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import ringkv.ring.ClusterConfig;
import ringkv.ring.NodeAddress;

/**
 * One node's side of a two-phase view change: <b>idle</b> → <b>prepared</b> (a newer
 * configuration is pending: key-value requests are refused with "view change in progress") →
 * <b>committed</b> (the caller installs it) or <b>aborted</b> (by the coordinator, or by itself
 * at its deadline when the coordinator vanished); both end idle again.
 *
 * <p>Rules: a node prepares one change at a time (another epoch is refused while one is pending;
 * the same epoch again is accepted, so a retried prepare is harmless); only a configuration newer
 * than the installed one, and within {@link EpochBound} of it, is prepared; commit and abort
 * name the epoch they mean and are no-ops for any other (a late message of an old change changes
 * nothing).
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

  private final EpochBound epochs;
  private ClusterConfig pending;
  private Set<NodeAddress> participants = Set.of();
  private long preparedAtMs;
  private long deadlineMs;
  private long keysSent;
  private long bytesSent;

  /** A participant that prepares epochs up to {@link EpochBound#AHEAD_MAX_DEFAULT} ahead. */
  public ViewChangeParticipant() {
    this(new EpochBound(EpochBound.AHEAD_MAX_DEFAULT));
  }

  public ViewChangeParticipant(EpochBound epochs) {
    this.epochs = Objects.requireNonNull(epochs, "epochs");
  }

  /** Prepares {@code next} over {@code current}; the change aborts itself at {@code deadlineMs}. */
  public Prepare prepare(ClusterConfig current, ClusterConfig next,
      Set<NodeAddress> participants, long nowMs, long deadlineMs) {
    checkArgument(deadlineMs >= nowMs, "deadline before now");
    if (pending != null && pending.epoch() != next.epoch()) {
      return new Prepare(Optional.of("already installing epoch " + pending.epoch()));
    }
    Optional<String> refusal = epochs.refusal(current.epoch(), next.epoch());
    if (refusal.isPresent()) {
      return new Prepare(refusal);
    }
    if (pending == null) {
      preparedAtMs = nowMs;
      keysSent = 0;
      bytesSent = 0;
    }
    pending = next;
    this.participants = Set.copyOf(participants);
    this.deadlineMs = deadlineMs;
    return new Prepare(Optional.empty());
  }

  /** The configuration being installed, if a change is prepared. */
  public Optional<ClusterConfig> pending() {
    return Optional.ofNullable(pending);
  }

  /** Whether the change of {@code epoch} is the one prepared. */
  public boolean isPrepared(long epoch) {
    return pending != null && pending.epoch() == epoch;
  }

  /** The participants of the prepared change. */
  public Set<NodeAddress> participants() {
    return participants;
  }

  /** The prepared change's transfer plan from {@code current}; empty if none is prepared. */
  public Optional<TransferPlan> plan(ClusterConfig current) {
    return pending == null ? Optional.empty()
        : Optional.of(new TransferPlan(current, pending, participants));
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

  /** Aborts a prepared change whose deadline passed; returns its epoch. */
  public OptionalLong onTick(long nowMs) {
    if (pending != null && nowMs >= deadlineMs) {
      long epoch = pending.epoch();
      reset();
      return OptionalLong.of(epoch);
    }
    return OptionalLong.empty();
  }

  /** A newer configuration installed another way (a heartbeat): a prepared older one is moot. */
  public void onInstalled(ClusterConfig installed) {
    Objects.requireNonNull(installed, "installed");
    if (pending != null && !pending.isNewerThan(installed)) {
      reset();
    }
  }

  private void reset() {
    pending = null;
    participants = Set.of();
  }

  @Override
  public String toString() {
    return pending == null ? "ViewChangeParticipant{idle}"
        : "ViewChangeParticipant{prepared epoch=" + pending.epoch() + " deadline=" + deadlineMs
            + "}";
  }
}
