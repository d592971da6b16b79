package ringkv.node.wire;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.zip.CRC32C;
import ringkv.gossip.CausalContext;
import ringkv.gossip.Entry;
import ringkv.gossip.Version;
import ringkv.node.error.ErrorCode;
import ringkv.node.error.KvException;

/**
 * The one JSON form of a stored entry between nodes (replication batches, pulls, catch-up pages,
 * view-change transfers, anti-entropy repairs), and its one writer and reader:
 * {@code {"key":K, "json":"<the value's JSON text>" | "tombstone":true, "version":[c,"n"],
 * "deps":{"keys":{...}}, "crc":C}} ({@code deps} omitted when empty). The value travels as its
 * exact text, so it comes back byte for byte; the reader checks it is one JSON value (a token
 * pass, no tree), since invalid text would corrupt every answer that embeds it.
 *
 * <p>{@code crc} is a CRC32C of the key, the value (or the tombstone mark) and the version
 * ({@link #crc}), written with every entry and checked on every read where present (a peer of
 * an earlier release sends none): an entry whose bytes changed on the way is refused, and with
 * it the whole message (400), which its sender then sends again.
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
    g.writeNumberField("crc", crc(e.key(), e.isTombstone() ? null : e.value(), e.version()));
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
    long[] crc = {-1};
    JsonReader.object(p, p.currentToken(), "an entry", (name, q) -> {
      switch (name) {
        case "key" -> key[0] = JsonReader.text(q, "key", KEY_CHARS_MAX);
        case "json" -> value[0] = JsonReader.text(q, "json", Integer.MAX_VALUE);
        case "tombstone" -> tombstone[0] = JsonReader.bool(q, "tombstone");
        case "version" -> version[0] = ContextJson.readVersion(q, q.currentToken(), clockLimit);
        case "deps" -> deps[0] = ContextJson.read(q, q.currentToken(), clockLimit);
        case "crc" -> crc[0] = JsonReader.number(q, "crc", 0, 0xFFFF_FFFFL);
        default -> JsonReader.skip(q);
      }
    });
    if (key[0] == null) {
      throw JsonReader.bad("entry without key");
    }
    if (version[0] == null) {
      throw new KvException(ErrorCode.BAD_METADATA, "a version must be [counter, \"node\"]");
    }
    if (!tombstone[0] && value[0] == null) {
      throw JsonReader.bad("entry without value");
    }
    if (crc[0] >= 0 && crc[0] != crc(key[0], tombstone[0] ? null : value[0], version[0])) {
      throw new KvException(ErrorCode.BAD_REQUEST, "the entry of " + key[0]
          + " fails its checksum (changed on the way)");
    }
    if (tombstone[0]) {
      return Entry.tombstone(key[0], version[0], deps[0]);
    }
    return Entry.value(key[0], JsonValues.requireValue(value[0]), version[0], deps[0]);
  }

  /** CRC32C of a key, its value's JSON text (null: a tombstone) and its version. */
  public static long crc(String key, String valueJson, Version version) {
    CRC32C crc = new CRC32C();
    update(crc, key);
    crc.update(0);
    if (valueJson == null) {
      crc.update(1);
    } else {
      update(crc, valueJson);
    }
    crc.update(0);
    update(crc, Long.toString(version.counter()));
    crc.update(0);
    update(crc, version.node());
    return crc.getValue();
  }

  private static void update(CRC32C crc, String text) {
    crc.update(text.getBytes(StandardCharsets.UTF_8));
  }
}
