package ringkv.node.api;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.cfg.JsonNodeFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import java.io.IOException;

/**
 * The one Jackson configuration of the node. Numbers keep their exact text form (1.50 stays 1.50,
 * big integers stay whole) so a value comes back exactly as the client gave it.
 */
public final class Json {
  public static final ObjectMapper MAPPER = new ObjectMapper()
      .enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS)
      .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
      .configure(JsonNodeFeature.STRIP_TRAILING_BIGDECIMAL_ZEROES, false);

  private Json() {}

  public static ObjectNode object() {
    return JsonNodeFactory.instance.objectNode();
  }

  /** Parses a request body; an absent or blank body is an empty object. */
  public static JsonNode parseBody(byte[] body) {
    if (body == null || isBlank(body)) {
      return object();
    }
    try {
      JsonNode node = MAPPER.readTree(body);
      return node == null ? object() : node;
    } catch (IOException e) {
      throw new KvException(ErrorCode.BAD_JSON, firstLine(originalMessage(e)));
    }
  }

  /** Parses a body that must be a JSON object. */
  public static ObjectNode parseObject(byte[] body) {
    JsonNode node = parseBody(body);
    if (!node.isObject()) {
      throw new KvException(ErrorCode.BAD_JSON, "the body must be a JSON object");
    }
    return (ObjectNode) node;
  }

  public static byte[] bytes(JsonNode node) {
    try {
      return MAPPER.writeValueAsBytes(node);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("cannot serialise a JSON tree", e);
    }
  }

  /** Compact JSON text of a value, as stored. */
  public static String text(JsonNode node) {
    try {
      return MAPPER.writeValueAsString(node);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("cannot serialise a JSON tree", e);
    }
  }

  private static boolean isBlank(byte[] body) {
    for (byte b : body) {
      if (b != ' ' && b != '\n' && b != '\r' && b != '\t') {
        return false;
      }
    }
    return true;
  }

  private static String originalMessage(IOException e) {
    if (e instanceof JsonProcessingException jpe) {
      return jpe.getOriginalMessage();
    }
    return e.getMessage();
  }

  private static String firstLine(String message) {
    if (message == null) {
      return "unparseable body";
    }
    int nl = message.indexOf('\n');
    return nl < 0 ? message : message.substring(0, nl);
  }
}
