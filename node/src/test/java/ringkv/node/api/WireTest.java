package ringkv.node.api;
import ringkv.node.json.Json;
import ringkv.node.error.KvException;
import ringkv.node.error.ErrorCode;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.junit.jupiter.api.Test;
import ringkv.gossip.CausalContext;
import ringkv.gossip.Entry;
import ringkv.gossip.Version;

/**
 * Goal: causal metadata and entries survive the JSON round trip, values keep their exact JSON
 * form, and malformed metadata is a 400 error, never a crash. Method: encode/decode tables.
 */
class WireTest {
  private static final long LIMIT = 10_000_000_000_000L;

  private static JsonNode json(String text) {
    return Json.parseBody(text.getBytes(StandardCharsets.UTF_8));
  }

  @Test
  void emptyMetadataMeansNoHistory() {
    for (String s : new String[] {"\"\"", "null", "{}", "{\"keys\":{}}", "\"  \""}) {
      assertEquals(CausalContext.EMPTY, Wire.decodeContext(json(s), LIMIT), s);
    }
    assertEquals(CausalContext.EMPTY, Wire.decodeContext(null, LIMIT));
  }

  @Test
  void contextRoundTrips() {
    CausalContext ctx = new CausalContext(Map.of("a", new Version(5, "127.0.0.1:1"),
        "ключ/2", new Version(1_700_000_000_000L, "h:2")));
    JsonNode encoded = Wire.context(ctx);
    assertEquals(ctx, Wire.decodeContext(encoded, LIMIT));
    // Clients that stringify the metadata are accepted too.
    assertEquals(ctx, Wire.decodeContext(json(Json.MAPPER.valueToTree(Json.text(encoded))
        .toString()), LIMIT));
  }

  @Test
  void malformedMetadataIsABadRequest() {
    String[] bad = {"5", "[1]", "true", "\"not json\"", "{\"keys\":[]}", "{\"keys\":{\"a\":5}}",
        "{\"keys\":{\"a\":[1]}}", "{\"keys\":{\"a\":[\"1\",\"n\"]}}", "{\"keys\":{\"a\":[0,\"n\"]}}",
        "{\"keys\":{\"a\":[-3,\"n\"]}}", "{\"keys\":{\"a\":[1.5,\"n\"]}}",
        "{\"keys\":{\"a\":[1,\"\"]}}", "{\"keys\":{\"a\":[99999999999999999,\"n\"]}}",
        "{\"keys\":{\"a\":[1e400,\"n\"]}}"};
    for (String s : bad) {
      KvException e = assertThrows(KvException.class, () -> Wire.decodeContext(json(s), LIMIT), s);
      assertEquals(ErrorCode.BAD_METADATA, e.code(), s);
    }
  }

  @Test
  void valuesKeepTheirExactJsonForm() {
    String[] values = {"\"text\"", "42", "1.50", "12345678901234567890123", "-0.0", "1E+5",
        "true", "null", "[1,\"a\",{\"b\":[]}]", "{\"x\":1.0}", "\"\\u00e9\\n\""};
    for (String v : values) {
      JsonNode body = json("{\"value\":" + v + "}");
      String stored = Json.text(body.get("value"));
      assertEquals(json(v), json(stored), v);
      assertEquals(Json.text(json(v)), stored, v);
    }
    assertEquals("1.50", Json.text(json("{\"value\":1.50}").get("value")));
  }

  @Test
  void entriesRoundTrip() {
    Entry value = Entry.value("k", "{\"a\":[1,2.50]}", new Version(7, "n:1"),
        new CausalContext(Map.of("x", new Version(3, "n:2"))));
    Entry tomb = Entry.tombstone("k", new Version(8, "n:1"), CausalContext.EMPTY);
    assertEquals(value, Wire.decodeEntry(Wire.entry(value)));
    assertEquals(tomb, Wire.decodeEntry(Wire.entry(tomb)));
  }

  @Test
  void brokenJsonIsABadRequest() {
    for (String s : new String[] {"{", "{\"value\":}", "{} {}", "nul"}) {
      KvException e = assertThrows(KvException.class,
          () -> Json.parseBody(s.getBytes(StandardCharsets.UTF_8)), s);
      assertEquals(ErrorCode.BAD_JSON, e.code(), s);
    }
  }

  @Test
  void percentDecodingKeepsPlusAndRejectsGarbage() {
    assertEquals("a b+c/é", Requests.percentDecode("a%20b+c%2F%C3%A9"));
    assertThrows(KvException.class, () -> Requests.percentDecode("a%2"));
    assertThrows(KvException.class, () -> Requests.percentDecode("a%zz"));
    assertThrows(KvException.class, () -> Requests.percentDecode("%C3%28"));
  }
}
