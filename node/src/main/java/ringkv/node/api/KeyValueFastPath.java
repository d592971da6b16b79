package ringkv.node.api;
import ringkv.node.error.KvException;
import ringkv.node.error.ErrorCode;

import io.vertx.core.Handler;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpVersion;
import ringkv.node.log.RequestIds;
import ringkv.node.metrics.HttpMetrics;
import ringkv.node.metrics.RouteLabel;
import ringkv.node.time.Clock;

/**
 * The server's first stop for every request: the key-value requests of both dialects (GET, PUT
 * and DELETE of {@code /key-value-store/<key>} and {@code /kvs/keys/<key>}) go straight to their
 * dialect with the body read here, everything else to the router. Routing every request through
 * vertx-web costs more than the key-value work itself (route matching, a routing context, the
 * body handler), and these requests are nearly all of a node's traffic.
 *
 * <p>What the router would do for these requests is done here alike: admission (the client
 * in-flight budget, 503, and the read deadline), the client token (401), the client body limit
 * (413, and the connection closes since the rest of the body is not read), the JSON errors.
 * Requests the router treats specially go to it: paths with dot segments or empty segments (it
 * normalises them), HTTP/1.1 without a Host header (it refuses them).
 *
 * <p>Not thread-safe; runs on the node's event loop.
 */
public final class KeyValueFastPath implements Handler<HttpServerRequest> {
  private final ShardDialect shard;
  private final KvsDialect kvs;
  private final Handler<HttpServerRequest> router;
  private final long bodyBytesMax;
  private final Admission admission;
  private final AccessGate gate;
  private final HttpMetrics metrics;
  private final Clock clock;

  public KeyValueFastPath(ShardDialect shard, KvsDialect kvs, Handler<HttpServerRequest> router,
      long bodyBytesMax, Admission admission, AccessGate gate, HttpMetrics metrics,
      Clock clock) {
    this.shard = shard;
    this.kvs = kvs;
    this.router = router;
    this.bodyBytesMax = bodyBytesMax;
    this.admission = admission;
    this.gate = gate;
    this.metrics = metrics;
    this.clock = clock;
  }

  /**
   * Lets a request of the fast path in ({@link Admission}: its budget, its read deadline): its
   * ticket is done, and the request recorded, when the answer is sent or the connection closes.
   * False: answered 503.
   */
  private boolean admit(HttpServerRequest req, RouteLabel route, long startNanos) {
    Admission.Ticket ticket = admission.admit(req);
    if (ticket == null) {
      HttpErrors.render(req, admission.overloaded(req), null)
          .onComplete(sent -> metrics.ended(req, route, startNanos));
      return false;
    }
    boolean[] done = {false};
    Handler<Void> over = v -> {
      if (!done[0]) {
        done[0] = true;
        ticket.done();
        metrics.ended(req, route, startNanos);
      }
    };
    req.response().endHandler(over);
    req.response().closeHandler(over);
    return true;
  }

  @Override
  public void handle(HttpServerRequest req) {
    String path = req.path();
    boolean shardDialect = path.startsWith(ShardDialect.KV_PREFIX);
    if (!(shardDialect || path.startsWith(KvsDialect.KEYS_PREFIX)) || !plain(req, path)) {
      router.handle(req);
      return;
    }
    long start = clock.nanos();
    RequestIds.assign(req);
    if (!admit(req, shardDialect ? RouteLabel.SHARD_KEY : RouteLabel.KVS_KEY, start)
        || !gate.allowsKeyValue(req)) {
      return;
    }
    String length = req.getHeader("Content-Length");
    if (length != null && tooLong(length)) {
      tooLarge(req);
      return;
    }
    Buffer body = Buffer.buffer();
    boolean[] refused = {false};
    req.handler(chunk -> {
      if (refused[0]) {
        return;
      }
      if (body.length() + chunk.length() > bodyBytesMax) {
        refused[0] = true;
        tooLarge(req);
        return;
      }
      body.appendBuffer(chunk);
    });
    req.exceptionHandler(err -> refused[0] = true);
    req.endHandler(v -> {
      if (refused[0]) {
        return;
      }
      try {
        if (shardDialect) {
          shard.keyValue(req, body.length() == 0 ? null : body);
        } else {
          kvs.keyValue(req, body.length() == 0 ? null : body);
        }
      } catch (RuntimeException e) {
        HttpErrors.fail(req, e);
      }
    });
  }

  /**
   * 413 with the connection closed after it. The rest of the body is read and dropped first (a
   * client still writing would get a reset instead of the answer), up to
   * {@link #DRAIN_BYTES_MAX}; past that the answer goes at once.
   */
  private static void tooLarge(HttpServerRequest req) {
    HttpErrors.afterBody(req, DRAIN_BYTES_MAX, () -> {
      req.response().putHeader("Connection", "close");
      return HttpErrors.render(req, new KvException(ErrorCode.PAYLOAD_TOO_LARGE), null)
          .onComplete(sent -> req.connection().close());
    });
  }

  /** Body bytes read and dropped after a 413 before the connection is cut. */
  static final long DRAIN_BYTES_MAX = 64L << 20;

  /** A GET, PUT or DELETE the router would route as written. */
  private static boolean plain(HttpServerRequest req, String path) {
    HttpMethod m = req.method();
    if (m != HttpMethod.GET && m != HttpMethod.PUT && m != HttpMethod.DELETE) {
      return false;
    }
    if (path.contains("/.") || path.contains("//")) {
      return false;
    }
    return req.version() == HttpVersion.HTTP_1_0 || req.authority() != null;
  }

  private boolean tooLong(String length) {
    try {
      return Long.parseLong(length.trim()) > bodyBytesMax;
    } catch (NumberFormatException e) {
      return false; // Netty refuses a malformed Content-Length before this
    }
  }
}
