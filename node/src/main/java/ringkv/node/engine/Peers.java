package ringkv.node.engine;

import com.fasterxml.jackson.databind.JsonNode;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClientAgent;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.net.SocketAddress;
import ringkv.node.json.Json;
import ringkv.node.net.PeerResolver;
import ringkv.ring.NodeAddress;

/**
 * Node-to-node HTTP: one pooled keep-alive client, explicit connect and request timeouts on every
 * call. A reply is a {@link PeerReply}; transport failures fail the future.
 *
 * <p>A peer named by a host name is resolved at every request ({@link PeerResolver}), so a
 * rescheduled pod, same name and a new IP, is reached again.
 */
public final class Peers {
  /** A peer's HTTP answer. */
  public record PeerReply(int status, JsonNode body) {}

  /** Header marking a request forwarded by another node, with its hop count. */
  public static final String HOPS_HEADER = "X-RingKV-Hops";

  /** Requests that may wait for a pooled connection to one peer. */
  static final int WAIT_QUEUE_MAX = 4_096;

  private final HttpClientAgent client;
  private final long connectTimeoutMs;
  private final PeerResolver resolver;

  public Peers(Vertx vertx, long connectTimeoutMs) {
    this.connectTimeoutMs = connectTimeoutMs;
    this.resolver = new PeerResolver(vertx);
    HttpClientOptions options = new HttpClientOptions()
        .setKeepAlive(true)
        .setTcpNoDelay(true)
        .setConnectTimeout((int) connectTimeoutMs);
    // Bounded: 64 connections per peer, and a bounded queue of requests waiting for one (beyond
    // it a call fails at once, and the client gets a 503 rather than an ever-growing backlog).
    // The core client, not the web client: every write, heartbeat and forward goes through it,
    // and the web client's per-request pipeline costs more than the request itself here.
    this.client = vertx.createHttpClient(options, new PoolOptions().setHttp1MaxSize(64)
        .setMaxWaitQueueSize(WAIT_QUEUE_MAX));
  }

  public Future<PeerReply> post(NodeAddress to, String path, JsonNode body, long timeoutMs) {
    return send(HttpMethod.POST, to, path, Buffer.buffer(Json.bytes(body)), timeoutMs);
  }

  /** Posts an already serialised JSON body (when the caller needs its size). */
  public Future<PeerReply> postRaw(NodeAddress to, String path, byte[] body, long timeoutMs) {
    return send(HttpMethod.POST, to, path, Buffer.buffer(body), timeoutMs);
  }

  public Future<PeerReply> get(NodeAddress to, String path, long timeoutMs) {
    return send(HttpMethod.GET, to, path, null, timeoutMs);
  }

  /**
   * One exchange; fails when no byte of the answer came for {@code timeoutMs} (or the
   * connection could not be made within the connect timeout).
   */
  private Future<PeerReply> send(
      HttpMethod method, NodeAddress to, String path, Buffer body, long timeoutMs) {
    if (!PeerResolver.isHostName(to)) {
      return send(method, to, null, path, body, timeoutMs);
    }
    return resolver.resolve(to).compose(server -> send(method, to, server, path, body,
        timeoutMs));
  }

  /** One exchange with {@code to} at {@code server} (its resolved address; null: a literal). */
  private Future<PeerReply> send(HttpMethod method, NodeAddress to, SocketAddress server,
      String path, Buffer body, long timeoutMs) {
    RequestOptions options = new RequestOptions()
        .setMethod(method)
        .setHost(to.host())
        .setPort(to.port())
        .setURI(path)
        .setConnectTimeout(connectTimeoutMs)
        .setIdleTimeout(timeoutMs)
        .putHeader(CONTENT_TYPE, APPLICATION_JSON)
        .putHeader(USER_AGENT, AGENT);
    if (server != null) {
      options.setServer(server); // an IP literal: nothing for the client to remember
    }
    return client.request(options)
        .compose(req -> body == null ? req.send() : req.send(body))
        .compose(resp -> resp.body().map(b -> new PeerReply(resp.statusCode(),
            Json.parseBody(b == null || b.length() == 0 ? null : b.getBytes()))));
  }

  private static final CharSequence CONTENT_TYPE = HttpHeaders.createOptimized("Content-Type");
  private static final CharSequence APPLICATION_JSON =
      HttpHeaders.createOptimized("application/json");
  private static final CharSequence USER_AGENT = HttpHeaders.createOptimized("User-Agent");
  private static final CharSequence AGENT = HttpHeaders.createOptimized("ringkv-node");

  public Future<Void> close() {
    return client.close();
  }
}
