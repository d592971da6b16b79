package ringkv.client;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.MissingNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * A JSON response body: one pass over its UTF-8 bytes checks that it is one JSON object and
 * notes where each field's value lies; nothing is decoded until asked for.
 *
 * <ul>
 *   <li>{@link #rawValue}: the exact text of the {@code "value"} field, so values come back
 *       exactly as stored ({@code 1.50} stays {@code 1.50}), which a Jackson tree would not
 *       preserve.
 *   <li>{@link #metadata}: the answer's causal metadata; when it is, byte for byte, what the
 *       request sent (an answer that brings nothing newer), the sent metadata itself, without
 *       parsing it.
 *   <li>{@link #error}, {@link #shardId}: read from their bytes; {@link #field} parses any
 *       field with Jackson.
 * </ul>
 *
 * <p>Why a scanner of our own: a Jackson parser per answer (its bootstrap, name
 * canonicalisation and a tree per field) was an eighth of the client's CPU at tens of
 * thousands of reads a second. The scan checks the JSON grammar (RFC 8259: structure,
 * strings and their escapes, numbers, literals, nesting up to {@link #DEPTH_MAX}); it does not
 * check that the bytes of a string are valid UTF-8 (they are decoded with replacement).
 *
 * <p>Immutable after parsing; thread-safe.
 */
final class ResponseBody {
  /** Deepest nesting accepted (Jackson's default bound). */
  static final int DEPTH_MAX = 1000;
  private static final int FIELDS_MAX = 256;

  private final byte[] bytes;
  /** Per field: name start, name end (inside the quotes), value start, value end. */
  private final int[] spans;
  private final int fieldCount;

  private ResponseBody(byte[] bytes, int[] spans, int fieldCount) {
    this.bytes = bytes;
    this.spans = spans;
    this.fieldCount = fieldCount;
  }

  /**
   * Parses a JSON object.
   *
   * @throws IOException if {@code text} is not one JSON object
   */
  static ResponseBody parse(String text) throws IOException {
    return parse(text.getBytes(StandardCharsets.UTF_8));
  }

  /**
   * Parses a JSON object in UTF-8 (the bytes are kept; do not change them afterwards).
   *
   * @throws IOException if {@code bytes} are not one JSON object
   */
  static ResponseBody parse(byte[] bytes) throws IOException {
    Scanner s = new Scanner(bytes);
    int[] spans = new int[4 * 8];
    int fields = 0;
    s.skipSpace();
    s.expect('{');
    s.skipSpace();
    if (s.peek() == '}') {
      s.pos++;
    } else {
      while (true) {
        s.skipSpace();
        int nameStart = s.pos + 1;
        s.string();
        int nameEnd = s.pos - 1;
        s.skipSpace();
        s.expect(':');
        s.skipSpace();
        int valueStart = s.pos;
        s.value(1);
        if (fields == FIELDS_MAX) {
          throw new IOException("more than " + FIELDS_MAX + " fields");
        }
        if (4 * fields + 4 > spans.length) {
          spans = Arrays.copyOf(spans, spans.length * 2);
        }
        spans[4 * fields] = nameStart;
        spans[4 * fields + 1] = nameEnd;
        spans[4 * fields + 2] = valueStart;
        spans[4 * fields + 3] = s.pos;
        fields++;
        s.skipSpace();
        if (s.peek() == ',') {
          s.pos++;
          continue;
        }
        s.expect('}');
        break;
      }
    }
    s.skipSpace();
    if (s.pos != bytes.length) {
      throw new IOException("the body is not one JSON object: more after it at byte " + s.pos);
    }
    return new ResponseBody(bytes, spans, fields);
  }

  /** Index of the last field called {@code name} (a repeated name: the last wins), or -1. */
  private int find(String name) {
    for (int f = fieldCount - 1; f >= 0; f--) {
      if (nameIs(f, name)) {
        return f;
      }
    }
    return -1;
  }

  private boolean nameIs(int f, String name) {
    int start = spans[4 * f];
    int end = spans[4 * f + 1];
    if (end - start == name.length()) {
      for (int i = 0; i < name.length(); i++) {
        if (bytes[start + i] != name.charAt(i)) {
          return false;
        }
      }
      return true;
    }
    // A name written with escapes: compare it decoded (never so in practice).
    for (int i = start; i < end; i++) {
      if (bytes[i] == '\\') {
        return name.equals(decodeString(start - 1, end + 1));
      }
    }
    return false;
  }

  /** A field (parsed with Jackson), or a missing node. */
  JsonNode field(String name) {
    int f = find(name);
    if (f < 0) {
      return MissingNode.getInstance();
    }
    int start = spans[4 * f + 2];
    try {
      return GetResult.EXACT.readTree(bytes, start, spans[4 * f + 3] - start);
    } catch (IOException e) {
      throw new IllegalStateException("scanned as JSON, yet Jackson refused it", e);
    }
  }

  /** The text of the {@code "error"} field when it is a string, else "". */
  String error() {
    int f = find("error");
    if (f < 0 || bytes[spans[4 * f + 2]] != '"') {
      return "";
    }
    return decodeString(spans[4 * f + 2], spans[4 * f + 3]);
  }

  /** The {@code "shard-id"} field as a number (or a numeric string), else 0. */
  int shardId() {
    int f = find("shard-id");
    if (f < 0) {
      return 0;
    }
    int start = spans[4 * f + 2];
    int end = spans[4 * f + 3];
    if (bytes[start] == '"') {
      start++;
      end--;
    }
    long n = 0;
    if (end <= start || end - start > 9) {
      return 0;
    }
    for (int i = start; i < end; i++) {
      if (bytes[i] < '0' || bytes[i] > '9') {
        return 0;
      }
      n = n * 10 + (bytes[i] - '0');
    }
    return (int) n;
  }

  /** The string whose quotes are at {@code start} and {@code end - 1}, unescaped. */
  private String decodeString(int start, int end) {
    for (int i = start + 1; i < end - 1; i++) {
      if (bytes[i] == '\\') {
        try {
          return GetResult.EXACT.readTree(bytes, start, end - start).asText();
        } catch (IOException e) {
          throw new IllegalStateException("scanned as a string, yet Jackson refused it", e);
        }
      }
    }
    return new String(bytes, start + 1, end - start - 2, StandardCharsets.UTF_8);
  }

  /**
   * The answer's causal metadata; {@code sent} itself when the answer carries it back
   * unchanged, byte for byte.
   *
   * @throws IllegalArgumentException if the field is not causal metadata
   */
  CausalMetadata metadata(CausalMetadata sent) {
    int f = find("causal-metadata");
    if (f >= 0) {
      int start = spans[4 * f + 2];
      int end = spans[4 * f + 3];
      byte[] sentJson = sent.jsonBytes();
      if (Arrays.equals(bytes, start, end, sentJson, 0, sentJson.length)) {
        return sent;
      }
      // The same entries in the server's order, or new ones: read without a JSON tree.
      CausalMetadata read = CausalMetadata.readPlain(GetResult.EXACT.getFactory(), bytes, start,
          end - start, sent);
      if (read != null) {
        return read;
      }
    }
    return CausalMetadata.fromJson(field("causal-metadata"));
  }

  /** The exact text of the {@code "value"} field, or null if there is none. */
  String rawValue() {
    int f = find("value");
    if (f < 0) {
      return null;
    }
    int start = spans[4 * f + 2];
    return new String(bytes, start, spans[4 * f + 3] - start, StandardCharsets.UTF_8);
  }

  /** One pass over JSON text: checks the grammar, moves {@link #pos} past what it read. */
  private static final class Scanner {
    private final byte[] b;
    int pos;

    Scanner(byte[] b) {
      this.b = b;
    }

    int peek() throws IOException {
      if (pos >= b.length) {
        throw new IOException("the body ends too early");
      }
      return b[pos];
    }

    void expect(char c) throws IOException {
      if (peek() != c) {
        throw new IOException("expected '" + c + "' at byte " + pos);
      }
      pos++;
    }

    void skipSpace() {
      while (pos < b.length && (b[pos] == ' ' || b[pos] == '\n' || b[pos] == '\r'
          || b[pos] == '\t')) {
        pos++;
      }
    }

    void value(int depth) throws IOException {
      if (depth > DEPTH_MAX) {
        throw new IOException("nested deeper than " + DEPTH_MAX);
      }
      int c = peek();
      switch (c) {
        case '{' -> container(depth, '}', true);
        case '[' -> container(depth, ']', false);
        case '"' -> string();
        case 't' -> literal("true");
        case 'f' -> literal("false");
        case 'n' -> literal("null");
        default -> number();
      }
    }

    /** An object ({@code keyed}: of "name": value members) or an array, up to {@code close}. */
    private void container(int depth, char close, boolean keyed) throws IOException {
      pos++;
      skipSpace();
      if (peek() == close) {
        pos++;
        return;
      }
      while (true) {
        skipSpace();
        if (keyed) {
          string();
          skipSpace();
          expect(':');
          skipSpace();
        }
        value(depth + 1);
        skipSpace();
        if (peek() == ',') {
          pos++;
          continue;
        }
        expect(close);
        return;
      }
    }

    void string() throws IOException {
      expect('"');
      int i = pos;
      while (i < b.length) {
        int c = b[i] & 0xff;
        if (c == '"') {
          pos = i + 1;
          return;
        }
        if (c < 0x20) {
          throw new IOException("a control character in a string at byte " + i);
        }
        if (c == '\\') {
          pos = i + 1;
          escape();
          i = pos;
        } else {
          i++;
        }
      }
      pos = i;
      throw new IOException("the body ends inside a string");
    }

    /** After a backslash: one escape of RFC 8259 §7. */
    private void escape() throws IOException {
      int e = peek();
      pos++;
      if (e == 'u') {
        for (int k = 0; k < 4; k++) {
          if (Character.digit(peek(), 16) < 0) {
            throw new IOException("bad \\u escape at byte " + pos);
          }
          pos++;
        }
      } else if ("\"\\/bfnrt".indexOf(e) < 0) {
        throw new IOException("bad escape at byte " + (pos - 1));
      }
    }

    private void literal(String word) throws IOException {
      for (int i = 0; i < word.length(); i++) {
        if (peek() != word.charAt(i)) {
          throw new IOException("bad literal at byte " + pos);
        }
        pos++;
      }
    }

    /** {@code -? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?} */
    private void number() throws IOException {
      int start = pos;
      if (pos < b.length && b[pos] == '-') {
        pos++;
      }
      if (pos < b.length && b[pos] == '0') {
        pos++;
      } else if (digits() == 0) {
        throw new IOException("not a JSON value at byte " + start);
      }
      if (pos < b.length && b[pos] == '.') {
        pos++;
        if (digits() == 0) {
          throw new IOException("bad number at byte " + start);
        }
      }
      if (pos < b.length && (b[pos] == 'e' || b[pos] == 'E')) {
        pos++;
        if (pos < b.length && (b[pos] == '+' || b[pos] == '-')) {
          pos++;
        }
        if (digits() == 0) {
          throw new IOException("bad number at byte " + start);
        }
      }
    }

    private int digits() {
      int n = 0;
      while (pos < b.length && b[pos] >= '0' && b[pos] <= '9') {
        pos++;
        n++;
      }
      return n;
    }
  }
}
