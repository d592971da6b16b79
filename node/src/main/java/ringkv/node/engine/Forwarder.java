package ringkv.node.engine;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vertx.core.Future;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.function.Predicate;
import ringkv.node.error.ErrorCode;
import ringkv.node.json.Json;
import ringkv.node.error.KvException;
import ringkv.node.api.Wire;
import ringkv.node.engine.KvReply.Outcome;
import ringkv.ring.NodeAddress;
import ringkv.ring.Rendezvous;

/**
 * Forwarding of key-value requests to a member of the owning shard, and the internal wire form
 * of forwarded requests and their replies ({@code POST /internal/kv}). The value travels as a
 * JSON string holding the client's exact text; errors travel as their {@link ErrorCode} so the
 * forwarding node renders the owner's answer in its own dialect.
 *
 * <p>Not thread-safe; confine to the node's event loop.
 */
public final class Forwarder {
  private final Peers peers;
  private final long forwardTimeoutMs;
  private final NodeAddress self;
  private final Predicate<NodeAddress> isLive;

  Forwarder(Peers peers, long forwardTimeoutMs, NodeAddress self,
      Predicate<NodeAddress> isLive) {
    this.peers = peers;
    this.forwardTimeoutMs = forwardTimeoutMs;
    this.self = self;
    this.isLive = isLive;
  }

  /**
   * Sends {@code request} to a member of its owning shard ({@code members}): live ones first, in
   * {@link Rendezvous} order (the same one for a key while it is live); another member is tried
   * only when the connection failed (a timeout may have applied).
   */
  Future<KvReply> forward(KvRequest request, List<NodeAddress> members, int hops,
      boolean fromCatchingUp, long epoch) {
    // The same member for the same key while it is live (SPEC §2): a client going through this
    // node reads its own writes without metadata. Live members first; down ones stay as a last
    // resort (the detector may lag a restart).
    List<NodeAddress> order = Rendezvous.order(request.key(), members);
    order.sort(Comparator.comparing(a -> isLive.test(a) ? 0 : 1));
    ObjectNode body = Json.object();
    body.put("op", request.op().name());
    body.put("key", request.key());
    if (request.valueJson() != null) {
      body.put("value-json", request.valueJson());
    }
    body.set("context", Wire.context(request.context()));
    body.put("wait-ms", request.waitMs());
    body.put("hops", hops);
    body.put("epoch", epoch);
    body.put("from", self.toString());
    body.put("from-catching-up", fromCatchingUp);
    return tryForward(body, order, 0);
  }

  private Future<KvReply> tryForward(ObjectNode body, List<NodeAddress> order, int index) {
    if (index >= order.size()) {
      return Future.failedFuture(new KvException(ErrorCode.UNAVAILABLE,
          "no live member of the owning shard answered"));
    }
    NodeAddress to = order.get(index);
    long timeout = forwardTimeoutMs + body.path("wait-ms").asLong(0);
    return peers.post(to, "/internal/kv", body, timeout)
        .recover(err -> {
          // Only a failed connection is safe to retry elsewhere: a timeout may have applied.
          if (isConnectFailure(err)) {
            return Future.failedFuture(new RetryElsewhere(err));
          }
          return Future.failedFuture(new KvException(ErrorCode.UNAVAILABLE,
              "forward to " + to + " failed: " + err));
        })
        .compose(reply -> Future.succeededFuture(decodeReply(reply)),
            err -> err instanceof RetryElsewhere
                ? tryForward(body, order, index + 1) : Future.failedFuture(err));
  }

  /** Marks a forward that never reached its target. */
  private static final class RetryElsewhere extends RuntimeException {
    private static final long serialVersionUID = 1L;

    RetryElsewhere(Throwable cause) {
      super(cause.toString(), cause, false, false);
    }
  }

  private static boolean isConnectFailure(Throwable err) {
    return err instanceof java.net.ConnectException
        || err instanceof io.netty.channel.ConnectTimeoutException
        || (err.getMessage() != null && err.getMessage().contains("Connection refused"));
  }

  private KvReply decodeReply(Peers.PeerReply reply) {
    JsonNode b = reply.body();
    if (reply.status() != 200) {
      ErrorCode code;
      try {
        code = ErrorCode.valueOf(b.path("code").asText("INTERNAL"));
      } catch (IllegalArgumentException e) {
        code = ErrorCode.INTERNAL;
      }
      throw new KvException(code, b.path("detail").asText(code.error()));
    }
    JsonNode value = b.get("value-json");
    return new KvReply(Outcome.valueOf(b.path("outcome").asText()),
        value == null || !value.isTextual() ? null : value.textValue(),
        Wire.decodeContext(b.get("context"), Long.MAX_VALUE),
        b.path("shard-id").asInt(), b.path("served-by").asText(), false);
  }

  /** The internal wire form of a reply, decoded by {@link #decodeReply}. */
  public static ObjectNode encodeReply(KvReply reply) {
    ObjectNode o = Json.object();
    o.put("outcome", reply.outcome().name());
    if (reply.valueJson() != null) {
      o.put("value-json", reply.valueJson());
    }
    o.set("context", Wire.context(reply.context()));
    o.put("shard-id", reply.shardId());
    o.put("served-by", reply.servedBy());
    return o;
  }

  /**
   * Decodes a request forwarded by a peer ({@code POST /internal/kv}); counters in its context
   * above {@code clockLimit} are refused as absurd.
   */
  public static KvRequest decodeRequest(JsonNode b, long clockLimit) {
    KvOp op;
    try {
      op = KvOp.valueOf(b.path("op").asText());
    } catch (IllegalArgumentException e) {
      throw new KvException(ErrorCode.BAD_REQUEST, "unknown op " + b.path("op"));
    }
    JsonNode value = b.get("value-json");
    if (value != null && !value.isTextual()) {
      throw new KvException(ErrorCode.BAD_REQUEST, "\"value-json\" must be JSON text");
    }
    return new KvRequest(op, b.path("key").asText(),
        value == null ? null : Json.requireValue(value.textValue()),
        Wire.decodeContext(b.get("context"), clockLimit), b.path("wait-ms").asLong(0));
  }
}
