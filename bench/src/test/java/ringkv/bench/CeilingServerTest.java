package ringkv.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import ringkv.client.RingKvClient;
import ringkv.client.Session;

/*
 * Goal: the ceiling server is a correct (if minimal) HTTP/1.1 server, so the bench's ratios
 * compare RingKV with real HTTP work: keep-alive, request bodies of any size read whole,
 * pipelined requests answered in order, Connection: close honoured, and enough of the shard
 * dialect (/ring, key-value paths) for the client library.
 *
 * Method: an in-process server on a free port, driven by the JDK HttpClient and by raw sockets
 * with hand-written requests (socket reads have timeouts).
 */
class CeilingServerTest {
  private CeilingServer server;
  private String address;

  @BeforeEach
  void start() throws Exception {
    server = new CeilingServer(new InetSocketAddress("127.0.0.1", 0), 10);
    address = "127.0.0.1:" + server.port();
  }

  @AfterEach
  void stop() {
    server.close();
  }

  @Test
  void answersKeyValueRequestsWithFixedBodiesOverKeepAlive() throws Exception {
    HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
        .connectTimeout(Duration.ofSeconds(2)).build();
    for (int i = 0; i < 50; i++) {
      String big = "{\"causal-metadata\":\"" + "m".repeat(i * 2000) + "\"}";
      HttpResponse<String> r = http.send(HttpRequest.newBuilder(
              URI.create("http://" + address + "/key-value-store/k" + i))
          .timeout(Duration.ofSeconds(5)).method("GET", HttpRequest.BodyPublishers.ofString(big))
          .build(), HttpResponse.BodyHandlers.ofString());
      assertEquals(200, r.statusCode());
      assertEquals("{\"message\":\"Retrieved successfully\",\"causal-metadata\":{},"
          + "\"value\":\"xxxxxxxxxx\"}", r.body());
    }
    HttpResponse<String> put = http.send(HttpRequest.newBuilder(
            URI.create("http://" + address + "/key-value-store/k"))
        .timeout(Duration.ofSeconds(5)).PUT(HttpRequest.BodyPublishers.ofString("{\"value\":1}"))
        .build(), HttpResponse.BodyHandlers.ofString());
    assertTrue(put.body().contains("Updated successfully"), put.body());
    HttpResponse<String> other = http.send(HttpRequest.newBuilder(
        URI.create("http://" + address + "/nothing")).timeout(Duration.ofSeconds(5)).build(),
        HttpResponse.BodyHandlers.ofString());
    assertEquals(404, other.statusCode());
  }

  @Test
  void pipelinedRequestsAreAnsweredInOrderAndCloseIsHonoured() throws Exception {
    try (Socket s = new Socket("127.0.0.1", server.port())) {
      s.setSoTimeout(5_000);
      String body = "{\"value\":\"v\"}";
      String requests = "PUT /key-value-store/a HTTP/1.1\r\nHost: x\r\nContent-Length: "
          + body.length() + "\r\n\r\n" + body
          + "GET /health/ready HTTP/1.1\r\nHost: x\r\n\r\n"
          + "GET /key-value-store/b HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
      OutputStream out = s.getOutputStream();
      out.write(requests.getBytes(StandardCharsets.US_ASCII));
      out.flush();
      String all = readToEnd(s.getInputStream());
      int put = all.indexOf("Updated successfully");
      int ping = all.indexOf("\"status\":\"ready\"");
      int get = all.indexOf("Retrieved successfully");
      assertTrue(put >= 0 && put < ping && ping < get, all);
      assertEquals(3, all.split("HTTP/1.1 200 OK", -1).length - 1, all);
    }
  }

  private static String readToEnd(InputStream in) throws Exception {
    ByteArrayOutputStream b = new ByteArrayOutputStream();
    byte[] buffer = new byte[4096];
    int n;
    while ((n = in.read(buffer)) >= 0) { // the server closes after the last answer
      b.write(buffer, 0, n);
    }
    return b.toString(StandardCharsets.US_ASCII);
  }

  @Test
  void theClientLibraryTalksToIt() {
    try (RingKvClient client = RingKvClient.connect(address)) {
      assertEquals(1, client.ring().ring().shardCount());
      assertEquals(address, client.nodeFor("any"));
      Session session = new Session();
      assertEquals("\"xxxxxxxxxx\"", client.getBlocking(session, "k").valueJson().get());
      assertEquals(1, client.putJsonBlocking(session, "k", "1").shardId());
    }
  }
}
