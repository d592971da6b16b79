package ringkv.node.peer;

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
import ringkv.node.error.ErrorCode;
import ringkv.node.error.KvException;
import ringkv.node.net.PeerResolver;
import ringkv.node.wire.Fields;
import ringkv.node.wire.JsonReader;
import ringkv.ring.NodeAddress;

/**
 * The sending side of the peer protocol: one pooled keep-alive HTTP client, explicit connect and
 * request timeouts on every call, typed requests and answers ({@link PeerRoute}). A 200 answer is
 * decoded with the route's codec; any other status fails the call with the {@link KvException}
 * the peer reported (its code and detail); a transport failure fails it with the transport's
 * exception (a caller may retry elsewhere only when the connection was never made). A peer
 * named by a host name is resolved at every request ({@link PeerResolver}), so a rescheduled
 * pod, same name and a new IP, is reached again.
 */
public final class PeerClient {
  /** Requests that may wait for a pooled connection to one peer. */
  static final int WAIT_QUEUE_MAX = 4_096;
  /** Connections to one peer. */
  static final int CONNECTIONS_PER_PEER_MAX = 64;

  /**
   * What happens to a call before it is sent: nothing in a node; a test in the same JVM uses it
   * to delay or lose messages between the nodes it runs (a network it controls).
   */
  @FunctionalInterface
  public interface Interceptor {
    /** Completes when the call may be sent; a failure fails the call as a lost message. */
    Future<Void> before(NodeAddress to, PeerRoute<?, ?> route);
  }

  private final HttpClientAgent client;
  private final long connectTimeoutMs;
  private final PeerResolver resolver;
  private final Interceptor interceptor;

  public PeerClient(Vertx vertx, long connectTimeoutMs) {
    this(vertx, connectTimeoutMs, null);
  }

  /** A client whose calls pass {@code interceptor} first (null: none). */
  public PeerClient(Vertx vertx, long connectTimeoutMs, Interceptor interceptor) {
    this.interceptor = interceptor;
    this.connectTimeoutMs = connectTimeoutMs;
    this.resolver = new PeerResolver(vertx);
    HttpClientOptions options = new HttpClientOptions()
        .setKeepAlive(true)
        .setTcpNoDelay(true)
        .setConnectTimeout((int) connectTimeoutMs);
    // Bounded: connections per peer and a bounded queue of requests waiting for one (beyond it
    // a call fails at once, and the client gets a 503 rather than an ever-growing backlog).
    this.client = vertx.createHttpClient(options, new PoolOptions()
        .setHttp1MaxSize(CONNECTIONS_PER_PEER_MAX).setMaxWaitQueueSize(WAIT_QUEUE_MAX));
  }

  /** Sends {@code request} to {@code to} over {@code route}; the answer, decoded. */
  public <Q, A> Future<A> call(NodeAddress to, PeerRoute<Q, A> route, Q request,
      long timeoutMs) {
    return send(to, route, route.request().encode(request), timeoutMs);
  }

  /** As {@link #call}, with the request already encoded (when the caller needs its size). */
  public <Q, A> Future<A> send(NodeAddress to, PeerRoute<Q, A> route, byte[] body,
      long timeoutMs) {
    if (interceptor != null) {
      return interceptor.before(to, route).compose(v -> resolveAndSend(to, route, body,
          timeoutMs));
    }
    return resolveAndSend(to, route, body, timeoutMs);
  }

  private <Q, A> Future<A> resolveAndSend(NodeAddress to, PeerRoute<Q, A> route, byte[] body,
      long timeoutMs) {
    if (!PeerResolver.isHostName(to)) {
      return send(to, null, route, body, timeoutMs);
    }
    return resolver.resolve(to).compose(server -> send(to, server, route, body, timeoutMs));
  }

  /** One exchange with {@code to} at {@code server} (its resolved address; null: a literal). */
  private <Q, A> Future<A> send(NodeAddress to, SocketAddress server, PeerRoute<Q, A> route,
      byte[] body, long timeoutMs) {
    RequestOptions options = new RequestOptions()
        .setMethod(HttpMethod.POST)
        .setHost(to.host())
        .setPort(to.port())
        .setURI(route.path())
        .setConnectTimeout(connectTimeoutMs)
        .setIdleTimeout(timeoutMs)
        .putHeader(CONTENT_TYPE, APPLICATION_JSON)
        .putHeader(USER_AGENT, AGENT);
    if (server != null) {
      options.setServer(server); // an IP literal: nothing for the client to remember
    }
    return client.request(options)
        .compose(req -> req.send(Buffer.buffer(body)))
        .compose(resp -> resp.body().map(b -> {
          byte[] bytes = b == null ? new byte[0] : b.getBytes();
          if (resp.statusCode() == 200) {
            return route.answer().decode(bytes);
          }
          throw refusal(to, route, resp.statusCode(), bytes);
        }));
  }

  /** The error a peer answered, as the exception it stands for. */
  static KvException refusal(NodeAddress to, PeerRoute<?, ?> route, int status, byte[] body) {
    String code = null;
    String detail = null;
    try {
      Fields f = JsonReader.read(body, p -> Fields.read(p, "an error"));
      code = f.textOrNull("code", 64);
      detail = f.textOrNull("detail", 4096);
    } catch (KvException e) {
      // Not one of ours: described by its status below.
    }
    ErrorCode known = ErrorCode.INTERNAL;
    if (code != null) {
      try {
        known = ErrorCode.valueOf(code);
      } catch (IllegalArgumentException e) {
        known = ErrorCode.INTERNAL;
      }
    }
    return new KvException(known, detail != null ? detail
        : to + " answered " + status + " to " + route.path());
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
