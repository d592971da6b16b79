package ringkv.node.engine;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.OptionalLong;
import java.util.function.BooleanSupplier;
import ringkv.gossip.KeyValueCore;
import ringkv.node.error.ErrorCode;
import ringkv.node.error.KvException;
import ringkv.node.peer.KvMessages.Count;
import ringkv.node.peer.KvMessages.CountRequest;
import ringkv.node.peer.KvMessages.SettleRequest;
import ringkv.node.peer.PeerProtocol;
import ringkv.ring.NodeAddress;

/**
 * Key counts that do not depend on which replica answers: a member first settles with the live
 * peers of its shard (each delivers every write it had made when asked, {@link #settle()},
 * served by {@link #deliveredTo}), then counts; a node that serves no shard, or is still
 * catching up, asks a member. Also the wait for the replication queue to drain before a view
 * change moves data or the node stops, which polls the queue the same way.
 *
 * <p>Not thread-safe; every method runs on the node's event loop.
 */
public final class KeyCounts {
  /** How long a count waits for the shard's peers to deliver what they acknowledged. */
  static final long SETTLE_WAIT_MS = 1_000;
  /** Poll interval while waiting for a replication queue to drain. */
  static final long DRAIN_POLL_MS = 5;

  private final NodeServices node;
  private final KeyValueCore core;
  private final GossipDriver gossip;

  KeyCounts(NodeServices node, KeyValueCore core, GossipDriver gossip) {
    this.node = node;
    this.core = core;
    this.gossip = gossip;
  }

  /**
   * Live keys of shard {@code shardId}, counting every write any live member acknowledged before
   * this call: counted here after {@link #settle()} if this node is a caught-up member, else
   * asked of a member (which settles likewise). So a count taken right after writes does not
   * depend on which replica answers it. When no member that copied the shard answers, what a
   * member still copying it holds is counted (this node's own if it is one).
   */
  public Future<Long> keyCount(int shardId) {
    List<NodeAddress> members = node.state().current().membersOf(shardId);
    if (members.contains(node.state().self()) && !node.state().catchingUp()) {
      return localKeyCount();
    }
    List<NodeAddress> order = new ArrayList<>(members);
    order.remove(node.state().self());
    order.sort(Comparator.comparing(a -> node.liveness().isLive(a) ? 0 : 1));
    // No member that copied the shard answers (a cluster just started, a partition): a count is
    // not causal, so what a member still copying holds will do, this one's first.
    return askKeyCount(new CountRequest(shardId), order, 0).recover(err ->
        node.state().current().membersOf(shardId).contains(node.state().self()) ? localKeyCount()
            : askKeyCount(new CountRequest(shardId, true), order, 0));
  }

  private Future<Long> askKeyCount(CountRequest request, List<NodeAddress> members, int index) {
    if (index >= members.size()) {
      return Future.failedFuture(new KvException(ErrorCode.UNAVAILABLE,
          "no member of shard " + request.shard() + " answered"));
    }
    return node.ask(members.get(index), PeerProtocol.COUNT, request)
        .map(Count::keys)
        .recover(err -> askKeyCount(request, members, index + 1));
  }

  /** A peer asks for the key count of {@code request.shard()} (this node is a member). */
  public Future<Count> onCountRequest(CountRequest request) {
    if (!node.state().current().membersOfAny(request.shard()).contains(node.state().self())
        || (node.state().catchingUp() && !request.uncopied())) {
      return Future.failedFuture(new KvException(ErrorCode.UNAVAILABLE,
          node.state().self() + " does not serve shard " + request.shard()));
    }
    return localKeyCount().map(Count::new);
  }

  /**
   * This node's live keys of the shards it serves, once {@link #settle()} is over (keys copied
   * in for a view change not installed yet do not count).
   */
  public Future<Long> localKeyCount() {
    return settle().map(v -> core.replica().store().liveCount() - node.state().foreignLive());
  }

  /**
   * Completes once every live peer of this node's shard has delivered to this node every write
   * it had made when it got the request ({@link PeerProtocol#SETTLE}), or after
   * {@link #SETTLE_WAIT_MS}: what this node holds then includes every write the shard
   * acknowledged before the call (its own are here already). Never fails.
   */
  public Future<Void> settle() {
    List<Future<?>> asked = new ArrayList<>();
    SettleRequest request = new SettleRequest(node.state().self(), SETTLE_WAIT_MS);
    for (NodeAddress peer : node.liveness().live(node.state().shardPeers())) {
      asked.add(node.peers().call(peer, PeerProtocol.SETTLE, request, SETTLE_WAIT_MS + 500));
    }
    return Future.join(asked).<Void>mapEmpty().recover(err -> Future.succeededFuture());
  }

  /**
   * Completes once {@code peer} has acknowledged every write this node had made at the call (or
   * at {@code waitMs}, or at once when {@code peer} is no replica of this node's shard). Never
   * fails. Serves a peer's {@link #settle()}.
   */
  public Future<Void> deliveredTo(NodeAddress peer, long waitMs) {
    if (!node.state().shardPeers().contains(peer)) {
      return Future.succeededFuture();
    }
    long upTo = core.replica().clock().current();
    long deadlineMs = node.clock().millis() + waitMs;
    gossip.flushSoon();
    return poll(() -> {
      OptionalLong oldest = core.replica().queue().oldestUnackedCounter(peer.toString());
      return oldest.isEmpty() || oldest.getAsLong() > upTo;
    }, deadlineMs).recover(err -> Future.succeededFuture());
  }

  /**
   * Completes when every live peer of this node's shard has acknowledged everything queued for
   * it; fails at {@code deadlineMs}. Used before a view change moves data and on shutdown.
   */
  public Future<Void> drainReplication(long deadlineMs) {
    gossip.flushSoon();
    return poll(() -> {
      for (NodeAddress peer : node.liveness().live(node.state().shardPeers())) {
        if (core.replica().queue().pending(peer.toString()) > 0) {
          return false;
        }
      }
      return true;
    }, deadlineMs).recover(err -> Future.failedFuture(new KvException(ErrorCode.UNAVAILABLE, 
        core.replica().queue().pendingTotal() + " writes still unacknowledged")));
  }

  /** Completes when {@code done} holds, checked every {@link #DRAIN_POLL_MS}; fails after. */
  private Future<Void> poll(BooleanSupplier done, long deadlineMs) {
    if (done.getAsBoolean()) {
      return Future.succeededFuture();
    }
    if (node.clock().millis() > deadlineMs) {
      return Future.failedFuture(new KvException(ErrorCode.UNAVAILABLE, "deadline passed"));
    }
    Promise<Void> later = Promise.promise();
    node.vertx().setTimer(DRAIN_POLL_MS, id -> poll(done, deadlineMs).onComplete(later));
    return later.future();
  }
}
