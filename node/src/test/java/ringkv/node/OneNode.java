package ringkv.node;

import static org.awaitility.Awaitility.await;

import io.vertx.core.Vertx;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.IntSupplier;
import ringkv.node.config.NodeConfig;

/**
 * One node in the test's JVM on a free loopback port, with the environment the test gives,
 * driven over raw sockets (so a test controls every byte and every pause). Close it to stop it.
 */
final class OneNode implements AutoCloseable {
  final int port;
  private final Vertx vertx = Vertx.vertx();
  private final NodeVerticle node;

  OneNode(Map<String, String> env) {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      port = s.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    Map<String, String> all = new HashMap<>(env);
    all.put("SOCKET_ADDRESS", "127.0.0.1:" + port);
    all.put("VIEW", "127.0.0.1:" + port);
    node = new NodeVerticle(NodeConfig.parse(all, new String[0]), null);
    try {
      vertx.deployVerticle(node).toCompletionStage().toCompletableFuture()
          .get(30, TimeUnit.SECONDS);
      await().atMost(Duration.ofSeconds(30)).until(() -> exchange(
          "GET /health/ready HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
          .contains("\"status\":\"ready\""));
    } catch (Exception e) {
      close();
      throw new IllegalStateException(e);
    }
  }

  /** A connection to the node (the caller closes it). */
  Socket connect() throws IOException {
    Socket s = new Socket();
    s.connect(new InetSocketAddress("127.0.0.1", port), 5_000);
    s.setSoTimeout(10_000);
    return s;
  }

  /** Sends {@code request} on a new connection and returns everything until the node closes. */
  String exchange(String request) throws IOException {
    try (Socket s = connect()) {
      s.getOutputStream().write(request.getBytes(StandardCharsets.UTF_8));
      return readAll(s.getInputStream());
    }
  }

  static String readAll(InputStream in) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    in.transferTo(out);
    return out.toString(StandardCharsets.UTF_8);
  }

  static int status(String answer) {
    return Integer.parseInt(answer.substring(9, 12));
  }

  static String request(String method, String path, String body, String... headers) {
    StringBuilder r = new StringBuilder(method + " " + path + " HTTP/1.1\r\nHost: x\r\n"
        + "Connection: close\r\n");
    for (String h : headers) {
      r.append(h).append("\r\n");
    }
    if (body != null) {
      r.append("Content-Type: application/json\r\nContent-Length: ")
          .append(body.getBytes(StandardCharsets.UTF_8).length).append("\r\n");
    }
    return r.append("\r\n").append(body == null ? "" : body).toString();
  }

  int requestsInFlight() {
    return onLoop(node::requestsInFlight);
  }

  int connectionsOpen() {
    return onLoop(node::connectionsOpen);
  }

  /** Reads node state on its event loop. */
  private int onLoop(IntSupplier read) {
    CompletableFuture<Integer> value = new CompletableFuture<>();
    vertx.runOnContext(v -> value.complete(read.getAsInt()));
    try {
      return value.get(5, TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  @Override
  public void close() {
    try {
      vertx.close().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }
}
