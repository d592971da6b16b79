package ringkv.node.api;
import ringkv.node.json.Json;
import ringkv.node.error.KvException;
import ringkv.node.error.ErrorCode;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.ext.web.RoutingContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import java.util.function.Function;
import java.util.function.ToIntFunction;
import ringkv.node.log.RequestIds;
import ringkv.node.wire.JsonWriter;

/**
 * The single place that renders failures as JSON: {@code {"error": ..., "message": "Error in
 * <METHOD>"}} with content-type application/json — for operating errors ({@link KvException}),
 * for the router's own 400/404/405/413, and for bugs (logged at ERROR, answered 500). Requests
 * between nodes ({@code /internal/...}) also get the error code so the forwarding node can render
 * the owner's answer in its own dialect.
 */
public final class HttpErrors {
  private static final Logger LOG = LoggerFactory.getLogger(HttpErrors.class);
  /** Seconds a client should wait before retrying during a view change. */
  public static final int RETRY_AFTER_S = 1;

  private HttpErrors() {}

  /** Router failure handler and error handler for every status. */
  public static void handle(RoutingContext ctx) {
    if (ctx.failure() instanceof io.vertx.core.http.HttpClosedException) {
      // The client went away, or its connection was cut (a read deadline): nobody to answer.
      LOG.debug("event=connection-closed path={}", ctx.request().path());
      return;
    }
    if (ctx.response().headWritten()) {
      RequestIds.withId(ctx.request(), () -> LOG.warn(
          "event=failure-after-response path={} cause={}", ctx.request().path(),
          String.valueOf(ctx.failure())));
      return;
    }
    render(ctx, toKvException(ctx));
  }

  private static KvException toKvException(RoutingContext ctx) {
    Throwable failure = ctx.failure();
    if (failure instanceof KvException k) {
      return k;
    }
    int routerStatus = ctx.statusCode();
    if (failure != null && !(failure instanceof io.vertx.ext.web.handler.HttpException)) {
      if (Requests.isFormBody(ctx)) {
        // Vert.x decodes form bodies itself, and fails on a GET or on a field over 8 KiB.
        return new KvException(ErrorCode.BAD_REQUEST, Requests.NOT_JSON);
      }
      if (routerStatus == 400) {
        // vertx-web's own refusal of a malformed request, e.g. HTTP/1.1 without Host.
        return new KvException(ErrorCode.BAD_REQUEST,
            failure.getMessage() != null ? failure.getMessage() : failure.toString());
      }
    }
    if (failure == null && routerStatus == -1
        && !Requests.hasValidEscapes(ctx.request().path())) {
      // The router cannot normalise a path with a bad escape (%zz, a lone %) and calls its
      // 400 error handler without saying so.
      return new KvException(ErrorCode.BAD_REQUEST, "bad percent-encoding in the path");
    }
    if (failure == null || failure instanceof io.vertx.ext.web.handler.HttpException) {
      int status = failure instanceof io.vertx.ext.web.handler.HttpException h
          ? h.getStatusCode() : routerStatus;
      return switch (status) {
        case 400 -> new KvException(ErrorCode.BAD_REQUEST);
        case 404 -> new KvException(ErrorCode.ROUTE_NOT_FOUND);
        case 405 -> new KvException(ErrorCode.METHOD_NOT_ALLOWED);
        case 413 -> new KvException(ErrorCode.PAYLOAD_TOO_LARGE);
        default -> {
          RequestIds.withId(ctx.request(), () -> LOG.error(
              "event=unexpected-status status={} path={}", status, ctx.request().path()));
          yield new KvException(ErrorCode.INTERNAL);
        }
      };
    }
    RequestIds.withId(ctx.request(), () -> LOG.error("event=bug method={} path={}",
        ctx.request().method(), ctx.request().path(), failure));
    return new KvException(ErrorCode.INTERNAL, failure.toString());
  }

  /** Renders {@code e} for the request in {@code ctx}. */
  public static void render(RoutingContext ctx, KvException e) {
    render(ctx.request(), e, null);
  }

  /** {@link #render(HttpServerRequest, KvException, ObjectNode)} for a routed request. */
  public static void render(RoutingContext ctx, KvException e, ObjectNode extra) {
    render(ctx.request(), e, extra);
  }

  /**
   * Answers a request that failed outside the router (the key-value fast path): a
   * {@link KvException} is rendered, anything else is a bug (logged, 500).
   */
  public static void fail(HttpServerRequest request, Throwable failure) {
    if (request.response().headWritten()) {
      RequestIds.withId(request, () -> LOG.warn("event=failure-after-response path={} cause={}",
          request.path(), String.valueOf(failure)));
      return;
    }
    render(request, asKvException(request, failure), null);
  }

  /**
   * Renders {@code e} with the fields of {@code extra} (if not null) added to the body: the
   * view-change dialect's {@code "causal-context"}, which its error bodies carry too.
   */
  public static Future<Void> render(HttpServerRequest request, KvException e,
      ObjectNode extra) {
    ObjectNode body = errorBody(request, e);
    if (extra != null) {
      body.setAll(extra);
    }
    if (e.code() == ErrorCode.VIEW_CHANGE) {
      request.response().putHeader("Retry-After", Integer.toString(RETRY_AFTER_S));
    }
    if (e.code() == ErrorCode.UNAUTHENTICATED && !request.path().startsWith("/internal/")) {
      request.response().putHeader("WWW-Authenticate", "Bearer realm=\"ringkv\"");
    }
    return send(request, status(request, e), body);
  }

  /** The status {@code e} is answered with on {@code request}'s path. */
  public static int status(HttpServerRequest request, KvException e) {
    if (e.code() == ErrorCode.CAUSAL_TIMEOUT && request.path().startsWith("/kvs/")) {
      return 400; // the view-change dialect reports an unsatisfiable context as 400
    }
    return e.code().status();
  }

  /** {@code failure} as the operating error it is, or, for a bug, logged and INTERNAL. */
  public static KvException asKvException(HttpServerRequest request, Throwable failure) {
    if (failure instanceof KvException k) {
      return k;
    }
    RequestIds.withId(request, () -> LOG.error("event=bug method={} path={}", request.method(),
        request.path(), failure));
    return new KvException(ErrorCode.INTERNAL, failure.toString());
  }

  /** The JSON body of {@code e} (with the code and detail on internal routes). */
  public static ObjectNode errorBody(HttpServerRequest request, KvException e) {
    String path = request.path();
    ObjectNode body = Json.object();
    body.put("message", e.code() == ErrorCode.NOT_ENOUGH_NODES
        ? "Not enough nodes to provide fault-tolerance with the given shard count!"
        : "Error in " + request.method().name());
    body.put("error", e.clientError());
    if (path.startsWith("/internal/")) {
      body.put("code", e.code().name());
      body.put("detail", e.getMessage());
    }
    return body;
  }

  /**
   * Runs {@code answer} once the rest of the request's body is read and dropped, so the client
   * (still writing) reads the answer instead of a reset; past {@code drainBytesMax} bytes the
   * answer goes at once with {@code Connection: close}, and the connection closes after it.
   */
  public static void afterBody(HttpServerRequest req, long drainBytesMax,
      java.util.function.Supplier<Future<Void>> answer) {
    boolean[] answered = {false};
    long[] drained = {0};
    java.util.function.Consumer<Boolean> once = cut -> {
      if (answered[0]) {
        return;
      }
      answered[0] = true;
      if (cut) {
        req.response().putHeader("Connection", "close");
      }
      Future<Void> sent = answer.get();
      if (cut) {
        sent.onComplete(done -> req.connection().close());
      }
    };
    if (req.isEnded()) {
      once.accept(false);
      return;
    }
    req.handler(chunk -> {
      drained[0] += chunk.length();
      if (drained[0] > drainBytesMax) {
        once.accept(true);
      }
    });
    req.endHandler(v -> once.accept(false));
    req.resume();
  }

  /**
   * Once {@code work} completes: the {@code status} answer with the body {@code render} makes of
   * its result, or its failure to the router's failure handler. The route's one terminal step.
   */
  public static <T> void sendWhenDone(RoutingContext ctx, Future<T> work, int status,
      Function<T, ObjectNode> render) {
    work.onComplete(ar -> {
      if (ar.failed()) {
        ctx.fail(ar.cause());
      } else {
        send(ctx, status, render.apply(ar.result()));
      }
    });
  }

  /** {@link #send(HttpServerRequest, int, ObjectNode)} for a routed request. */
  public static void send(RoutingContext ctx, int status, ObjectNode body) {
    send(ctx.request(), status, body);
  }

  /**
   * Sends a JSON body; a body that cannot be written (a bug) becomes a 500 rather than no
   * answer at all, since the exception would otherwise end in a callback and the client wait.
   */
  public static Future<Void> send(HttpServerRequest request, int status, ObjectNode body) {
    byte[] bytes;
    try {
      bytes = Json.bytes(body);
    } catch (IllegalStateException e) {
      return unwritable(request, e);
    }
    return send(request, status, bytes);
  }

  /**
   * Sends the body {@code write} renders into a {@link JsonWriter} with the status it returns; a
   * body that cannot be rendered (a bug) becomes a 500, as with
   * {@link #send(HttpServerRequest, int, ObjectNode)}.
   */
  public static Future<Void> send(HttpServerRequest request, ToIntFunction<JsonWriter> write) {
    JsonWriter body = new JsonWriter();
    int status;
    byte[] bytes;
    try {
      status = write.applyAsInt(body);
      bytes = body.finish();
    } catch (RuntimeException e) {
      return unwritable(request, e);
    }
    return send(request, status, bytes);
  }

  /** Sends JSON text already rendered. */
  public static Future<Void> send(HttpServerRequest request, int status, byte[] json) {
    return request.response()
        .setStatusCode(status)
        .putHeader(CONTENT_TYPE, APPLICATION_JSON)
        .end(Buffer.buffer(json));
  }

  /** Answers 500 for an answer that could not be rendered (a bug). */
  static Future<Void> unwritable(HttpServerRequest request, RuntimeException e) {
    RequestIds.withId(request, () -> LOG.error("event=bug method={} path={} "
        + "cause=unwritable-answer", request.method(), request.path(), e));
    ObjectNode error = Json.object();
    error.put("message", "Error in " + request.method().name());
    error.put("error", ErrorCode.INTERNAL.error());
    return send(request, ErrorCode.INTERNAL.status(), Json.bytes(error));
  }

  private static final CharSequence CONTENT_TYPE = HttpHeaders.createOptimized("Content-Type");
  private static final CharSequence APPLICATION_JSON =
      HttpHeaders.createOptimized("application/json");
}
