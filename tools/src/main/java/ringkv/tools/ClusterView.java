package ringkv.tools;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * The cluster as one node knows it: its ring (shards and their members) and the live part of
 * its view ({@code GET /key-value-store-view}), which also names nodes that joined but are in
 * no shard yet.
 */
record ClusterView(RingSnapshot ring, List<String> liveView) {

  static ClusterView fetch(NodeClient client, String seed) {
    RingSnapshot ring = RingSnapshot.fetch(client, seed);
    Reply view = client.send(seed, NodeClient.Request.get("/key-value-store-view")).expectOk();
    String csv = view.json().path("view").asText("");
    List<String> live = csv.isBlank() ? List.of()
        : Arrays.stream(csv.split(",")).map(String::strip).filter(s -> !s.isEmpty()).toList();
    return new ClusterView(ring, live);
  }

  /** Every node: members of shards first (in shard order), then live nodes in no shard. */
  List<String> nodes() {
    Set<String> all = new LinkedHashSet<>(ring.members());
    all.addAll(liveView);
    return List.copyOf(all);
  }

  /** Live nodes of the view that are in no shard (joined, waiting for add-member). */
  List<String> unassigned() {
    List<String> out = new ArrayList<>(liveView);
    out.removeAll(ring.members());
    return out;
  }

  ObjectNode toJson() {
    ObjectNode o = Json.object();
    o.put("node", ring.node()).put("epoch", ring.epoch());
    ArrayNode shards = o.putArray("shards");
    for (RingSnapshot.Shard s : ring.shards()) {
      ObjectNode so = shards.addObject().put("shard-id", s.id());
      s.members().forEach(so.putArray("members")::add);
      s.liveMembers().forEach(so.putArray("live-members")::add);
    }
    liveView.forEach(o.putArray("live-view")::add);
    unassigned().forEach(o.putArray("unassigned")::add);
    return o;
  }
}
