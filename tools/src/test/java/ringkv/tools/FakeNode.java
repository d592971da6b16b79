package ringkv.tools;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * A tiny HTTP server that stands for a node: it answers each path with a canned status and
 * JSON body, records every request (method, path, Authorization header, body), and can be told
 * to hold its answers back (to test timeouts). Close it to stop it.
 */
final class FakeNode implements AutoCloseable {
  /** A request the fake received. */
  record Seen(String method, String path, String authorization, String body) {}

  /** A canned answer. */
  record Answer(int status, String body) {}

  private final HttpServer server;
  private final Map<String, Answer> answers = new ConcurrentHashMap<>();
  private final List<Seen> seen = new CopyOnWriteArrayList<>();
  private final CountDownLatch release = new CountDownLatch(1);
  private volatile boolean hold;

  FakeNode() {
    try {
      server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    server.createContext("/", this::handle);
    server.setExecutor(java.util.concurrent.Executors.newCachedThreadPool());
    server.start();
  }

  String address() {
    return "127.0.0.1:" + server.getAddress().getPort();
  }

  FakeNode answer(String path, int status, String body) {
    answers.put(path, new Answer(status, body));
    return this;
  }

  /** From now on, requests get no answer until the fake is closed. */
  void hold() {
    hold = true;
  }

  List<Seen> seen() {
    return List.copyOf(seen);
  }

  private void handle(HttpExchange x) throws IOException {
    String body = new String(x.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
    String path = x.getRequestURI().getRawPath();
    seen.add(new Seen(x.getRequestMethod(), path, x.getRequestHeaders().getFirst("Authorization"),
        body));
    if (hold) {
      try {
        release.await(30, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    Answer a = answers.getOrDefault(path, new Answer(404,
        "{\"error\":\"Not found\",\"message\":\"Error in " + x.getRequestMethod() + "\"}"));
    byte[] bytes = a.body().getBytes(StandardCharsets.UTF_8);
    x.getResponseHeaders().set("Content-Type", "application/json");
    x.sendResponseHeaders(a.status(), bytes.length == 0 ? -1 : bytes.length);
    x.getResponseBody().write(bytes);
    x.close();
  }

  @Override
  public void close() {
    release.countDown();
    server.stop(0);
    ((java.util.concurrent.ExecutorService) server.getExecutor()).shutdownNow();
  }
}
