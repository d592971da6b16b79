package ringkv.node.wire;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import ringkv.node.error.ErrorCode;
import ringkv.node.error.KvException;
import ringkv.node.json.Json;
import ringkv.ring.NodeAddress;

/**
 * Strict streaming reads of JSON documents: one token pass, typed values checked as they come,
 * anything unexpected a 400 ({@link KvException}) naming the field. Every message between nodes
 * is read with it, and so is what a client sends as causal metadata.
 *
 * <p>Stateless helpers around a {@link JsonParser}; the parser is the caller's.
 */
public final class JsonReader {
  /** Reads one field's value; the parser is on the value's first token. */
  @FunctionalInterface
  public interface Field {
    void read(String name, JsonParser p) throws IOException;
  }

  /** Reads a whole document with a parser positioned before its first token. */
  @FunctionalInterface
  public interface Document<T> {
    T read(JsonParser p) throws IOException;
  }

  private JsonReader() {}

  /** Reads {@code bytes} as one JSON document; trailing data and bad JSON are 400s. */
  public static <T> T read(byte[] bytes, Document<T> document) {
    if (bytes == null || bytes.length == 0) {
      throw bad("no body");
    }
    try (JsonParser p = Json.MAPPER.getFactory().createParser(bytes)) {
      T value = document.read(p);
      if (p.nextToken() != null) {
        throw bad("trailing data after the body");
      }
      return value;
    } catch (IOException e) {
      throw bad(Json.firstLine(Json.originalMessage(e)));
    }
  }

  /** Reads a tree through the same code as bytes (one reader for both forms). */
  public static <T> T read(JsonNode tree, Document<T> document) {
    try (JsonParser p = tree.traverse(Json.MAPPER)) {
      return document.read(p);
    } catch (IOException e) {
      throw bad(Json.firstLine(Json.originalMessage(e)));
    }
  }

  /**
   * Reads the object whose START_OBJECT is {@code start} (the current token), field by field;
   * {@code field} must consume each value (unknown fields: {@link #skip}).
   */
  public static void object(JsonParser p, JsonToken start, String what, Field field)
      throws IOException {
    if (start != JsonToken.START_OBJECT) {
      throw bad(what + " must be an object");
    }
    JsonToken t;
    while ((t = p.nextToken()) == JsonToken.FIELD_NAME) {
      String name = p.currentName();
      p.nextToken();
      field.read(name, p);
    }
    if (t != JsonToken.END_OBJECT) {
      throw bad("unexpected end of " + what);
    }
  }

  /** Reads a top-level object: the parser is before its first token. */
  public static void document(JsonParser p, String what, Field field) throws IOException {
    object(p, p.nextToken(), what, field);
  }

  /** Skips the current value (and its children). */
  public static void skip(JsonParser p) throws IOException {
    p.skipChildren();
  }

  /** A whole number in {@code min..max}. */
  public static long number(JsonParser p, String field, long min, long max) throws IOException {
    if (p.currentToken() != JsonToken.VALUE_NUMBER_INT
        || p.getNumberType() == JsonParser.NumberType.BIG_INTEGER) {
      throw bad("\"" + field + "\" must be a whole number in " + min + ".." + max);
    }
    long v = p.getLongValue();
    if (v < min || v > max) {
      throw bad("\"" + field + "\" must be a whole number in " + min + ".." + max);
    }
    return v;
  }

  /** A string of at most {@code charsMax} characters. */
  public static String text(JsonParser p, String field, int charsMax) throws IOException {
    if (p.currentToken() != JsonToken.VALUE_STRING) {
      throw bad("\"" + field + "\" must be a string");
    }
    String s = p.getText();
    if (s.length() > charsMax) {
      throw bad("\"" + field + "\" is longer than " + charsMax + " characters");
    }
    return s;
  }

  /** A string or null. */
  public static String textOrNull(JsonParser p, String field, int charsMax) throws IOException {
    return p.currentToken() == JsonToken.VALUE_NULL ? null : text(p, field, charsMax);
  }

  public static boolean bool(JsonParser p, String field) throws IOException {
    JsonToken t = p.currentToken();
    if (t != JsonToken.VALUE_TRUE && t != JsonToken.VALUE_FALSE) {
      throw bad("\"" + field + "\" must be true or false");
    }
    return t == JsonToken.VALUE_TRUE;
  }

  /** A node address {@code host:port}. */
  public static NodeAddress address(JsonParser p, String field) throws IOException {
    String s = text(p, field, NodeAddress.HOST_CHARS_MAX + 6);
    try {
      return NodeAddress.parse(s);
    } catch (IllegalArgumentException e) {
      throw bad("\"" + field + "\": " + e.getMessage());
    }
  }

  /** An array of at most {@code itemsMax} items, each read by {@code item}. */
  public static <T> List<T> array(JsonParser p, String field, int itemsMax, Document<T> item)
      throws IOException {
    if (p.currentToken() != JsonToken.START_ARRAY) {
      throw bad("\"" + field + "\" must be an array");
    }
    List<T> out = new ArrayList<>();
    while (p.nextToken() != JsonToken.END_ARRAY) {
      if (p.currentToken() == null) {
        throw bad("unexpected end of \"" + field + "\"");
      }
      if (out.size() >= itemsMax) {
        throw bad("\"" + field + "\" has more than " + itemsMax + " items");
      }
      out.add(item.read(p));
    }
    return out;
  }

  /** Fails unless a required field was present. */
  public static <T> T required(T value, String field) {
    if (value == null) {
      throw bad("\"" + field + "\" is missing");
    }
    return value;
  }

  public static KvException bad(String why) {
    return new KvException(ErrorCode.BAD_REQUEST, why);
  }
}
