package ringkv.tests.chaos;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import ringkv.tests.support.Http;

/**
 * The cluster's layout as a node reports it ({@code GET /ring}, {@code GET /ring/key/<key>},
 * SPEC §5, both dialects): the members of each shard, as node indexes, and the shard of each key
 * of the workload. Read once before the faults: the suite changes no view.
 *
 * @param members   shard id (as text) to the indexes of its members
 * @param shardOfKey key to its shard id
 */
record Layout(Map<String, List<Integer>> members, Map<String, String> shardOfKey) {
  Layout {
    members = Map.copyOf(members);
    shardOfKey = Map.copyOf(shardOfKey);
  }

  static Layout read(ClusterBackend backend, List<String> keys) {
    Http.Reply ring = backend.send(0, "GET", "/ring", null);
    if (ring.status() != 200) {
      throw new AssertionError("GET /ring: " + ring);
    }
    Map<String, List<Integer>> members = new LinkedHashMap<>();
    for (JsonNode shard : ring.field("shards")) {
      List<Integer> nodes = new ArrayList<>();
      shard.path("members").forEach(m -> nodes.add(backend.addresses().indexOf(m.asText())));
      if (nodes.contains(-1)) {
        throw new AssertionError("a member of " + shard + " is none of " + backend.addresses());
      }
      members.put(shard.path("shard-id").asText(), nodes);
    }
    Map<String, String> shardOfKey = new LinkedHashMap<>();
    for (String key : keys) {
      Http.Reply r = backend.send(0, "GET",
          "/ring/key/" + URLEncoder.encode(key, StandardCharsets.UTF_8), null);
      if (r.status() != 200) {
        throw new AssertionError("GET /ring/key/" + key + ": " + r);
      }
      shardOfKey.put(key, r.field("shard-id").asText());
    }
    return new Layout(members, shardOfKey);
  }

  /** The shards' member lists, for the nemesis. */
  List<List<Integer>> groups() {
    return List.copyOf(members.values());
  }
}
