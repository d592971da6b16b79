package ringkv.node.inprocess;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import ringkv.node.NodeVerticle;
import ringkv.node.config.NodeConfig;
import ringkv.node.peer.PeerClient;
import ringkv.node.peer.PeerRoute;
import ringkv.node.time.Clock;
import ringkv.ring.NodeAddress;

/**
 * Several real nodes ({@link NodeVerticle}s, each on its own Vert.x instance) in the test's JVM,
 * on free loopback ports, with a network the test controls: a rule may delay or lose the calls
 * one node makes to another, by route. Starts in about a second, so forwarding, counting, view
 * changes and catch-up can be tested without processes. Close it to stop every node.
 */
public final class InProcessCluster implements AutoCloseable {
  /** What happens to a call from {@code from} to {@code to} over {@code route}. */
  @FunctionalInterface
  public interface Rule {
    /** Delay in ms before the call is sent (0: at once), or a negative number to lose it. */
    long delayMs(NodeAddress from, NodeAddress to, PeerRoute<?, ?> route);
  }

  private static final com.fasterxml.jackson.databind.ObjectMapper JSON =
      new com.fasterxml.jackson.databind.ObjectMapper();
  private static final HttpClient HTTP = HttpClient.newBuilder()
      .version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(2)).build();

  /** What node {@code i} gets beyond the common environment: variables, its clock. */
  public record NodeSetup(Map<String, String> env, Clock clock) {
    public static final NodeSetup PLAIN = new NodeSetup(Map.of(), Clock.SYSTEM);

    /** Node {@code i} of a cluster whose nodes each keep a DATA_DIR under {@code dir}. */
    public static java.util.function.IntFunction<NodeSetup> durableUnder(java.nio.file.Path dir) {
      return i -> new NodeSetup(Map.of("DATA_DIR", dir.resolve("node-" + i).toString()),
          Clock.SYSTEM);
    }
  }

  private final List<NodeAddress> addresses = new ArrayList<>();
  private final Map<NodeAddress, Vertx> running = new ConcurrentHashMap<>();
  /** The durable store of each running node started with DATA_DIR (closed when it stops). */
  private final Map<NodeAddress, ringkv.node.storage.RocksDbStore> stores =
      new ConcurrentHashMap<>();
  /** Pause between two scrub passes of a node's store (Main's is a minute; tests are short). */
  public static final long SCRUB_PASS_PAUSE_MS = 200;
  private final Map<String, String> env;
  private final java.util.function.IntFunction<NodeSetup> setup;
  private final List<NodeAddress> alsoInView;
  /** Every address a node has sent a peer request to (the test's network sees them all). */
  private final java.util.Set<NodeAddress> contacted = ConcurrentHashMap.newKeySet();
  private volatile Rule rule = (from, to, route) -> 0;
  private volatile HttpClient http = HTTP;
  private volatile String scheme = "http";

  /**
   * Starts {@code nodes} nodes with {@code env} (plus SOCKET_ADDRESS and VIEW; ADDRESS instead
   * when {@code env} sets REPL_FACTOR: the view-change dialect) and waits.
   */
  public InProcessCluster(int nodes, Map<String, String> env) {
    this(nodes, env, i -> NodeSetup.PLAIN);
  }

  /** As above, node {@code i} with {@code setup.apply(i)} on top of {@code env}. */
  public InProcessCluster(int nodes, Map<String, String> env,
      java.util.function.IntFunction<NodeSetup> setup) {
    this(nodes, env, setup, List.of());
  }

  /**
   * As above, with {@code alsoInView} in every node's VIEW: addresses this cluster does not
   * start (a server the test plays itself, at an address the nodes take for a member's).
   */
  public InProcessCluster(int nodes, Map<String, String> env,
      java.util.function.IntFunction<NodeSetup> setup, List<NodeAddress> alsoInView) {
    this.env = Map.copyOf(env);
    this.setup = setup;
    this.alsoInView = List.copyOf(alsoInView);
    while (addresses.size() < nodes) {
      // The kernel may hand the same ephemeral port out twice in a row once it was closed.
      NodeAddress a = new NodeAddress("127.0.0.1", freePort());
      if (!addresses.contains(a) && !this.alsoInView.contains(a)) {
        addresses.add(a);
      }
    }
    try {
      // At once: a node without data waits for a peer of its shard before it is ready.
      List<Future<?>> started = new ArrayList<>();
      for (NodeAddress a : addresses) {
        started.add(deploy(a));
      }
      await(Future.all(started));
    } catch (RuntimeException e) {
      close();
      throw e;
    }
  }

  public NodeAddress node(int i) {
    return addresses.get(i);
  }

  public int size() {
    return addresses.size();
  }

  /** From now on, calls between nodes follow {@code rule}. */
  public void network(Rule rule) {
    this.rule = rule;
  }

  /**
   * Starts (or starts again) node {@code a} and waits until it is ready: without data, or on
   * its DATA_DIR when its setup gives one.
   */
  public void start(NodeAddress a) {
    await(deploy(a));
  }

  /** Every address some node sent a peer request to so far. */
  public java.util.Set<NodeAddress> contacted() {
    return java.util.Set.copyOf(contacted);
  }

  private Future<String> deploy(NodeAddress a) {
    NodeSetup extra = setup.apply(addresses.indexOf(a));
    Map<String, String> e = new HashMap<>(env);
    e.putAll(extra.env());
    e.put(e.containsKey("REPL_FACTOR") ? "ADDRESS" : "SOCKET_ADDRESS", a.toString());
    e.put("VIEW", java.util.stream.Stream.concat(addresses.stream(), alsoInView.stream())
        .map(NodeAddress::toString).collect(Collectors.joining(",")));
    NodeConfig config = NodeConfig.parse(e, new String[0]);
    // With DATA_DIR, opened as Main opens it (the scrub pausing SCRUB_PASS_PAUSE_MS).
    ringkv.node.storage.RocksDbStore durable = config.dataDir().map(dir ->
        new ringkv.node.storage.RocksDbStore(dir.resolve("store"),
            new ringkv.node.storage.StoreOptions(config.durability(), config.fsyncIntervalMs(),
                config.scrubBytesPerSec(), SCRUB_PASS_PAUSE_MS))).orElse(null);
    if (durable != null) {
      stores.put(a, durable);
    }
    Vertx vertx = Vertx.vertx();
    PeerClient.Interceptor interceptor = (to, route) -> delay(vertx, a, to, route);
    running.put(a, vertx);
    return vertx.deployVerticle(new NodeVerticle(config, durable, extra.clock(), interceptor));
  }

  private Future<Void> delay(Vertx vertx, NodeAddress from, NodeAddress to,
      PeerRoute<?, ?> route) {
    contacted.add(to);
    long ms = rule.delayMs(from, to, route);
    if (ms == 0) {
      return Future.succeededFuture();
    }
    if (ms < 0) {
      return Future.failedFuture(new java.net.ConnectException("lost by the test's network"));
    }
    Promise<Void> later = Promise.promise();
    vertx.setTimer(ms, id -> later.complete());
    return later.future();
  }

  /** Stops node {@code a} at once (its process dies: memory, queue and connections go). */
  public void kill(NodeAddress a) {
    Vertx vertx = running.remove(a);
    try {
      if (vertx != null) {
        await(vertx.close());
      }
    } finally {
      ringkv.node.storage.RocksDbStore durable = stores.remove(a);
      if (durable != null) {
        durable.close();
      }
    }
  }

  /** The durable store of running node {@code a} (started with DATA_DIR). */
  public ringkv.node.storage.RocksDbStore store(NodeAddress a) {
    ringkv.node.storage.RocksDbStore s = stores.get(a);
    if (s == null) {
      throw new IllegalStateException(a + " runs without DATA_DIR");
    }
    return s;
  }

  /** From now on the test's requests go over HTTPS with {@code context} (null: plain HTTP). */
  public void https(javax.net.ssl.SSLContext context) {
    http = context == null ? HTTP : HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
        .connectTimeout(Duration.ofSeconds(2)).sslContext(context).build();
    scheme = context == null ? "http" : "https";
  }

  /** Sends a request to node {@code a}; the answer's status and body. */
  public Answer send(NodeAddress a, String method, String path, String body) {
    return send(a, method, path, body, Map.of());
  }

  /** {@link #send(NodeAddress, String, String, String)} with these request headers. */
  public Answer send(NodeAddress a, String method, String path, String body,
      Map<String, String> headers) {
    HttpRequest.Builder r = HttpRequest.newBuilder(URI.create(scheme + "://" + a + path))
        .timeout(Duration.ofSeconds(20))
        .method(method, body == null ? HttpRequest.BodyPublishers.noBody()
            : HttpRequest.BodyPublishers.ofString(body));
    if (body != null) {
      r.header("Content-Type", "application/json");
    }
    headers.forEach(r::header);
    try {
      HttpResponse<String> response = http.send(r.build(), HttpResponse.BodyHandlers.ofString());
      return new Answer(response.statusCode(), response.body());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  /**
   * PUTs keys k0..k(count-1) with the values 0..count-1 through node {@code at}, each answered
   * 201, and waits (10 s at most) until node {@code replica}'s durable store holds the last.
   */
  public void writeReplicated(NodeAddress at, int count, NodeAddress replica) {
    for (int i = 0; i < count; i++) {
      Answer put = send(at, "PUT", "/key-value-store/k" + i, "{\"value\":" + i + "}");
      org.junit.jupiter.api.Assertions.assertEquals(201, put.status(), put.toString());
    }
    ringkv.node.storage.RocksDbStore store = store(replica);
    org.awaitility.Awaitility.await("replicated").atMost(Duration.ofSeconds(10))
        .pollInterval(Duration.ofMillis(50)).until(() -> store.get("k" + (count - 1)) != null);
  }

  /** The sum of the samples of metric {@code name} (any labels) node {@code a} exposes. */
  public double metric(NodeAddress a, String name) {
    String metrics = send(a, "GET", "/metrics", null).body();
    return metrics.lines().filter(l -> l.startsWith(name + " ") || l.startsWith(name + "{"))
        .mapToDouble(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1))).sum();
  }

  /** Whether node {@code a} answers HTTP ({@code GET /health/live} is 200). */
  public boolean live(NodeAddress a) {
    try {
      return send(a, "GET", "/health/live", null).status() == 200;
    } catch (UncheckedIOException e) {
      return false;
    }
  }

  /** An HTTP answer. */
  public record Answer(int status, String body) {}

  @Override
  public void close() {
    for (NodeAddress a : List.copyOf(running.keySet())) {
      kill(a);
    }
  }

  private static <T> T await(Future<T> f) {
    try {
      return f.toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  /** An answer's body as JSON (an AssertionError when it is not JSON). */
  public static com.fasterxml.jackson.databind.JsonNode json(Answer a) {
    try {
      return JSON.readTree(a.body());
    } catch (IOException e) {
      throw new AssertionError("not JSON: " + a, e);
    }
  }

  /** A cluster of {@code nodes} with {@code env}, keys k0..k{count-1} written (value i). */
  public static InProcessCluster withKeys(int nodes, Map<String, String> env, int count) {
    InProcessCluster c = new InProcessCluster(nodes, env);
    try {
      c.writeKeys(count);
    } catch (RuntimeException | Error e) {
      c.close();
      throw e;
    }
    return c;
  }

  /**
   * Writes {@code k0..k<count-1>} (value i) through node {@code i % size()}; a forwarded write
   * that times out on a loaded machine is retried.
   */
  public void writeKeys(int count) {
    for (int i = 0; i < count; i++) {
      int key = i;
      // pollDelay 0: by default Awaitility waits one poll interval (100 ms) before its first try,
      // which made 300 writes take 32 s.
      org.awaitility.Awaitility.await().pollDelay(Duration.ZERO).atMost(Duration.ofSeconds(30))
          .untilAsserted(() -> assertWritten(send(node(key % size()), "PUT",
              "/key-value-store/k" + key, "{\"value\":" + key + "}")));
    }
  }

  private static void assertWritten(Answer put) {
    if (put.status() != 201 && put.status() != 200) {
      throw new AssertionError(put.toString());
    }
  }

  /** A free loopback port (for a server the test runs next to the nodes). */
  public static int freePort() {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The node's key count of a shard as the shard dialect reports it. */
  public static long count(Answer a) {
    String marker = "\"shard-id-key-count\":";
    int i = a.body().indexOf(marker);
    if (a.status() != 200 || i < 0) {
      throw new IllegalStateException("not a count: " + a);
    }
    int end = i + marker.length();
    while (end < a.body().length() && Character.isDigit(a.body().charAt(end))) {
      end++;
    }
    return Long.parseLong(a.body().substring(i + marker.length(), end));
  }
}
