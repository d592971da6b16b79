package ringkv.node.api;
import ringkv.node.json.Json;
import ringkv.node.log.RequestIds;
import ringkv.node.error.KvException;
import ringkv.node.error.ErrorCode;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalInt;
import ringkv.gossip.CausalContext;
import ringkv.gossip.KeyValueCore;
import ringkv.node.engine.KvService;
import ringkv.node.engine.ViewChanges;
import ringkv.node.wire.ContextJson;
import ringkv.node.engine.KvReply;
import ringkv.node.engine.KvRequest;
import ringkv.ring.ClusterConfig;
import ringkv.ring.NodeAddress;

/**
 * The view-change dialect ({@code /kvs/…}, SPEC §4): parses requests into calls of the same
 * {@link KvService} and {@link ViewChanges} the shard dialect uses and renders their results with
 * the exact strings of this dialect's contract. No behaviour lives here beyond the dialect's own
 * conventions: the {@code "causal-context"} field in every key-value request and response (errors
 * included), {@code "address"} when this node proxied, string shard ids, a causal wait of
 * {@code KVS_CAUSAL_WAIT_MS} (then 400) and an overall bound of {@code KVS_REQUEST_TIMEOUT_MS}
 * per key-value request (then 503).
 *
 * <p>A node started idle (SPEC §1) holds {@link ClusterConfig#unassigned} until a view change
 * names it: it lists no shards, counts no keys and answers key-value requests 503 (it knows no
 * owner to forward to).
 *
 * <p>Not thread-safe; handlers run on the node's event loop.
 */
public final class KvsDialect {
  static final String KEYS_PREFIX = "/kvs/keys/";
  static final String CONTEXT_FIELD = "causal-context";
  /** The route that changes the cluster ({@link AccessGate#ADMIN_ROUTES}). */
  static final String VIEW_CHANGE = "/kvs/view-change";

  private final Vertx vertx;
  private final ApiServices api;

  public KvsDialect(Vertx vertx, ApiServices api) {
    this.vertx = vertx;
    this.api = api;
  }

  public void mount(Router router) {
    for (HttpMethod m : new HttpMethod[] {HttpMethod.GET, HttpMethod.PUT, HttpMethod.DELETE}) {
      router.route(m, KEYS_PREFIX + "*").handler(this::keyValue);
    }
    router.get("/kvs/key-count").handler(this::keyCount);
    router.get("/kvs/shards").handler(this::shards);
    router.get("/kvs/shards/:id").handler(this::shard);
    router.put(VIEW_CHANGE).handler(this::viewChange);
  }

  // ---------------------------------------------------------------- keys

  private void keyValue(RoutingContext ctx) {
    keyValue(ctx.request(), ctx.body() == null ? null : ctx.body().buffer());
  }

  /**
   * A key-value request ({@code /kvs/keys/<key>}) with its whole body: from the router, or
   * straight from the server for the common requests ({@link KeyValueFastPath}).
   */
  public void keyValue(HttpServerRequest req, Buffer rawBody) {
    KeyValueCore.Op op = KeyValueCore.Op.valueOf(req.method().name());
    CausalContext context = CausalContext.EMPTY;
    KvBody body;
    KvRequest request;
    try {
      String key = Requests.pathRest(req.path(), KEYS_PREFIX);
      body = Requests.kvBody(req, rawBody, CONTEXT_FIELD, api.kv().clockLimit());
      context = body.context();
      request = new KvRequest(op, key, body.rawValue(), context, api.config().kvsCausalWaitMs(),
          RequestIds.of(req), Requests.acks(req), Requests.contextEntries(req));
    } catch (KvException e) {
      HttpErrors.render(req, e, contextField(context));
      return;
    }
    CausalContext sent = context;
    KvBody parsed = body;
    bounded(api.kv().execute(request, 0, false)).onComplete(ar -> {
      if (ar.succeeded()) {
        render(req, op, ar.result(), parsed.echo(ar.result().context()));
      } else if (ar.cause() instanceof KvException e) {
        HttpErrors.render(req, e, contextField(sent));
      } else {
        HttpErrors.fail(req, ar.cause());
      }
    });
  }

  /**
   * {@code work}, or a 503 once {@code KVS_REQUEST_TIMEOUT_MS} passed (SPEC §4: anything that
   * cannot finish within 5 s). The engine's own waits are shorter; this bounds the sum of a
   * forward and the owner's causal wait, and a forward to a member that hangs.
   */
  private Future<KvReply> bounded(Future<KvReply> work) {
    Promise<KvReply> answer = Promise.promise();
    long timeoutMs = api.config().kvsRequestTimeoutMs();
    long timer = vertx.setTimer(timeoutMs, id -> answer.tryFail(new KvException(
        ErrorCode.UNAVAILABLE, "no answer within " + timeoutMs + " ms")));
    work.onComplete(ar -> {
      vertx.cancelTimer(timer);
      if (ar.succeeded()) {
        answer.tryComplete(ar.result());
      } else {
        answer.tryFail(ar.cause());
      }
    });
    return answer.future();
  }

  private static ObjectNode contextField(CausalContext context) {
    ObjectNode field = Json.object();
    field.set(CONTEXT_FIELD, Json.parseBody(ContextJson.bytes(context)));
    return field;
  }

  /**
   * What this dialect says of an outcome: the message, the flag field ({@code "doesExist"} or
   * {@code "replaced"}) with its value, and the status.
   */
  private record Said(String message, String flag, boolean value, int status) {}

  private static Said said(KeyValueCore.Op op, KeyValueCore.Outcome outcome) {
    return switch (outcome) {
      case NOT_FOUND -> new Said("Error in " + op.name(), "doesExist", false, 404);
      case FOUND -> new Said("Retrieved successfully", "doesExist", true, 200);
      case CREATED -> new Said("Added successfully", "replaced", false, 201);
      case UPDATED -> new Said("Updated successfully", "replaced", true, 200);
      case DELETED -> new Said("Deleted successfully", "doesExist", true, 200);
      default -> throw new IllegalStateException("outcome " + outcome);
    };
  }

  /** Renders {@code r}; {@code echo} as in the shard dialect's ({@link KvBody#echo}). */
  private static void render(HttpServerRequest req, KeyValueCore.Op op, KvReply r,
      byte[] echo) {
    HttpErrors.send(req, body -> {
      Said said = said(op, r.outcome());
      body.text("message", said.message());
      if (r.outcome() == KeyValueCore.Outcome.NOT_FOUND) {
        body.text("error", "Key does not exist");
      }
      body.bool(said.flag(), said.value());
      if (r.outcome() == KeyValueCore.Outcome.FOUND) {
        body.raw("value", r.valueJson());
      }
      body.context(CONTEXT_FIELD, r.context(), echo);
      if (r.proxied()) {
        body.text("address", r.servedBy());
      }
      return said.status();
    });
  }

  // ---------------------------------------------------------------- shards

  /** Shard ids of the current configuration; none while this node belongs to no cluster. */
  private List<Integer> shardIds() {
    ClusterConfig c = api.state().current();
    return c.view().isEmpty() ? List.of() : new ArrayList<>(c.ring().shardIds());
  }

  private void keyCount(RoutingContext ctx) {
    HttpErrors.sendWhenDone(ctx, api.kv().counts().localKeyCount(), 200, count -> {
      ObjectNode body = Json.object();
      body.put("message", "Key count retrieved successfully");
      body.put("key-count", count);
      OptionalInt shard = api.state().current().shardOfNode(api.state().self());
      if (shard.isPresent()) {
        body.put("shard-id", Integer.toString(shard.getAsInt()));
      }
      return body;
    });
  }

  private void shards(RoutingContext ctx) {
    ObjectNode body = Json.object();
    body.put("message", "Shard membership retrieved successfully");
    ArrayNode ids = body.putArray("shards");
    shardIds().forEach(id -> ids.add(Integer.toString(id)));
    HttpErrors.send(ctx, 200, body);
  }

  private void shard(RoutingContext ctx) {
    int id = Requests.shardId(ctx.pathParam("id"));
    if (!shardIds().contains(id)) {
      throw new KvException(ErrorCode.UNKNOWN_SHARD, "shard " + id + " does not exist");
    }
    ClusterConfig c = api.state().current();
    HttpErrors.sendWhenDone(ctx, api.kv().counts().keyCount(id), 200, count -> {
      ObjectNode body = Json.object();
      body.put("message", "Shard information retrieved successfully");
      body.put("shard-id", Integer.toString(id));
      body.put("key-count", count);
      body.set("replicas", addresses(c.membersOf(id)));
      return body;
    });
  }

  private static ArrayNode addresses(List<NodeAddress> nodes) {
    ArrayNode out = Json.MAPPER.createArrayNode();
    nodes.forEach(n -> out.add(n.toString()));
    return out;
  }

  // ---------------------------------------------------------------- view change

  /**
   * Installs the given view with {@code repl-factor} replicas per shard on every node of the old
   * and new views, coordinated here even if this node is left out; then reports each new shard
   * with the key count its replicas hold after the commit.
   */
  private void viewChange(RoutingContext ctx) {
    Proposals.Proposal p = Proposals.viewChange(Requests.body(ctx), api.state());
    ClusterConfig next = p.next();
    Future<ObjectNode> described =
        api.views().change(next, p.extra()).compose(stats -> describeShards(next));
    HttpErrors.sendWhenDone(ctx, described, 200, ok -> ok);
  }


  /**
   * Every shard of {@code installed} with its replicas and the key count they report now. The
   * change is committed by then, so a shard none of whose replicas answers for its count does
   * not fail the answer: its {@code key-count} is {@code null} and {@code warnings} says why.
   */
  private Future<ObjectNode> describeShards(ClusterConfig installed) {
    List<Integer> ids = new ArrayList<>(installed.ring().shardIds());
    List<Future<Long>> counts = new ArrayList<>();
    for (int id : ids) {
      counts.add(api.kv().counts().keyCount(id));
    }
    return Future.join(counts).otherwiseEmpty().map(done -> {
      ObjectNode ok = Json.object();
      ok.put("message", "View change successful");
      ArrayNode shards = ok.putArray("shards");
      ArrayNode warnings = Json.MAPPER.createArrayNode();
      for (int i = 0; i < ids.size(); i++) {
        ObjectNode s = shards.addObject();
        s.put("shard-id", Integer.toString(ids.get(i)));
        if (counts.get(i).succeeded()) {
          s.put("key-count", counts.get(i).result());
        } else {
          s.putNull("key-count");
          warnings.add("the key count of shard " + ids.get(i) + " is unknown: "
              + counts.get(i).cause().getMessage());
        }
        s.set("replicas", addresses(installed.membersOf(ids.get(i))));
      }
      if (!warnings.isEmpty()) {
        ok.set("warnings", warnings);
      }
      return ok;
    });
  }
}

