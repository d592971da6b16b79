package ringkv.node.wire;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import java.io.IOException;
import java.util.List;
import ringkv.gossip.CausalContext;
import ringkv.gossip.Entry;
import ringkv.gossip.Version;
import ringkv.node.error.ErrorCode;
import ringkv.node.error.KvException;

/**
 * The one JSON form of a stored entry between nodes (replication batches, pulls, catch-up pages,
 * view-change transfers, anti-entropy repairs), and its one writer and reader:
 * {@code {"key":K, "json":"<the value's JSON text>" | "tombstone":true, "version":[c,"n"],
 * "deps":{"keys":{...}}}} ({@code deps} omitted when empty). The value travels as its exact text,
 * so it comes back byte for byte; the reader checks it is one JSON value (a token pass, no tree),
 * since invalid text would corrupt every answer that embeds it.
 */
public final class EntryJson {
  /** Longest key an entry may carry (a client key is at most 50 code points). */
  public static final int KEY_CHARS_MAX = 200;

  private EntryJson() {}

  public static void write(JsonGenerator g, Entry e) throws IOException {
    g.writeStartObject();
    g.writeStringField("key", e.key());
    if (e.isTombstone()) {
      g.writeBooleanField("tombstone", true);
    } else {
      g.writeStringField("json", e.value());
    }
    g.writeFieldName("version");
    ContextJson.writeVersion(g, e.version());
    if (!e.deps().isEmpty()) {
      g.writeFieldName("deps");
      ContextJson.write(g, e.deps());
    }
    g.writeEndObject();
  }

  public static void writeAll(JsonGenerator g, List<Entry> entries) throws IOException {
    g.writeStartArray();
    for (Entry e : entries) {
      write(g, e);
    }
    g.writeEndArray();
  }

  /**
   * Reads an array of at most {@code entriesMax} entries whose START_ARRAY is the current token;
   * versions above {@code clockLimit} are refused.
   */
  public static List<Entry> readAll(JsonParser p, String field, int entriesMax, long clockLimit)
      throws IOException {
    return JsonReader.array(p, field, entriesMax, q -> read(q, clockLimit));
  }

  /** Reads the entry whose START_OBJECT is the current token. */
  public static Entry read(JsonParser p, long clockLimit) throws IOException {
    String[] key = {null};
    String[] value = {null};
    boolean[] tombstone = {false};
    Version[] version = {null};
    CausalContext[] deps = {CausalContext.EMPTY};
    JsonReader.object(p, p.currentToken(), "an entry", (name, q) -> {
      switch (name) {
        case "key" -> key[0] = JsonReader.text(q, "key", KEY_CHARS_MAX);
        case "json" -> value[0] = JsonReader.text(q, "json", Integer.MAX_VALUE);
        case "tombstone" -> tombstone[0] = JsonReader.bool(q, "tombstone");
        case "version" -> version[0] = ContextJson.readVersion(q, q.currentToken(), clockLimit);
        case "deps" -> deps[0] = ContextJson.read(q, q.currentToken(), clockLimit);
        default -> JsonReader.skip(q);
      }
    });
    if (key[0] == null) {
      throw JsonReader.bad("entry without key");
    }
    if (version[0] == null) {
      throw new KvException(ErrorCode.BAD_METADATA, "a version must be [counter, \"node\"]");
    }
    if (tombstone[0]) {
      return Entry.tombstone(key[0], version[0], deps[0]);
    }
    if (value[0] == null) {
      throw JsonReader.bad("entry without value");
    }
    return Entry.value(key[0], JsonValues.requireValue(value[0]), version[0], deps[0]);
  }
}
