package ringkv.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static ringkv.tests.support.Http.json;
import static ringkv.tests.support.Http.obj;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import ringkv.tests.support.Http;
import ringkv.tests.support.Http.Reply;

/**
 * Helpers for black-box tests of the view-change dialect (SPEC §4): a client that carries its
 * {@code "causal-context"} from reply to request, and checks of bodies as third-party suites make
 * them (exact, ignoring only {@code "address"} and {@code "causal-context"}).
 */
final class Kvs {
  static final String KEYS = "/kvs/keys/";

  private Kvs() {}

  /** A client of the dialect: every request sends the context the last reply gave. */
  static final class Client {
    private JsonNode context = Http.MAPPER.createObjectNode();

    Reply put(String node, String key, Object value) {
      return remember(Http.put(node, path(key), obj("value", value, "causal-context", context)));
    }

    Reply get(String node, String key) {
      return remember(Http.get(node, path(key), obj("causal-context", context)));
    }

    Reply delete(String node, String key) {
      return remember(Http.delete(node, path(key), obj("causal-context", context)));
    }

    private Reply remember(Reply r) {
      JsonNode next = r.field("causal-context");
      assertTrue(next.isObject(), "every key-value reply carries a causal-context: " + r);
      context = next;
      return r;
    }
  }

  static String path(String key) {
    return KEYS + URLEncoder.encode(key, StandardCharsets.UTF_8).replace("+", "%20");
  }

  /** The body as a third-party suite compares it: without address and causal-context. */
  static JsonNode compared(Reply r) {
    assertTrue(r.body() != null && r.body().isObject(), "not a JSON object: " + r);
    ObjectNode copy = r.body().deepCopy();
    copy.remove("address");
    copy.remove("causal-context");
    return copy;
  }

  /** Asserts the status and the exact body (but for address and causal-context). */
  static void assertBody(int status, String expected, Reply r, String where) {
    assertEquals(status, r.status(), where + ": " + r);
    assertEquals(json(expected), compared(r), where + ": " + r);
    assertEquals("application/json", r.header("content-type").orElse("-"), where);
  }

  /**
   * Asserts that {@code r}, answered by {@code node} for a key owned by {@code owners}, names
   * the owner it was proxied to exactly when {@code node} is not an owner.
   */
  static void assertAddress(Reply r, String node, Collection<String> owners, String where) {
    if (owners.contains(node)) {
      assertFalse(r.body().has("address"), where + ": an owner answers for itself: " + r);
    } else {
      assertTrue(owners.contains(r.field("address").asText()),
          where + ": a proxy names an owner " + owners + ": " + r);
    }
  }

  /** Members of the shard owning {@code key}, as {@code node} places it. */
  static List<String> owners(String node, String key) {
    Reply r = Http.get(node, "/ring/key/" + URLEncoder.encode(key, StandardCharsets.UTF_8));
    assertEquals(200, r.status(), r.toString());
    return strings(r.field("members"));
  }

  static List<String> strings(JsonNode array) {
    assertTrue(array.isArray(), "not an array: " + array);
    List<String> out = new ArrayList<>();
    array.forEach(n -> out.add(n.asText()));
    return out;
  }

  /** {@code GET /kvs/key-count} of {@code node}. */
  static Reply keyCount(String node) {
    Reply r = Http.get(node, "/kvs/key-count");
    assertEquals(200, r.status(), node + ": " + r);
    return r;
  }

  /** {@code PUT /kvs/view-change} at {@code coordinator}. */
  static Reply viewChange(String coordinator, Collection<String> view, int replFactor) {
    return Http.put(coordinator, "/kvs/view-change",
        obj("view", String.join(",", view), "repl-factor", replFactor));
  }
}
