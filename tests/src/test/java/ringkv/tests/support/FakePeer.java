package ringkv.tests.support;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A peer the test plays itself, on a loopback port: it answers the parts of the internal
 * protocol a starting node uses — {@code GET /internal/ping} (live, ready, vouching for nothing),
 * {@code GET /internal/config} (404: the node keeps the layout of its environment) and
 * {@code POST /internal/scan} (catch-up) — so a test can hold a real node at a chosen step of its
 * start. Catch-up is served as the pages given to {@link #servePages}; when
 * {@link #holdAfterFirstPage} is set, the request for the second page waits until
 * {@link #release()}. Everything else answers 404. Every request is counted by path
 * ({@link #requests()}). Close it to stop the server and release any held request.
 */
public final class FakePeer implements AutoCloseable {
  private final HttpServer server;
  private final ExecutorService executor = Executors.newFixedThreadPool(4);
  private volatile List<String> pages = List.of("{\"entries\":[],\"last\":null}");
  private volatile CountDownLatch hold;
  private final AtomicInteger scans = new AtomicInteger();
  private final Map<String, AtomicInteger> requests = new ConcurrentHashMap<>();

  public FakePeer() {
    try {
      server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 16);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    server.setExecutor(executor);
    server.createContext("/", this::handle);
    server.start();
  }

  public String address() {
    return "127.0.0.1:" + server.getAddress().getPort();
  }

  /** The catch-up pages ({@code /internal/scan} bodies), served in order, one per request. */
  public void servePages(List<String> bodies) {
    pages = List.copyOf(bodies);
    scans.set(0);
  }

  /** Makes the next request for a second catch-up page wait until {@link #release()}. */
  public void holdAfterFirstPage() {
    hold = new CountDownLatch(1);
  }

  public void release() {
    CountDownLatch h = hold;
    if (h != null) {
      h.countDown();
    }
  }

  /** How many catch-up pages were asked for since the last {@link #servePages}. */
  public int scans() {
    return scans.get();
  }

  /** How many requests came for each path so far. */
  public Map<String, Integer> requests() {
    Map<String, Integer> counts = new TreeMap<>();
    requests.forEach((path, n) -> counts.put(path, n.get()));
    return counts;
  }

  private void handle(HttpExchange exchange) throws IOException {
    try (exchange) {
      String path = exchange.getRequestURI().getPath();
      requests.computeIfAbsent(path, p -> new AtomicInteger()).incrementAndGet();
      exchange.getRequestBody().readAllBytes();
      int status = 200;
      String body;
      if (path.equals("/internal/ping")) {
        body = "{\"node\":\"" + address() + "\",\"epoch\":1,\"stable\":0,\"incarnation\":1,"
            + "\"ready\":true}";
      } else if (path.equals("/internal/scan")) {
        int page = scans.getAndIncrement();
        CountDownLatch h = hold;
        if (page >= 1 && h != null) {
          try {
            h.await(30, TimeUnit.SECONDS);
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
        }
        List<String> p = pages;
        body = page < p.size() ? p.get(page) : "{\"entries\":[],\"last\":null}";
      } else {
        status = 404;
        body = "{\"error\":\"not played by this fake\"}";
      }
      byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
      exchange.getResponseHeaders().add("Content-Type", "application/json");
      exchange.sendResponseHeaders(status, bytes.length);
      exchange.getResponseBody().write(bytes);
    }
  }

  @Override
  public void close() {
    release();
    server.stop(0);
    executor.shutdownNow();
  }
}
