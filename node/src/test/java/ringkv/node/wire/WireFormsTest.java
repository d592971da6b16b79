package ringkv.node.wire;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import ringkv.gossip.CausalContext;
import ringkv.gossip.Entry;
import ringkv.gossip.Version;
import ringkv.node.error.ErrorCode;
import ringkv.node.error.KvException;
import ringkv.node.json.Json;

/**
 * Goal: the one JSON form of causal contexts and entries round-trips (values byte for byte,
 * tombstones, dependencies, unicode keys), reads the same from bytes and from a tree, accepts
 * every client spelling of "no history", and refuses malformed input with a 400 (metadata:
 * "Invalid causal metadata"), never a crash. Method: encode/decode tables.
 */
class WireFormsTest {
  private static final long LIMIT = 10_000_000_000_000L;

  private static JsonNode json(String text) {
    return Json.parseBody(text.getBytes(StandardCharsets.UTF_8));
  }

  @Test
  void emptyMetadataMeansNoHistory() {
    for (String s : new String[] {"\"\"", "null", "{}", "{\"keys\":{}}", "\"  \"",
        "{\"keys\":null}"}) {
      assertEquals(CausalContext.EMPTY, ContextJson.read(json(s), LIMIT), s);
    }
    assertEquals(CausalContext.EMPTY, ContextJson.read((JsonNode) null, LIMIT));
  }

  @Test
  void contextRoundTrips() {
    CausalContext ctx = new CausalContext(Map.of("a", new Version(5, "127.0.0.1:1"),
        "ключ/2", new Version(1_700_000_000_000L, "h:2")));
    byte[] encoded = ContextJson.bytes(ctx);
    assertEquals(ctx, ContextJson.read(json(new String(encoded, StandardCharsets.UTF_8)),
        LIMIT));
    // Clients that stringify the metadata are understood too.
    assertEquals(ctx, ContextJson.read(Json.MAPPER.getNodeFactory().textNode(
        new String(encoded, StandardCharsets.UTF_8)), LIMIT));
  }

  /**
   * A field written from bytes as they are (the echo of a client's metadata) sits between other
   * fields as if the generator had written it: separators, and the text unchanged.
   */
  @Test
  void rawBytesAreAFieldLikeAnyOther() {
    CausalContext ctx = new CausalContext(Map.of("a", new Version(5, "127.0.0.1:1"),
        "user12", new Version(1_700_000_000_000L, "h:2")));
    byte[] text = ContextJson.bytes(ctx);
    byte[] doc = new JsonWriter().text("message", "m").raw("causal-metadata", text)
        .number("shard-id", 2).finish();
    assertEquals("{\"message\":\"m\",\"causal-metadata\":" + new String(text,
        StandardCharsets.UTF_8) + ",\"shard-id\":2}", new String(doc, StandardCharsets.UTF_8));
    assertEquals(ctx, ContextJson.read(Json.parseBody(doc).get("causal-metadata"), Long.MAX_VALUE));
  }

  /**
   * The hand reader of a context as a node writes it reads what the general reader reads, and
   * reads nothing (null) from any other form, from a context the general reader would refuse,
   * and from a repeated key, leaving those to the general reader.
   */
  @Test
  void thePlainReaderReadsTheNodesFormAndLeavesEverythingElse() {
    java.util.Random random = new java.util.Random(11);
    for (int run = 0; run < 2_000; run++) {
      Map<String, Version> keys = new java.util.HashMap<>();
      for (int i = random.nextInt(20); i > 0; i--) {
        keys.put("user" + random.nextInt(1_000), new Version(1 + random.nextInt(1_000_000),
            "127.0.0." + random.nextInt(3) + ":8082"));
      }
      CausalContext ctx = CausalContext.of(keys);
      byte[] text = ("{\"causal-metadata\":" + new String(ContextJson.bytes(ctx),
          StandardCharsets.UTF_8) + "}").getBytes(StandardCharsets.UTF_8);
      ContextJson.Plain plain = ContextJson.readPlain(text, 19, 1_000_000);
      assertEquals(ctx, plain.context(), "run " + run);
      assertEquals(text.length - 1, plain.end(), "run " + run);
    }
    String ok = "{\"keys\":{\"a\":[12,\"n:1\"],\"b\":[3,\"n:1\"]}}";
    assertEquals(2, ContextJson.readPlain(ok.getBytes(StandardCharsets.UTF_8), 0, 100)
        .context().size());
    for (String other : new String[] {"{\"keys\": {}}", "{\"keys\":{\"a\":[12 ,\"n\"]}}",
        "{\"keys\":{\"\\u0061\":[1,\"n\"]}}", "{\"keys\":{\"a\":[012,\"n\"]}}",
        "{\"keys\":{\"a\":[0,\"n\"]}}", "{\"keys\":{\"a\":[101,\"n\"]}}",
        "{\"keys\":{\"a\":[-1,\"n\"]}}", "{\"keys\":{\"a\":[1,\"\"]}}",
        "{\"keys\":{\"a\":[1,\"n\"],\"a\":[2,\"n\"]}}", "{\"keys\":{\"a\":[1,\"n\"]}",
        "{\"keys\":{\"a\":[1,\"n\"],}}", "{\"keys\":{,\"a\":[1,\"n\"]}}",
        "{\"keys\":{\"a\":[1,\"n\",2]}}", "{\"keys\":{\"a\":[1.5,\"n\"]}}",
        "{\"keys\":{\"\u00e9\":[1,\"n\"]}}", "{\"keys\":{\"a\":[1,\"" + "n".repeat(301) + "\"]}}",
        "{\"keys\":{\"a\":[1234567890123456789,\"n\"]}}", "{}", "{\"keys\":{}"}) {
      assertEquals(null, ContextJson.readPlain(other.getBytes(StandardCharsets.UTF_8), 0, 100),
          other);
    }
  }

  @Test
  void malformedMetadataIsABadRequest() {
    String[] bad = {"5", "[1]", "true", "\"not json\"", "{\"keys\":[]}", "{\"keys\":{\"a\":5}}",
        "{\"keys\":{\"a\":[1]}}", "{\"keys\":{\"a\":[\"1\",\"n\"]}}",
        "{\"keys\":{\"a\":[0,\"n\"]}}",
        "{\"keys\":{\"a\":[-3,\"n\"]}}", "{\"keys\":{\"a\":[1.5,\"n\"]}}",
        "{\"keys\":{\"a\":[1,\"\"]}}", "{\"keys\":{\"a\":[99999999999999999,\"n\"]}}",
        "{\"keys\":{\"a\":[1e400,\"n\"]}}", "\"[1]\"", "\"{\\\"keys\\\":5}\""};
    for (String s : bad) {
      KvException e = assertThrows(KvException.class, () -> ContextJson.read(json(s), LIMIT), s);
      assertEquals(ErrorCode.BAD_METADATA, e.code(), s);
    }
  }

  private static final List<Entry> ENTRIES = List.of(
      Entry.value("k", "{\"a\": [1, 2.50, -0]}", new Version(7, "127.0.0.1:1"),
          CausalContext.EMPTY),
      Entry.tombstone("gone", new Version(8, "127.0.0.1:2"), CausalContext.of(Map.of(
          "x", new Version(3, "127.0.0.1:1"), "y\u00e9\ud83d\ude00", new Version(4, "n:2")))),
      Entry.value("\u2603 snow", "\"quote \\\" \\u00e9\"", new Version(9, "n:3"),
          CausalContext.of(Map.of("k", new Version(7, "127.0.0.1:1")))));

  private static List<Entry> readEntries(byte[] bytes) {
    return JsonReader.read(bytes, p -> {
      p.nextToken();
      return EntryJson.readAll(p, "entries", 100, LIMIT);
    });
  }

  @Test
  void entriesRoundTripFromBytesAndFromATree() {
    byte[] bytes = JsonWriter.bytes(256, g -> EntryJson.writeAll(g, ENTRIES));
    assertEquals(ENTRIES, readEntries(bytes));
    assertEquals(ENTRIES, JsonReader.read(json(new String(bytes, StandardCharsets.UTF_8)),
        p -> {
          p.nextToken();
          return EntryJson.readAll(p, "entries", 100, LIMIT);
        }));
    assertEquals(List.of(), readEntries("[]".getBytes(StandardCharsets.UTF_8)));
  }

  @Test
  void badEntriesAreRefused() {
    String v = "\"version\":[1,\"n\"]";
    for (String bad : new String[] {"", "{}", "[{\"json\":\"1\"," + v + "}]",
        "[{\"key\":\"k\",\"json\":\"1\"}]", "[{\"key\":\"k\"," + v + "}]",
        "[{\"key\":\"k\",\"json\":1," + v + "}]",
        "[{\"key\":\"k\",\"json\":\"{\\\"a\\\":\"," + v + "}]",
        "[{\"key\":\"k\",\"json\":\"1 2\"," + v + "}]",
        "[{\"key\":\"k\",\"json\":\"tru\"," + v + "}]",
        "[{\"key\":\"k\",\"json\":\"\"," + v + "}]",
        "[{\"key\":\"k\",\"json\":\"1\",\"version\":[0,\"n\"]}]",
        "[{\"key\":\"k\",\"json\":\"1\",\"version\":[1,\"\"]}]",
        "[{\"key\":\"k\",\"json\":\"1\",\"version\":[1.5,\"n\"]}]",
        "[{\"key\":\"k\",\"json\":\"1\",\"version\":[1,\"n\",3]}]",
        "[{\"key\":\"k\",\"json\":\"1\",\"version\":[99999999999999999,\"n\"]}]",
        "[{\"key\":\"k\",\"json\":\"1\"," + v + ",\"deps\":[1]}]", "[] x",
        "[{\"key\":\"k\""}) {
      assertThrows(KvException.class, () -> readEntries(bad.getBytes(StandardCharsets.UTF_8)),
          bad);
    }
  }

  @Test
  void everyEntryCarriesAChecksumAndAChangedByteIsRefused() {
    String written = new String(JsonWriter.bytes(256, g -> EntryJson.writeAll(g, ENTRIES)),
        StandardCharsets.UTF_8);
    assertEquals(ENTRIES.size(), written.split("\"crc\":").length - 1, written);
    String[] changed = {written.replace("2.50", "2.51"), written.replace("\"gone\"", "\"gong\""),
        written.replace("[7,", "[6,"), written.replace("n:3", "n:4")};
    for (String bad : changed) {
      assertTrue(!bad.equals(written));
      KvException e = assertThrows(KvException.class,
          () -> readEntries(bad.getBytes(StandardCharsets.UTF_8)), bad);
      assertTrue(e.getMessage().contains("fails its checksum"), e.getMessage());
    }
    String unchecked = "[{\"key\":\"k\",\"json\":\"1\",\"version\":[1,\"n\"]}]";
    assertEquals(1, readEntries(unchecked.getBytes(StandardCharsets.UTF_8)).size(),
        "an entry of an earlier release, without crc, is read");
  }

  @Test
  void valuesAreCheckedByATokenPass() {
    for (String ok : new String[] {"1", "-0.0", "\"s\"", "[]", "{\"a\":[{},[]]}", "null",
        " true "}) {
      assertEquals(ok, JsonValues.requireValue(ok), ok);
    }
    for (String bad : new String[] {"", " ", "[", "]", "{\"a\"}", "1 2", "\"\\q\"", "nul",
        "[1,]"}) {
      assertThrows(KvException.class, () -> JsonValues.requireValue(bad), bad);
    }
  }
}
