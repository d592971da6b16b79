package ringkv.node.api;
import ringkv.node.json.Json;
import ringkv.node.error.KvException;
import ringkv.node.error.ErrorCode;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import ringkv.gossip.CausalContext;
import ringkv.gossip.Version;
import ringkv.node.wire.ContextJson;
import org.junit.jupiter.api.Test;

/*
 * Goal: the one-pass reader of key-value bodies keeps the client's exact value text, reads the
 * causal context, and accepts and refuses exactly the bodies the tree parse followed by the
 * context reader does (same field picked when repeated, same 400s and messages for bad JSON,
 * non-objects, trailing tokens, unpaired surrogates anywhere and bad metadata, bad JSON first);
 * the context text it keeps to echo is only ever one that reads as the same context and is as
 * long as the node's own text for it.
 * Method: fixed cases, then random mutations of valid bodies compared with a tree-parse oracle.
 */
class KvBodyTest {
  private static final long CLOCK_LIMIT = 1_000_000;

  private static KvBody parse(String body) {
    return KvBody.parse(body.getBytes(StandardCharsets.UTF_8), "causal-metadata", CLOCK_LIMIT);
  }

  private static String text(KvBody b) {
    return new String(b.contextText(), StandardCharsets.UTF_8);
  }

  private static CausalContext ctx(Object... keyCounterNode) {
    Map<String, Version> m = new HashMap<>();
    for (int i = 0; i < keyCounterNode.length; i += 3) {
      m.put((String) keyCounterNode[i],
          new Version((Integer) keyCounterNode[i + 1], (String) keyCounterNode[i + 2]));
    }
    return CausalContext.of(m);
  }

  @Test
  void keepsTheClientsExactText() {
    assertEquals("-0", parse("{\"causal-metadata\": \"\", \"value\": -0 }").rawValue());
    for (String v : new String[] {"1e10", "-0.0", "\"a\\\"b\"", "{ \"x\" : [1, 2.50] }",
        "null", "true", "\"\u00e9\"", "[ ]", "\"\\ud83d\\ude00\""}) {
      KvBody b = parse("{\"value\":" + v + ",\"causal-metadata\":{}}");
      assertEquals(v, b.rawValue(), v);
      assertTrue(b.hasValue());
    }
    assertEquals("2", parse("{\"value\":1,\"value\":2}").rawValue(),
        "the last of repeated fields, like the tree");
    KvBody none = parse("{\"v\":1}");
    assertNull(none.rawValue());
    assertSame(CausalContext.EMPTY, none.context());
    assertNull(none.contextText());
  }

  @Test
  void readsTheContextAndKeepsItsTextOnlyWhenANodeWouldWriteTheSame() {
    String plain = "{\"keys\":{\"a\":[3,\"n:1\"],\"b\":[12,\"n:2\"]}}";
    KvBody b = parse("{\"value\":1,\"causal-metadata\":" + plain + "}");
    assertEquals(ctx("a", 3, "n:1", "b", 12, "n:2"), b.context());
    assertEquals(plain, text(b), "kept as the client wrote it, entries in its order");
    assertSame(b.contextText(), b.echo(b.context()));
    assertNull(b.echo(ctx("a", 3, "n:1", "b", 12, "n:2")), "only for the very context sent");
    assertEquals("{\"keys\":{}}", text(parse("{\"causal-metadata\":{\"keys\":{}}}")));
    for (String other : new String[] {"{\"keys\": {\"a\":[3,\"n:1\"]}}",
        "{\"keys\":{\"a\":[3,\"n:1\"]},\"x\":1}",
        "{\"keys\":{\"a\":[3,\"n:1\"],\"a\":[3,\"n:1\"]}}",
        "{\"keys\":{\"\\u0061\":[3,\"n:1\"]}}", "{\"keys\":{\"\u00e9\":[3,\"n:1\"]}}",
        "\"{\\\"keys\\\":{\\\"a\\\":[3,\\\"n:1\\\"]}}\"", "{}", "null", "\"\""}) {
      KvBody o = parse("{\"causal-metadata\":" + other + "}");
      assertNull(o.contextText(), other);
      assertEquals(other.contains("\u00e9") ? ctx("\u00e9", 3, "n:1")
          : other.length() <= 4 ? CausalContext.EMPTY : ctx("a", 3, "n:1"), o.context(), other);
    }
    assertEquals(KvBody.EMPTY, KvBody.parse(null, "causal-metadata", CLOCK_LIMIT));
    assertEquals(KvBody.EMPTY, parse(" \n\t"));
  }

  @Test
  void refusesWhatTheTreeParseRefuses() {
    for (String bad : new String[] {"[1]", "1", "\"x\"", "{", "{\"value\":}", "{\"value\":1}x",
        "{\"value\":1} {}", "{\"value\":\"\\ud800\"}", "{\"a\":{\"\\udc00\":1}}",
        "{\"causal-metadata\":[\"\\ud800\"]}", "{\"value\":[1,}", "{'value':1}", "null",
        "{\"causal-metadata\":{\"keys\":{\"a\":[0,\"n\"]}},}"}) {
      KvException e = assertThrows(KvException.class, () -> parse(bad), bad);
      assertEquals(ErrorCode.BAD_JSON, e.code(), bad);
    }
    for (String bad : new String[] {"{\"causal-metadata\":{\"keys\":{\"a\":[0,\"n\"]}}}",
        "{\"causal-metadata\":{\"keys\":{\"a\":[1000001,\"n\"]}}}",
        "{\"causal-metadata\":{\"keys\":[]}}", "{\"causal-metadata\":7}"}) {
      KvException e = assertThrows(KvException.class, () -> parse(bad), bad);
      assertEquals(ErrorCode.BAD_METADATA, e.code(), bad);
    }
  }

  /**
   * A body read before is found again by its bytes (the same context object, the same text to
   * echo), but a context whose counters are beyond the clock limit of this moment is refused
   * even so (the wall clock may have moved back since).
   */
  @Test
  void aBodyReadBeforeIsFoundAgainButCheckedAgainstTheClockOfItsMoment() {
    String body = "{\"causal-metadata\":{\"keys\":{\"a\":[500,\"n:1\"]}}}";
    KvBody first = parse(body);
    KvBody again = parse(body);
    assertSame(first.context(), again.context());
    assertSame(first.contextText(), again.contextText());
    KvException e = assertThrows(KvException.class, () -> KvBody.parse(
        body.getBytes(StandardCharsets.UTF_8), "causal-metadata", 499));
    assertEquals(ErrorCode.BAD_METADATA, e.code());
  }

  /** The tree parse the reader replaces: the oracle. */
  private static KvBody oracle(String text) {
    byte[] body = text.getBytes(StandardCharsets.UTF_8);
    ObjectNode tree = Json.parseObject(body);
    if (text.isBlank()) {
      return KvBody.EMPTY;
    }
    JsonNode value = tree.get("value");
    return new KvBody(value != null, value == null ? null : rawField(body, "value"),
        ContextJson.read(tree.get("causal-metadata"), CLOCK_LIMIT), null);
  }

  /** The exact text of the last top-level field {@code field} of a valid object body. */
  private static String rawField(byte[] body, String field) {
    try (JsonParser p = Json.MAPPER.getFactory().createParser(body)) {
      p.nextToken();
      String found = null;
      while (p.nextToken() == JsonToken.FIELD_NAME) {
        String name = p.currentName();
        p.nextToken();
        long start = p.currentTokenLocation().getByteOffset();
        p.skipChildren();
        p.finishToken();
        long end = p.currentLocation().getByteOffset();
        if (name.equals(field)) {
          found = new String(body, (int) start, (int) (end - start), StandardCharsets.UTF_8);
        }
      }
      return found;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  @Test
  void agreesWithTheTreeParseOnMutatedBodies() {
    Random random = new Random(7);
    String[] seeds = {"{\"value\":{\"a\":[1,2.5,\"x\"]},\"causal-metadata\":{\"keys\":{}}}",
        "{\"value\":\"s\\u00e9\",\"causal-metadata\":\"\",\"extra\":[true,null]}",
        "{\"causal-metadata\":{\"keys\":{\"k\":[1,\"n:1\"]}},\"value\":-12e3}",
        "{\"causal-metadata\":{\"keys\":{\"k\":[1,\"n:1\"],\"user12\":[99,\"n:2\"]}},\"value\":0}",
        "{\"causal-metadata\":{\"keys\":{\"k\":[1,\"n:1\"],\"u2\":[99,\"n:1\"],"
            + "\"v\":[7,\"n:2\"]}}}",
        "{\"causal-metadata\":{\"keys\":{\"k\":[999999,\"n:1\"]}}} "};
    String alphabet = "{}[]\",:\\u0 1ae-.";
    List<String> cases = new ArrayList<>();
    for (int i = 0; i < 20_000; i++) {
      StringBuilder b = new StringBuilder(seeds[random.nextInt(seeds.length)]);
      for (int m = random.nextInt(3); m >= 0; m--) {
        int at = random.nextInt(b.length() + 1);
        switch (random.nextInt(3)) {
          case 0 -> b.insert(at, alphabet.charAt(random.nextInt(alphabet.length())));
          case 1 -> { if (at < b.length()) { b.deleteCharAt(at); } }
          default -> { if (at < b.length()) {
            b.setCharAt(at, alphabet.charAt(random.nextInt(alphabet.length())));
          } }
        }
      }
      cases.add(b.toString());
    }
    int valid = 0;
    int echoed = 0;
    for (String c : cases) {
      KvBody expected;
      try {
        expected = oracle(c);
      } catch (KvException e) {
        KvException got = assertThrows(KvException.class, () -> parse(c), c);
        assertEquals(e.code(), got.code(), c);
        if (e.code() == ErrorCode.BAD_METADATA) {
          assertEquals(e.getMessage(), got.getMessage(), c); // the same reason, too
        }
        continue;
      }
      valid++;
      KvBody got = parse(c);
      assertEquals(expected.hasValue(), got.hasValue(), c);
      assertEquals(expected.context(), got.context(), c);
      assertEquals(expected.rawValue(), got.rawValue(), c);
      if (got.contextText() != null) {
        echoed++;
        assertEquals(Json.parseBody(ContextJson.bytes(got.context())),
            Json.parseBody(got.contextText()), c);
        assertEquals(ContextJson.bytes(got.context()).length, got.contextText().length, c);
      }
    }
    assertTrue(valid > 1_000, "too few valid mutations to compare: " + valid);
    assertTrue(echoed > 500, "too few contexts kept to echo: " + echoed);
  }
}
