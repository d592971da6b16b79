package ringkv.gossip;

import java.util.BitSet;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Predicate;
import java.util.function.ToIntFunction;
import ringkv.gossip.AntiEntropyRound.DigestReply;
import ringkv.gossip.AntiEntropyRound.Limits;
import ringkv.gossip.AntiEntropyRound.Scope;
import ringkv.gossip.AntiEntropyRound.VersionsPage;

/**
 * One node's anti-entropy, both sides, as the node's driver and the simulation run it: when a
 * round starts and with whom ({@link #start}), the round itself ({@link AntiEntropyRound}), and
 * the answers to a peer's round ({@link #admitDigest}, {@link DigestScan},
 * {@link #admitVersions}, {@link #versions}). Who gives way, who may answer and the horizon are
 * {@link AntiEntropyPolicy}'s rules; the settled horizon is sampled here ({@link #sample}).
 *
 * <p>A refusal comes back as a value ({@link Refusal}) the caller turns into its error answer.
 * Bounds: one round at a time as initiator; at most {@link #DIGESTS_IN_FLIGHT_MAX} digests
 * computed for peers at once. Time comes in as {@code nowMs}. Not thread-safe; confine to one
 * event loop.
 */
public final class AntiEntropy {
  /** Writes known for less than this are left to the replication queues (the node's). */
  public static final long SETTLE_MS_DEFAULT = 5_000;
  /** Digests this node computes for peers at once; more are refused. */
  public static final int DIGESTS_IN_FLIGHT_MAX = 4;

  /** Why a peer's request is not answered; {@code kind} picks the error answer. */
  public record Refusal(Kind kind, String why) {
    /** UNAVAILABLE: try later; BAD_REQUEST: never valid; OVERLOADED: too many at once. */
    public enum Kind { UNAVAILABLE, BAD_REQUEST, OVERLOADED }
  }

  private final String self;
  private final Limits limits;
  private final AntiEntropyPolicy policy;
  private final SettleHorizon settled;
  private AntiEntropyRound current;
  private int digestsInFlight;

  public AntiEntropy(String self, long intervalMs, long settleMs, Limits limits) {
    this.self = Objects.requireNonNull(self, "self");
    this.limits = Objects.requireNonNull(limits, "limits");
    this.policy = new AntiEntropyPolicy(self, intervalMs);
    this.settled = new SettleHorizon(settleMs);
  }

  /** The round timer fired: the replica's clock reads {@code counter} at {@code nowMs}. */
  public void sample(long nowMs, long counter) {
    settled.sample(nowMs, counter);
  }

  /**
   * Starts a round with the next live member of {@code members} (this node's shard
   * {@code shard}) unless one runs or the node is not {@code quiet}; empty when none starts.
   */
  public Optional<AntiEntropyRound> start(int shard, long epoch, List<String> members,
      Predicate<String> isLive, boolean quiet, long nowMs) {
    if (current != null || !quiet) {
      return Optional.empty();
    }
    Optional<String> peer = policy.nextPeer(members, isLive, nowMs);
    if (peer.isEmpty()) {
      return Optional.empty();
    }
    current = new AntiEntropyRound(self, peer.get(), shard, epoch, settled.horizon(nowMs),
        limits, nowMs);
    return Optional.of(current);
  }

  /** The round this node runs as initiator, if any. */
  public Optional<AntiEntropyRound> current() {
    return Optional.ofNullable(current);
  }

  /** {@code round} is over (done or abandoned): another may start. */
  public void finished(AntiEntropyRound round) {
    if (current == round) {
      current = null;
    }
  }

  /**
   * Whether this node answers {@code scope}'s digest request now (empty: it does, and must
   * call {@link #digestDone} once the digest is computed or abandoned). {@code quiet}: no view
   * change stopped the node and it is not catching up.
   */
  public Optional<Refusal> admitDigest(Scope scope, int leafBits, boolean quiet,
      long currentEpoch, List<String> shardMembers, long nowMs) {
    String myPeer = current == null || current.isDone() ? null : current.peer();
    if (!policy.yieldsTo(myPeer, scope.from())) {
      // Both started a round with each other: one round repairs both ways, the lower one's.
      return Optional.of(new Refusal(Refusal.Kind.UNAVAILABLE,
          "already reconciling with " + scope.from()));
    }
    Optional<Refusal> refused = refusal(scope, quiet, currentEpoch, shardMembers, nowMs);
    if (refused.isPresent()) {
      return refused;
    }
    if (leafBits != RangeDigest.LEAF_BITS) {
      return Optional.of(new Refusal(Refusal.Kind.BAD_REQUEST, "leaf-bits " + leafBits
          + " is not " + RangeDigest.LEAF_BITS));
    }
    if (digestsInFlight >= DIGESTS_IN_FLIGHT_MAX) {
      return Optional.of(new Refusal(Refusal.Kind.OVERLOADED, "already computing "
          + digestsInFlight + " digests"));
    }
    digestsInFlight++;
    return Optional.empty();
  }

  /** The digest this node computes for an admitted request: at the higher of both horizons. */
  public DigestScan digestFor(Scope scope, long nowMs) {
    long horizon = AntiEntropyPolicy.horizon(settled.horizon(nowMs), scope.horizon());
    return new DigestScan(scope, RepairScope.upTo(horizon), limits.scanPageEntries());
  }

  /** A digest admitted by {@link #admitDigest} was answered or abandoned. */
  public void digestDone() {
    digestsInFlight = Math.max(0, digestsInFlight - 1);
  }

  /** Whether this node answers {@code scope}'s request for a page of versions now. */
  public Optional<Refusal> admitVersions(Scope scope, boolean quiet, long currentEpoch,
      List<String> shardMembers, long nowMs) {
    return refusal(scope, quiet, currentEpoch, shardMembers, nowMs);
  }

  private Optional<Refusal> refusal(Scope scope, boolean quiet, long currentEpoch,
      List<String> shardMembers, long nowMs) {
    return policy.refusal(scope.from(), scope.shard(), scope.epoch(), quiet, currentEpoch,
        shardMembers, nowMs).map(why -> new Refusal(Refusal.Kind.UNAVAILABLE, why));
  }

  /** One page of this node's pairs for an admitted versions request. */
  public static VersionsPage versions(Store store, Scope scope, BitSet leaves,
      String after, int limit, ToIntFunction<String> shardOf) {
    RepairScope repair = new RepairScope(scope.horizon(), leaves);
    List<Entry> page = store.scan(after, limit);
    return new VersionsPage(
        AntiEntropyRound.versionsOf(page, scope.shard(), repair, shardOf, scope.checksums()),
        page.size() < limit ? null : page.get(page.size() - 1).key());
  }

  /**
   * A digest of one replica's entries of a shard in a scope, computed one page per
   * {@link #scanPage} call so a large store does not hold the event loop.
   */
  public static final class DigestScan {
    /** The request's: its shard, its epoch, whether it compares checksums. */
    private final Scope request;
    /** At the higher of both horizons. */
    private final RepairScope scope;
    private final int pageEntries;
    private final RangeDigest digest = new RangeDigest();
    private String after;
    private boolean complete;

    DigestScan(Scope request, RepairScope scope, int pageEntries) {
      this.request = request;
      this.scope = scope;
      this.pageEntries = pageEntries;
    }

    /** The epoch the digest is for: the caller abandons it when the node's moves. */
    public long epoch() {
      return request.epoch();
    }

    /** Digests the next page; returns whether the digest is complete. */
    public boolean scanPage(Store store, ToIntFunction<String> shardOf) {
      if (complete) {
        return true;
      }
      List<Entry> page = store.scan(after, pageEntries);
      AntiEntropyRound.versionsOf(page, request.shard(), scope, shardOf, request.checksums())
          .forEach(digest::add);
      complete = page.size() < pageEntries;
      after = complete ? after : page.get(page.size() - 1).key();
      return complete;
    }

    /** The answer, once complete. */
    public DigestReply reply() {
      if (!complete) {
        throw new IllegalStateException("digest not complete");
      }
      return new DigestReply(digest, scope.horizon(), request.checksums());
    }
  }

  @Override
  public String toString() {
    return "AntiEntropy{round=" + current + " digestsInFlight=" + digestsInFlight + " "
        + settled + "}";
  }
}
