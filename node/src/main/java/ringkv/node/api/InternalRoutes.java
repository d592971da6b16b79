package ringkv.node.api;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import java.util.ArrayList;
import java.util.List;
import ringkv.node.engine.Engine;

/**
 * Node-to-node endpoints: a forwarded key-value request ({@code /internal/kv}), a batch of
 * replicated writes ({@code /internal/replicate}), a pull of entries a waiting reader needs
 * ({@code /internal/pull}) and the cluster configuration ({@code /internal/config}).
 */
public final class InternalRoutes {
  private final Engine engine;

  public InternalRoutes(Engine engine) {
    this.engine = engine;
  }

  public void mount(Router router) {
    router.post("/internal/kv").handler(this::kv);
    router.post("/internal/replicate").handler(this::replicate);
    router.post("/internal/pull").handler(this::pull);
    router.get("/internal/config").handler(this::config);
    router.get("/internal/ping").handler(this::ping);
  }

  private void kv(RoutingContext ctx) {
    ObjectNode body = Requests.body(ctx);
    int hops = body.path("hops").asInt(1);
    engine.execute(engine.decodeForwarded(body), hops).onComplete(ar -> {
      if (ar.failed()) {
        ctx.fail(ar.cause());
      } else {
        HttpErrors.send(ctx, 200, Engine.encodeReply(ar.result()));
      }
    });
  }

  private void replicate(RoutingContext ctx) {
    ObjectNode body = Requests.body(ctx);
    engine.heard(body.path("from").asText());
    int applied = engine.applyAll(Wire.decodeEntries(body.get("entries")));
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

  private void ping(RoutingContext ctx) {
    ObjectNode reply = Json.object();
    reply.put("node", engine.self().toString());
    reply.put("epoch", engine.cluster().epoch());
    HttpErrors.send(ctx, 200, reply);
  }

  private void config(RoutingContext ctx) {
    HttpErrors.send(ctx, 200, Wire.config(engine.cluster()));
  }
}
