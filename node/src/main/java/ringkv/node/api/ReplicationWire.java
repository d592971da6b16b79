package ringkv.node.api;
import ringkv.node.json.Json;
import ringkv.node.error.KvException;
import ringkv.node.error.ErrorCode;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.util.ByteArrayBuilder;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import ringkv.gossip.CausalContext;
import ringkv.gossip.Entry;
import ringkv.gossip.Version;

/**
 * The body of {@code POST /internal/replicate}, written and read in one streaming pass: it
 * carries every replicated write, so trees for it (and a re-parse of each value into a tree to
 * check it) cost more than the rest of applying a batch.
 *
 * <p>The text is the same as {@link Wire#entries}' inside {@code {"from": ..., "entries": [...]}}
 * (an entry: {@code key}, {@code json} (the value's text) or {@code tombstone}, {@code version},
 * optional {@code deps}), so either side may use either form. Reading checks what
 * {@link Wire#decodeEntry} checks: every entry has a key and a version, a value is one valid JSON
 * value; a bad body is a 400 ({@link KvException}).
 */
public final class ReplicationWire {
  private ReplicationWire() {}

  /** A decoded replication body. */
  public record Batch(String from, boolean transfer, List<Entry> entries) {}

  /** The body for a batch of {@code entries} from node {@code from}. */
  public static byte[] encode(String from, List<Entry> entries) {
    ByteArrayBuilder out = new ByteArrayBuilder(256 + 160 * entries.size());
    try (JsonGenerator g = Json.MAPPER.getFactory().createGenerator(out)) {
      g.writeStartObject();
      g.writeStringField("from", from);
      g.writeArrayFieldStart("entries");
      for (Entry e : entries) {
        g.writeStartObject();
        g.writeStringField("key", e.key());
        if (e.isTombstone()) {
          g.writeBooleanField("tombstone", true);
        } else {
          g.writeStringField("json", e.value());
        }
        g.writeFieldName("version");
        writeVersion(g, e.version());
        if (!e.deps().isEmpty()) {
          g.writeObjectFieldStart("deps");
          g.writeObjectFieldStart("keys");
          for (Map.Entry<String, Version> d : e.deps().keys().entrySet()) {
            g.writeFieldName(d.getKey());
            writeVersion(g, d.getValue());
          }
          g.writeEndObject();
          g.writeEndObject();
        }
        g.writeEndObject();
      }
      g.writeEndArray();
      g.writeEndObject();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toByteArray();
  }

  private static void writeVersion(JsonGenerator g, Version v) throws IOException {
    g.writeStartArray();
    g.writeNumber(v.counter());
    g.writeString(v.node());
    g.writeEndArray();
  }

  /** Reads a replication body; a body that is not one is a 400. */
  public static Batch decode(byte[] body) {
    if (body == null || body.length == 0) {
      throw bad("no body");
    }
    try (JsonParser p = Json.MAPPER.getFactory().createParser(body)) {
      expect(p.nextToken(), JsonToken.START_OBJECT, "the body must be an object");
      String from = "";
      boolean transfer = false;
      List<Entry> entries = null;
      while (p.nextToken() == JsonToken.FIELD_NAME) {
        String name = p.currentName();
        JsonToken t = p.nextToken();
        switch (name) {
          case "from" -> from = t == JsonToken.VALUE_STRING ? p.getText() : "";
          case "transfer" -> transfer = t == JsonToken.VALUE_TRUE;
          case "entries" -> entries = readEntries(p, t);
          default -> p.skipChildren();
        }
      }
      if (p.nextToken() != null) {
        throw bad("trailing data after the body");
      }
      if (entries == null) {
        throw bad("\"entries\" must be an array");
      }
      return new Batch(from, transfer, entries);
    } catch (IOException e) {
      throw bad(Json.firstLine(Json.originalMessage(e)));
    }
  }

  private static List<Entry> readEntries(JsonParser p, JsonToken start) throws IOException {
    expect(start, JsonToken.START_ARRAY, "\"entries\" must be an array");
    List<Entry> out = new ArrayList<>();
    JsonToken t;
    while ((t = p.nextToken()) != JsonToken.END_ARRAY) {
      expect(t, JsonToken.START_OBJECT, "an entry must be an object");
      out.add(readEntry(p));
    }
    return out;
  }

  private static Entry readEntry(JsonParser p) throws IOException {
    String key = null;
    String value = null;
    boolean tombstone = false;
    Version version = null;
    CausalContext deps = CausalContext.EMPTY;
    while (p.nextToken() == JsonToken.FIELD_NAME) {
      String name = p.currentName();
      JsonToken t = p.nextToken();
      switch (name) {
        case "key" -> {
          expect(t, JsonToken.VALUE_STRING, "entry without key");
          key = p.getText();
        }
        case "json" -> {
          expect(t, JsonToken.VALUE_STRING, "entry without value");
          value = p.getText();
        }
        case "tombstone" -> tombstone = t == JsonToken.VALUE_TRUE;
        case "version" -> version = readVersion(p, t);
        case "deps" -> deps = readDeps(p, t);
        default -> p.skipChildren();
      }
    }
    if (key == null) {
      throw bad("entry without key");
    }
    if (version == null) {
      throw new KvException(ErrorCode.BAD_METADATA, "a version must be [counter, \"node\"]");
    }
    if (tombstone) {
      return Entry.tombstone(key, version, deps);
    }
    if (value == null) {
      throw bad("entry without value");
    }
    return Entry.value(key, requireValue(value), version, deps);
  }

  private static Version readVersion(JsonParser p, JsonToken start) throws IOException {
    if (start != JsonToken.START_ARRAY || p.nextToken() != JsonToken.VALUE_NUMBER_INT
        || p.getNumberType() == JsonParser.NumberType.BIG_INTEGER) {
      throw new KvException(ErrorCode.BAD_METADATA, "a version must be [counter, \"node\"]");
    }
    long counter = p.getLongValue();
    if (p.nextToken() != JsonToken.VALUE_STRING) {
      throw new KvException(ErrorCode.BAD_METADATA, "a version must be [counter, \"node\"]");
    }
    String node = p.getText();
    if (p.nextToken() != JsonToken.END_ARRAY) {
      throw new KvException(ErrorCode.BAD_METADATA, "a version must be [counter, \"node\"]");
    }
    if (counter < 1 || node.isEmpty() || node.length() > 300) {
      throw new KvException(ErrorCode.BAD_METADATA, "bad version [" + counter + ", " + node
          + "]");
    }
    return Version.decoded(counter, node);
  }

  private static CausalContext readDeps(JsonParser p, JsonToken start) throws IOException {
    if (start == JsonToken.VALUE_NULL) {
      return CausalContext.EMPTY;
    }
    if (start != JsonToken.START_OBJECT) {
      throw new KvException(ErrorCode.BAD_METADATA, "it must be an object (or empty)");
    }
    Map<String, Version> keys = new HashMap<>();
    while (p.nextToken() == JsonToken.FIELD_NAME) {
      String name = p.currentName();
      JsonToken t = p.nextToken();
      if (!name.equals("keys") || t == JsonToken.VALUE_NULL) {
        p.skipChildren();
        continue;
      }
      if (t != JsonToken.START_OBJECT) {
        throw new KvException(ErrorCode.BAD_METADATA, "\"keys\" must be an object");
      }
      while (p.nextToken() == JsonToken.FIELD_NAME) {
        String key = p.currentName();
        keys.put(key, readVersion(p, p.nextToken()));
      }
    }
    return CausalContext.of(keys);
  }

  /**
   * {@code text} if it is one valid JSON value, else a 400: invalid text would corrupt every
   * answer that embeds it. A token pass, no tree.
   */
  static String requireValue(String text) {
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

  private static void expect(JsonToken got, JsonToken wanted, String why) {
    if (got != wanted) {
      throw bad(why);
    }
  }

  private static KvException bad(String why) {
    return new KvException(ErrorCode.BAD_REQUEST, why);
  }
}
