package ringkv.tests.support;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpRequest.BodyPublishers;
import java.net.http.HttpResponse.BodyHandlers;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * Minimal blocking JSON-over-HTTP client for black-box tests, on {@link java.net.http.HttpClient}.
 *
 * <p>Every call has explicit timeouts (connect {@value #CONNECT_TIMEOUT_MS} ms, request
 * {@value #REQUEST_TIMEOUT_MS} ms). A GET may carry a body, as the shard dialect passes causal
 * metadata in GET bodies. HTTP/1.1 is forced so no h2c upgrade dance muddies what the node sees.
 * Thread-safe: one shared client serves every test.
 */
public final class Http {
  public static final long CONNECT_TIMEOUT_MS = 2_000;
  public static final long REQUEST_TIMEOUT_MS = 10_000;
  public static final ObjectMapper MAPPER = new ObjectMapper();

  private static final HttpClient CLIENT = HttpClient.newBuilder()
      .version(HttpClient.Version.HTTP_1_1)
      .connectTimeout(Duration.ofMillis(CONNECT_TIMEOUT_MS))
      .build();

  private Http() {}

  /** A response: status, parsed JSON body (null if the body is not JSON), headers, raw text. */
  public record Reply(int status, JsonNode body, Map<String, List<String>> headers, String raw) {
    /** First value of a header, case-insensitive. */
    public Optional<String> header(String name) {
      List<String> values = headers.get(name.toLowerCase());
      return values == null || values.isEmpty() ? Optional.empty() : Optional.of(values.get(0));
    }

    /** A body field, or a MissingNode when the body has no such field (or is not JSON). */
    public JsonNode field(String name) {
      return body == null ? MAPPER.missingNode() : body.path(name);
    }

    /** The causal metadata of the reply, to pass to the next request. */
    public JsonNode metadata() {
      JsonNode m = field("causal-metadata");
      return m.isMissingNode() ? MAPPER.nullNode() : m;
    }

    @Override
    public String toString() {
      String text = raw.length() > 500 ? raw.substring(0, 500) + "...(" + raw.length() + ")" : raw;
      return "HTTP " + status + " " + header("content-type").orElse("-") + " " + text;
    }
  }

  public static Reply get(String node, String path) {
    return send("GET", node, path, null);
  }

  public static Reply get(String node, String path, JsonNode body) {
    return send("GET", node, path, body == null ? null : write(body));
  }

  public static Reply put(String node, String path, JsonNode body) {
    return send("PUT", node, path, body == null ? null : write(body));
  }

  public static Reply delete(String node, String path, JsonNode body) {
    return send("DELETE", node, path, body == null ? null : write(body));
  }

  /** Any method with a raw (possibly invalid) body; null means no body at all. */
  public static Reply send(String method, String node, String path, String rawBody) {
    return send(method, node, path, rawBody, Duration.ofMillis(REQUEST_TIMEOUT_MS));
  }

  /** {@link #send(String, String, String, String)} with its own request timeout. */
  public static Reply send(String method, String node, String path, String rawBody,
      Duration timeout) {
    HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://" + node + path))
        .timeout(timeout)
        .method(method, rawBody == null
            ? BodyPublishers.noBody()
            : BodyPublishers.ofString(rawBody));
    if (rawBody != null) {
      request.header("Content-Type", "application/json");
    }
    try {
      var response = CLIENT.send(request.build(), BodyHandlers.ofString());
      Map<String, List<String>> headers = new TreeMap<>();
      response.headers().map().forEach((k, v) -> headers.put(k.toLowerCase(), v));
      return new Reply(response.statusCode(), parse(response.body()), headers, response.body());
    } catch (IOException e) {
      throw new AssertionError(method + " http://" + node + path + " failed: " + e, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(method + " http://" + node + path + " interrupted", e);
    }
  }

  /** Builds a JSON object from alternating field names and values (any Jackson-mappable). */
  public static ObjectNode obj(Object... fieldsAndValues) {
    if (fieldsAndValues.length % 2 != 0) {
      throw new IllegalArgumentException("obj() needs name/value pairs");
    }
    ObjectNode node = MAPPER.createObjectNode();
    for (int i = 0; i < fieldsAndValues.length; i += 2) {
      node.set((String) fieldsAndValues[i], MAPPER.valueToTree(fieldsAndValues[i + 1]));
    }
    return node;
  }

  /** Parses JSON text; throws on invalid input (for literals written in tests). */
  public static JsonNode json(String text) {
    try {
      return MAPPER.readTree(text);
    } catch (JsonProcessingException e) {
      throw new IllegalArgumentException("bad JSON literal: " + text, e);
    }
  }

  private static JsonNode parse(String text) {
    if (text == null || text.isBlank()) {
      return null;
    }
    try {
      return MAPPER.readTree(text);
    } catch (JsonProcessingException e) {
      return null;
    }
  }

  private static String write(JsonNode body) {
    try {
      return MAPPER.writeValueAsString(body);
    } catch (JsonProcessingException e) {
      throw new IllegalArgumentException(e);
    }
  }
}
