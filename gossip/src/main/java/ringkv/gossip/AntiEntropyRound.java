package ringkv.gossip;

import static com.google.common.base.Preconditions.checkArgument;
import static com.google.common.base.Preconditions.checkState;

import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import java.util.Objects;
import java.util.function.ToIntFunction;

/**
 * The initiator's side of one anti-entropy round against one peer of its shard, as a state
 * machine: the caller (the node's driver, the simulation) pumps {@link #next} and does what the
 * returned {@link Action} says — send a request and feed the answer back, or just call again on
 * a fresh turn — until {@link Done}. The responder's side is {@link AntiEntropy}.
 *
 * <ol>
 *   <li>{@link AskDigest}: the peer digests its entries of the shard at or below the horizon
 *       (raised to its own if higher, {@link AntiEntropyPolicy#horizon}) into a
 *       {@link RangeDigest}; {@link #onDigest} takes the answer.
 *   <li>{@link Yield}: this side digests its own store, one page per call, at that horizon.
 *       Equal digests end the round; else the scope narrows to the differing leaves.
 *   <li>Both streams of (key, version, checksum) triples of those leaves are merged
 *       ({@link VersionMerge}):
 *       this side's page by page ({@link Yield}), the peer's by {@link AskVersions} /
 *       {@link #onVersions}.
 *   <li>Keys the peer holds newer (or alone) are pulled ({@link Pull} / {@link #onPulled}: the
 *       caller applies the entries as replicated writes, {@code KeyValueCore.applyFromPeers}
 *       with {@code fromQueue}); keys this side holds newer are pushed ({@link Push} /
 *       {@link #onPushed}; the peer applies them the same way).
 * </ol>
 *
 * <p><b>Values, not only versions.</b> A round compares each entry's {@link Entry#checksum}
 * (in the digest and in the pairs), so two replicas holding one version of a key with different
 * bytes are found; the copy with the higher checksum is sent to the other side, which takes it
 * ({@link Entry#supersedes}), and the round lists the key ({@link #takeConflicts}) for the caller
 * to report. A peer of an earlier release answers a digest without {@link DigestReply#checksums}:
 * the round then falls back to versions only (its requests say so, {@link Scope#checksums}).
 *
 * <p>A round fails ({@link #fail}) on any I/O failure, and by itself when the caller reports
 * that the node is no longer quiet or its epoch moved. Only the shard's own keys count.
 *
 * <p>Bounds: one request outstanding; {@link Limits#scanPageEntries} entries read per call;
 * memory is two pages of versions plus two batches of {@link Limits#repairBatchKeysMax} keys;
 * a push batch is bounded by bytes. Not thread-safe; confine to one event loop.
 */
public final class AntiEntropyRound {

  /** The bounds of a round. */
  public record Limits(int scanPageEntries, int versionPageEntriesMax, int repairBatchKeysMax,
      long pushBatchBytesMax) {
    public Limits {
      checkArgument(scanPageEntries > 0 && versionPageEntriesMax > 0 && repairBatchKeysMax > 0
          && pushBatchBytesMax > 0, "limits must be > 0");
    }

    /** The node's: 1,024 entries a turn, 4,096 pairs a page, 2,048 keys a batch. */
    public static Limits defaults() {
      return new Limits(1024, 4096, 2048, ReplicationQueue.Limits.BATCH_BYTES_MAX_DEFAULT);
    }
  }

  /**
   * What a round's requests carry: who asks, for which shard, at which epoch and horizon, and
   * whether entries are compared with their checksums (false: versions only, as a node of an
   * earlier release asks).
   */
  public record Scope(String from, int shard, long epoch, long horizon, boolean checksums) {
    public Scope {
      Objects.requireNonNull(from, "from");
      checkArgument(horizon >= 0, "horizon must be >= 0");
    }

    /** A request of a node of an earlier release: versions only. */
    public Scope(String from, int shard, long epoch, long horizon) {
      this(from, shard, epoch, horizon, false);
    }
  }

  /**
   * The answer to {@link AskDigest}: the peer's digest, the horizon it used, and whether the
   * digest covers checksums (false from a node of an earlier release).
   */
  public record DigestReply(RangeDigest digest, long horizon, boolean checksums) {
    /** A digest of versions only (a node of an earlier release). */
    public DigestReply(RangeDigest digest, long horizon) {
      this(digest, horizon, false);
    }
  }

  /** The answer to {@link AskVersions}: pairs in key order; {@code last} null at the end. */
  public record VersionsPage(List<KeyVersion> versions, String last) {
    public VersionsPage {
      versions = List.copyOf(versions);
    }
  }

  /** What the caller does next. */
  public sealed interface Action permits AskDigest, Yield, AskVersions, Pull, Push, Done {}

  /** Ask the peer for its digest of {@code scope} in leaves of {@code leafBits}. */
  public record AskDigest(String peer, Scope scope, int leafBits) implements Action {}

  /** Nothing to send: call {@link #next} again (on a fresh turn of the event loop). */
  public record Yield() implements Action {}

  /** Ask the peer for its pairs in {@code leaves} of {@code scope} after {@code after}. */
  public record AskVersions(String peer, Scope scope, BitSet leaves, String after, int limit)
      implements Action {
    @Override
    public BitSet leaves() {
      return (BitSet) leaves.clone();
    }
  }

  /** Ask the peer for its entries of {@code keys}; answer with {@link #onPulled}. */
  public record Pull(String peer, List<String> keys) implements Action {}

  /** Send {@code entries} to the peer as replicated writes; answer with {@link #onPushed}. */
  public record Push(String peer, List<Entry> entries) implements Action {}

  /**
   * The round is over: {@code failure} null when it completed (it then counts towards releasing
   * a stable-time hold if it compared up to the hold's mark, {@code
   * NodeStability.onAntiEntropyRound}); {@code horizon}, the counter it compared entries up to.
   */
  public record Done(String peer, String failure, int leaves, long sent, long received,
      long horizon) implements Action {
    public boolean completed() {
      return failure == null;
    }
  }

  private enum State { ASK_DIGEST, AWAIT_DIGEST, DIGEST_MINE, MERGE, AWAIT_VERSIONS, PULL,
    AWAIT_PULL, PUSH, AWAIT_PUSH, DONE }

  private static final Yield YIELD = new Yield();

  private final String peer;
  private final int shard;
  private final long epoch;
  private final Limits limits;
  private final VersionMerge merge;
  private final long startMs;
  private final String self;
  /** Whether entries are compared with their checksums; false once a peer's digest lacks them. */
  private boolean checksums = true;
  private List<VersionMerge.Conflict> conflicts = new ArrayList<>();
  private RepairScope scope;
  private State state = State.ASK_DIGEST;
  private RangeDigest theirs;
  private RangeDigest mine;
  private String mineAfter;
  private String theirsAfter;
  private List<String> pull = List.of();
  private int pullIndex;
  private List<String> push = List.of();
  private int pushIndex;
  private int leaves;
  private long sent;
  private long received;
  private Done done;

  /**
   * A round of {@code self} with {@code peer} for {@code shard} at {@code epoch}, comparing
   * entries at or below {@code horizon} (this side's settled horizon, {@link SettleHorizon}).
   */
  public AntiEntropyRound(String self, String peer, int shard, long epoch, long horizon,
      Limits limits, long nowMs) {
    this.self = Objects.requireNonNull(self, "self");
    this.peer = Objects.requireNonNull(peer, "peer");
    this.shard = shard;
    this.epoch = epoch;
    this.limits = Objects.requireNonNull(limits, "limits");
    this.scope = RepairScope.upTo(horizon);
    this.merge = new VersionMerge(limits.repairBatchKeysMax());
    this.startMs = nowMs;
  }

  public String peer() {
    return peer;
  }

  public long startMs() {
    return startMs;
  }

  /** The scope of this round's requests. */
  public Scope header() {
    return new Scope(self, shard, epoch, scope.horizon(), checksums);
  }

  /**
   * The next action. {@code store} is this replica's; {@code shardOf} its current layout;
   * {@code quiet} and {@code currentEpoch} the node's state now: a round whose node is busy (a
   * view change stopped it, it is catching up) or whose epoch moved fails.
   */
  public Action next(Store store, ToIntFunction<String> shardOf, boolean quiet,
      long currentEpoch) {
    if (state == State.DONE) {
      return done;
    }
    if (!quiet || currentEpoch != epoch) {
      return fail("view changed during the round");
    }
    switch (state) {
      case ASK_DIGEST -> {
        state = State.AWAIT_DIGEST;
        return new AskDigest(peer, header(), RangeDigest.LEAF_BITS);
      }
      case DIGEST_MINE -> {
        return digestPage(store, shardOf);
      }
      case MERGE -> {
        return mergeStep(store, shardOf);
      }
      case PULL -> {
        return pullStep();
      }
      case PUSH -> {
        return pushStep(store, shardOf);
      }
      default -> throw new IllegalStateException("waiting for an answer in " + state);
    }
  }

  /** The peer's digest arrived. */
  public void onDigest(DigestReply reply) {
    if (!expect(State.AWAIT_DIGEST)) {
      return;
    }
    checkArgument(reply.horizon() >= 0, "horizon must be >= 0");
    scope = RepairScope.upTo(AntiEntropyPolicy.horizon(scope.horizon(), reply.horizon()));
    checksums = checksums && reply.checksums();
    theirs = reply.digest();
    mine = new RangeDigest();
    state = State.DIGEST_MINE;
  }

  private Action digestPage(Store store, ToIntFunction<String> shardOf) {
    List<Entry> page = store.scan(mineAfter, limits.scanPageEntries());
    versionsOf(page, shard, scope, shardOf, checksums).forEach(mine::add);
    if (page.size() >= limits.scanPageEntries()) {
      mineAfter = page.get(page.size() - 1).key();
      return YIELD;
    }
    BitSet differing = mine.differingLeaves(theirs);
    leaves = differing.cardinality();
    mine = null;
    theirs = null;
    mineAfter = null;
    if (differing.isEmpty()) {
      return finish(null);
    }
    scope = scope.within(differing);
    state = State.MERGE;
    return YIELD;
  }

  private Action mergeStep(Store store, ToIntFunction<String> shardOf) {
    switch (merge.advance()) {
      case MINE -> {
        List<Entry> page = store.scan(mineAfter, limits.scanPageEntries());
        boolean exhausted = page.size() < limits.scanPageEntries();
        merge.addMine(versionsOf(page, shard, scope, shardOf, checksums), exhausted);
        mineAfter = page.isEmpty() ? mineAfter : page.get(page.size() - 1).key();
        return YIELD;
      }
      case THEIRS -> {
        state = State.AWAIT_VERSIONS;
        return new AskVersions(peer, header(), scope.leaves(), theirsAfter,
            limits.versionPageEntriesMax());
      }
      case DRAIN -> {
        pull = merge.takePull();
        pullIndex = 0;
        push = merge.takePush();
        pushIndex = 0;
        conflicts.addAll(merge.takeConflicts());
        state = State.PULL;
        return pullStep();
      }
      case DONE -> {
        return finish(null);
      }
      default -> throw new IllegalStateException("unknown need");
    }
  }

  /** A page of the peer's pairs arrived. */
  public void onVersions(VersionsPage page) {
    if (!expect(State.AWAIT_VERSIONS)) {
      return;
    }
    boolean exhausted = page.last() == null;
    for (KeyVersion kv : page.versions()) {
      checkArgument(scope.includes(kv.key(), kv.version()),
          "%s answered %s outside the round's scope", peer, kv);
      checkArgument(kv.checksum().isPresent() == checksums,
          "%s answered %s %s a checksum", peer, kv, checksums ? "without" : "with");
    }
    merge.addTheirs(page.versions(), exhausted);
    if (!exhausted) {
      theirsAfter = page.last();
    }
    state = State.MERGE;
  }

  private Action pullStep() {
    if (pullIndex >= pull.size()) {
      state = State.PUSH;
      return YIELD;
    }
    int end = Math.min(pull.size(), pullIndex + limits.repairBatchKeysMax());
    state = State.AWAIT_PULL;
    return new Pull(peer, List.copyOf(pull.subList(pullIndex, end)));
  }

  /**
   * The peer served the first {@code served} keys of the last {@link Pull}; the caller applied
   * its entries, {@code fresh} of them newer than what this replica held.
   */
  public void onPulled(int served, int fresh) {
    if (!expect(State.AWAIT_PULL)) {
      return;
    }
    if (served < 1) {
      fail(peer + " served no key of " + (pull.size() - pullIndex));
      return;
    }
    checkArgument(served <= pull.size() - pullIndex, "served %s of %s keys", served,
        pull.size() - pullIndex);
    pullIndex += served;
    received += fresh;
    state = State.PULL;
  }

  private Action pushStep(Store store, ToIntFunction<String> shardOf) {
    List<Entry> batch = new ArrayList<>();
    long bytes = 0;
    while (pushIndex < push.size() && bytes < limits.pushBatchBytesMax()) {
      Entry e = store.get(push.get(pushIndex++));
      if (e != null && shardOf.applyAsInt(e.key()) == shard) {
        batch.add(e);
        bytes += e.sizeEstimateBytes();
      }
    }
    if (batch.isEmpty()) {
      pull = List.of();
      push = List.of();
      state = State.MERGE;
      return YIELD;
    }
    state = State.AWAIT_PUSH;
    return new Push(peer, batch);
  }

  /** The peer applied the last {@link Push}; {@code applied} entries were newer there. */
  public void onPushed(int applied) {
    if (!expect(State.AWAIT_PUSH)) {
      return;
    }
    sent += applied;
    state = State.PUSH;
  }

  /** The round failed (an I/O failure, a refusal, a timeout); idempotent. */
  public Done fail(String why) {
    return finish(Objects.requireNonNull(why, "why"));
  }

  private Done finish(String failure) {
    if (done == null) {
      done = new Done(peer, failure, leaves, sent, received, scope.horizon());
      state = State.DONE;
    }
    return done;
  }

  /**
   * The keys this round found held at one version with different bytes on the two sides, since
   * the last call (each is repaired: the copy with the higher checksum is sent to the other
   * side); empties the list. At most two repair batches' worth accumulate between calls.
   */
  public List<VersionMerge.Conflict> takeConflicts() {
    List<VersionMerge.Conflict> out = conflicts;
    conflicts = new ArrayList<>();
    return out;
  }

  /** Whether this round compares checksums (false with a peer of an earlier release). */
  public boolean checksums() {
    return checksums;
  }

  /** Whether the round is over. */
  public boolean isDone() {
    return state == State.DONE;
  }

  /** Whether an answer awaited in {@code expected} is taken: a failed round ignores late ones. */
  private boolean expect(State expected) {
    if (state == State.DONE) {
      return false;
    }
    checkState(state == expected, "no %s awaited (state %s)", expected, state);
    return true;
  }

  /**
   * This replica's pairs of {@code shard} in {@code scope}, from one page of its store, with
   * their checksums if {@code checksums}.
   */
  public static List<KeyVersion> versionsOf(List<Entry> page, int shard, RepairScope scope,
      ToIntFunction<String> shardOf, boolean checksums) {
    List<KeyVersion> out = new ArrayList<>();
    for (Entry e : page) {
      if (scope.includes(e) && shardOf.applyAsInt(e.key()) == shard) {
        out.add(KeyVersion.of(e, checksums));
      }
    }
    return out;
  }

  @Override
  public String toString() {
    return "AntiEntropyRound{peer=" + peer + " shard=" + shard + " epoch=" + epoch + " state="
        + state + " horizon=" + scope.horizon() + " " + merge + "}";
  }
}
