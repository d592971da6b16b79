package ringkv.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import org.junit.jupiter.api.Test;

/*
 * Goal: values come back exactly as the store holds them (SPEC §2: "it comes back exactly as
 * given"), even where a Jackson tree would rewrite them (1.50, 1e10, escapes).
 *
 * Method: table of response bodies with the value first, in the middle, last, nested, with
 * whitespace and with separators inside strings; the extracted text must equal the input text.
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
}
