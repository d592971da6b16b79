package ringkv.client;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsParameters;
import com.sun.net.httpserver.HttpsServer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import java.util.stream.Collectors;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import ringkv.ring.Ring;

/**
 * An in-process HTTP server that plays a RingKV node for client unit tests: {@code GET /ring}
 * answers a ring description the test sets; key-value requests go to a handler the test sets
 * and are recorded. Not a node: it implements no semantics of its own.
 *
 * <p>Thread-safe (handlers run on a small pool).
 */
final class FakeNode implements AutoCloseable {
  /** A request the fake node received, with its Authorization header (or null). */
  record Request(String method, String path, String body, String authorization) {}

  /** What to answer. */
  record Reply(int status, String body, Map<String, String> headers) {
    static Reply json(int status, String body) {
      return new Reply(status, body, Map.of());
    }
  }

  static {
    // Without it the JDK server's separate header and body writes meet Nagle and delayed ACKs:
    // 40 ms per request.
    System.setProperty("sun.net.httpserver.nodelay", "true");
  }

  private final HttpServer server;
  private final ExecutorService pool = Executors.newFixedThreadPool(8);
  final ConcurrentLinkedQueue<Request> requests = new ConcurrentLinkedQueue<>();
  final AtomicInteger ringReads = new AtomicInteger();
  /** The Authorization header of each GET /ring ("" when none). */
  final ConcurrentLinkedQueue<String> ringAuthorizations = new ConcurrentLinkedQueue<>();
  /** The GET /ring body; null: answer 401. */
  volatile String ringJson = "{}";
  volatile Function<Request, Reply> handler =
      r -> Reply.json(404, "{\"error\":\"no handler\",\"message\":\"Error\"}");

  FakeNode() {
    this(null, false);
  }

  /**
   * Serves HTTPS with {@code tls} (its own certificate, and the CA it trusts for clients')
   * when not null; with {@code needClientAuth} only clients presenting a certificate.
   */
  FakeNode(SSLContext tls, boolean needClientAuth) {
    try {
      InetSocketAddress at = new InetSocketAddress("127.0.0.1", 0);
      if (tls == null) {
        server = HttpServer.create(at, 64);
      } else {
        HttpsServer https = HttpsServer.create(at, 64);
        https.setHttpsConfigurator(new HttpsConfigurator(tls) {
          @Override
          public void configure(HttpsParameters params) {
            SSLParameters p = tls.getDefaultSSLParameters();
            p.setNeedClientAuth(needClientAuth);
            params.setSSLParameters(p);
          }
        });
        server = https;
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    server.createContext("/", this::handle);
    server.setExecutor(pool);
    server.start();
  }

  String address() {
    return "127.0.0.1:" + server.getAddress().getPort();
  }

  private void handle(HttpExchange exchange) throws IOException {
    try (exchange) {
      String body = new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
      String path = exchange.getRequestURI().getRawPath();
      Reply reply;
      String authorization = exchange.getRequestHeaders().getFirst("Authorization");
      if (path.equals("/ring")) {
        ringReads.incrementAndGet();
        ringAuthorizations.add(authorization == null ? "" : authorization);
        String ring = ringJson;
        reply = ring == null ? Reply.json(401, "{\"error\":\"Unauthorized\"}")
            : Reply.json(200, ring);
      } else {
        Request request = new Request(exchange.getRequestMethod(), path, body, authorization);
        requests.add(request);
        reply = handler.apply(request);
      }
      byte[] bytes = reply.body().getBytes(StandardCharsets.UTF_8);
      exchange.getResponseHeaders().add("Content-Type", "application/json");
      reply.headers().forEach((k, v) -> exchange.getResponseHeaders().add(k, v));
      exchange.sendResponseHeaders(reply.status(), bytes.length);
      exchange.getResponseBody().write(bytes);
    }
  }

  /**
   * A {@code GET /ring} body for {@code ring}, shard dialect, with {@code members.get(s - 1)}
   * the members of shard s, all live.
   */
  /** The /ring body of a one-shard ring whose only member is {@code address}. */
  static String oneShardRingJson(String address) {
    return ringJson(1, Ring.initial(1, 20), List.of(List.of(address)));
  }

  /**
   * A node's success to {@code r} in shard 1: 201 to a PUT, {@code valueJson} to a GET, 200 to
   * anything else.
   */
  static Reply okReply(Request r, String valueJson) {
    return switch (r.method()) {
      case "PUT" -> Reply.json(201, "{\"causal-metadata\":{},\"shard-id\":1}");
      case "GET" -> Reply.json(200, "{\"value\":" + valueJson + ",\"causal-metadata\":{}}");
      default -> Reply.json(200, "{\"causal-metadata\":{},\"shard-id\":1}");
    };
  }

  static String ringJson(long epoch, Ring ring, List<List<String>> members) {
    return ringJson(epoch, ring, members, members);
  }

  /** The same, with {@code live.get(s - 1)} the members of shard s that are live. */
  static String ringJson(long epoch, Ring ring, List<List<String>> members,
      List<List<String>> live) {
    StringBuilder shards = new StringBuilder();
    for (int s = 1; s <= ring.shardCount(); s++) {
      shards.append(s == 1 ? "" : ",").append("{\"shard-id\":").append(s)
          .append(",\"members\":[").append(quoted(members.get(s - 1)))
          .append("],\"live-members\":[").append(quoted(live.get(s - 1)))
          .append("],\"key-count\":0,\"owned-fraction\":").append(ring.share(s)).append('}');
    }
    String tokens = ring.tokens().stream()
        .map(t -> "{\"token\":" + t.token() + ",\"shard-id\":" + t.shardId() + "}")
        .collect(Collectors.joining(","));
    return "{\"epoch\":" + epoch + ",\"hash-function\":\"murmur3_128\",\"vnodes-per-shard\":"
        + ring.vnodesPerShard() + ",\"shards\":[" + shards + "],\"tokens\":[" + tokens + "]}";
  }

  private static String quoted(List<String> names) {
    return names.stream().map(m -> "\"" + m + "\"").collect(Collectors.joining(","));
  }

  @Override
  public void close() {
    server.stop(0);
    pool.shutdownNow();
  }
}
