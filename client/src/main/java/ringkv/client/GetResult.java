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
 */
public final class GetResult {
  static final ObjectMapper EXACT = new ObjectMapper()
      .enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS)
      .configure(JsonNodeFeature.STRIP_TRAILING_BIGDECIMAL_ZEROES, false);

  private final String key;
  private final String valueJson;
  private final String node;
  private final int attempts;

  GetResult(String key, String valueJson, String node, int attempts) {
    this.key = Objects.requireNonNull(key, "key");
    this.valueJson = valueJson;
    this.node = Objects.requireNonNull(node, "node");
    this.attempts = attempts;
  }

  public String key() {
    return key;
  }

  /** Whether the key exists. */
  public boolean found() {
    return valueJson != null;
  }

  /** The value as raw JSON text ({@code "abc"}, {@code 1.50}, ...), empty if not found. */
  public Optional<String> valueJson() {
    return Optional.ofNullable(valueJson);
  }

  /**
   * The value as a Jackson tree (decimals as {@code BigDecimal}, so {@code 1.50} keeps its
   * scale); a {@link MissingNode} if not found.
   */
  public JsonNode value() {
    if (valueJson == null) {
      return MissingNode.getInstance();
    }
    try {
      return EXACT.readTree(valueJson);
    } catch (JsonProcessingException e) {
      throw new UncheckedIOException("the store returned a value that is not JSON", e);
    }
  }

  /** The node the client sent the final attempt to (the one that answered). */
  public String node() {
    return node;
  }

  /** Attempts made (1 unless the client retried). */
  public int attempts() {
    return attempts;
  }

  @Override
  public String toString() {
    return "GetResult[" + key + (found() ? "=" + valueJson : " not found") + " from " + node
        + "]";
  }
}
