package ringkv.node.api;
import ringkv.node.json.Json;
import ringkv.node.log.RequestIds;
import ringkv.node.error.KvException;
import ringkv.node.error.ErrorCode;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import java.util.stream.Collectors;
import ringkv.gossip.KeyValueCore;
import ringkv.node.engine.Heartbeats;
import ringkv.node.engine.KvReply;
import ringkv.node.engine.KvRequest;
import ringkv.ring.ClusterConfig;
import ringkv.ring.NodeAddress;

/**
 * The shard dialect ({@code /key-value-store…}, SPEC §3): parses requests into engine calls and
 * renders engine replies with the exact strings of the contract. No behaviour lives here:
 * {@code api} serves the requests, and {@code heartbeats} hears a known node that announces its
 * return.
 */
public record ShardDialect(ApiServices api, Heartbeats heartbeats) {
  static final String KV_PREFIX = "/key-value-store/";
  /** Routes that change the cluster ({@link AccessGate#ADMIN_ROUTES}). */
  static final String VIEW = "/key-value-store-view";
  static final String ADD_MEMBER = "/key-value-store-shard/add-member/:id";
  static final String RESHARD = "/key-value-store-shard/reshard";

  public void mount(Router router) {
    router.get(VIEW).handler(this::view);
    router.put(VIEW).handler(this::addToView);
    router.delete(VIEW).handler(this::deleteFromView);
    router.put(ADD_MEMBER).handler(this::addMember);
    router.put(RESHARD).handler(this::reshard);
    router.get("/key-value-store-shard/shard-ids").handler(this::shardIds);
    router.get("/key-value-store-shard/node-shard-id").handler(this::nodeShardId);
    router.get("/key-value-store-shard/shard-id-members/:id").handler(this::members);
    router.get("/key-value-store-shard/shard-id-key-count/:id").handler(this::keyCount);
    for (HttpMethod m : new HttpMethod[] {HttpMethod.GET, HttpMethod.PUT, HttpMethod.DELETE}) {
      router.route(m, "/key-value-store/*").handler(this::keyValue);
      router.route(m, "/key-value-store").handler(this::keyValue);
    }
  }

  private void view(RoutingContext ctx) {
    ObjectNode body = Json.object();
    body.put("message", "View retrieved successfully");
    body.put("view", api.liveness().live(api.state().current().view()).stream()
        .map(Object::toString)
        .collect(Collectors.joining(",")));
    HttpErrors.send(ctx, 200, body);
  }

  private void addToView(RoutingContext ctx) {
    NodeAddress node = Proposals.socketAddress(Requests.body(ctx));
    ClusterConfig c = api.state().current();
    if (api.liveness().live(c.view()).contains(node)) {
      throw new KvException(ErrorCode.ADDRESS_EXISTS);
    }
    ObjectNode ok = Json.object().put("message", "Replica added successfully to the view");
    if (c.view().contains(node)) {
      heartbeats.heard(node); // a known node announcing its return
      HttpErrors.send(ctx, 201, ok);
      return;
    }
    run(ctx, Proposals.addNode(node, api.state()), 201, ok);
  }

  private void deleteFromView(RoutingContext ctx) {
    NodeAddress node = Proposals.socketAddress(Requests.body(ctx));
    run(ctx, Proposals.removeNode(node, api.state()), 200,
        Json.object().put("message", "Replica deleted successfully from the view"));
  }

  private void addMember(RoutingContext ctx) {
    int id = knownShard(ctx);
    NodeAddress node = Proposals.socketAddress(Requests.body(ctx));
    ObjectNode ok = Json.object().put("message", "Node added to shard successfully");
    if (api.state().current().shardOfNode(node).orElse(-1) == id) {
      HttpErrors.send(ctx, 200, ok);
      return;
    }
    run(ctx, Proposals.addMember(id, node, api.state()), 200, ok);
  }

  private void reshard(RoutingContext ctx) {
    run(ctx, Proposals.reshard(Requests.body(ctx), api.state(), api.liveness()), 200,
        Json.object().put("message", "Resharding done successfully"));
  }

  /** Runs {@code p}; {@code ?force=true}: the operator accepts that it drops a shard's keys. */
  private void run(RoutingContext ctx, Proposals.Proposal p, int status, ObjectNode ok) {
    HttpErrors.sendWhenDone(ctx, api.views().change(p.next(), p.extra(), forced(ctx)), status,
        stats -> ok);
  }

  private static boolean forced(RoutingContext ctx) {
    return "true".equals(ctx.queryParams().get("force"));
  }

  private void shardIds(RoutingContext ctx) {
    ObjectNode body = Json.object();
    body.put("message", "Shard IDs retrieved successfully");
    ArrayNode ids = body.putArray("shard-ids");
    api.state().current().ring().shardIds().forEach(ids::add);
    HttpErrors.send(ctx, 200, body);
  }

  private void nodeShardId(RoutingContext ctx) {
    var shard = api.state().current().shardOfNode(api.state().self());
    if (shard.isEmpty()) {
      throw new KvException(ErrorCode.NOT_IN_SHARD);
    }
    ObjectNode body = Json.object();
    body.put("message", "Shard ID of the node retrieved successfully");
    body.put("shard-id", shard.getAsInt());
    HttpErrors.send(ctx, 200, body);
  }

  private int knownShard(RoutingContext ctx) {
    int id = Requests.shardId(ctx.pathParam("id"));
    if (!api.state().current().ring().shardIds().contains(id)) {
      throw new KvException(ErrorCode.UNKNOWN_SHARD, "shard " + id + " does not exist");
    }
    return id;
  }

  private void members(RoutingContext ctx) {
    int id = knownShard(ctx);
    ObjectNode body = Json.object();
    body.put("message", "Members of shard ID retrieved successfully");
    ArrayNode members = body.putArray("shard-id-members");
    api.state().current().membersOf(id).forEach(a -> members.add(a.toString()));
    HttpErrors.send(ctx, 200, body);
  }

  private void keyCount(RoutingContext ctx) {
    int id = knownShard(ctx);
    HttpErrors.sendWhenDone(ctx, api.kv().counts().keyCount(id), 200, count -> {
      ObjectNode body = Json.object();
      body.put("message", "Key count of shard ID retrieved successfully");
      body.put("shard-id-key-count", count);
      return body;
    });
  }

  private void keyValue(RoutingContext ctx) {
    Buffer body = ctx.body() == null ? null : ctx.body().buffer();
    keyValue(ctx.request(), body);
  }

  /**
   * A key-value request ({@code /key-value-store/<key>}) with its whole body: from the router,
   * or straight from the server for the common requests ({@link KeyValueFastPath}).
   */
  public void keyValue(HttpServerRequest req, Buffer rawBody) {
    KeyValueCore.Op op = KeyValueCore.Op.valueOf(req.method().name());
    String key = Requests.pathRest(req.path(), KV_PREFIX_NO_SLASH);
    if (key.startsWith("/")) {
      key = key.substring(1);
    }
    KvBody body = Requests.kvBody(req, rawBody, CONTEXT_FIELD, api.kv().clockLimit());
    KvRequest request = new KvRequest(op, key, body.rawValue(), body.context(),
        api.config().causalWaitMs(), RequestIds.of(req), Requests.acks(req),
        Requests.contextEntries(req));
    api.kv().execute(request, 0, false).onComplete(ar -> {
      if (ar.failed()) {
        HttpErrors.fail(req, ar.cause());
      } else {
        render(req, op, ar.result(), body.echo(ar.result().context()));
      }
    });
  }

  private static final String KV_PREFIX_NO_SLASH = "/key-value-store";

  private static final String CONTEXT_FIELD = "causal-metadata";

  /**
   * Renders {@code r}; {@code echo}: the client's own metadata text, when the reply's context
   * is exactly what it sent and it wrote it as a node would ({@link KvBody#echo}).
   */
  private static void render(HttpServerRequest req, KeyValueCore.Op op, KvReply r,
      byte[] echo) {
    HttpErrors.send(req, body -> {
      switch (r.outcome()) {
        case NOT_FOUND -> {
          body.bool("doesExist", false);
          body.text("error", "Key does not exist");
          body.text("message", "Error in " + op.name());
          // The client may have just learned of a delete: without its version (and causes) in
          // the metadata, a later read could return the value the delete removed.
          body.context(CONTEXT_FIELD, r.context(), echo);
          return 404;
        }
        case FOUND -> {
          body.text("message", "Retrieved successfully");
          body.context(CONTEXT_FIELD, r.context(), echo);
          body.raw("value", r.valueJson());
          return 200;
        }
        case CREATED, UPDATED -> {
          boolean created = r.outcome() == KeyValueCore.Outcome.CREATED;
          body.text("message", created ? "Added successfully" : "Updated successfully");
          body.context(CONTEXT_FIELD, r.context(), echo);
          body.number("shard-id", r.shardId());
          return created ? 201 : 200;
        }
        case DELETED -> {
          body.text("message", "Deleted successfully");
          body.context(CONTEXT_FIELD, r.context(), echo);
          body.number("shard-id", r.shardId());
          return 200;
        }
        default -> throw new IllegalStateException("outcome " + r.outcome());
      }
    });
  }
}
