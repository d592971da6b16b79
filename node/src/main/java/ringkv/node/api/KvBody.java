package ringkv.node.api;
import ringkv.node.json.Json;
import ringkv.node.error.KvException;
import ringkv.node.error.ErrorCode;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;

/**
 * The body of a key-value request, {@code {"value": <any JSON>, "<context field>": ...}}, read in
 * one streaming pass instead of as a tree: the value's exact text (byte for byte as the client
 * wrote it) and the causal metadata field as a small tree for {@link Wire#decodeContext}. Other
 * fields are read and validated, not kept.
 *
 * <p>It accepts and refuses exactly what a tree parse ({@link Json#parseObject}) does: invalid
 * JSON, trailing tokens, a body that is not an object, and a string or field name anywhere with
 * an unpaired UTF-16 surrogate are 400s; a repeated field counts once, the last time.
 *
 * @param hasValue whether the body has a {@code "value"} field
 * @param rawValue the exact JSON text of the last {@code "value"} field, or null
 * @param context the last {@code contextField}, or null when absent
 */
record KvBody(boolean hasValue, String rawValue, JsonNode context) {
  static final KvBody EMPTY = new KvBody(false, null, null);
  /** Reads one field's value as a tree, leaving the parser inside the body. */
  private static final ObjectReader SUBTREE =
      Json.MAPPER.reader().without(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

  static KvBody parse(byte[] body, String contextField) {
    if (body == null || isBlank(body)) {
      return EMPTY;
    }
    try (JsonParser p = Json.MAPPER.getFactory().createParser(body)) {
      JsonToken first = p.nextToken();
      if (first != JsonToken.START_OBJECT) {
        // Anything else is refused; the tree parse gives the same messages for bad JSON.
        Json.parseObject(body);
        throw new KvException(ErrorCode.BAD_JSON, "the body must be a JSON object");
      }
      String value = null;
      JsonNode context = null;
      boolean hasValue = false;
      JsonToken t;
      while ((t = p.nextToken()) == JsonToken.FIELD_NAME) {
        String name = p.currentName();
        checkSurrogates(name);
        JsonToken start = p.nextToken();
        if (name.equals(contextField)) {
          context = SUBTREE.readTree(p);
          if (Json.hasUnpairedSurrogate(context)) {
            throw unpaired();
          }
        } else if (name.equals("value")) {
          long from = p.currentTokenLocation().getByteOffset();
          skipChecked(p, start);
          p.finishToken(); // a string's end is known only once it is read
          long to = p.currentLocation().getByteOffset();
          value = new String(body, (int) from, (int) (to - from), StandardCharsets.UTF_8);
          hasValue = true;
        } else {
          skipChecked(p, start);
        }
      }
      if (t != JsonToken.END_OBJECT) {
        throw new KvException(ErrorCode.BAD_JSON, "unexpected end of the body");
      }
      if (p.nextToken() != null) {
        throw new KvException(ErrorCode.BAD_JSON, "trailing token after the JSON object: "
            + p.currentToken());
      }
      return new KvBody(hasValue, value, context);
    } catch (IOException e) {
      throw new KvException(ErrorCode.BAD_JSON, Json.firstLine(Json.originalMessage(e)));
    }
  }

  /** Reads past the value that starts with {@code start}, checking its strings and names. */
  private static void skipChecked(JsonParser p, JsonToken start) throws IOException {
    if (start == JsonToken.VALUE_STRING) {
      checkSurrogates(p.getText());
      return;
    }
    if (start != JsonToken.START_OBJECT && start != JsonToken.START_ARRAY) {
      return;
    }
    int depth = 1;
    while (depth > 0) {
      JsonToken t = p.nextToken();
      if (t == null) {
        throw new KvException(ErrorCode.BAD_JSON, "unexpected end of the body");
      }
      switch (t) {
        case START_OBJECT, START_ARRAY -> depth++;
        case END_OBJECT, END_ARRAY -> depth--;
        case FIELD_NAME -> checkSurrogates(p.currentName());
        case VALUE_STRING -> checkSurrogates(p.getText());
        default -> { }
      }
    }
  }

  private static void checkSurrogates(String s) {
    if (Json.hasUnpairedSurrogate(s)) {
      throw unpaired();
    }
  }

  private static KvException unpaired() {
    return new KvException(ErrorCode.BAD_JSON, "a string holds an unpaired UTF-16 surrogate");
  }

  private static boolean isBlank(byte[] body) {
    for (byte b : body) {
      if (b != ' ' && b != '\n' && b != '\r' && b != '\t') {
        return false;
      }
    }
    return true;
  }
}
