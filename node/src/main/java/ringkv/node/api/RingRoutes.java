package ringkv.node.api;
import ringkv.node.json.Json;
import ringkv.node.error.KvException;
import ringkv.node.error.ErrorCode;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vertx.core.Future;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import java.util.ArrayList;
import java.util.List;
import ringkv.node.config.NodeConfig;
import ringkv.node.engine.ChangeParticipant;
import ringkv.node.engine.KvService;
import ringkv.ring.ClusterConfig;
import ringkv.ring.KeyHash;

/**
 * Ring inspection (SPEC §5), for both dialects: {@code GET /ring} (epoch, hash function, vnodes
 * per shard, shards with members, live members, key counts and owned fractions, and the sorted
 * token table) and {@code GET /ring/key/<key>}. Shard ids are typed as in the node's dialect.
 */
public final class RingRoutes {
  private final ApiServices api;

  public RingRoutes(ApiServices api) {
    this.api = api;
  }

  public void mount(Router router) {
    router.get("/ring").handler(this::ring);
    router.get("/ring/key/*").handler(this::key);
  }

  private void putShardId(ObjectNode o, int id) {
    if (api.config().dialect() == NodeConfig.Dialect.VIEW_CHANGE) {
      o.put("shard-id", Integer.toString(id));
    } else {
      o.put("shard-id", id);
    }
  }

  private void ring(RoutingContext ctx) {
    ClusterConfig c = api.state().current();
    List<Integer> ids = new ArrayList<>(c.ring().shardIds());
    List<Future<Long>> counts = new ArrayList<>();
    for (int id : ids) {
      counts.add(api.kv().counts().keyCount(id));
    }
    Future.join(counts).onComplete(done -> {
      ObjectNode body = Json.object();
      body.put("epoch", c.epoch());
      body.put("hash-function", c.ring().hashFunction());
      body.put("vnodes-per-shard", c.ring().vnodesPerShard());
      // This node's store: keys awaiting repair, and keys no replica could give back.
      body.put("quarantined-keys", api.kv().core().replica().store().quarantinedCount());
      body.put("lost-keys", api.kv().lostKeys().count());
      ArrayNode shards = body.putArray("shards");
      for (int i = 0; i < ids.size(); i++) {
        int id = ids.get(i);
        ObjectNode s = shards.addObject();
        putShardId(s, id);
        ArrayNode members = s.putArray("members");
        c.membersOf(id).forEach(a -> members.add(a.toString()));
        ArrayNode live = s.putArray("live-members");
        api.liveness().live(c.membersOf(id)).forEach(a -> live.add(a.toString()));
        Future<Long> count = counts.get(i);
        if (count.succeeded()) {
          s.put("key-count", count.result());
        } else {
          s.putNull("key-count");
        }
        s.put("owned-fraction", c.ring().share(id));
        // Every replica of the shard holds every write at or below it (as this node knows).
        s.put("stable-time", api.kv().core().stability().stableTime(id, api.kv().core().replica()));
      }
      ChangeParticipant.ChangeStats last = api.views().lastChange();
      if (last != null) {
        ObjectNode l = body.putObject("last-view-change");
        l.put("epoch", last.epoch());
        l.put("window-ms", last.windowMs());
        l.put("keys-sent", last.keysMoved());
        l.put("bytes-sent", last.bytesStreamed());
      }
      ArrayNode tokens = body.putArray("tokens");
      c.ring().tokens().forEach(t -> {
        ObjectNode o = tokens.addObject();
        o.put("token", t.token());
        putShardId(o, t.shardId());
      });
      HttpErrors.send(ctx, 200, body);
    });
  }

  private void key(RoutingContext ctx) {
    String key = Requests.pathRest(ctx, "/ring/key/");
    // The key rules of SPEC §2 hold here too: no placement for a key no request may use.
    if (key.isEmpty()) {
      throw new KvException(ErrorCode.KEY_MISSING);
    }
    if (key.codePointCount(0, key.length()) > KvService.KEY_CODE_POINTS_MAX) {
      throw new KvException(ErrorCode.KEY_TOO_LONG);
    }
    ClusterConfig c = api.state().current();
    int shard = c.shardOf(key);
    ObjectNode body = Json.object();
    body.put("key", key);
    body.put("token", KeyHash.tokenOf(key));
    putShardId(body, shard);
    ArrayNode members = body.putArray("members");
    c.membersOf(shard).forEach(a -> members.add(a.toString()));
    HttpErrors.send(ctx, 200, body);
  }
}
