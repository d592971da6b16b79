package ringkv.node.api;
import ringkv.node.json.Json;
import ringkv.node.error.KvException;
import ringkv.node.error.ErrorCode;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import java.util.ArrayList;
import java.util.List;
import com.fasterxml.jackson.databind.JsonNode;
import io.vertx.core.Future;
import java.util.Set;
import java.util.TreeSet;
import ringkv.node.engine.Engine;
import ringkv.node.engine.Forwarder;
import ringkv.node.engine.Membership;
import ringkv.ring.ClusterConfig;
import ringkv.ring.NodeAddress;

/**
 * Node-to-node endpoints: a forwarded key-value request ({@code /internal/kv}), a batch of
 * replicated writes ({@code /internal/replicate}), a pull of entries a waiting reader needs
 * ({@code /internal/pull}) and the cluster configuration ({@code /internal/config}).
 */
public final class InternalRoutes {
  private final Engine engine;
  private final Membership membership;

  public InternalRoutes(Engine engine, Membership membership) {
    this.engine = engine;
    this.membership = membership;
  }

  public void mount(Router router) {
    router.post("/internal/kv").handler(this::kv);
    router.post("/internal/replicate").handler(this::replicate);
    router.post("/internal/pull").handler(this::pull);
    router.post("/internal/settle").handler(this::settle);
    router.get("/internal/config").handler(this::config);
    router.get("/internal/ping").handler(this::ping);
    router.post("/internal/scan").handler(this::scan);
    router.post("/internal/join").handler(this::join);
    router.post("/internal/view/prepare").handler(this::prepare);
    router.post("/internal/view/transfer").handler(this::transfer);
    router.post("/internal/view/commit").handler(this::commit);
    router.post("/internal/view/abort").handler(this::abort);
    new AntiEntropyRoutes(engine.antiEntropy()).mount(router);
  }

  private void kv(RoutingContext ctx) {
    ObjectNode body = Requests.body(ctx);
    int hops = (int) number(body, "hops", 0, Integer.MAX_VALUE, 1L);
    // Senders wait at most CAUSAL_WAIT_MS (<= 60 s): more would park the request for ever.
    number(body, "wait-ms", 0, WAIT_MS_MAX, 0L);
    boolean fromCatchingUp = body.path("from-catching-up").asBoolean(false);
    // Routed with a newer configuration than ours: learn it first, so a node that is no longer
    // the owner never applies the request.
    long epoch = number(body, "epoch", 0, Long.MAX_VALUE, 0L);
    Future<Void> synced = epoch > engine.cluster().epoch() && body.hasNonNull("from")
        ? engine.syncConfig(parseNode(body.get("from").asText())) : Future.succeededFuture();
    reply(ctx, synced.compose(v -> engine.execute(engine.decodeForwarded(body), hops,
        fromCatchingUp)).map(Forwarder::encodeReply));
  }

  private void replicate(RoutingContext ctx) {
    io.vertx.core.buffer.Buffer raw = ctx.body() == null ? null : ctx.body().buffer();
    ReplicationWire.Batch batch = ReplicationWire.decode(raw == null ? null : raw.getBytes());
    engine.heard(batch.from());
    int applied = engine.applyAll(batch.entries(), !batch.transfer());
    ObjectNode reply = Json.object();
    reply.put("applied", applied);
    HttpErrors.send(ctx, 200, reply);
  }

  private void pull(RoutingContext ctx) {
    ObjectNode body = Requests.body(ctx);
    List<String> keys = new ArrayList<>();
    body.path("keys").forEach(k -> keys.add(k.asText()));
    ObjectNode reply = Json.object();
    reply.set("entries", Wire.entries(engine.entriesFor(keys)));
    HttpErrors.send(ctx, 200, reply);
  }

  /** A peer counting keys: answer once it has every write this node acknowledged (bounded). */
  private void settle(RoutingContext ctx) {
    ObjectNode body = Requests.body(ctx);
    long waitMs = number(body, "wait-ms", 0, WAIT_MS_MAX, 0L);
    String to = parseNode(body.path("to").asText()).toString();
    reply(ctx, engine.deliveredTo(to, waitMs).map(v -> Json.object()));
  }

  private void ping(RoutingContext ctx) {
    String from;
    String epoch;
    try {
      from = ctx.request().getParam("from");
      epoch = ctx.request().getParam("epoch");
    } catch (IllegalArgumentException e) { // a bad escape in the query string
      throw new KvException(ErrorCode.BAD_REQUEST, e.getMessage());
    }
    if (from != null && epoch != null && epoch.matches("\\d{1,18}")) {
      engine.onPing(from, Long.parseLong(epoch));
    }
    ObjectNode reply = Json.object();
    reply.put("node", engine.self().toString());
    reply.put("epoch", engine.cluster().epoch());
    reply.put("stable", engine.localStable());
    reply.put("incarnation", engine.incarnation());
    reply.put("ready", engine.isReady());
    HttpErrors.send(ctx, 200, reply);
  }

  private void scan(RoutingContext ctx) {
    ObjectNode body = Requests.body(ctx);
    JsonNode after = body.get("after");
    HttpErrors.send(ctx, 200, membership.scan(body.path("shard").asInt(),
        after == null || after.isNull() ? null : after.asText(), body.path("limit").asInt(512)));
  }

  private void join(RoutingContext ctx) {
    NodeAddress node = parseNode(Requests.body(ctx).path("node").asText());
    ClusterConfig c = engine.cluster();
    if (c.view().contains(node)) {
      HttpErrors.send(ctx, 200, Json.object().put("message", "already in the view"));
      return;
    }
    List<NodeAddress> view = new ArrayList<>(c.view());
    view.add(node);
    reply(ctx, membership.change(c.withView(view), Set.of(node)).map(s -> Json.object()));
  }

  private void prepare(RoutingContext ctx) {
    ObjectNode body = Requests.body(ctx);
    ClusterConfig next = Wire.decodeConfig(body.get("config"));
    Set<NodeAddress> participants = new TreeSet<>();
    body.path("participants").forEach(p -> participants.add(parseNode(p.asText())));
    reply(ctx, membership.prepare(next, participants).map(v -> Json.object()));
  }

  private void transfer(RoutingContext ctx) {
    reply(ctx, membership.transfer(number(Requests.body(ctx), "epoch", 0, Long.MAX_VALUE, null)));
  }

  private void commit(RoutingContext ctx) {
    reply(ctx, membership.commit(number(Requests.body(ctx), "epoch", 0, Long.MAX_VALUE, null))
        .map(v -> Json.object()));
  }

  private void abort(RoutingContext ctx) {
    membership.abort(number(Requests.body(ctx), "epoch", 0, Long.MAX_VALUE, null));
    HttpErrors.send(ctx, 200, Json.object());
  }

  /** Longest causal wait a forwarded request may ask for (the bound of CAUSAL_WAIT_MS). */
  static final long WAIT_MS_MAX = 60_000;

  /**
   * A whole-number field in {@code min..max}; {@code absent} when the field is missing (or 400
   * if {@code absent} is null). A peer's malformed number is refused, not read as 0.
   */
  private static long number(ObjectNode body, String field, long min, long max, Long absent) {
    JsonNode n = body.get(field);
    if (n == null && absent != null) {
      return absent;
    }
    if (n == null || !n.isIntegralNumber() || !n.canConvertToLong() || n.asLong() < min
        || n.asLong() > max) {
      throw new KvException(ErrorCode.BAD_REQUEST,
          "\"" + field + "\" must be a whole number in " + min + ".." + max);
    }
    return n.asLong();
  }

  private static NodeAddress parseNode(String text) {
    try {
      return NodeAddress.parse(text);
    } catch (IllegalArgumentException e) {
      throw new KvException(ErrorCode.BAD_REQUEST, e.getMessage());
    }
  }

  private static void reply(RoutingContext ctx, Future<ObjectNode> result) {
    result.onComplete(ar -> {
      if (ar.failed()) {
        ctx.fail(ar.cause());
      } else {
        HttpErrors.send(ctx, 200, ar.result());
      }
    });
  }

  private void config(RoutingContext ctx) {
    HttpErrors.send(ctx, 200, Wire.config(engine.cluster()));
  }
}
