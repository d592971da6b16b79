package ringkv.client;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.util.Map;
import org.junit.jupiter.api.Test;

/*
 * Goal: values come back exactly as the store holds them (SPEC §2: "it comes back exactly as
 * given"), even where a Jackson tree would rewrite them (1.50, 1e10, escapes); the client's own
 * scanner accepts exactly JSON (what Jackson accepts, and refuses what it refuses); metadata
 * sent back unchanged is recognised without parsing it.
 *
 * Method: table of response bodies with the value first, in the middle, last, nested, with
 * whitespace and with separators inside strings; the extracted text must equal the input text.
 * Tables of malformed bodies, each also checked against Jackson.
 */
class ResponseBodyTest {
  private static final String[] VALUES = {"1.50", "1e10", "-0", "\"a,b}\"", "\"q\\\"}\\\\\"",
      "{\"x\":[1,2,{\"y\":\"]\"}]}", "[ 1 , 2 ]", "null", "true", "\"ünï\"", "\"\""};

  @Test
  void rawValueIsVerbatimWherever() throws IOException {
    for (String v : VALUES) {
      String[] bodies = {
          "{\"value\":" + v + "}",
          "{\"value\":" + v + ",\"message\":\"Retrieved successfully\"}",
          "{\"message\":\"Retrieved successfully\",\"value\":" + v
              + ",\"causal-metadata\":{\"keys\":{}}}",
          "{ \"message\" : \"m\" ,\n \"value\" :  " + v + "  \n }",
          "{\"message\":\"m\",\"value\":" + v + "\t,\t\"shard-id\":2}",
      };
      for (String body : bodies) {
        assertEquals(v, ResponseBody.parse(body).rawValue(), body);
      }
    }
  }

  @Test
  void fieldsOtherThanValueAreParsed() throws IOException {
    ResponseBody b = ResponseBody.parse("{\"doesExist\":false,\"error\":\"Key does not exist\","
        + "\"message\":\"Error in GET\",\"causal-metadata\":{\"keys\":{\"k\":[3,\"n\"]}}}");
    assertNull(b.rawValue());
    assertEquals("Key does not exist", b.field("error").asText());
    assertEquals(3, b.field("causal-metadata").path("keys").path("k").get(0).asLong());
    assertEquals(true, b.field("nothing").isMissingNode());
  }

  @Test
  void rejectsWhatIsNotOneObject() {
    for (String bad : new String[] {"", "[]", "{\"value\":1", "{\"value\":1}{}", "<html>"}) {
      assertThrows(IOException.class, () -> ResponseBody.parse(bad), bad);
    }
  }

  @Test
  void rejectsWhatJacksonRejects() {
    String[] bad = {"{\"value\":1 2}", "{\"value\":01}", "{\"value\":tru}", "{\"value\":-}",
        "{\"value\":1.}", "{\"value\":1e}", "{\"value\":\"\u0001\"}", "{\"value\":\"\\q\"}",
        "{\"value\":\"\\u12\"}", "{\"a\":1,}", "{,}", "{\"a\" 1}", "{\"a\":[1,]}", "{\"a\":{1:2}}",
        "{\"a\":\"open}", "{a:1}", "{\"a\":" + "[".repeat(1001) + "]".repeat(1001) + "}"};
    for (String b : bad) {
      assertThrows(IOException.class, () -> ResponseBody.parse(b), b);
      assertThrows(IOException.class, () -> GetResult.EXACT.readTree(b), "Jackson: " + b);
    }
    String deepButAllowed = "{\"a\":" + "[".repeat(999) + "]".repeat(999) + "}";
    assertDoesNotThrow(() -> ResponseBody.parse(deepButAllowed));
  }

  @Test
  void metadataSentBackUnchangedIsTheSentInstanceAndAnyOtherIsParsed() throws IOException {
    CausalMetadata sent = CausalMetadata.of(Map.of("k", new Version(3, "n:1")));
    ResponseBody same = ResponseBody.parse("{\"message\":\"Retrieved successfully\","
        + "\"causal-metadata\":" + sent.toJson() + ",\"value\":1}");
    assertSame(sent, same.metadata(sent));
    ResponseBody newer = ResponseBody.parse("{\"causal-metadata\": {\"keys\":{\"k\":[4,"
        + "\"n:1\"]}} }");
    assertEquals(new Version(4, "n:1"), newer.metadata(sent).versionOf("k"));
    assertSame(CausalMetadata.EMPTY, ResponseBody.parse("{}").metadata(sent));
  }

  @Test
  void errorAndShardIdAreReadWithoutATree() throws IOException {
    ResponseBody b = ResponseBody.parse("{\"error\":\"Key \\\"x\\\" is too long\","
        + "\"shard-id\":\"12\"}");
    assertEquals("Key \"x\" is too long", b.error());
    assertEquals(12, b.shardId());
    assertEquals(3, ResponseBody.parse("{\"shard-id\":3,\"error\":7}").shardId());
    assertEquals("", ResponseBody.parse("{\"shard-id\":3,\"error\":7}").error());
    assertEquals(0, ResponseBody.parse("{\"shard-id\":-3}").shardId());
  }
}
