package ringkv.tests.containers;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.BiFunction;
import ringkv.tests.support.Http;
import ringkv.tests.support.Http.Reply;

/**
 * The shard dialect's checks the container tests share: writes that record what was
 * acknowledged, reads of every recorded key, and the key count a shard's replicas agree on.
 */
final class ShardStore {
  static final String STORE = "/key-value-store/";

  private ShardStore() {}

  /** PUTs {@code key} through node {@code node}; it must be acknowledged (200 or 201). */
  static void put(Bridges b, int node, String key, String value, Map<String, String> written) {
    Reply r = b.send(node, "PUT", STORE + key, Http.obj("value", value).toString());
    assertTrue(r.status() == 201 || r.status() == 200, key + " via " + b.address(node) + ": "
        + r);
    written.put(key, value);
  }

  /**
   * Every key reads its value from each of {@code nodes} (forwarded when not its shard); a read
   * that gets no answer is sent again (see {@link Bridges#sendAnswered}), any answer is final.
   */
  static void assertReadable(Bridges b, Map<String, String> written, List<Integer> nodes) {
    for (int node : nodes) {
      for (Map.Entry<String, String> e : written.entrySet()) {
        Reply r = b.sendAnswered(node, "GET", STORE + e.getKey(), null);
        assertEquals(200, r.status(), b.address(node) + " " + e.getKey() + " " + r);
        assertEquals(e.getValue(), r.field("value").asText(), b.address(node));
      }
    }
  }

  /**
   * The number of keys every replica of shard {@code shard} holds, asserting they agree; asks
   * nodes 0..{@code size-1} through {@code get} (node, path).
   */
  static long agreedKeyCount(BiFunction<Integer, String, Reply> get, int size, int shard) {
    Set<Long> counts = new TreeSet<>();
    for (int node = 0; node < size; node++) {
      if (get.apply(node, "/key-value-store-shard/node-shard-id").field("shard-id")
          .asInt() == shard) {
        counts.add(get.apply(node, "/key-value-store-shard/shard-id-key-count/" + shard)
            .field("shard-id-key-count").asLong());
      }
    }
    assertEquals(1, counts.size(), "replicas of shard " + shard + " hold " + counts);
    return counts.iterator().next();
  }
}
