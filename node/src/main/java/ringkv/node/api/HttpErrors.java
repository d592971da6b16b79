package ringkv.node.api;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vertx.core.buffer.Buffer;
import io.vertx.ext.web.RoutingContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

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
    if (ctx.response().headWritten()) {
      LOG.warn("event=failure-after-response path={} cause={}", ctx.request().path(),
          String.valueOf(ctx.failure()));
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
          LOG.error("event=unexpected-status status={} path={}", status, ctx.request().path());
          yield new KvException(ErrorCode.INTERNAL);
        }
      };
    }
    LOG.error("event=bug method={} path={}", ctx.request().method(), ctx.request().path(),
        failure);
    return new KvException(ErrorCode.INTERNAL, failure.toString());
  }

  /** Renders {@code e} for the request in {@code ctx}. */
  public static void render(RoutingContext ctx, KvException e) {
    render(ctx, e, null);
  }

  /**
   * Renders {@code e} with the fields of {@code extra} (if not null) added to the body: the
   * view-change dialect's {@code "causal-context"}, which its error bodies carry too.
   */
  public static void render(RoutingContext ctx, KvException e, ObjectNode extra) {
    String path = ctx.request().path();
    int status = e.code().status();
    if (e.code() == ErrorCode.CAUSAL_TIMEOUT && path.startsWith("/kvs/")) {
      status = 400; // the view-change dialect reports an unsatisfiable context as 400
    }
    ObjectNode body = Json.object();
    body.put("message", e.code() == ErrorCode.NOT_ENOUGH_NODES
        ? "Not enough nodes to provide fault-tolerance with the given shard count!"
        : "Error in " + ctx.request().method().name());
    body.put("error", e.clientError());
    if (path.startsWith("/internal/")) {
      body.put("code", e.code().name());
      body.put("detail", e.getMessage());
    }
    if (extra != null) {
      body.setAll(extra);
    }
    if (e.code() == ErrorCode.VIEW_CHANGE) {
      ctx.response().putHeader("Retry-After", Integer.toString(RETRY_AFTER_S));
    }
    send(ctx, status, body);
  }

  /**
   * Sends a JSON body; a body that cannot be written (a bug) becomes a 500 rather than no
   * answer at all, since the exception would otherwise end in a callback and the client wait.
   */
  public static void send(RoutingContext ctx, int status, ObjectNode body) {
    byte[] bytes;
    int sent = status;
    try {
      bytes = Json.bytes(body);
    } catch (IllegalStateException e) {
      LOG.error("event=bug method={} path={} cause=unwritable-answer",
          ctx.request().method(), ctx.request().path(), e);
      ObjectNode error = Json.object();
      error.put("message", "Error in " + ctx.request().method().name());
      error.put("error", ErrorCode.INTERNAL.error());
      bytes = Json.bytes(error);
      sent = ErrorCode.INTERNAL.status();
    }
    ctx.response()
        .setStatusCode(sent)
        .putHeader("Content-Type", "application/json")
        .end(Buffer.buffer(bytes));
  }
}
