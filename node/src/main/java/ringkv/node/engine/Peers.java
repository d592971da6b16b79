package ringkv.node.engine;

import com.fasterxml.jackson.databind.JsonNode;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.PoolOptions;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;
import ringkv.node.api.Json;
import ringkv.ring.NodeAddress;

/**
 * Node-to-node HTTP: one pooled keep-alive client, explicit connect and request timeouts on every
 * call. A reply is a {@link PeerReply}; transport failures fail the future.
 */
public final class Peers {
  /** A peer's HTTP answer. */
  public record PeerReply(int status, JsonNode body) {}

  /** Header marking a request forwarded by another node, with its hop count. */
  public static final String HOPS_HEADER = "X-RingKV-Hops";

  /** Requests that may wait for a pooled connection to one peer. */
  static final int WAIT_QUEUE_MAX = 4_096;

  private final WebClient client;
  private final long connectTimeoutMs;

  public Peers(Vertx vertx, long connectTimeoutMs) {
    this.connectTimeoutMs = connectTimeoutMs;
    WebClientOptions options = new WebClientOptions()
        .setKeepAlive(true)
        .setTcpNoDelay(true)
        .setConnectTimeout((int) connectTimeoutMs)
        .setUserAgent("ringkv-node");
    // Bounded: 64 connections per peer, and a bounded queue of requests waiting for one (beyond
    // it a call fails at once, and the client gets a 503 rather than an ever-growing backlog).
    this.client = WebClient.create(vertx, options, new PoolOptions().setHttp1MaxSize(64)
        .setMaxWaitQueueSize(WAIT_QUEUE_MAX));
  }

  public Future<PeerReply> post(NodeAddress to, String path, JsonNode body, long timeoutMs) {
    return send(HttpMethod.POST, to, path, body, timeoutMs);
  }

  /** Posts an already serialised JSON body (when the caller needs its size). */
  public Future<PeerReply> postRaw(NodeAddress to, String path, byte[] body, long timeoutMs) {
    return client.request(HttpMethod.POST, to.port(), to.host(), path)
        .connectTimeout(connectTimeoutMs)
        .timeout(timeoutMs)
        .putHeader("Content-Type", "application/json")
        .sendBuffer(Buffer.buffer(body))
        .map(r -> new PeerReply(r.statusCode(), Json.parseBody(bodyBytes(r))));
  }

  public Future<PeerReply> get(NodeAddress to, String path, long timeoutMs) {
    return send(HttpMethod.GET, to, path, null, timeoutMs);
  }

  private Future<PeerReply> send(
      HttpMethod method, NodeAddress to, String path, JsonNode body, long timeoutMs) {
    var request = client.request(method, to.port(), to.host(), path)
        .connectTimeout(connectTimeoutMs)
        .timeout(timeoutMs)
        .putHeader("Content-Type", "application/json");
    Future<HttpResponse<Buffer>> sent = body == null
        ? request.send() : request.sendBuffer(Buffer.buffer(Json.bytes(body)));
    return sent.map(r -> new PeerReply(r.statusCode(), Json.parseBody(bodyBytes(r))));
  }

  private static byte[] bodyBytes(HttpResponse<Buffer> r) {
    Buffer b = r.body();
    return b == null ? null : b.getBytes();
  }

  public Future<Void> close() {
    client.close();
    return Future.succeededFuture();
  }
}
