package ringkv.client;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.cfg.JsonNodeFeature;
import com.fasterxml.jackson.databind.node.MissingNode;
import java.io.UncheckedIOException;
import java.util.Objects;
import java.util.Optional;

/**
 * The answer to a GET: the value (exactly the JSON text the store holds) or "not found", which
 * is a result and not an exception.
 *
 * <p>Immutable; thread-safe.
 *
 * @param key the key read
 * @param valueJson the value as raw JSON text ({@code "abc"}, {@code 1.50}, ...), empty if not
 *     found
 * @param node the node the client sent the final attempt to (the one that answered)
 * @param attempts attempts made (1 unless the client retried)
 */
public record GetResult(String key, Optional<String> valueJson, String node, int attempts) {
  static final ObjectMapper EXACT = new ObjectMapper()
      .enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS)
      .configure(JsonNodeFeature.STRIP_TRAILING_BIGDECIMAL_ZEROES, false);

  public GetResult {
    Objects.requireNonNull(key, "key");
    Objects.requireNonNull(valueJson, "valueJson");
    Objects.requireNonNull(node, "node");
  }

  /** A result with the raw JSON text of the value, or null if not found. */
  GetResult(String key, String valueJson, String node, int attempts) {
    this(key, Optional.ofNullable(valueJson), node, attempts);
  }

  /** Whether the key exists. */
  public boolean found() {
    return valueJson.isPresent();
  }

  /**
   * The value as a Jackson tree (decimals as {@code BigDecimal}, so {@code 1.50} keeps its
   * scale); a {@link MissingNode} if not found.
   */
  public JsonNode value() {
    if (valueJson.isEmpty()) {
      return MissingNode.getInstance();
    }
    try {
      return EXACT.readTree(valueJson.get());
    } catch (JsonProcessingException e) {
      throw new UncheckedIOException("the store returned a value that is not JSON", e);
    }
  }

  @Override
  public String toString() {
    return "GetResult[" + key + (found() ? "=" + valueJson.get() : " not found") + " from " + node
        + "]";
  }
}
