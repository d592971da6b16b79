package ringkv.node;
import ringkv.node.config.NodeConfig;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.vertx.core.Vertx;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/*
 * Goal: key-value requests that skip the router (KeyValueFastPath) are answered as the router
 * answered them: exact value text, JSON errors, the body limit (413, connection closed, nothing
 * stored, the node keeps serving), the in-flight count back to zero whatever the client did,
 * and paths the router normalises still reach the router.
 * Method: one single-node NodeVerticle in this JVM with BODY_BYTES_MAX=1024, driven over raw
 * sockets so that chunked bodies, early closes and exact bytes are under the test's control.
 */
class KeyValueFastPathTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static Vertx vertx;
  private static NodeVerticle node;
  private static int port;

  @BeforeAll
  static void start() throws Exception {
    try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      port = s.getLocalPort();
    }
    String address = "127.0.0.1:" + port;
    NodeConfig config = NodeConfig.parse(Map.of("SOCKET_ADDRESS", address, "VIEW", address,
        "BODY_BYTES_MAX", "1024"), new String[0]);
    vertx = Vertx.vertx();
    node = new NodeVerticle(config, null);
    vertx.deployVerticle(node).toCompletionStage().toCompletableFuture()
        .get(30, TimeUnit.SECONDS);
    await().atMost(Duration.ofSeconds(30))
        .until(() -> exchange(get("/health/ready")).contains(
            "\"status\":\"ready\""));
  }

  @AfterAll
  static void stop() throws Exception {
    if (vertx != null) {
      vertx.close().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    }
  }

  /** Sends {@code request} on a new connection and returns everything until the node closes. */
  private static String exchange(String request) throws IOException {
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress("127.0.0.1", port), 5_000);
      s.setSoTimeout(10_000);
      s.getOutputStream().write(request.getBytes(StandardCharsets.UTF_8));
      return readAll(s.getInputStream());
    }
  }

  private static String readAll(InputStream in) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    in.transferTo(out);
    return out.toString(StandardCharsets.UTF_8);
  }

  private static String put(String path, String body) {
    byte[] b = body.getBytes(StandardCharsets.UTF_8);
    return "PUT " + path + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
        + "Content-Type: application/json\r\nContent-Length: " + b.length + "\r\n\r\n" + body;
  }

  private static String get(String path) {
    return "GET " + path + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
  }

  private static int status(String answer) {
    return Integer.parseInt(answer.substring(9, 12));
  }

  private static JsonNode body(String answer) throws IOException {
    return JSON.readTree(answer.substring(answer.indexOf("\r\n\r\n") + 4));
  }

  @Test
  void valuesKeepTheirExactTextInBothDialects() throws Exception {
    String put = exchange(
        put("/key-value-store/exact", "{\"value\": 1.50e0 , \"causal-metadata\":\"\"}"));
    assertEquals(201, status(put), put);
    assertEquals("Added successfully", body(put).get("message").asText());
    assertTrue(put.contains("Content-Type: application/json"), put);
    String got = exchange(get("/key-value-store/exact"));
    assertEquals(200, status(got), got);
    assertTrue(got.endsWith(",\"value\":1.50e0}"), got);
    String kvs = exchange(put("/kvs/keys/exact2", "{\"value\":[1, {\"a\" : -0}]}"));
    assertEquals(201, status(kvs), kvs);
    assertEquals(false, body(kvs).get("replaced").asBoolean());
    String kvsGot = exchange(get("/kvs/keys/exact2"));
    assertTrue(kvsGot.contains("\"value\":[1, {\"a\" : -0}]"), kvsGot);
    assertTrue(body(kvsGot).get("causal-context").isObject(), kvsGot);
  }

  @Test
  void badRequestsGetJsonErrors() throws Exception {
    String bad = exchange(put("/key-value-store/k", "{\"value\":"));
    assertEquals(400, status(bad), bad);
    assertEquals("Error in PUT", body(bad).get("message").asText());
    String escape = exchange(get("/key-value-store/%zz"));
    assertEquals(400, status(escape), escape);
    assertTrue(body(escape).has("error"), escape);
    String missing = exchange(get("/kvs/keys/never-written"));
    assertEquals(404, status(missing), missing);
    assertEquals("Key does not exist", body(missing).get("error").asText());
  }

  @Test
  void aChunkedBodyOverTheLimitIs413AndNothingIsStored() throws Exception {
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress("127.0.0.1", port), 5_000);
      s.setSoTimeout(10_000);
      OutputStream out = s.getOutputStream();
      out.write(("PUT /key-value-store/huge HTTP/1.1\r\nHost: x\r\n"
          + "Transfer-Encoding: chunked\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
      String chunk = "{\"value\":\"" + "x".repeat(600);
      out.write((Integer.toHexString(chunk.length()) + "\r\n" + chunk + "\r\n")
          .getBytes(StandardCharsets.US_ASCII));
      String more = "y".repeat(600) + "\"}";
      out.write((Integer.toHexString(more.length()) + "\r\n" + more + "\r\n0\r\n\r\n")
          .getBytes(StandardCharsets.US_ASCII));
      out.flush();
      String answer = readAll(s.getInputStream()); // ends: the node closes the connection
      assertEquals(413, status(answer), answer);
      assertEquals("Error in PUT", body(answer).get("message").asText());
    }
    String declared = exchange("PUT /key-value-store/huge HTTP/1.1\r\nHost: x\r\n"
        + "Content-Length: 5000\r\n\r\n{\"value\":\"" + "z".repeat(4988) + "\"}");
    assertEquals(413, status(declared), declared);
    String got = exchange(get("/key-value-store/huge"));
    assertEquals(404, status(got), "a refused body is not stored: " + got);
  }

  @Test
  void theInFlightCountReturnsToZeroAfterAbandonedRequests() throws Exception {
    for (int i = 0; i < 5; i++) {
      Socket s = new Socket();
      s.connect(new InetSocketAddress("127.0.0.1", port), 5_000);
      // Headers and half a body, then the client goes away.
      s.getOutputStream().write(("PUT /key-value-store/gone HTTP/1.1\r\nHost: x\r\n"
          + "Content-Length: 100\r\n\r\n{\"value\":").getBytes(StandardCharsets.US_ASCII));
      s.getOutputStream().flush();
      s.close();
    }
    assertEquals(201, status(exchange(put("/key-value-store/after", "{\"value\":2}"))),
        "the node serves on after the abandoned requests");
    await().atMost(Duration.ofSeconds(10)).until(() -> onLoop(node::requestsInFlight) == 0);
  }

  @Test
  void pathsTheRouterNormalisesGoToTheRouter() throws Exception {
    // "/key-value-store/../key-value-store-view" is the view once normalised, not a key.
    String view = exchange(get("/key-value-store/../key-value-store-view"));
    assertEquals(200, status(view), view);
    assertEquals("View retrieved successfully", body(view).get("message").asText());
    String post = exchange("POST /key-value-store/k HTTP/1.1\r\nHost: x\r\n"
        + "Connection: close\r\nContent-Length: 0\r\n\r\n");
    assertEquals(405, status(post), post);
    assertTrue(body(post).has("error"), post);
  }

  /** Reads node state on its event loop. */
  private static int onLoop(java.util.function.IntSupplier read) throws Exception {
    java.util.concurrent.CompletableFuture<Integer> value =
        new java.util.concurrent.CompletableFuture<>();
    vertx.runOnContext(v -> value.complete(read.getAsInt()));
    return value.get(5, TimeUnit.SECONDS);
  }
}
