package ringkv.node.api;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.google.common.hash.Hashing;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Map;
import java.util.OptionalInt;
import java.util.OptionalLong;
import ringkv.gossip.ReplicationQueue;
import ringkv.node.config.NodeConfig;
import ringkv.node.json.Json;
import ringkv.node.time.Clock;
import ringkv.ring.NodeAddress;

/**
 * The ring page (SPEC §7, issue 18 item 3) and the one figure it needs that no other endpoint
 * gives:
 *
 * <ul>
 *   <li>{@code GET /ui}: an HTML page that draws the ring and polls the node's read-only JSON
 *       endpoints ({@code /ring}, {@code /ring/replication}, {@code /health/ready},
 *       {@code /ring/key/<key>}). Its assets are {@code GET /ui/<file>}: static files of the jar
 *       ({@code src/main/resources/ui/}), read once at start and served from memory — no file
 *       system, no build step, nothing from the network. Every answer carries a strong ETag and
 *       {@code Cache-Control: no-cache}, so a browser revalidates (a 304) and never runs the page
 *       of an older jar; the HTML carries a Content-Security-Policy that allows this node only.
 *   <li>{@code GET /ring/replication}: this node's replication queue toward each peer of its
 *       shard — entries pending (queued or in flight), the lowest Lamport counter among them,
 *       and its age on this node's clock. Counters are hybrid (never below the wall clock of the
 *       write), so the age is at most the real one. Cheap and bounded: one constant-time look-up
 *       per shard peer; it reads and changes nothing else.
 * </ul>
 *
 * <p>Not thread-safe; runs on the node's event loop.
 */
public final class UiRoutes {
  public static final String PAGE_PATH = "/ui";
  public static final String REPLICATION_PATH = "/ring/replication";
  private static final String RESOURCE_DIR = "/ui/";
  private static final String INDEX = "index.html";
  /** Only this node: scripts, styles, images and fetches; nothing inline, no frames, no forms. */
  private static final String PAGE_POLICY = "default-src 'none'; script-src 'self'; "
      + "style-src 'self'; img-src 'self'; connect-src 'self'; base-uri 'none'; "
      + "form-action 'none'; frame-ancestors 'none'";

  /** A file of the page: its bytes, type and entity tag. */
  private record Asset(Buffer bytes, String contentType, String etag) {}

  /** The files of the page, by name; nothing else under /ui is served. */
  private static final Map<String, String> TYPES = Map.of(
      INDEX, "text/html; charset=utf-8",
      "ui.css", "text/css; charset=utf-8",
      "ui.js", "text/javascript; charset=utf-8",
      "favicon.svg", "image/svg+xml");

  private final Map<String, Asset> assets;
  private final ApiServices api;
  private final Clock clock;

  public UiRoutes(ApiServices api, Clock clock) {
    this.api = api;
    this.clock = clock;
    this.assets = loadAssets();
  }

  public void mount(Router router) {
    router.get(PAGE_PATH).handler(ctx -> serve(ctx, INDEX));
    router.get(PAGE_PATH + "/*").handler(this::asset);
    router.get(REPLICATION_PATH).handler(this::replication);
  }

  /**
   * Reads the page's files from the jar, once, at start: a few kilobytes, so the event loop
   * spends well under a millisecond here. A missing file is a broken build.
   */
  private static Map<String, Asset> loadAssets() {
    Map<String, Asset> loaded = new java.util.HashMap<>();
    TYPES.forEach((name, type) -> {
      try (InputStream in = UiRoutes.class.getResourceAsStream(RESOURCE_DIR + name)) {
        if (in == null) {
          throw new IllegalStateException("resource " + RESOURCE_DIR + name + " missing");
        }
        byte[] bytes = in.readAllBytes();
        String etag = '"' + Hashing.sha256().hashBytes(bytes).toString().substring(0, 20) + '"';
        loaded.put(name, new Asset(Buffer.buffer(bytes), type, etag));
      } catch (IOException e) {
        throw new UncheckedIOException("cannot read " + RESOURCE_DIR + name, e);
      }
    });
    return Map.copyOf(loaded);
  }

  private void asset(RoutingContext ctx) {
    String name = Requests.pathRest(ctx, PAGE_PATH + "/");
    if (name.isEmpty()) {
      name = INDEX; // GET /ui/
    }
    if (!assets.containsKey(name)) {
      ctx.next(); // the router's JSON 404
      return;
    }
    serve(ctx, name);
  }

  private void serve(RoutingContext ctx, String name) {
    Asset a = assets.get(name);
    HttpServerResponse response = ctx.response()
        .putHeader("ETag", a.etag())
        .putHeader("Cache-Control", "no-cache")
        .putHeader("X-Content-Type-Options", "nosniff");
    if (name.equals(INDEX)) {
      response.putHeader("Content-Security-Policy", PAGE_POLICY)
          .putHeader("Referrer-Policy", "no-referrer");
    }
    String match = ctx.request().getHeader("If-None-Match");
    if (match != null && (match.equals(a.etag()) || match.contains(a.etag()))) {
      response.setStatusCode(304).end();
      return;
    }
    response.putHeader("Content-Type", a.contentType()).end(a.bytes());
  }

  private void replication(RoutingContext ctx) {
    ReplicationQueue queue = api.kv().core().replica().queue();
    long nowMs = clock.millis();
    ObjectNode body = Json.object();
    body.put("node", api.state().self().toString());
    body.put("epoch", api.state().current().epoch());
    OptionalInt shard = api.state().current().shardOfNode(api.state().self());
    if (shard.isEmpty()) {
      body.putNull("shard-id");
    } else if (api.config().dialect() == NodeConfig.Dialect.VIEW_CHANGE) {
      body.put("shard-id", Integer.toString(shard.getAsInt()));
    } else {
      body.put("shard-id", shard.getAsInt());
    }
    body.put("now-ms", nowMs);
    body.put("lamport-clock", api.kv().core().replica().clock().current());
    body.put("queue-entries-max", queue.limits().queueEntriesMax());
    body.put("pending-total", queue.pendingTotal());
    ArrayNode peers = body.putArray("peers");
    for (NodeAddress peer : api.state().shardPeers()) {
      ObjectNode p = peers.addObject();
      p.put("peer", peer.toString());
      p.put("live", api.liveness().isLive(peer));
      p.put("pending", queue.pending(peer.toString()));
      OptionalLong oldest = queue.oldestUnackedCounter(peer.toString());
      if (oldest.isPresent()) {
        p.put("oldest-unacked-counter", oldest.getAsLong());
        p.put("oldest-unacked-age-ms", Math.max(0, nowMs - oldest.getAsLong()));
      } else {
        p.putNull("oldest-unacked-counter");
        p.putNull("oldest-unacked-age-ms");
      }
    }
    HttpErrors.send(ctx, 200, body);
  }
}
