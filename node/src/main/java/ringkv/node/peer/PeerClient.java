package ringkv.node.peer;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClientAgent;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.net.SocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import ringkv.node.auth.PeerAuth;
import ringkv.node.config.SecurityConfig;
import ringkv.node.error.ErrorCode;
import ringkv.node.error.KvException;
import ringkv.node.net.PeerResolver;
import ringkv.node.net.Tls;
import ringkv.node.time.Clock;
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
  private static final Logger LOG = LoggerFactory.getLogger(PeerClient.class);
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

  /** Bytes of an answer read at most (a page of entries is bounded well below it). */
  static final long ANSWER_BYTES_MAX = PeerProtocol.ENTRIES_BODY_BYTES_MAX;
  /** Peers whose clock offsets are remembered (more than any view holds). */
  static final int CLOCK_OFFSETS_MAX = 4_096;

  private final HttpClientAgent client;
  private final long connectTimeoutMs;
  private final PeerResolver resolver;
  private final Interceptor interceptor;
  private final PeerAuth auth;
  private final Clock clock;
  /** How far each peer's clock is from ours, as its stale-signature refusals said. */
  private final Map<NodeAddress, Long> clockOffsetMs = new ConcurrentHashMap<>();

  /**
   * A client whose calls pass {@code interceptor} first (null: none), signed with {@code auth}
   * (its answers checked), over TLS as {@code security} says.
   */
  public PeerClient(Vertx vertx, long connectTimeoutMs, Interceptor interceptor, PeerAuth auth,
      Clock clock, SecurityConfig security) {
    this.interceptor = interceptor;
    this.connectTimeoutMs = connectTimeoutMs;
    this.auth = auth;
    this.clock = clock;
    this.resolver = new PeerResolver(vertx);
    HttpClientOptions options = Tls.client(new HttpClientOptions()
        .setKeepAlive(true)
        .setTcpNoDelay(true)
        .setConnectTimeout((int) connectTimeoutMs), security);
    // Bounded: connections per peer and a bounded queue of requests waiting for one (beyond it
    // a call fails at once, and the client gets a 503 rather than an ever-growing backlog).
    // A connection's failure (a peer killed mid-exchange resets it) fails the call it carried,
    // which the caller reports (event=replication-failing, peer-down, ...); without a handler
    // Vert.x would also log it at ERROR with no fields, once per connection.
    this.client = vertx.httpClientBuilder().with(options).with(new PoolOptions()
        .setHttp1MaxSize(CONNECTIONS_PER_PEER_MAX).setMaxWaitQueueSize(WAIT_QUEUE_MAX))
        .withConnectHandler(connection -> connection.exceptionHandler(err -> LOG.debug(
            "event=peer-connection-error peer={} cause={}", connection.remoteAddress(),
            err.toString())))
        .build();
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
    if (body.length > route.bodyBytesMax()) {
      // The receiver would refuse it (413): the sender's bound and the receiver's must agree.
      return Future.failedFuture(new IllegalStateException(route.path() + " body of "
          + body.length + " bytes exceeds its bound of " + route.bodyBytesMax()));
    }
    if (!PeerResolver.isHostName(to)) {
      return send(to, null, route, body, timeoutMs, false);
    }
    return resolver.resolve(to).compose(server -> send(to, server, route, body, timeoutMs,
        false));
  }

  /**
   * One exchange with {@code to} at {@code server} (its resolved address; null: a literal). With
   * peer authentication the request is signed and the answer must carry a valid signature for
   * it (else the call fails, whatever the answer says); a refusal as stale, from a peer whose
   * clock is off from ours, corrects our offset for it and is retried once ({@code corrected}).
   */
  private <Q, A> Future<A> send(NodeAddress to, SocketAddress server, PeerRoute<Q, A> route,
      byte[] body, long timeoutMs, boolean corrected) {
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
    PeerAuth.Signed signed = auth.enabled() ? auth.signRequest("POST", route.path(), to, body,
        clock.millis() + clockOffsetMs.getOrDefault(to, 0L)) : null;
    if (signed != null) {
      options.putHeader(PeerAuth.HEADER, signed.header());
    }
    return client.request(options)
        .compose(req -> req.send(Buffer.buffer(body)))
        .compose(resp -> boundedBody(resp).compose(bytes -> {
          int status = resp.statusCode();
          if (signed != null && !auth.verifyAnswer(resp.getHeader(PeerAuth.HEADER), to, status,
              signed.nonce(), bytes)) {
            return Future.failedFuture(new PeerAuthException(to + " answered " + route.path()
                + " (" + status + ") without a valid signature"));
          }
          if (status == 200) {
            return Future.succeededFuture(route.answer().decode(bytes));
          }
          Long serverTimeMs = signed != null && status == 401 ? staleServerTime(bytes) : null;
          if (serverTimeMs != null && !corrected) {
            rememberOffset(to, serverTimeMs - clock.millis());
            return send(to, server, route, body, timeoutMs, true);
          }
          if (status == 401) {
            // Not the peer's answer to the request but a refusal to hear it: a failed exchange
            // (a 503 for a forwarded client request), never a 401 passed on to a client.
            return Future.failedFuture(new PeerAuthException(to + " refused to authenticate "
                + route.path() + ": " + new String(bytes, StandardCharsets.UTF_8)));
          }
          return Future.failedFuture(refusal(to, route, status, bytes));
        }));
  }

  private void rememberOffset(NodeAddress to, long offsetMs) {
    if (clockOffsetMs.size() >= CLOCK_OFFSETS_MAX) {
      clockOffsetMs.clear();
    }
    clockOffsetMs.put(to, offsetMs);
  }

  /** The answer's body, at most {@link #ANSWER_BYTES_MAX} (a larger one fails the call). */
  private static Future<byte[]> boundedBody(HttpClientResponse resp) {
    Promise<byte[]> done = Promise.promise();
    Buffer body = Buffer.buffer();
    resp.handler(chunk -> {
      if (body.length() + chunk.length() > ANSWER_BYTES_MAX) {
        if (done.tryFail(new PeerAuthException("an answer over " + ANSWER_BYTES_MAX
            + " bytes"))) {
          resp.request().reset();
        }
        return;
      }
      body.appendBuffer(chunk);
    });
    resp.exceptionHandler(done::tryFail);
    resp.endHandler(v -> done.tryComplete(body.getBytes()));
    return done.future();
  }

  /** The refusing node's clock from a signed stale-signature refusal, else null. */
  static Long staleServerTime(byte[] body) {
    try {
      Fields f = JsonReader.read(body, p -> Fields.read(p, "an error"));
      if (PeerAuth.STALE_CODE.equals(f.textOrNull("code", 64))) {
        return f.number(PeerAuth.SERVER_TIME_FIELD, 0, Long.MAX_VALUE);
      }
    } catch (KvException e) {
      // Not a stale refusal.
    }
    return null;
  }

  /** An answer that is not authenticated, or not one a peer would send: never a peer's word. */
  public static final class PeerAuthException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    PeerAuthException(String message) {
      super(message);
    }
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
