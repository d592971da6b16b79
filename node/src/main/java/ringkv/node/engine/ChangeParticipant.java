package ringkv.node.engine;

import io.vertx.core.Future;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import ringkv.gossip.ChangeTermination.Decision;
import ringkv.gossip.Entry;
import ringkv.gossip.KeyValueCore;
import ringkv.gossip.TransferPlan;
import ringkv.gossip.ViewChangeParticipant;
import ringkv.node.error.ErrorCode;
import ringkv.node.error.KvException;
import ringkv.node.peer.Empty;
import ringkv.node.peer.MembershipMessages.ChangeRequest;
import ringkv.node.peer.MembershipMessages.Committed;
import ringkv.node.peer.MembershipMessages.OutcomeReply;
import ringkv.node.peer.MembershipMessages.PlanReply;
import ringkv.node.peer.MembershipMessages.Progress;
import ringkv.node.peer.MembershipMessages.Transfer;
import ringkv.node.peer.MembershipMessages.TransferReply;
import ringkv.ring.ClusterConfig;
import ringkv.ring.NodeAddress;

/**
 * A node's part in view changes, around the pure {@link ViewChangeParticipant} (phases and
 * deadline) and {@link TransferPlan} (which keys move, from whom, to whom):
 * <ol>
 *   <li><b>plan</b>: count what this node would send, per receiver;
 *   <li><b>copy</b> (while serving): record every key that changes from now on, and send the
 *       keys this node sends under the plan to their receivers, in acknowledged, bounded
 *       batches, retrying a failed batch; progress is reported to the coordinator, whose polls
 *       keep the change alive;
 *   <li><b>prepare</b> (the stop): refuse key-value requests, drain the replication queue;
 *   <li><b>transfer</b>: send what changed since the copy began (or everything, when no copy
 *       ran) — the only data that moves while requests are refused;
 *   <li><b>commit</b>: install the configuration and drop the keys no longer owned; or
 *       <b>abort</b>: drop what was copied in, keep serving as before. Once prepared, a change
 *       whose coordinator fell silent is settled by asking ({@link OutcomeInquiry}), never by
 *       an abort of its own.
 * </ol>
 * Tombstones are not collected while a change is under way (a delete made during the copy
 * reaches the new owners).
 *
 * <p>Not thread-safe; runs on the node's event loop.
 */
public final class ChangeParticipant {
  private static final Logger LOG = LoggerFactory.getLogger(ChangeParticipant.class);
  /** Entries scanned per turn of the event loop when counting, copying or dropping keys. */
  static final int PAGE_ENTRIES = 1024;
  /** How long prepare waits for the replication queue to drain. */
  static final long DRAIN_WAIT_MS = 3_000;
  /** A change in doubt that nobody can settle yet is asked about again after this. */
  static final long INQUIRY_RETRY_MS = 1_000;

  /** Figures of the last view change this node took part in, for GET /ring and the README. */
  public record ChangeStats(long epoch, long windowMs, long keysMoved, long bytesStreamed) {}

  private final NodeServices node;
  /** The key-value service's core: this node's replica and its stability. */
  private final KeyValueCore core;
  private final KvService kv;
  private final OutcomeInquiry inquiry;
  private final TransferSender sender;
  private final LayoutInstaller installer;
  /** The coordinator of the change under way: asked first when the change is in doubt. */
  private NodeAddress coordinator;
  private long abortTimer = -1;
  private ChangeStats lastChange;
  /** This node's copy for the change under way: state, totals and progress. */
  private Copy copy;
  /** When this node's stop began and passed its phases (for the committed line). */
  private StopMarks stop = StopMarks.none();

  private static final class Copy {
    final long epoch;
    final TransferSender.Sent sent = new TransferSender.Sent();
    String state = "counting";
    long keysTotal;
    long startedMs;
    String error;

    Copy(long epoch) {
      this.epoch = epoch;
    }
  }

  public ChangeParticipant(NodeServices node, KvService kv, NodeMeta meta,
      CoordinatorLog coordinated) {
    this.node = node;
    this.core = kv.core();
    this.kv = kv;
    this.inquiry = new OutcomeInquiry(node, coordinated);
    this.sender = new TransferSender(node, core.replica());
    this.installer = new LayoutInstaller(node, core, meta, kv::rerouteWaiting);
  }

  public ChangeStats lastChange() {
    return lastChange;
  }

  // ---------------------------------------------------------------- plan

  /** What this node would send under {@code request}'s plan, per receiver (a paged count). */
  public Future<PlanReply> plan(ChangeRequest request) {
    return sender.count(new TransferPlan(node.state().current(), request.config(),
        request.participants()));
  }

  /** Visits every entry, one page per turn of the event loop. */
  private Future<Void> scan(java.util.function.Consumer<Entry> visitor) {
    return StorePages.scan(node.vertx(), core.replica().store(), PAGE_ENTRIES, visitor);
  }

  // ---------------------------------------------------------------- copy

  /** Starts the copy phase: answered at once; {@link #progress} tells how it goes. */
  public Future<Empty> copy(ChangeRequest request) {
    Optional<KvException> refused = enter(request, ViewChangeParticipant::startCopy);
    if (refused.isPresent()) {
      return Future.failedFuture(refused.get());
    }
    if (copy != null && copy.epoch == request.config().epoch()) {
      return Future.succeededFuture(Empty.INSTANCE); // a retried copy request
    }
    armDeadline();
    kv.core().trackChanges();
    Copy c = new Copy(request.config().epoch());
    copy = c;
    TransferPlan plan = node.state().participant().plan(node.state().current()).orElseThrow();
    LOG.info("event=view-change-copy node={} epoch={}", node.state().self(), c.epoch);
    plan(request)
        .compose(counted -> {
          c.keysTotal = counted.transfers().stream().mapToLong(Transfer::keys).sum();
          c.startedMs = node.clock().millis();
          c.state = "copying";
          return sender.sendFrom(plan, null, c.sent, () -> copy == c);
        }).onComplete(ar -> {
          if (copy != c) {
            return; // aborted meanwhile
          }
          if (ar.succeeded()) {
            c.state = "copied";
          } else {
            c.state = "failed";
            c.error = java.util.Objects.toString(ar.cause().getMessage(), ar.cause().toString());
            LOG.warn("event=view-change-copy-failed node={} epoch={} cause={}", node.state().self(),
                c.epoch, c.error, ar.cause() instanceof KvException ? null : ar.cause());
          }
        });
    return Future.succeededFuture(Empty.INSTANCE);
  }

  /** How this node's part of the change of {@code epoch} stands; keeps the change alive. */
  public Progress progress(long epoch) {
    long now = node.clock().millis();
    if (!node.state().participant().isPrepared(epoch)) {
      return new Progress("idle", 0, 0, 0, 0, now, null);
    }
    node.state().participant().extend(now + node.config().viewChangeTimeoutMs());
    armDeadline();
    Copy c = copy != null && copy.epoch == epoch ? copy : null;
    return c == null ? new Progress("copied", 0, 0, 0, now, now, null)
        : new Progress(c.state, c.keysTotal, c.sent.keys, c.sent.bytes, c.startedMs, now,
            c.error);
  }

  /**
   * Keys a sender copies here for the change to {@code epoch} whose configuration has the
   * fingerprint {@code change}: taken only while that very change is under way here
   * ({@link ViewChangeParticipant#acceptsTransfer}). A late batch (this node aborted, committed
   * already, or moved on to another change at the same epoch) is refused, so it never stays as
   * data of a shard this node does not serve, nor passes for the next change's. Returns how many
   * entries were newer.
   */
  public int applyTransfer(long epoch, long change, List<Entry> entries) {
    if (!node.state().participant().acceptsTransfer(epoch, change)) {
      throw new KvException(ErrorCode.VIEW_CHANGE_CONFLICT, node.state().self()
          + " takes no keys for epoch " + epoch + " (change " + Long.toHexString(change)
          + "): no such change is under way here");
    }
    return kv.applyTransfer(entries);
  }

  // ---------------------------------------------------------------- stop and commit

  /** The stop: refuse key-value requests and drain the replication queue to live shard peers. */
  public Future<Empty> prepare(ChangeRequest request) {
    Optional<KvException> refused = enter(request, ViewChangeParticipant::prepare);
    if (refused.isPresent()) {
      return Future.failedFuture(refused.get());
    }
    armDeadline();
    stop = new StopMarks(node.clock().millis());
    return kv.counts().drainReplication(node.clock().millis() + DRAIN_WAIT_MS)
        .onSuccess(v -> stop.drainedMs = node.clock().millis()).map(v -> Empty.INSTANCE)
        .recover(err -> Future.failedFuture(new KvException(ErrorCode.VIEW_CHANGE_FAILED,
            node.state().self() + " could not drain its replication queue")));
  }

  /** A phase a participant enters: {@link ViewChangeParticipant#startCopy} or {@code prepare}. */
  private interface Phase {
    ViewChangeParticipant.Prepare enter(ViewChangeParticipant participant, ClusterConfig current,
        ClusterConfig next, Set<NodeAddress> participants, long nowMs, long deadlineMs);
  }

  /**
   * Enters {@code phase} of the change {@code request} asks for and takes its coordinator; the
   * refusal when this node holds its stability report (NodeStability) or the phase refuses.
   */
  private Optional<KvException> enter(ChangeRequest request, Phase phase) {
    Optional<String> held = core.stability().refusalWhileHeld(node.state().participant(),
        request.config().epoch());
    if (held.isPresent()) {
      return Optional.of(new KvException(ErrorCode.VIEW_CHANGE_CONFLICT, held.get()));
    }
    long now = node.clock().millis();
    ViewChangeParticipant.Prepare p = phase.enter(node.state().participant(),
        node.state().current(), request.config(), request.participants(), now,
        now + node.config().viewChangeTimeoutMs());
    if (!p.prepared()) {
      return Optional.of(new KvException(ErrorCode.VIEW_CHANGE_CONFLICT,
          p.refusal().orElseThrow()));
    }
    coordinator = request.coordinator();
    return Optional.empty();
  }

  /**
   * Sends, during the stop, what the receivers still lack: what changed since the copy began,
   * or every key this node sends when no copy ran. Answers what this node sent in the change.
   */
  public Future<TransferReply> transfer(long epoch) {
    if (node.state().participant().pending().filter(p -> p.epoch() == epoch).isEmpty()) {
      return Future.failedFuture(new KvException(ErrorCode.VIEW_CHANGE_CONFLICT,
          "no prepared change for epoch " + epoch));
    }
    node.state().participant().onTransferStarted();
    stop.transferMs = node.clock().millis();
    TransferPlan plan = node.state().participant().plan(node.state().current()).orElseThrow();
    Copy copied = copy != null && copy.epoch == epoch && "copied".equals(copy.state)
        ? copy : null;
    TransferSender.Sent delta = new TransferSender.Sent();
    Future<Void> sent;
    if (copied != null) {
      List<Entry> changed = new ArrayList<>();
      Set<String> keys = kv.core().takeChanges();
      stop.changedKeys = keys.size();
      for (String key : keys) {
        Entry e = core.replica().store().get(key);
        if (e != null && !plan.targetsOf(node.state().self(), key).isEmpty()) {
          changed.add(e);
        }
      }
      sent = sender.sendEntries(plan, changed, delta, TransferSender.ALWAYS);
    } else {
      sent = sender.sendFrom(plan, null, delta, TransferSender.ALWAYS);
    }
    return sent.map(v -> {
      stop.sentMs = node.clock().millis();
      stop.sentKeys = delta.keys;
      node.state().participant().onSent(delta.keys, delta.bytes);
      node.metrics().viewChangeSent(delta.keys + (copied == null ? 0 : copied.sent.keys),
          delta.bytes + (copied == null ? 0 : copied.sent.bytes));
      long keys = delta.keys + (copied == null ? 0 : copied.sent.keys);
      long bytes = delta.bytes + (copied == null ? 0 : copied.sent.bytes);
      return new TransferReply(keys, bytes);
    });
  }

  /** Installs the prepared configuration (no-op for another epoch); answers its window. */
  public Future<Committed> commit(long epoch) {
    var committed = node.state().participant().commit(epoch, node.clock().millis());
    if (committed.isEmpty()) {
      return Future.succeededFuture(Committed.UNKNOWN); // aborted, or learned from a heartbeat
    }
    cancelAbortTimer();
    var c = committed.get();
    long copyKeys = copy != null && copy.epoch == epoch ? copy.sent.keys : 0;
    long copyBytes = copy != null && copy.epoch == epoch ? copy.sent.bytes : 0;
    lastChange = new ChangeStats(epoch, c.windowMs(), copyKeys + c.keysSent(),
        copyBytes + c.bytesSent());
    node.metrics().viewChangeCommitted(c.windowMs());
    copy = null;
    kv.core().takeChanges();
    LOG.info("event=view-change-committed node={} epoch={} window-ms={} {}", node.state().self(),
        epoch, c.windowMs(), stop.phases(node.clock().millis()));
    stop = StopMarks.none();
    // Answered once the keys this node no longer owns are gone, so key counts read right after
    // the change (the view-change dialect reports them) are exact.
    return adopt(c.next()).map(n -> new Committed(c.windowMs()));
  }

  /**
   * Forgets the change of {@code epoch} without dropping anything: another configuration won,
   * and the one installed next decides which keys stay.
   */
  public void forget(long epoch) {
    if (node.state().participant().abort(epoch)) {
      cancelAbortTimer();
      copy = null;
      kv.core().takeChanges();
      LOG.info("event=view-change-forgotten node={} epoch={}", node.state().self(), epoch);
    }
  }

  /** This node's answer to a participant whose change to {@code pending} is in doubt. */
  public OutcomeReply outcome(ClusterConfig pending) {
    return inquiry.answer(pending);
  }

  /** Abandons the change: the old configuration stays, keys copied in are dropped. */
  public Empty abort(long epoch) {
    if (node.state().participant().abort(epoch)) {
      node.metrics().viewChangeAborted(false);
      LOG.info("event=view-change-abort node={} epoch={}", node.state().self(), epoch);
      rollBack();
    }
    return Empty.INSTANCE;
  }

  private void rollBack() {
    cancelAbortTimer();
    copy = null;
    kv.core().takeChanges();
    installer.dropCopies();
  }

  private void armDeadline() {
    armTimer(node.config().viewChangeTimeoutMs());
  }

  /**
   * At the deadline: a change still copying aborts (nothing can have committed); a prepared one
   * is in doubt and is settled by asking ({@link #settle}), never by an abort of its own.
   */
  private void armTimer(long delayMs) {
    cancelAbortTimer();
    abortTimer = node.vertx().setTimer(delayMs, id -> {
      abortTimer = -1;
      long now = node.clock().millis();
      var aborted = node.state().participant().onTick(now);
      if (aborted.isPresent()) {
        node.metrics().viewChangeAborted(true);
        LOG.warn("event=view-change-timeout node={} epoch={} action=abort", node.state().self(),
            aborted.getAsLong());
        rollBack();
        return;
      }
      var doubt = node.state().participant().inDoubt(now);
      if (doubt.isPresent()) {
        settle(doubt.get());
      } else if (node.state().participant().underWay().isPresent()) {
        armDeadline(); // extended meanwhile
      }
    });
  }

  /**
   * A prepared change whose coordinator fell silent: the coordinator may have decided to commit
   * it (then the other participants drop the keys that moved here), so it is settled by asking
   * the coordinator and the participants ({@link ringkv.gossip.ChangeTermination}); while nobody
   * can tell, it stays prepared and asks again every {@link #INQUIRY_RETRY_MS}.
   */
  private void settle(ClusterConfig pending) {
    NodeAddress c = coordinator != null ? coordinator : node.state().self();
    inquiry.ask(pending, c, node.state().participant().participants(), false).onComplete(ar -> {
      if (node.state().participant().pending().filter(pending::equals).isEmpty()) {
        return; // settled meanwhile: a commit, an abort or a newer configuration arrived
      }
      if (ar.result() instanceof Decision.Wait) {
        armTimer(INQUIRY_RETRY_MS);
      }
      apply(pending, ar.result(), false);
    });
  }

  /**
   * The operator settles the change of {@code epoch} under way here, its coordinator declared
   * gone for good ({@link ringkv.gossip.ChangeTermination#settle}): a change still copying
   * aborts (nothing can have committed before every participant prepared); a prepared one asks
   * every participant and commits, follows a newer configuration, aborts, or stays (the
   * decision names who did not answer). Fails with a {@link KvException} when no such change
   * is under way here.
   */
  public Future<Decision> settleByOperator(long epoch) {
    ViewChangeParticipant p = node.state().participant();
    Optional<ClusterConfig> pending = p.pending();
    if (pending.isEmpty() || pending.get().epoch() != epoch) {
      return Future.failedFuture(new KvException(ErrorCode.ROUTE_NOT_FOUND, pending.isEmpty()
          ? "no view change is under way on this node"
          : "the view change under way on this node is epoch " + pending.get().epoch()));
    }
    NodeAddress c = coordinator != null ? coordinator : node.state().self();
    if (p.phase() == ViewChangeParticipant.Phase.COPYING) {
      Decision d = new Decision.Abort("still copying: nothing can have committed");
      apply(pending.get(), d, true);
      return Future.succeededFuture(d);
    }
    return inquiry.ask(pending.get(), c, p.participants(), true).map(d -> {
      if (p.pending().filter(pending.get()::equals).isEmpty()) {
        return d; // settled meanwhile
      }
      LOG.warn("event=view-change-settled node={} epoch={} coordinator={} decision={}",
          node.state().self(), epoch, c, d);
      apply(pending.get(), d, true);
      return d;
    });
  }

  /**
   * Carries out what was decided about the prepared change {@code pending}, at its deadline or
   * ({@code byOperator}) when the operator settled it (an abort then counts as aborted, not as
   * timed out).
   */
  private void apply(ClusterConfig pending, Decision d, boolean byOperator) {
    long epoch = pending.epoch();
    if (d instanceof Decision.Commit commit) {
      LOG.info("event=view-change-in-doubt node={} epoch={} action=commit reason=\"{}\"",
          node.state().self(), epoch, commit.why());
      commit(epoch);
    } else if (d instanceof Decision.Abort abort) {
      LOG.warn("event=view-change-in-doubt node={} epoch={} action=abort reason=\"{}\"",
          node.state().self(), epoch, abort.why());
      if (node.state().participant().abort(epoch)) {
        node.metrics().viewChangeAborted(!byOperator);
        rollBack();
      }
    } else if (d instanceof Decision.Superseded newer) {
      LOG.warn("event=view-change-in-doubt node={} epoch={} action=superseded from={} "
          + "newer-epoch={}", node.state().self(), epoch, newer.from(), newer.newer().epoch());
      forget(epoch);
      if (node.state().current().view().contains(newer.from())
          && node.state().epochs().refusal(node.state().current().epoch(),
              newer.newer().epoch()).isEmpty()) {
        adoptLearned(newer.newer());
      }
    } else {
      LOG.warn("event=view-change-in-doubt node={} epoch={} action=wait reason=\"{}\"",
          node.state().self(), epoch, ((Decision.Wait) d).why());
    }
  }

  private void cancelAbortTimer() {
    if (abortTimer >= 0) {
      node.vertx().cancelTimer(abortTimer);
      abortTimer = -1;
    }
  }

  // ---------------------------------------------------------------- installing

  /** Installs {@code next}, learned from a peer ({@link LayoutInstaller#adoptLearned}). */
  public Future<Integer> adoptLearned(ClusterConfig next) {
    return installer.adoptLearned(next);
  }

  /** Installs {@code next} ({@link LayoutInstaller#adopt}). */
  public Future<Integer> adopt(ClusterConfig next) {
    return installer.adopt(next);
  }

  /** Drops keys left by a change this process does not know ({@link LayoutInstaller}). */
  public Future<Integer> sweepLeftovers() {
    return installer.sweepLeftovers();
  }

  /**
   * After a restart with {@code DATA_DIR}: hands over again what the previous process's hand-off
   * had not delivered; run before the node serves or reports its stability.
   */
  public Future<Void> resumeHandOff(List<Entry> requeued) {
    return installer.resumeHandOff(requeued);
  }
}
