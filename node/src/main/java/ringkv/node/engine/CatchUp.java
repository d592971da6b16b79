package ringkv.node.engine;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalInt;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import ringkv.gossip.Entry;
import ringkv.gossip.KeyValueCore;
import ringkv.gossip.NodeStability;
import ringkv.gossip.ReplicationQueue;
import ringkv.node.config.NodeConfig;
import ringkv.node.error.ErrorCode;
import ringkv.node.error.KvException;
import ringkv.node.peer.Empty;
import ringkv.node.peer.MembershipMessages.JoinRequest;
import ringkv.node.peer.MembershipMessages.ScanPage;
import ringkv.node.peer.MembershipMessages.ScanRequest;
import ringkv.node.peer.PeerProtocol;
import ringkv.ring.ClusterConfig;
import ringkv.ring.NodeAddress;

/**
 * How a (re)starting node finds its place and its data: it rebuilds its outbox from
 * {@code DATA_DIR}, asks the nodes of its {@code VIEW} for the cluster's configuration (the
 * highest epoch wins over its environment and over what {@code DATA_DIR} restored), announces
 * itself if the configuration does not list it, and copies its shard's data from a live peer,
 * page by page, before it serves reads — forwarding key-value requests to a caught-up replica
 * meanwhile. It also serves those pages to peers catching up.
 *
 * <p>Not thread-safe; runs on the node's event loop.
 */
public final class CatchUp {
  private static final Logger LOG = LoggerFactory.getLogger(CatchUp.class);
  /** Entries per page when copying a shard's data for a catching-up replica. */
  static final int PAGE_ENTRIES_MAX = 512;
  /** Bytes of entries one page carries (then the caller asks again after the page's last key). */
  static final long PAGE_BYTES_MAX = ReplicationQueue.Limits.BATCH_BYTES_MAX_DEFAULT;
  /** How often a node started without SHARD_COUNT asks its VIEW for a configuration. */
  static final int BOOTSTRAP_ATTEMPTS = 5;
  static final long BOOTSTRAP_RETRY_MS = 400;
  static final long DISCOVER_TIMEOUT_MS = 1_000;

  private final NodeServices node;
  /** The key-value service's core: this node's replica and its stability. */
  private final KeyValueCore core;
  private final KvService kv;
  private final ChangeParticipant participant;
  private final GossipDriver gossip;

  public CatchUp(NodeServices node, KvService kv, ChangeParticipant participant,
      GossipDriver gossip) {
    this.node = node;
    this.core = kv.core();
    this.kv = kv;
    this.participant = participant;
    this.gossip = gossip;
  }

  /**
   * Finds the running cluster's configuration, joins the view if it is not in it, and copies
   * this node's shard from a live peer. {@code restored}: DATA_DIR held a configuration.
   */
  public Future<Void> bootstrap(boolean restored) {
    if (node.config().startsIdle() && !restored) {
      // View-change dialect, not in its VIEW: contacts nobody until a view change names it.
      LOG.info("event=idle node={} reason=not-in-VIEW", node.state().self());
      core.stability().onBootstrapped();
      return Future.succeededFuture();
    }
    node.state().startCatchingUp();
    // A layout from the environment or from DATA_DIR is a starting point; without one, wait a
    // little for the cluster to answer before falling back to one shard of the whole VIEW.
    boolean haveLayout = node.config().layoutGiven() || restored;
    return discover(haveLayout ? 1 : BOOTSTRAP_ATTEMPTS).compose(found -> {
      if (found == null) {
        return Future.<Void>succeededFuture();
      }
      ClusterConfig current = node.state().current();
      var refusal = node.state().epochs().refusal(current.epoch(), found.epoch());
      if (refusal.isEmpty() || (!haveLayout && !found.isNewerThan(current))) {
        // A node back on its DATA_DIR that finds a newer layout missed that change: the
        // writes it holds of keys that moved go to their new owners, as when a heartbeat
        // tells it (DurableHandOffTest).
        return (restored && found.isNewerThan(current) ? participant.adoptLearned(found)
            : participant.adopt(found)).<Void>mapEmpty();
      }
      if (found.isNewerThan(current)) {
        LOG.warn("event=config-refused node={} epoch={} reason=\"{}\"", node.state().self(),
            found.epoch(), refusal.get());
      }
      return Future.<Void>succeededFuture();
    }).compose(v -> {
      if (!node.state().current().view().contains(node.state().self()) && node.config().inView()
          && node.config().dialect() == NodeConfig.Dialect.SHARD) {
        return join();
      }
      return Future.<Void>succeededFuture();
    }).compose(v -> catchUp()).onComplete(ar -> {
      node.state().endCatchingUp();
      core.stability().onBootstrapped(); // also when catch-up failed or there was no shard
      if (restored) {
        participant.sweepLeftovers(); // copies of a change this process no longer knows
      }
      if (ar.failed()) {
        LOG.warn("event=bootstrap-incomplete node={} cause={}", node.state().self(),
            ar.cause().toString());
      }
    }).recover(err -> Future.succeededFuture());
  }

  private Future<ClusterConfig> discover(int attemptsLeft) {
    List<Future<ClusterConfig>> asks = new ArrayList<>();
    for (NodeAddress peer : node.config().view()) {
      if (!peer.equals(node.state().self())) {
        asks.add(node.peers().call(peer, PeerProtocol.CONFIG, Empty.INSTANCE, DISCOVER_TIMEOUT_MS));
      }
    }
    return Future.join(asks).transform(done -> {
      ClusterConfig best = null;
      for (Future<ClusterConfig> f : asks) {
        if (f.succeeded() && (best == null || f.result().isNewerThan(best))) {
          best = f.result();
        }
      }
      if (best != null || attemptsLeft <= 1) {
        return Future.succeededFuture(best);
      }
      Promise<ClusterConfig> later = Promise.promise();
      node.vertx().setTimer(BOOTSTRAP_RETRY_MS, id -> discover(attemptsLeft - 1).onComplete(later));
      return later.future();
    });
  }

  /** Announces this node to the cluster, which adds it to the view (in no shard). */
  private Future<Void> join() {
    return tryJoin(new JoinRequest(node.state().self()), node.state().current().view(), 0);
  }

  private Future<Void> tryJoin(JoinRequest request, List<NodeAddress> targets, int index) {
    if (index >= targets.size()) {
      return Future.failedFuture(new KvException(ErrorCode.UNAVAILABLE,
          "no node accepted the join"));
    }
    return node.peers().call(targets.get(index), PeerProtocol.JOIN, request,
            node.config().viewChangeTimeoutMs()).<Void>mapEmpty()
        .recover(err -> tryJoin(request, targets, index + 1));
  }

  /**
   * Copies this node's shard from a live peer, page by page; kv requests are forwarded
   * meanwhile.
   */
  public Future<Void> catchUp() {
    OptionalInt shard = node.state().current().shardOfNode(node.state().self());
    if (shard.isEmpty()) {
      return Future.succeededFuture();
    }
    List<NodeAddress> sources = node.state().shardPeers();
    node.state().startCatchingUp();
    long start = node.clock().millis();
    return copyFromAny(shard.getAsInt(), sources, 0).onComplete(ar -> {
      node.state().endCatchingUp();
      if (ar.succeeded()) {
        LOG.info("event=caught-up node={} shard={} entries={} ms={}", node.state().self(),
            shard.getAsInt(), ar.result(), node.clock().millis() - start);
        if (core.stability().onCaughtUp(ar.result(), core.replica().clock().current())) {
          // Our lost outbox may have left peers behind.
          LOG.info("event=stable-held node={} reason={}", node.state().self(),
              NodeStability.RESTARTED_WITHOUT_DATA);
        }
      }
    }).mapEmpty();
  }

  private Future<Long> copyFromAny(int shard, List<NodeAddress> sources, int index) {
    if (core.stability().mayEndCatchUpUncopied(index, sources.size())) {
      if (!sources.isEmpty()) { // else a shard of one: nobody to copy from
        LOG.info("event=catch-up-skipped node={} shard={} reason=no-live-peer", node.state().self(),
            shard);
      }
      return Future.succeededFuture(0L);
    }
    if (index >= sources.size()) {
      // Without its data this node must copy its shard before it serves: try again.
      if (!waitingLogged) {
        waitingLogged = true;
        LOG.info("event=catch-up-waiting node={} shard={} reason=no-peer-answers",
            node.state().self(), shard);
      }
      Promise<Long> later = Promise.promise();
      Runnable retry = () -> copyFromAny(shard, node.state().shardPeers(), 0).onComplete(later);
      retryTimer = node.vertx().setTimer(CATCH_UP_RETRY_MS, id -> {
        retryTimer = -1;
        retry.run();
      });
      retryNow = retry;
      return later.future();
    }
    return copyPage(sources.get(index), shard, null, 0)
        .recover(err -> copyFromAny(shard, sources, index + 1));
  }

  /** Pause before a node without data asks its shard's peers again for their data. */
  static final long CATCH_UP_RETRY_MS = 100;
  private boolean waitingLogged;
  /** The pending retry of a catch-up waiting for a peer, and what it runs (or -1, null). */
  private long retryTimer = -1;
  private Runnable retryNow;

  /**
   * A peer was heard again: a catch-up waiting for a peer of this node's shard asks at once
   * rather than at its next retry (a peer may be reachable only briefly, as when a partition
   * heals for a moment at start).
   */
  public void peerUp(NodeAddress peer) {
    if (retryTimer >= 0 && node.state().shardPeers().contains(peer)) {
      node.vertx().cancelTimer(retryTimer);
      retryTimer = -1;
      Runnable retry = retryNow;
      retryNow = null;
      retry.run();
    }
  }

  private Future<Long> copyPage(NodeAddress source, int shard, String after, long copied) {
    ScanRequest request = new ScanRequest(shard, after, PAGE_ENTRIES_MAX);
    return node.ask(source, PeerProtocol.SCAN, request).compose(page -> {
      kv.applyFromPeers(page.entries(), false);
      long total = copied + page.entries().size();
      // The last page: the copy counts as caught up once it is as durable as DURABILITY
      // says (issue 15), or a power loss could undo a catch-up the shard relies on.
      return page.last() == null ? kv.whenDurable().map(total)
          : copyPage(source, shard, page.last(), total);
    });
  }

  /** Serves a page of this node's entries of a shard for a peer's catch-up. */
  public ScanPage scan(ScanRequest request) {
    ClusterConfig c = node.state().current();
    List<Entry> page = core.replica().store().scan(request.after(), request.limit());
    List<Entry> mine = new ArrayList<>();
    String last = null;
    long bytes = 0;
    for (Entry e : page) {
      if (bytes >= PAGE_BYTES_MAX) {
        break; // bounded answer: the caller asks again after `last`
      }
      last = e.key();
      if (c.shardOf(e.key()) == request.shard()) {
        mine.add(e);
        bytes += e.sizeEstimateBytes();
      }
    }
    return new ScanPage(mine, page.size() < request.limit() && bytes < PAGE_BYTES_MAX
        ? null : last);
  }

  /**
   * After a restart on data written without a sync per write: holds this node's stability
   * report until anti-entropy has given back what the crash may have taken
   * ({@link NodeStability#RESTARTED_UNSYNCED}).
   */
  public void holdAfterUnsyncedRestart() {
    if (core.stability().hold(NodeStability.RESTARTED_UNSYNCED,
        core.replica().clock().current())) {
      LOG.info("event=stable-held node={} reason={}", node.state().self(),
          NodeStability.RESTARTED_UNSYNCED);
    }
  }

  /**
   * Queues again, for this node's shard peers, writes it made before a restart that some peer
   * may not have acknowledged ({@code own}: its writes above its stable mark). Writes a full
   * queue cannot take are left to anti-entropy, and the node holds its stable time until that
   * has run (its report must not vouch for writes no queue delivers). Returns how many were
   * queued.
   */
  public int requeue(List<Entry> own, long mark) {
    KeyValueCore.Requeued r = kv.core().requeue(own, mark,
        key -> node.state().owns(node.state().current(), key));
    if (r.overflow() > 0) {
      LOG.info("event=stable-held node={} reason={} writes-not-requeued={}", node.state().self(),
          NodeStability.OUTBOX_OVERFLOW, r.overflow());
    }
    if (r.queued() > 0) {
      gossip.flushSoon();
    }
    return r.queued();
  }
}
