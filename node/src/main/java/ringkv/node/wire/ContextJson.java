package ringkv.node.wire;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import ringkv.gossip.CausalContext;
import ringkv.gossip.Version;
import ringkv.node.error.ErrorCode;
import ringkv.node.error.KvException;
import ringkv.node.json.Json;

/**
 * The one JSON form of a causal context — clients' {@code causal-metadata} and
 * {@code causal-context}, forwarded requests, entries' dependencies — and its one writer and
 * reader: {@code {"keys":{"<key>":[<counter>,"<node>"],...}}}. Clients treat it as opaque;
 * {@code ""}, {@code null}, {@code {}}, no {@code "keys"} or no field at all mean "no history",
 * and a client that sends it back as a JSON string of that object is understood too.
 *
 * <p>Reading refuses (400 "Invalid causal metadata") anything else, more than
 * {@link #ENTRIES_MAX} entries, and counters above the caller's {@code clockLimit}: no honest
 * node issued them.
 */
public final class ContextJson {
  /** Bound on the entries of a context anyone may send. */
  public static final int ENTRIES_MAX = 100_000;
  /** Longest writer id in a version (a node address is far shorter). */
  public static final int NODE_CHARS_MAX = 300;

  private ContextJson() {}

  public static void write(JsonGenerator g, CausalContext ctx) throws IOException {
    g.writeStartObject();
    g.writeFieldName("keys");
    g.writeStartObject();
    for (Map.Entry<String, Version> e : ctx.keys().entrySet()) {
      g.writeFieldName(e.getKey());
      writeVersion(g, e.getValue());
    }
    g.writeEndObject();
    g.writeEndObject();
  }

  public static void writeVersion(JsonGenerator g, Version v) throws IOException {
    g.writeStartArray();
    g.writeNumber(v.counter());
    g.writeString(v.node());
    g.writeEndArray();
  }

  /**
   * A context in exactly the form {@link #write} gives it with plain names (keys and writer
   * ids of printable ASCII without a quote or a backslash, written as they are), read by hand
   * from {@code text} at {@code from}: one pass over the bytes, no tokens, and one writer-id
   * string for a run of entries by the same writer. Returns null, reading nothing, for anything
   * else — another form, a counter out of [1, {@code clockLimit}], a writer id too long, a
   * repeated key, too many entries — for the general reader to read or refuse; the context and
   * where its text ends, else.
   */
  public static Plain readPlain(byte[] text, int from, long clockLimit) {
    int i = from;
    if (!startsWith(text, i, KEYS_OPEN)) {
      return null;
    }
    i += KEYS_OPEN.length;
    HashMap<String, Version> keys = new HashMap<>();
    String lastNode = null;
    int lastNodeFrom = -1;
    while (i < text.length && text[i] != '}') {
      if (!keys.isEmpty() && text[i++] != ',') {
        return null;
      }
      int keyEnd = plainString(text, i);
      if (keyEnd < 0 || keyEnd + 2 >= text.length || text[keyEnd] != ':'
          || text[keyEnd + 1] != '[') {
        return null;
      }
      String key = new String(text, i + 1, keyEnd - i - 2, StandardCharsets.ISO_8859_1);
      i = keyEnd + 2;
      long counter = 0;
      int digitsFrom = i;
      while (i < text.length && text[i] >= '0' && text[i] <= '9' && i - digitsFrom < 18) {
        counter = counter * 10 + (text[i++] - '0');
      }
      if (i == digitsFrom || text[digitsFrom] == '0' || counter > clockLimit
          || i >= text.length || text[i++] != ',') {
        return null;
      }
      int nodeEnd = plainString(text, i);
      int nodeLength = nodeEnd - i - 2;
      if (nodeEnd < 0 || nodeLength < 1 || nodeLength > NODE_CHARS_MAX
          || nodeEnd >= text.length || text[nodeEnd] != ']') {
        return null;
      }
      if (lastNode == null || lastNode.length() != nodeLength
          || !Arrays.equals(text, i + 1, nodeEnd - 1, text, lastNodeFrom,
              lastNodeFrom + nodeLength)) {
        lastNode = new String(text, i + 1, nodeLength, StandardCharsets.ISO_8859_1);
        lastNodeFrom = i + 1;
      }
      if (keys.put(key, new Version(counter, lastNode)) != null || keys.size() > ENTRIES_MAX) {
        return null;
      }
      i = nodeEnd + 1;
    }
    if (i + 1 >= text.length || text[i + 1] != '}') {
      return null;
    }
    return new Plain(CausalContext.of(keys), i + 2);
  }

  /**
   * A context read by {@link #readPlain} and the offset just past its text.
   *
   * @param context the context
   * @param end where its text ends (exclusive)
   */
  public record Plain(CausalContext context, int end) {}

  private static final byte[] KEYS_OPEN = "{\"keys\":{".getBytes(StandardCharsets.US_ASCII);

  /** Whether {@code text} holds {@code prefix} at {@code from}. */
  public static boolean startsWith(byte[] text, int from, byte[] prefix) {
    return from >= 0 && text.length - from >= prefix.length
        && Arrays.equals(text, from, from + prefix.length, prefix, 0, prefix.length);
  }

  /**
   * The end (exclusive) of the string at {@code from} when it is quoted plain printable ASCII
   * (no quote or backslash inside), else -1.
   */
  private static int plainString(byte[] text, int from) {
    if (from >= text.length || text[from] != '"') {
      return -1;
    }
    for (int i = from + 1; i < text.length; i++) {
      byte b = text[i];
      if (b == '"') {
        return i + 1;
      }
      if (b < 0x20 || b > 0x7e || b == '\\') {
        return -1;
      }
    }
    return -1;
  }



  /** The context as bytes (for a test or a body of its own). */
  public static byte[] bytes(CausalContext ctx) {
    return JsonWriter.bytes(64 + 48 * ctx.size(), g -> write(g, ctx));
  }

  /** Reads a context given as a tree (a client's field); null or missing mean none. */
  public static CausalContext read(JsonNode node, long clockLimit) {
    if (node == null || node.isMissingNode()) {
      return CausalContext.EMPTY;
    }
    return JsonReader.read(node, p -> read(p, p.nextToken(), clockLimit));
  }

  /** Reads the context whose first token is {@code start} (the current token). */
  public static CausalContext read(JsonParser p, JsonToken start, long clockLimit)
      throws IOException {
    if (start == JsonToken.VALUE_NULL) {
      return CausalContext.EMPTY;
    }
    if (start == JsonToken.VALUE_STRING) {
      String text = p.getText().trim();
      if (text.isEmpty()) {
        return CausalContext.EMPTY;
      }
      try (JsonParser inner = Json.MAPPER.getFactory().createParser(text)) {
        JsonToken first = inner.nextToken();
        if (first != JsonToken.START_OBJECT && first != JsonToken.VALUE_NULL) {
          throw bad("it is not the metadata a RingKV response gave");
        }
        CausalContext ctx = read(inner, first, clockLimit);
        if (inner.nextToken() != null) {
          throw bad("it is not the metadata a RingKV response gave");
        }
        return ctx;
      } catch (IOException e) {
        throw bad("it is not the metadata a RingKV response gave");
      }
    }
    if (start != JsonToken.START_OBJECT) {
      throw bad("it must be an object (or empty)");
    }
    CausalContext out = CausalContext.EMPTY;
    JsonToken t;
    while ((t = p.nextToken()) == JsonToken.FIELD_NAME) {
      String name = p.currentName();
      JsonToken value = p.nextToken();
      if (name.equals("keys")) {
        out = readKeys(p, value, clockLimit);
      } else {
        p.skipChildren();
      }
    }
    if (t != JsonToken.END_OBJECT) {
      throw bad("unexpected end");
    }
    return out;
  }

  private static CausalContext readKeys(JsonParser p, JsonToken start, long clockLimit)
      throws IOException {
    if (start == JsonToken.VALUE_NULL) {
      return CausalContext.EMPTY;
    }
    if (start != JsonToken.START_OBJECT) {
      throw bad("\"keys\" must be an object");
    }
    Map<String, Version> keys = new HashMap<>();
    while (p.nextToken() == JsonToken.FIELD_NAME) {
      String key = p.currentName();
      keys.put(key, readVersion(p, p.nextToken(), clockLimit));
      if (keys.size() > ENTRIES_MAX) {
        throw bad("more than " + ENTRIES_MAX + " entries");
      }
    }
    return CausalContext.of(keys);
  }

  /** Reads {@code [counter, "node"]}: counter 1..{@code clockLimit}, a node name. */
  public static Version readVersion(JsonParser p, JsonToken start, long clockLimit)
      throws IOException {
    if (start != JsonToken.START_ARRAY || p.nextToken() != JsonToken.VALUE_NUMBER_INT
        || p.getNumberType() == JsonParser.NumberType.BIG_INTEGER) {
      throw bad("a version must be [counter, \"node\"]");
    }
    long counter = p.getLongValue();
    if (p.nextToken() != JsonToken.VALUE_STRING) {
      throw bad("a version must be [counter, \"node\"]");
    }
    String node = p.getText();
    if (p.nextToken() != JsonToken.END_ARRAY) {
      throw bad("a version must be [counter, \"node\"]");
    }
    if (counter < 1 || node.isEmpty() || node.length() > NODE_CHARS_MAX) {
      throw bad("bad version [" + counter + ", " + node + "]");
    }
    if (counter > clockLimit) {
      throw bad("clock " + counter + " is absurdly far in the future");
    }
    return Version.decoded(counter, node);
  }

  private static KvException bad(String why) {
    return new KvException(ErrorCode.BAD_METADATA, why);
  }
}
