package ringkv.node.json;
import ringkv.node.error.KvException;
import ringkv.node.error.ErrorCode;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadConstraints;
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
  /** Arrays and objects a JSON text may nest (a value deeper than this is refused, 400). */
  public static final int NESTING_DEPTH_MAX = 500;
  /** Characters of one number. */
  public static final int NUMBER_CHARS_MAX = 1_000;
  /**
   * Characters of one string: the largest {@code BODY_BYTES_MAX} (bodies are bounded before
   * they are parsed; this only keeps the parser from being the bound).
   */
  public static final int STRING_CHARS_MAX = 64 << 20;
  /** Characters of one field name. */
  public static final int NAME_CHARS_MAX = 50_000;
  /** Bytes of one JSON text (every body the node reads is far smaller). */
  public static final long DOCUMENT_BYTES_MAX = 128L << 20;
  /** Tokens of one JSON text (an honest replication batch has well under a million). */
  public static final long TOKENS_MAX = 8_000_000;

  /**
   * Jackson's read limits, set explicitly rather than left to the library's defaults (which
   * change between versions): every parser of the node — bodies, peer messages, stored
   * values — is made by {@link #MAPPER}'s factory and so is bound by them.
   */
  public static final StreamReadConstraints READ_CONSTRAINTS = StreamReadConstraints.builder()
      .maxNestingDepth(NESTING_DEPTH_MAX)
      .maxNumberLength(NUMBER_CHARS_MAX)
      .maxStringLength(STRING_CHARS_MAX)
      .maxNameLength(NAME_CHARS_MAX)
      .maxDocumentLength(DOCUMENT_BYTES_MAX)
      .maxTokenCount(TOKENS_MAX)
      .build();

  public static final ObjectMapper MAPPER = new ObjectMapper(JsonFactory.builder()
      .streamReadConstraints(READ_CONSTRAINTS).build())
      .enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS)
      .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
      .configure(JsonNodeFeature.STRIP_TRAILING_BIGDECIMAL_ZEROES, false);

  private Json() {}

  public static ObjectNode object() {
    return JsonNodeFactory.instance.objectNode();
  }

  /**
   * Parses a request body; an absent or blank body is an empty object. A string holding an
   * unpaired UTF-16 surrogate ({@code "\ud800"}) is refused: Jackson reads it, but cannot write
   * it as UTF-8, so once stored it would break every answer, scan and batch that carries it.
   */
  public static JsonNode parseBody(byte[] body) {
    if (body == null || isBlank(body)) {
      return object();
    }
    JsonNode node;
    try {
      node = MAPPER.readTree(body);
    } catch (IOException e) {
      throw new KvException(ErrorCode.BAD_JSON, firstLine(originalMessage(e)));
    }
    if (node == null) {
      return object();
    }
    if (hasUnpairedSurrogate(node)) {
      throw new KvException(ErrorCode.BAD_JSON, "a string holds an unpaired UTF-16 surrogate");
    }
    return node;
  }

  /** True when a string or field name anywhere in {@code root} has an unpaired surrogate. */
  public static boolean hasUnpairedSurrogate(JsonNode root) {
    java.util.ArrayDeque<JsonNode> todo = new java.util.ArrayDeque<>();
    todo.push(root);
    while (!todo.isEmpty()) {
      JsonNode node = todo.pop();
      if (node.isTextual() && hasUnpairedSurrogate(node.textValue())) {
        return true;
      }
      if (node.isObject()) {
        var fields = node.fields();
        while (fields.hasNext()) {
          var field = fields.next();
          if (hasUnpairedSurrogate(field.getKey())) {
            return true;
          }
          todo.push(field.getValue());
        }
      } else if (node.isArray()) {
        node.forEach(todo::push);
      }
    }
    return false;
  }

  public static boolean hasUnpairedSurrogate(String s) {
    return ringkv.gossip.Wtf8.hasLoneSurrogate(s);
  }


  /** Parses a body that must be a JSON object. */
  public static ObjectNode parseObject(byte[] body) {
    JsonNode node = parseBody(body);
    if (!node.isObject()) {
      throw new KvException(ErrorCode.BAD_JSON, "the body must be a JSON object");
    }
    return (ObjectNode) node;
  }

  /**
   * Returns {@code text} if it is one valid JSON value (as a peer must send a stored value),
   * else throws a 400: invalid text would corrupt every answer that embeds it.
   */
  public static String requireValue(String text) {
    try {
      if (text == null || MAPPER.readTree(text) == null) {
        throw new KvException(ErrorCode.BAD_REQUEST, "a value must be JSON text");
      }
      return text;
    } catch (IOException e) {
      throw new KvException(ErrorCode.BAD_REQUEST, "a value is not JSON: "
          + firstLine(originalMessage(e)));
    }
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

  public static String originalMessage(IOException e) {
    if (e instanceof JsonProcessingException jpe) {
      return jpe.getOriginalMessage();
    }
    return e.getMessage();
  }

  public static String firstLine(String message) {
    if (message == null) {
      return "unparseable body";
    }
    int nl = message.indexOf('\n');
    return nl < 0 ? message : message.substring(0, nl);
  }
}
