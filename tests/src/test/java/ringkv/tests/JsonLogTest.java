package ringkv.tests;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import ringkv.tests.support.Commands;
import ringkv.tests.support.Http;
import ringkv.tests.support.LocalCluster;

/*
 * Goal: with LOG_FORMAT=json (issue 18 item 5) every line a node logs is one JSON object with
 * time, level, logger, message, node and epoch, and a request forwarded to its owner is logged
 * on both nodes with the same request id: the client's X-Request-Id when it sends one, else the
 * id the first node made (and answered with). State transitions stay at INFO; a bad LOG_FORMAT
 * stops the node at start with one line naming the variable.
 *
 * Method: two real nodes, one shard each (so a key of the second node's shard sent to the first
 * is forwarded), LOG_FORMAT=json and LOG_LEVEL=DEBUG (the access lines are DEBUG); a PUT with an
 * X-Request-Id and a GET without one go to the first node; the test reads both nodes' log files.
 */
class JsonLogTest {
  private static final HttpClient CLIENT = HttpClient.newBuilder()
      .connectTimeout(Duration.ofSeconds(2)).build();

  @Test
  void aForwardedRequestIsLoggedOnBothNodesWithOneId() throws Exception {
    try (LocalCluster cluster = LocalCluster.builder("JsonLogTest").nodes(2).shards(2)
        .env("LOG_FORMAT", "json").env("LOG_LEVEL", "DEBUG").start()) {
      String key = keyOwnedBy(cluster, 1);
      String given = "trace-" + System.nanoTime();
      HttpResponse<String> put = send(cluster.node(0), "PUT", "/key-value-store/" + key,
          "{\"value\":1}", given);
      assertEquals(201, put.statusCode(), put.body());
      assertEquals(given, put.headers().firstValue("X-Request-Id").orElse(null));
      HttpResponse<String> get = send(cluster.node(0), "GET", "/key-value-store/" + key, null,
          null);
      assertEquals(200, get.statusCode(), get.body());
      String made = get.headers().firstValue("X-Request-Id").orElseThrow();
      assertTrue(made.matches("[0-9a-f]{16}"), made);

      for (String id : List.of(given, made)) {
        await("request " + id + " in both nodes' logs").atMost(Duration.ofSeconds(20))
            .untilAsserted(() -> {
              List<JsonNode> first = withId(lines(cluster, 0), id);
              List<JsonNode> owner = withId(lines(cluster, 1), id);
              assertTrue(first.stream().anyMatch(l -> l.get("message").asText()
                  .contains("route=/key-value-store/{key}")), "node 0: " + first);
              assertTrue(first.stream().anyMatch(l -> l.get("message").asText()
                  .startsWith("event=forward ")), "node 0 forwarded: " + first);
              assertTrue(owner.stream().anyMatch(l -> l.get("message").asText()
                  .contains("route=/internal/kv")), "node 1: " + owner);
            });
      }
      for (int i = 0; i < 2; i++) {
        List<JsonNode> all = lines(cluster, i);
        assertTrue(all.size() > 5, "node " + i + " logged " + all.size() + " lines");
        for (JsonNode line : all) {
          for (String field : List.of("time", "level", "logger", "message", "node")) {
            assertTrue(line.hasNonNull(field), "no " + field + " in " + line);
          }
          assertEquals(cluster.address(i), line.get("node").asText(), line.toString());
        }
        JsonNode ready = all.stream().filter(l -> l.get("message").asText()
            .startsWith("event=ready ")).findFirst().orElseThrow();
        assertEquals("INFO", ready.get("level").asText());
        assertEquals(1, ready.get("epoch").asLong(), ready.toString());
      }
    }
  }

  @Test
  void aBadLogFormatStopsTheNodeNamingTheVariable() {
    Commands.Result r = Commands.runWithEnv(Duration.ofSeconds(60), Map.of(
            "SOCKET_ADDRESS", "127.0.0.1:1", "VIEW", "127.0.0.1:1", "LOG_FORMAT", "xml"),
        java(), "-jar", Commands.requireJar().toString());
    assertEquals(2, r.code(), r.output());
    assertTrue(r.output().trim().startsWith("ringkv: invalid configuration: LOG_FORMAT="),
        r.output());
    assertEquals(1, r.output().trim().lines().count(), r.output());
  }

  private static String java() {
    return java.nio.file.Paths.get(System.getProperty("java.home"), "bin", "java").toString();
  }

  /** A key whose shard has node {@code i} as member (and not the other node). */
  private static String keyOwnedBy(LocalCluster cluster, int i) {
    for (int k = 0; k < 1_000; k++) {
      JsonNode where = Http.get(cluster.node(0), "/ring/key/json-log-" + k).body();
      JsonNode members = where.get("members");
      if (members.size() == 1 && members.get(0).asText().equals(cluster.address(i))) {
        return "json-log-" + k;
      }
    }
    throw new AssertionError("no key of node " + i + "'s shard among 1000");
  }

  private static HttpResponse<String> send(String node, String method, String path,
      String body, String requestId) throws IOException, InterruptedException {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://" + node + path))
        .timeout(Duration.ofSeconds(10))
        .method(method, body == null ? HttpRequest.BodyPublishers.noBody()
            : HttpRequest.BodyPublishers.ofString(body));
    if (body != null) {
      b.header("Content-Type", "application/json");
    }
    if (requestId != null) {
      b.header("X-Request-Id", requestId);
    }
    return CLIENT.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  /** Every line node {@code i} logged, parsed (the harness's own "===" lines excepted). */
  private static List<JsonNode> lines(LocalCluster cluster, int i) throws IOException {
    List<JsonNode> out = new ArrayList<>();
    for (String line : Files.readAllLines(cluster.log(i), StandardCharsets.UTF_8)) {
      if (line.startsWith("=== ")) {
        continue;
      }
      try {
        out.add(Http.MAPPER.readTree(line));
      } catch (JsonProcessingException e) {
        throw new AssertionError("node " + i + " logged a line that is not JSON: " + line, e);
      }
    }
    return out;
  }

  private static List<JsonNode> withId(List<JsonNode> lines, String id) {
    return lines.stream().filter(l -> id.equals(l.path("request-id").asText(null))).toList();
  }
}
