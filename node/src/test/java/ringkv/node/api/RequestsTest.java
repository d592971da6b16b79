package ringkv.node.api;
import ringkv.node.json.Json;
import ringkv.node.error.KvException;
import ringkv.node.error.ErrorCode;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/**
 * Goal: client values keep their exact JSON form, broken JSON and bad percent-encoding are 400s.
 * Method: tables.
 */
class RequestsTest {
  private static JsonNode json(String text) {
    return Json.parseBody(text.getBytes(StandardCharsets.UTF_8));
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
