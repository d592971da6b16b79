package ringkv.node.log;

import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerRequest;
import java.util.concurrent.ThreadLocalRandom;
import org.slf4j.MDC;

/**
 * The id of a request, for logs: the node that receives a client's request takes the client's
 * {@code X-Request-Id} (when it is a sane token) or makes one, answers with it in the same
 * header, and passes it on when it forwards the request (the {@code request-id} of a forwarded
 * request), so the owner's log lines carry the id of the client's request too.
 *
 * <p>The id lives in the response's {@code X-Request-Id} header from the start of a request to
 * its end: every piece of code holding the request can find it, however many callbacks later.
 * Log lines get it through the MDC key {@link #MDC_KEY}, set around the statement that logs
 * ({@link #withId}): the event loop interleaves requests, so nothing is left in the MDC.
 */
public final class RequestIds {
  public static final String HEADER_NAME = "X-Request-Id";
  public static final String MDC_KEY = "request-id";
  /** Longest id taken from a client or a peer. */
  public static final int CHARS_MAX = 64;
  private static final CharSequence HEADER = HttpHeaders.createOptimized(HEADER_NAME);
  private static final char[] HEX = "0123456789abcdef".toCharArray();

  private RequestIds() {}

  /**
   * Gives {@code request} its id: the client's {@code X-Request-Id} if valid, else a new one;
   * set on the response, and returned.
   */
  public static String assign(HttpServerRequest request) {
    String given = request.getHeader(HEADER);
    String id = isValid(given) ? given : newId();
    request.response().headers().set(HEADER, id);
    return id;
  }

  /** The id of {@code request} ({@link #assign}), or null if it has none. */
  public static String of(HttpServerRequest request) {
    return request.response().headers().get(HEADER);
  }

  /**
   * A forwarded request carries the id its first node gave it: the request is known by that id
   * here too (ignored when invalid or absent, or when the answer has started).
   */
  public static void adopt(HttpServerRequest request, String id) {
    if (isValid(id) && !request.response().headWritten()) {
      request.response().headers().set(HEADER, id);
    }
  }

  /** Runs {@code logging} with {@code id} in the MDC (nothing is set when id is null). */
  public static void withId(String id, Runnable logging) {
    if (id == null) {
      logging.run();
      return;
    }
    MDC.put(MDC_KEY, id);
    try {
      logging.run();
    } finally {
      MDC.remove(MDC_KEY);
    }
  }

  /** {@link #withId} with the id of {@code request}. */
  public static void withId(HttpServerRequest request, Runnable logging) {
    withId(of(request), logging);
  }

  /** 1 to {@link #CHARS_MAX} characters of {@code [A-Za-z0-9._:-]}: safe in headers and logs. */
  public static boolean isValid(String id) {
    if (id == null || id.isEmpty() || id.length() > CHARS_MAX) {
      return false;
    }
    for (int i = 0; i < id.length(); i++) {
      char c = id.charAt(i);
      boolean ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
          || c == '.' || c == '_' || c == ':' || c == '-';
      if (!ok) {
        return false;
      }
    }
    return true;
  }

  /** 16 random hexadecimal digits. */
  static String newId() {
    long bits = ThreadLocalRandom.current().nextLong();
    char[] out = new char[16];
    for (int i = 15; i >= 0; i--) {
      out[i] = HEX[(int) (bits & 0xf)];
      bits >>>= 4;
    }
    return new String(out);
  }
}
