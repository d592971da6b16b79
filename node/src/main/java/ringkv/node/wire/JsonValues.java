package ringkv.node.wire;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import java.io.IOException;
import ringkv.node.error.ErrorCode;
import ringkv.node.error.KvException;
import ringkv.node.json.Json;

/** The one check that a text is a single JSON value, as a stored value must be. */
public final class JsonValues {
  private JsonValues() {}

  /**
   * {@code text} if it is one valid JSON value, else a 400: invalid text would corrupt every
   * answer that embeds it. A token pass, no tree.
   */
  public static String requireValue(String text) {
    if (text == null) {
      throw bad("a value must be JSON text");
    }
    try (JsonParser p = Json.MAPPER.getFactory().createParser(text)) {
      JsonToken first = p.nextToken();
      if (first == null) {
        throw bad("a value must be JSON text");
      }
      int depth = first == JsonToken.START_OBJECT || first == JsonToken.START_ARRAY ? 1 : 0;
      while (depth > 0) {
        JsonToken t = p.nextToken();
        if (t == null) {
          throw bad("a value is not JSON: unexpected end");
        }
        if (t == JsonToken.START_OBJECT || t == JsonToken.START_ARRAY) {
          depth++;
        } else if (t == JsonToken.END_OBJECT || t == JsonToken.END_ARRAY) {
          depth--;
        }
      }
      if (p.nextToken() != null) {
        throw bad("a value is not JSON: trailing data");
      }
      return text;
    } catch (IOException e) {
      throw bad("a value is not JSON: " + Json.firstLine(Json.originalMessage(e)));
    }
  }

  private static KvException bad(String why) {
    return new KvException(ErrorCode.BAD_REQUEST, why);
  }
}
