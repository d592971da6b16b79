package ringkv.node.api;
import ringkv.node.json.Json;
import ringkv.node.error.KvException;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import ringkv.gossip.CausalContext;
import ringkv.gossip.Entry;
import ringkv.gossip.Version;

/*
 * Goal: the streaming replication body is the tree form's text, reads back to the same entries
 * (values byte for byte, tombstones, dependencies, unicode keys), and refuses what the tree
 * decoding refuses (no key, no version, a value that is not one JSON value, bad versions).
 * Method: round trips both ways against Wire's tree encoding; hand-written bad bodies.
 */
class ReplicationWireTest {
  private static final List<Entry> ENTRIES = List.of(
      Entry.value("k", "{\"a\": [1, 2.50, -0]}", new Version(7, "127.0.0.1:1"),
          CausalContext.EMPTY),
      Entry.tombstone("gone", new Version(8, "127.0.0.1:2"), CausalContext.of(Map.of(
          "x", new Version(3, "127.0.0.1:1"), "y\u00e9\ud83d\ude00", new Version(4, "n:2")))),
      Entry.value("\u2603 snow", "\"quote \\\" \\u00e9\"", new Version(9, "n:3"),
          CausalContext.of(Map.of("k", new Version(7, "127.0.0.1:1")))));

  private static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  @Test
  void roundTripsAndMatchesTheTreeForm() {
    byte[] body = ReplicationWire.encode("127.0.0.1:1", ENTRIES);
    ReplicationWire.Batch batch = ReplicationWire.decode(body);
    assertEquals(ENTRIES, batch.entries());
    assertEquals("127.0.0.1:1", batch.from());
    assertFalse(batch.transfer());
    ObjectNode tree = Json.object();
    tree.put("from", "127.0.0.1:1");
    tree.set("entries", Wire.entries(ENTRIES));
    assertEquals(Json.parseBody(Json.bytes(tree)), Json.parseBody(body), "same JSON as the tree");
    tree.put("transfer", true);
    ReplicationWire.Batch fromTree = ReplicationWire.decode(Json.bytes(tree));
    assertEquals(ENTRIES, fromTree.entries());
    assertTrue(fromTree.transfer());
    assertEquals(ENTRIES, Wire.decodeEntries(Json.parseBody(body).get("entries")));
    assertEquals(List.of(), ReplicationWire.decode(bytes("{\"entries\":[]}")).entries());
  }

  @Test
  void refusesWhatTheTreeDecodingRefuses() {
    String v = "\"version\":[1,\"n\"]";
    for (String bad : new String[] {"", "[]", "{}", "{\"entries\":{}}",
        "{\"entries\":[{\"json\":\"1\"," + v + "}]}",
        "{\"entries\":[{\"key\":\"k\",\"json\":\"1\"}]}",
        "{\"entries\":[{\"key\":\"k\"," + v + "}]}",
        "{\"entries\":[{\"key\":\"k\",\"json\":1," + v + "}]}",
        "{\"entries\":[{\"key\":\"k\",\"json\":\"{\\\"a\\\":\"," + v + "}]}",
        "{\"entries\":[{\"key\":\"k\",\"json\":\"1 2\"," + v + "}]}",
        "{\"entries\":[{\"key\":\"k\",\"json\":\"tru\"," + v + "}]}",
        "{\"entries\":[{\"key\":\"k\",\"json\":\"\"," + v + "}]}",
        "{\"entries\":[{\"key\":\"k\",\"json\":\"1\",\"version\":[0,\"n\"]}]}",
        "{\"entries\":[{\"key\":\"k\",\"json\":\"1\",\"version\":[1,\"\"]}]}",
        "{\"entries\":[{\"key\":\"k\",\"json\":\"1\",\"version\":[1.5,\"n\"]}]}",
        "{\"entries\":[{\"key\":\"k\",\"json\":\"1\",\"version\":[1,\"n\",3]}]}",
        "{\"entries\":[{\"key\":\"k\",\"json\":\"1\"," + v + ",\"deps\":[1]}]}",
        "{\"entries\":[]} x", "{\"entries\":[{\"key\":\"k\""}) {
      assertThrows(KvException.class, () -> ReplicationWire.decode(bytes(bad)), bad);
    }
  }

  @Test
  void valuesAreCheckedByATokenPass() {
    for (String ok : new String[] {"1", "-0.0", "\"s\"", "[]", "{\"a\":[{},[]]}", "null",
        " true "}) {
      assertEquals(ok, ReplicationWire.requireValue(ok), ok);
    }
    for (String bad : new String[] {"", " ", "[", "]", "{\"a\"}", "1 2", "\"\\q\"", "nul",
        "[1,]"}) {
      assertThrows(KvException.class, () -> ReplicationWire.requireValue(bad), bad);
    }
  }
}
