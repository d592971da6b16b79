package ringkv.node.engine;

import io.vertx.core.Future;
import java.util.Comparator;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import ringkv.node.error.ErrorCode;
import ringkv.node.error.KvException;
import ringkv.node.log.RequestIds;
import ringkv.node.metrics.NodeMetrics;
import ringkv.node.peer.KvMessages.ForwardReply;
import ringkv.node.peer.KvMessages.ForwardRequest;
import ringkv.node.peer.PeerProtocol;
import ringkv.ring.NodeAddress;
import ringkv.ring.Rendezvous;

/**
 * Forwarding of key-value requests to a member of the owning shard ({@link PeerProtocol#KV}):
 * always the same one for a key while it is live ({@link Rendezvous}), so a client going through
 * this node reads its own writes without metadata; live members first. Another member is tried
 * only when the connection could not be made (a timeout may have applied the request).
 *
 * <p>Not thread-safe; confine to the node's event loop.
 */
final class Forwarder {
  private static final Logger LOG = LoggerFactory.getLogger(Forwarder.class);

  /** No member answered (as opposed to an owner's answer that is an error, passed on as is). */
  static final class Unanswered extends KvException {
    private static final long serialVersionUID = 1L;

    Unanswered(String detail) {
      super(ErrorCode.UNAVAILABLE, detail);
    }
  }

  private final NodeServices node;
  private final long forwardTimeoutMs;

  Forwarder(NodeServices node, long forwardTimeoutMs) {
    this.node = node;
    this.forwardTimeoutMs = forwardTimeoutMs;
  }

  Future<ForwardReply> forward(ForwardRequest request, List<NodeAddress> members) {
    List<NodeAddress> order = Rendezvous.order(request.key(), members);
    // Down members stay as a last resort (the detector may lag a restart).
    order.sort(Comparator.comparing(a -> node.liveness().isLive(a) ? 0 : 1));
    long start = node.clock().nanos();
    NodeMetrics.Forward[] failure = {NodeMetrics.Forward.UNAVAILABLE};
    return tryForward(request, order, 0, failure).onComplete(ar -> node.metrics().forwarded(
        ar.succeeded() ? NodeMetrics.Forward.ANSWERED : failure[0], node.clock().nanos() - start));
  }

  /** Tries {@code order[index]} on; an owner's refusal sets {@code failure} to OWNER_ERROR. */
  private Future<ForwardReply> tryForward(ForwardRequest request, List<NodeAddress> order,
      int index, NodeMetrics.Forward[] failure) {
    if (index >= order.size()) {
      return Future.failedFuture(new Unanswered("no live member of the owning shard answered"));
    }
    NodeAddress to = order.get(index);
    if (LOG.isDebugEnabled()) {
      RequestIds.withId(request.requestId(), () -> LOG.debug(
          "event=forward op={} key={} to={} hops={}", request.op(), request.key(), to,
          request.hops()));
    }
    return node.peers().call(to, PeerProtocol.KV, request, forwardTimeoutMs + request.waitMs())
        .recover(err -> {
          if (err instanceof KvException) {
            failure[0] = NodeMetrics.Forward.OWNER_ERROR;
            return Future.failedFuture(err); // the owner's answer: passed on as it is
          }
          if (isConnectFailure(err)) {
            return tryForward(request, order, index + 1, failure);
          }
          return Future.failedFuture(new Unanswered("forward to " + to + " failed: " + err));
        });
  }

  private static boolean isConnectFailure(Throwable err) {
    return err instanceof java.net.ConnectException
        || err instanceof io.netty.channel.ConnectTimeoutException
        || (err.getMessage() != null && err.getMessage().contains("Connection refused"));
  }
}
