package ringkv.node.engine;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import ringkv.gossip.Entry;
import ringkv.gossip.NodeStability;
import ringkv.gossip.Replica;
import ringkv.gossip.ReplicationQueue;
import ringkv.gossip.TransferPlan;
import ringkv.gossip.ViewChangeParticipant;
import ringkv.node.config.NodeConfig;
import ringkv.node.error.ErrorCode;
import ringkv.node.error.KvException;
import ringkv.node.peer.Empty;
import ringkv.node.peer.MembershipMessages.EpochRequest;
import ringkv.node.peer.MembershipMessages.PrepareRequest;
import ringkv.node.peer.MembershipMessages.TransferReply;
import ringkv.node.peer.PeerClient;
import ringkv.node.peer.PeerProtocol;
import ringkv.node.peer.PeerRoute;
import ringkv.node.peer.ReplicationMessages.Batch;
import ringkv.node.time.Clock;
import ringkv.ring.ClusterConfig;
import ringkv.ring.NodeAddress;

/**
 * View changes: the coordinator's two-phase commit and the participant's side of it, around the
 * pure {@link ViewChangeParticipant} (its states and deadline) and {@link TransferPlan} (which
 * keys move, from whom, to whom), and the installation of a configuration.
 *
 * <p>The coordinator (the node that got the operator's request) runs, over every live node of
 * the old and new views: <b>prepare</b> (stop serving keys with 500 "View change in progress",
 * drain the replication queue to live shard peers), <b>transfer</b> (each sender streams its
 * moved keys to their receivers in acknowledged, bounded batches), <b>commit</b> (install the
 * new epoch, drop keys no longer owned). Any failure before commit aborts everywhere and the old
 * configuration stays; a participant whose coordinator vanished aborts on its own at its
 * deadline ({@code VIEW_CHANGE_TIMEOUT_MS}); a node that missed the commit learns the new epoch
 * from heartbeats (highest epoch wins) and catches up.
 *
 * <p>Not thread-safe; runs on the node's event loop.
 */
public final class ViewChanges {
  private static final Logger LOG = LoggerFactory.getLogger(ViewChanges.class);
  /** Entries scanned per round of a transfer (each target batch is bounded by bytes). */
  static final int TRANSFER_PAGE_ENTRIES = 4096;
  /** How long prepare waits for the replication queue to drain. */
  static final long DRAIN_WAIT_MS = 3_000;
  /** Keys removed per turn of the event loop while dropping keys this node no longer owns. */
  static final int DROP_PAGE_ENTRIES = 1024;

  /** Figures of the last view change this node took part in, for GET /ring and the README. */
  public record ChangeStats(long epoch, long windowMs, long keysMoved, long bytesStreamed) {}

  private final Vertx vertx;
  private final Clock clock;
  private final NodeConfig config;
  private final ClusterState state;
  private final NodeStability stability;
  private final Replica replica;
  private final KvService kv;
  private final PeerLiveness liveness;
  private final PeerClient peers;
  private final NodeMeta meta;
  private long abortTimer = -1;
  private ChangeStats lastChange;

  public ViewChanges(Vertx vertx, Clock clock, NodeConfig config, ClusterState state,
      NodeStability stability, KvService kv, PeerLiveness liveness, PeerClient peers,
      NodeMeta meta) {
    this.vertx = vertx;
    this.clock = clock;
    this.config = config;
    this.state = state;
    this.stability = stability;
    this.replica = kv.core().replica();
    this.kv = kv;
    this.liveness = liveness;
    this.peers = peers;
    this.meta = meta;
  }

  public ChangeStats lastChange() {
    return lastChange;
  }

  // ---------------------------------------------------------------- coordinator

  /**
   * Installs {@code next} on every live node of the old and new views (plus {@code extra}, e.g.
   * a joining node no detector tracks yet). Fails with {@link ErrorCode#VIEW_CHANGE_FAILED}
   * after aborting everywhere if any participant cannot prepare or transfer.
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
    List<Integer> emptied = new ArrayList<>(state.current().shardsEmptiedBy(next));
    if (emptied.isEmpty() || force) {
      return start(next, extra);
    }
    List<Future<Long>> counts = new ArrayList<>();
    for (int shard : emptied) {
      counts.add(kv.keyCount(shard));
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
    if (state.pending().isPresent()) {
      return Future.failedFuture(new KvException(ErrorCode.VIEW_CHANGE_CONFLICT));
    }
    ClusterConfig current = state.current();
    Set<NodeAddress> participants = new TreeSet<>(extra);
    participants.addAll(liveness.live(current.view()));
    for (NodeAddress n : next.view()) {
      if (liveness.isLive(n) || !current.view().contains(n)) {
        participants.add(n);
      }
    }
    PrepareRequest prepare = new PrepareRequest(next, participants, state.self());
    EpochRequest epoch = new EpochRequest(next.epoch());
    LOG.info("event=view-change-start node={} epoch={} participants={}", state.self(),
        next.epoch(), participants);
    long start = clock.millis();
    return all(participants, PeerProtocol.PREPARE, prepare)
        .compose(v -> all(participants, PeerProtocol.TRANSFER, epoch))
        .compose(sent -> all(participants, PeerProtocol.COMMIT, epoch).transform(ar -> {
          if (ar.failed()) {
            LOG.warn("event=commit-partial node={} epoch={} cause={} (stragglers learn the "
                + "epoch from heartbeats)", state.self(), next.epoch(), ar.cause().toString());
          }
          long keys = sent.values().stream().mapToLong(TransferReply::keys).sum();
          long bytes = sent.values().stream().mapToLong(TransferReply::bytes).sum();
          return Future.succeededFuture(new ChangeStats(next.epoch(), clock.millis() - start,
              keys, bytes));
        }))
        .recover(err -> {
          LOG.warn("event=view-change-aborted node={} epoch={} cause={}", state.self(),
              next.epoch(), err.getMessage());
          all(participants, PeerProtocol.ABORT, epoch);
          return Future.failedFuture(new KvException(ErrorCode.VIEW_CHANGE_FAILED,
              err.getMessage() + "; nothing was changed"));
        })
        .onSuccess(s -> LOG.info("event=view-change-done node={} epoch={} ms={} keys-moved={} "
            + "bytes={}", state.self(), s.epoch(), s.windowMs(), s.keysMoved(),
            s.bytesStreamed()));
  }

  /** Calls {@code route} on every participant; fails naming the first that did not answer. */
  private <Q, A> Future<Map<NodeAddress, A>> all(Set<NodeAddress> targets, PeerRoute<Q, A> route,
      Q request) {
    Map<NodeAddress, Future<A>> calls = new HashMap<>();
    for (NodeAddress t : targets) {
      calls.put(t, peers.call(t, route, request, config.viewChangeTimeoutMs()));
    }
    return Future.join(new ArrayList<>(calls.values())).transform(done -> {
      Map<NodeAddress, A> replies = new HashMap<>();
      for (Map.Entry<NodeAddress, Future<A>> e : calls.entrySet()) {
        Future<A> f = e.getValue();
        if (f.failed()) {
          return Future.failedFuture(new IllegalStateException(e.getKey() + " refused "
              + route.path() + ": " + f.cause().getMessage()));
        }
        replies.put(e.getKey(), f.result());
      }
      return Future.succeededFuture(replies);
    });
  }

  // ---------------------------------------------------------------- participant

  /** Phase 1: stop serving keys and drain the replication queue to live shard peers. */
  public Future<Empty> prepare(PrepareRequest request) {
    long now = clock.millis();
    ViewChangeParticipant.Prepare p = state.participant().prepare(state.current(),
        request.config(), request.participants(), now, now + config.viewChangeTimeoutMs());
    if (!p.prepared()) {
      return Future.failedFuture(new KvException(ErrorCode.VIEW_CHANGE_CONFLICT,
          p.refusal().orElseThrow()));
    }
    cancelAbortTimer();
    abortTimer = vertx.setTimer(config.viewChangeTimeoutMs(), id -> {
      abortTimer = -1;
      state.participant().onTick(clock.millis()).ifPresent(epoch -> LOG.warn(
          "event=view-change-timeout node={} epoch={} action=abort", state.self(), epoch));
    });
    return kv.drainReplication(clock.millis() + DRAIN_WAIT_MS)
        .map(v -> Empty.INSTANCE)
        .recover(err -> Future.failedFuture(new KvException(ErrorCode.VIEW_CHANGE_FAILED,
            state.self() + " could not drain its replication queue")));
  }

  /**
   * Phase 2: stream every key this node sends under the prepared change's plan. Memory stays
   * bounded: one page at a time, the next only after every target acknowledged the previous.
   */
  public Future<TransferReply> transfer(long epoch) {
    if (!state.participant().isPrepared(epoch)) {
      return Future.failedFuture(new KvException(ErrorCode.VIEW_CHANGE_CONFLICT,
          "no prepared change for epoch " + epoch));
    }
    TransferPlan plan = state.participant().plan(state.current()).orElseThrow();
    long[] totals = new long[2];
    return transferFrom(plan, null, totals).map(v -> {
      state.participant().onSent(totals[0], totals[1]);
      return new TransferReply(totals[0], totals[1]);
    });
  }

  private Future<Void> transferFrom(TransferPlan plan, String after, long[] totals) {
    List<Entry> page = replica.store().scan(after, TRANSFER_PAGE_ENTRIES);
    if (page.isEmpty()) {
      return Future.succeededFuture();
    }
    Map<NodeAddress, List<Entry>> batches = new HashMap<>();
    Map<NodeAddress, Long> batchBytes = new HashMap<>();
    List<Future<?>> sends = new ArrayList<>();
    for (Entry e : page) {
      List<NodeAddress> targets = plan.targetsOf(state.self(), e.key());
      if (!targets.isEmpty()) {
        totals[0]++;
      }
      for (NodeAddress t : targets) {
        batches.computeIfAbsent(t, k -> new ArrayList<>()).add(e);
        long bytes = batchBytes.merge(t, e.sizeEstimateBytes(), Long::sum);
        if (bytes >= ReplicationQueue.Limits.BATCH_BYTES_MAX_DEFAULT) {
          sends.add(sendTransfer(t, batches.remove(t), totals));
          batchBytes.remove(t);
        }
      }
    }
    batches.forEach((t, entries) -> sends.add(sendTransfer(t, entries, totals)));
    String last = page.get(page.size() - 1).key();
    return Future.all(sends).compose(v -> transferFrom(plan, last, totals));
  }

  private Future<?> sendTransfer(NodeAddress target, List<Entry> entries, long[] totals) {
    byte[] body = PeerProtocol.REPLICATE.request().encode(
        new Batch(state.self(), true, entries));
    totals[1] += body.length;
    return peers.send(target, PeerProtocol.REPLICATE, body, config.forwardTimeoutMs());
  }

  /** Phase 3: install the prepared configuration (a no-op for any other epoch). */
  public Future<Empty> commit(long epoch) {
    var committed = state.participant().commit(epoch, clock.millis());
    if (committed.isEmpty()) {
      return Future.succeededFuture(Empty.INSTANCE); // aborted, or learned from a heartbeat
    }
    cancelAbortTimer();
    var c = committed.get();
    lastChange = new ChangeStats(epoch, c.windowMs(), c.keysSent(), c.bytesSent());
    LOG.info("event=view-change-committed node={} epoch={} window-ms={}", state.self(), epoch,
        c.windowMs());
    // Answered once the keys this node no longer owns are gone, so key counts read right after
    // the change (the view-change dialect reports them) are exact.
    return adopt(c.next()).map(n -> Empty.INSTANCE);
  }

  /** Abandons the prepared configuration: the old one stays. */
  public Empty abort(long epoch) {
    if (state.participant().abort(epoch)) {
      cancelAbortTimer();
      LOG.info("event=view-change-abort node={} epoch={}", state.self(), epoch);
    }
    return Empty.INSTANCE;
  }

  private void cancelAbortTimer() {
    if (abortTimer >= 0) {
      vertx.cancelTimer(abortTimer);
      abortTimer = -1;
    }
  }

  // ---------------------------------------------------------------- installing

  /**
   * Installs {@code next}: routing switches to it, replication follows the new shard peers,
   * stability forgets nodes that left, and keys this node no longer owns are dropped (their new
   * owners received them before the change committed). Completes with how many were dropped.
   */
  public Future<Integer> adopt(ClusterConfig next) {
    ClusterConfig previous = state.install(next);
    meta.saveConfig(next);
    stability.onLayout(ClusterState.shardMap(next));
    replica.queue().retainPeers(new HashSet<>(state.shardPeers().stream()
        .map(NodeAddress::toString).toList()));
    liveness.track(state.others());
    LOG.info("event=config-installed node={} epoch={} previous={} shard={} shards={}",
        state.self(), next.epoch(), previous.epoch(), next.shardOfNode(state.self()),
        next.layout().asMap());
    Promise<Integer> dropped = Promise.promise();
    dropForeignKeys(null, 0, dropped);
    return dropped.future().onSuccess(n -> {
      if (n > 0) {
        LOG.info("event=foreign-keys-dropped node={} epoch={} keys={}", state.self(),
            next.epoch(), n);
      }
    });
  }

  /**
   * Removes, one page per turn of the event loop (a large store never stalls it), the keys the
   * current configuration no longer gives this node — checked against the configuration at each
   * page, so a newer one adopted meanwhile is respected.
   */
  private void dropForeignKeys(String after, int droppedSoFar, Promise<Integer> done) {
    List<Entry> page = replica.store().scan(after, DROP_PAGE_ENTRIES);
    if (page.isEmpty()) {
      done.complete(droppedSoFar);
      return;
    }
    int dropped = droppedSoFar;
    for (Entry e : page) {
      if (!state.owns(state.current(), e.key())) {
        replica.store().remove(e.key());
        dropped++;
      }
    }
    String last = page.get(page.size() - 1).key();
    int total = dropped;
    vertx.runOnContext(v -> dropForeignKeys(last, total, done));
  }
}
