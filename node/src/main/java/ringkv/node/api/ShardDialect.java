package ringkv.node.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.util.RawValue;
import io.vertx.core.Future;
import io.vertx.core.http.HttpMethod;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import java.util.stream.Collectors;
import ringkv.node.NodeConfig;
import ringkv.node.engine.Engine;
import ringkv.node.engine.KvOp;
import ringkv.node.engine.KvReply;
import ringkv.node.engine.KvRequest;

/**
 * The shard dialect ({@code /key-value-store…}, SPEC §3): parses requests into engine calls and
 * renders engine replies with the exact strings of the contract. No behaviour lives here.
 */
public final class ShardDialect {
  static final String KV_PREFIX = "/key-value-store/";

  private final Engine engine;
  private final NodeConfig config;

  public ShardDialect(Engine engine, NodeConfig config) {
    this.engine = engine;
    this.config = config;
  }

  public void mount(Router router) {
    router.get("/key-value-store-view").handler(this::view);
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
    body.put("view", engine.liveView().stream().map(Object::toString)
        .collect(Collectors.joining(",")));
    HttpErrors.send(ctx, 200, body);
  }

  private void shardIds(RoutingContext ctx) {
    ObjectNode body = Json.object();
    body.put("message", "Shard IDs retrieved successfully");
    ArrayNode ids = body.putArray("shard-ids");
    engine.cluster().ring().shardIds().forEach(ids::add);
    HttpErrors.send(ctx, 200, body);
  }

  private void nodeShardId(RoutingContext ctx) {
    var shard = engine.cluster().shardOfNode(engine.self());
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
    if (!engine.cluster().ring().shardIds().contains(id)) {
      throw new KvException(ErrorCode.UNKNOWN_SHARD, "shard " + id + " does not exist");
    }
    return id;
  }

  private void members(RoutingContext ctx) {
    int id = knownShard(ctx);
    ObjectNode body = Json.object();
    body.put("message", "Members of shard ID retrieved successfully");
    ArrayNode members = body.putArray("shard-id-members");
    engine.cluster().membersOf(id).forEach(a -> members.add(a.toString()));
    HttpErrors.send(ctx, 200, body);
  }

  private void keyCount(RoutingContext ctx) {
    int id = knownShard(ctx);
    engine.keyCount(id).onComplete(ar -> {
      if (ar.failed()) {
        ctx.fail(ar.cause());
        return;
      }
      ObjectNode body = Json.object();
      body.put("message", "Key count of shard ID retrieved successfully");
      body.put("shard-id-key-count", ar.result());
      HttpErrors.send(ctx, 200, body);
    });
  }

  private void keyValue(RoutingContext ctx) {
    KvOp op = KvOp.valueOf(ctx.request().method().name());
    String key = Requests.pathRest(ctx, "/key-value-store").replaceFirst("^/", "");
    ObjectNode body = Requests.body(ctx);
    JsonNode value = body.get("value");
    KvRequest request = new KvRequest(op, key, value == null ? null : Json.text(value),
        Wire.decodeContext(body.get("causal-metadata"), engine.clockLimit()),
        config.causalWaitMs());
    Future<KvReply> reply = engine.execute(request, 0);
    reply.onComplete(ar -> {
      if (ar.failed()) {
        ctx.fail(ar.cause());
      } else {
        render(ctx, op, ar.result());
      }
    });
  }

  private static void render(RoutingContext ctx, KvOp op, KvReply r) {
    ObjectNode body = Json.object();
    int status = 200;
    switch (r.outcome()) {
      case NOT_FOUND -> {
        body.put("doesExist", false);
        body.put("error", "Key does not exist");
        body.put("message", "Error in " + op.name());
        status = 404;
      }
      case FOUND -> {
        body.put("message", "Retrieved successfully");
        body.set("causal-metadata", Wire.context(r.context()));
        body.putRawValue("value", new RawValue(r.valueJson()));
      }
      case CREATED, UPDATED -> {
        boolean created = r.outcome() == KvReply.Outcome.CREATED;
        body.put("message", created ? "Added successfully" : "Updated successfully");
        body.set("causal-metadata", Wire.context(r.context()));
        body.put("shard-id", r.shardId());
        status = created ? 201 : 200;
      }
      case DELETED -> {
        body.put("message", "Deleted successfully");
        body.set("causal-metadata", Wire.context(r.context()));
        body.put("shard-id", r.shardId());
      }
      default -> throw new IllegalStateException("outcome " + r.outcome());
    }
    HttpErrors.send(ctx, status, body);
  }
}
