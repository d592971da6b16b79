package ringkv.node.engine;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import ringkv.gossip.ChangeTermination;
import ringkv.gossip.TransferPlan;
import ringkv.gossip.TransferProgress;
import ringkv.node.error.ErrorCode;
import ringkv.node.error.KvException;
import ringkv.node.peer.MembershipMessages.ChangeRequest;
import ringkv.node.peer.MembershipMessages.Committed;
import ringkv.node.peer.MembershipMessages.EpochRequest;
import ringkv.node.peer.MembershipMessages.PlanReply;
import ringkv.node.peer.MembershipMessages.Progress;
import ringkv.node.peer.MembershipMessages.Transfer;
import ringkv.node.peer.MembershipMessages.TransferReply;
import ringkv.node.peer.PeerProtocol;
import ringkv.node.peer.PeerRoute;
import ringkv.ring.ClusterConfig;
import ringkv.ring.NodeAddress;
import ringkv.ring.Ring;

/**
 * The coordinator of view changes (the node that got the operator's request), over every live
 * node of the old and new views:
 * <ol>
 *   <li><b>copy</b> while the cluster serves: each sender copies the keys that move to their
 *       new owners; the coordinator polls their progress (keys and bytes done out of the total,
 *       rate, time left), and gives up when the copy makes no progress for
 *       {@link #STALL_MS} (a sender retries a failed batch itself before that) or when the
 *       operator aborts;
 *   <li><b>prepare</b>: the short stop — key-value requests answer 500 "View change in
 *       progress" while queues drain;
 *   <li><b>transfer</b>: only what changed during the copy travels;
 *   <li><b>commit</b>: every node installs the new epoch.
 * </ol>
 * Any failure before commit aborts everywhere: the old configuration stays and keys copied in
 * are dropped. A change can also be <b>planned</b> first (what moves, from whom to whom, how much,
 * warnings) and committed later if the epoch has not moved since.
 *
 * <p>Not thread-safe; runs on the node's event loop.
 */
public final class ViewChanges {
  private static final Logger LOG = LoggerFactory.getLogger(ViewChanges.class);
  /** How often the coordinator asks the participants how their copy goes. */
  static final long POLL_MS = 200;
  /** A copy that makes no progress this long is aborted. */
  static final long STALL_MS = 30_000;

  /** What a change did, for the operator and GET /ring. */
  public record ChangeStats(long epoch, long windowMs, long keysMoved, long bytesStreamed,
      long totalMs) {}

  /** One planned transfer. */
  public record PlannedTransfer(NodeAddress source, NodeAddress target, long keys, long bytes) {}

  /**
   * A planned change: the configuration it installs over {@code baseEpoch}, its participants,
   * every transfer, the keys that move (once each) out of the keys held, the fraction of the
   * hash space whose shard changes against the unavoidable minimum, and warnings.
   */
  public record Plan(long baseEpoch, ClusterConfig next, Set<NodeAddress> participants,
      List<PlannedTransfer> transfers, long keysMoving, long keysTotal, long bytesMoving,
      double shardMovedFraction, double shardMovedMinimum, List<String> warnings) {}

  /** How the change this node coordinates stands now. */
  public record Status(long epoch, String phase, long startedMs, TransferProgress progress,
      Map<NodeAddress, Progress> perNode, String message) {}

  private final NodeServices node;
  private final ChangeParticipant participant;
  private final KvService kv;
  private final CoordinatorLog log;
  private Running running;
  private Plan staged;
  private ChangeStats lastCoordinated;

  /** The change this node coordinates now. */
  private static final class Running {
    final ClusterConfig next;
    final long startedMs;
    String phase = "copying";
    String message = "";
    boolean abortRequested;
    Map<NodeAddress, Progress> progress = Map.of();
    long lastKeysDone = -1;
    long lastProgressMs;

    Running(ClusterConfig next, long startedMs) {
      this.next = next;
      this.startedMs = startedMs;
      this.lastProgressMs = startedMs;
    }
  }

  public ViewChanges(NodeServices node, ChangeParticipant participant, KvService kv,
      CoordinatorLog log) {
    this.kv = kv;
    this.log = log;
    this.node = node;
    this.participant = participant;
  }

  /** The last change this node took part in (as any participant). */
  public ChangeParticipant.ChangeStats lastChange() {
    return participant.lastChange();
  }

  /** The last change this node coordinated, with its whole duration. */
  public Optional<ChangeStats> lastCoordinated() {
    return Optional.ofNullable(lastCoordinated);
  }

  /** Every live node of the old and new views, plus {@code extra}. */
  private Set<NodeAddress> participants(ClusterConfig next, Set<NodeAddress> extra) {
    ClusterConfig current = node.state().current();
    Set<NodeAddress> participants = new TreeSet<>(extra);
    participants.addAll(node.liveness().live(current.view()));
    for (NodeAddress n : next.view()) {
      if (node.liveness().isLive(n) || !current.view().contains(n)) {
        participants.add(n);
      }
    }
    return participants;
  }

  // ---------------------------------------------------------------- plan

  /** Plans {@code next} (asks every participant what it would send) and keeps it staged. */
  public Future<Plan> plan(ClusterConfig next, Set<NodeAddress> extra) {
    ClusterConfig current = node.state().current();
    Set<NodeAddress> participants = participants(next, extra);
    ChangeRequest request = new ChangeRequest(next, participants, node.state().self());
    return all(participants, PeerProtocol.PLAN, request).map(replies -> {
      Plan plan = summarize(current, next, participants, replies);
      staged = plan;
      return plan;
    });
  }

  private Plan summarize(ClusterConfig current, ClusterConfig next,
      Set<NodeAddress> participants, Map<NodeAddress, PlanReply> replies) {
    TransferPlan plan = new TransferPlan(current, next, participants);
    List<PlannedTransfer> transfers = new ArrayList<>();
    long moving = 0;
    long bytes = 0;
    for (var e : new TreeMap<>(replies).entrySet()) {
      for (Transfer t : e.getValue().transfers()) {
        transfers.add(new PlannedTransfer(e.getKey(), t.target(), t.keys(), t.bytes()));
        bytes += t.bytes();
      }
      moving += e.getValue().keysMoving();
    }
    long total = 0;
    List<String> warnings = new ArrayList<>();
    for (int shard : current.ring().shardIds()) {
      Optional<NodeAddress> sender = plan.senderOf(shard);
      if (sender.isPresent()) {
        total += replies.get(sender.get()).keysHeld();
      } else if (!current.membersOf(shard).isEmpty()) {
        warnings.add("no member of shard " + shard + " is live: its keys cannot move");
      }
    }
    for (int shard : next.ring().shardIds()) {
      int members = next.membersOf(shard).size();
      if (members < 2) {
        warnings.add("shard " + shard + " is left with " + members + " replica"
            + (members == 1 ? "" : "s"));
      }
    }
    for (NodeAddress n : next.view()) {
      if (!node.liveness().isLive(n) && current.view().contains(n)) {
        warnings.add(n + " is down: it takes no part and catches up when it returns");
      }
    }
    return new Plan(current.epoch(), next, participants, transfers, moving, total, bytes,
        Ring.movedFraction(current.ring(), next.ring()),
        Ring.unavoidableMovedFraction(current.ring().shardCount(), next.ring().shardCount()),
        warnings);
  }

  /** The staged plan, if one is kept. */
  public Optional<Plan> staged() {
    return Optional.ofNullable(staged);
  }

  /** Drops the staged plan. */
  public boolean clear() {
    boolean had = staged != null;
    staged = null;
    return had;
  }

  /**
   * Runs the staged plan, if the epoch has not moved since it was made ({@code force}: as in
   * {@link #change(ClusterConfig, Set, boolean)}).
   */
  public Future<ChangeStats> commitStaged(long baseEpoch, boolean force) {
    Plan plan = staged;
    if (plan == null) {
      return Future.failedFuture(new KvException(ErrorCode.BAD_REQUEST, "no plan is staged"));
    }
    if (plan.baseEpoch() != baseEpoch || node.state().current().epoch() != baseEpoch) {
      return Future.failedFuture(new KvException(ErrorCode.VIEW_CHANGE_CONFLICT,
          "the plan was made at epoch " + plan.baseEpoch() + ", the cluster is at epoch "
              + node.state().current().epoch() + ": plan again"));
    }
    staged = null;
    return change(plan.next(), Set.of(), force);
  }

  // ---------------------------------------------------------------- run

  /** How the change this node coordinates stands, if one runs. */
  public Optional<Status> status() {
    Running r = running;
    if (r == null) {
      return Optional.empty();
    }
    TransferProgress total = TransferProgress.none(node.clock().millis());
    for (Progress p : r.progress.values()) {
      total = total.plus(new TransferProgress(p.keysTotal(), p.keysDone(), p.bytesDone(),
          p.startedMs(), p.nowMs()));
    }
    return Optional.of(new Status(r.next.epoch(), r.phase, r.startedMs, total,
        Map.copyOf(r.progress), r.message));
  }

  /** Asks the change this node coordinates to stop (only while it copies); false if none. */
  public boolean abortRunning() {
    Running r = running;
    if (r == null || !"copying".equals(r.phase)) {
      return false;
    }
    r.abortRequested = true;
    return true;
  }

  /**
   * Settles the change of {@code epoch} under way on this node as a participant, its
   * coordinator declared gone for good ({@link ChangeParticipant#settleByOperator}).
   */
  public Future<ChangeTermination.Decision> settle(long epoch) {
    return participant.settleByOperator(epoch);
  }

  /**
   * Installs {@code next} on every live node of the old and new views (plus {@code extra},
   * e.g. a joining node no detector tracks yet). Fails with {@link ErrorCode#VIEW_CHANGE_FAILED}
   * after aborting everywhere if any participant cannot copy, prepare or transfer.
   */
  public Future<ChangeStats> change(ClusterConfig next, Set<NodeAddress> extra) {
    return change(next, extra, false);
  }

  /**
   * {@link #change(ClusterConfig, Set)}, refused ({@link ErrorCode#WOULD_DROP_KEYS}) when it
   * would leave a shard that holds keys — or whose keys cannot be counted, every member being
   * down — without members, unless the operator {@code force}s it. A reshard moves keys and
   * empties no shard; removing or moving a shard's last members would drop its keys.
   */
  public Future<ChangeStats> change(ClusterConfig next, Set<NodeAddress> extra, boolean force) {
    List<Integer> emptied = new ArrayList<>(node.state().current().shardsEmptiedBy(next));
    if (emptied.isEmpty() || force) {
      return start(next, extra);
    }
    List<Future<Long>> counts = new ArrayList<>();
    for (int shard : emptied) {
      counts.add(kv.counts().keyCount(shard));
    }
    return Future.join(counts).transform(done -> {
      for (int i = 0; i < emptied.size(); i++) {
        Future<Long> count = counts.get(i);
        if (count.failed() || count.result() > 0) {
          return Future.failedFuture(new KvException(ErrorCode.WOULD_DROP_KEYS, "shard "
              + emptied.get(i) + (count.failed() ? " (its keys cannot be counted)"
              : " holds " + count.result() + " keys and") + " would have no member left;"
              + " nothing was changed (add ?force=true to drop its keys)"));
        }
      }
      return start(next, extra);
    });
  }

  private Future<ChangeStats> start(ClusterConfig next, Set<NodeAddress> extra) {
    if (running != null || node.state().underWay().isPresent()) {
      return Future.failedFuture(new KvException(ErrorCode.VIEW_CHANGE_CONFLICT));
    }
    Set<NodeAddress> participants = participants(next, extra);
    Running r = new Running(next, node.clock().millis());
    running = r;
    log.running(next);
    // The copy phase and the prepare (phase 1) carry the same request.
    ChangeRequest change = new ChangeRequest(next, participants, node.state().self());
    EpochRequest epoch = new EpochRequest(next.epoch());
    LOG.info("event=view-change-start node={} epoch={} participants={}", node.state().self(),
        next.epoch(), participants);
    long[] stopMs = new long[1];
    return all(participants, PeerProtocol.COPY, change)
        .compose(v -> awaitCopies(r, participants, epoch))
        .compose(v -> {
          r.phase = "stopping";
          stopMs[0] = node.clock().millis();
          return all(participants, PeerProtocol.PREPARE, change);
        })
        .compose(v -> all(participants, PeerProtocol.TRANSFER, epoch))
        .compose(sent -> {
          r.phase = "committing";
          log.committed(next); // decided: from here on it never aborts
          return all(participants, PeerProtocol.COMMIT, epoch).transform(ar -> {
            if (ar.failed()) {
              LOG.warn("event=commit-partial node={} epoch={} cause={} (stragglers learn the "
                  + "epoch from heartbeats)", node.state().self(), next.epoch(),
                  ar.cause().toString());
            }
            long now = node.clock().millis();
            long keys = sent.values().stream().mapToLong(TransferReply::keys).sum();
            long bytes = sent.values().stream().mapToLong(TransferReply::bytes).sum();
            return Future.succeededFuture(new ChangeStats(next.epoch(),
                windowMs(ar.succeeded() ? ar.result() : Map.of(), now - stopMs[0]), keys, bytes,
                now - r.startedMs));
          });
        })
        .recover(err -> {
          log.aborted(next);
          node.metrics().viewChangeCoordinated(false);
          LOG.warn("event=view-change-aborted node={} epoch={} cause={}", node.state().self(),
              next.epoch(), err.getMessage());
          all(participants, PeerProtocol.ABORT, epoch);
          return Future.failedFuture(new KvException(ErrorCode.VIEW_CHANGE_FAILED,
              err.getMessage() + "; nothing was changed"));
        })
        .andThen(ar -> running = null)
        .onSuccess(s -> {
          node.metrics().viewChangeCoordinated(true);
          lastCoordinated = s;
          LOG.info("event=view-change-done node={} epoch={} ms={} window-ms={} keys-moved={} "
              + "bytes={}", node.state().self(), s.epoch(), s.totalMs(), s.windowMs(),
              s.keysMoved(), s.bytesStreamed());
        });
  }

  /**
   * The longest any participant refused key-value requests, as each reported it; {@code
   * fallback} (from the stop's start to every commit answered, the dropping of keys that moved
   * away included) when none could.
   */
  static long windowMs(Map<NodeAddress, Committed> committed, long fallback) {
    long longest = committed.values().stream().mapToLong(Committed::windowMs).max().orElse(-1);
    return longest >= 0 ? longest : fallback;
  }

  /** Polls every participant until each copied its keys; fails on a failure, a stall, abort. */
  private Future<Void> awaitCopies(Running r, Set<NodeAddress> participants, EpochRequest epoch) {
    return all(participants, PeerProtocol.PROGRESS, epoch).compose(reports -> {
      r.progress = reports;
      long now = node.clock().millis();
      long done = reports.values().stream().mapToLong(Progress::keysDone).sum();
      if (done != r.lastKeysDone) {
        r.lastKeysDone = done;
        r.lastProgressMs = now;
      }
      for (var e : reports.entrySet()) {
        if ("failed".equals(e.getValue().state())) {
          return Future.failedFuture(new KvException(ErrorCode.VIEW_CHANGE_FAILED,
              e.getKey() + " could not copy: " + e.getValue().error()));
        }
      }
      if (r.abortRequested) {
        return Future.failedFuture(new KvException(ErrorCode.VIEW_CHANGE_FAILED,
            "aborted by the operator"));
      }
      if (now - r.lastProgressMs > STALL_MS) {
        r.message = "the copy made no progress for " + STALL_MS + " ms: aborting";
        return Future.failedFuture(new KvException(ErrorCode.VIEW_CHANGE_FAILED, r.message));
      }
      if (reports.values().stream().allMatch(p -> "copied".equals(p.state()))) {
        return Future.succeededFuture();
      }
      Promise<Void> later = Promise.promise();
      node.vertx().setTimer(POLL_MS, id -> awaitCopies(r, participants, epoch).onComplete(later));
      return later.future();
    });
  }

  /** Calls {@code route} on every participant; fails naming the first that did not answer. */
  private <Q, A> Future<Map<NodeAddress, A>> all(Set<NodeAddress> targets, PeerRoute<Q, A> route,
      Q request) {
    Map<NodeAddress, Future<A>> calls = new HashMap<>();
    for (NodeAddress t : targets) {
      calls.put(t, node.peers().call(t, route, request, node.config().viewChangeTimeoutMs()));
    }
    return Future.join(new ArrayList<>(calls.values())).transform(done -> {
      Map<NodeAddress, A> replies = new HashMap<>();
      for (Map.Entry<NodeAddress, Future<A>> e : calls.entrySet()) {
        Future<A> f = e.getValue();
        if (f.failed()) {
          return Future.failedFuture(new KvException(ErrorCode.VIEW_CHANGE_FAILED,
              e.getKey() + " refused " + route.path() + ": " + f.cause().getMessage()));
        }
        replies.put(e.getKey(), f.result());
      }
      return Future.succeededFuture(replies);
    });
  }
}
