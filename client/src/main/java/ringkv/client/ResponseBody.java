package ringkv.client;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.MissingNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;

/**
 * A JSON response body split into its fields and, verbatim, the text of its {@code "value"}
 * field: values come back exactly as stored ({@code 1.50} stays {@code 1.50}), which a Jackson
 * tree would not preserve.
 *
 * <p>Immutable after parsing; thread-safe.
 */
final class ResponseBody {
  private final ObjectNode fields;
  private final String rawValue;

  private ResponseBody(ObjectNode fields, String rawValue) {
    this.fields = fields;
    this.rawValue = rawValue;
  }

  /**
   * Parses a JSON object.
   *
   * @throws IOException if {@code text} is not one JSON object
   */
  static ResponseBody parse(String text) throws IOException {
    ObjectNode fields = GetResult.EXACT.createObjectNode();
    String raw = null;
    // A char[] source makes token offsets char offsets into text.
    try (JsonParser p = GetResult.EXACT.getFactory().createParser(text.toCharArray())) {
      if (p.nextToken() != JsonToken.START_OBJECT) {
        throw new IOException("the body is not a JSON object");
      }
      JsonToken t = p.nextToken();
      while (t == JsonToken.FIELD_NAME) {
        String name = p.currentName();
        p.nextToken();
        if ("value".equals(name)) {
          int start = (int) p.currentTokenLocation().getCharOffset();
          p.skipChildren();
          t = p.nextToken(); // the next field name or the closing brace
          int end = (int) p.currentTokenLocation().getCharOffset();
          raw = stripSeparator(text.substring(start, end));
        } else {
          fields.set(name, GetResult.EXACT.readTree(p));
          t = p.nextToken();
        }
      }
      if (t != JsonToken.END_OBJECT || p.nextToken() != null) {
        throw new IOException("the body is not one JSON object");
      }
    }
    return new ResponseBody(fields, raw);
  }

  /** Drops the whitespace and the one comma that separate a value from the next token. */
  private static String stripSeparator(String s) {
    String out = s.strip();
    if (out.endsWith(",")) {
      out = out.substring(0, out.length() - 1).strip();
    }
    return out;
  }

  /** A field other than {@code "value"}, or a missing node. */
  JsonNode field(String name) {
    JsonNode n = fields.get(name);
    return n == null ? MissingNode.getInstance() : n;
  }

  /** The exact text of the {@code "value"} field, or null if there is none. */
  String rawValue() {
    return rawValue;
  }
}
