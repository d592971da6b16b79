package ringkv.tools;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import picocli.CommandLine.Command;

/**
 * {@code ./kvs status}: every node of the cluster, like {@code nodetool status}. The members
 * come from the node given with {@code --node}; every node is then asked for its own figures,
 * all at once, so a node that does not answer costs one timeout and shows as DOWN.
 */
@Command(name = "status",
    description = "Print every node: reachable (UP) or not (DOWN), shard, readiness, epoch, "
        + "keys, replication queue (writes its shard peers have not acknowledged) and lag (age "
        + "of the oldest). Exits 0 when the node asked answers, even if others are DOWN.")
final class StatusCommand extends ConnectedCommand {
  @Override
  int run(Output out) {
    NodeClient client = connection.client();
    ClusterView view = ClusterView.fetch(client, connection.seed());
    List<NodeStatus> nodes = probe(client, view);
    return out.result(() -> toJson(view, nodes), () -> format(view, nodes));
  }

  static List<NodeStatus> probe(NodeClient client, ClusterView view) {
    List<CompletableFuture<NodeStatus>> probes = new ArrayList<>();
    for (String node : view.nodes()) {
      RingSnapshot.Shard shard = shardOf(view.ring(), node);
      boolean live = shard == null ? view.liveView().contains(node)
          : shard.liveMembers().contains(node);
      probes.add(NodeStatus.probe(client, node, shard == null ? null : shard.id(), live));
    }
    return probes.stream().map(CompletableFuture::join).toList();
  }

  private static RingSnapshot.Shard shardOf(RingSnapshot ring, String node) {
    return ring.shards().stream().filter(s -> s.members().contains(node)).findFirst()
        .orElse(null);
  }

  static List<String> format(ClusterView view, List<NodeStatus> nodes) {
    long up = nodes.stream().filter(NodeStatus::up).count();
    List<String> lines = new ArrayList<>();
    lines.add("Cluster of " + view.ring().node() + ": epoch " + view.ring().epoch() + ", "
        + view.ring().shards().size() + " shards, " + nodes.size() + " nodes: " + up + " up, "
        + (nodes.size() - up) + " down");
    lines.add("");
    Table t = Table.of("Status", "Address", "Shard", "State", ">Epoch", ">Keys", ">Queue",
        ">Lag ms");
    for (NodeStatus n : nodes) {
      t.row(n.up() ? "UP" : "DOWN", n.address(), n.shard(), n.up() ? n.state() : null,
          n.epoch(), n.keys(), n.queue(), n.lagMs());
    }
    lines.addAll(t.lines());
    List<String> problems = new ArrayList<>();
    for (NodeStatus n : nodes) {
      if (n.up() != n.liveAtSeed()) {
        problems.add(n.address() + " is " + (n.up() ? "UP here but DOWN" : "DOWN here but UP")
            + " for " + view.ring().node() + "'s failure detector");
      }
      if (n.up() && n.epoch() != null && n.epoch() != view.ring().epoch()) {
        problems.add(n.address() + " is at epoch " + n.epoch() + ", " + view.ring().node()
            + " at " + view.ring().epoch());
      }
    }
    if (!problems.isEmpty()) {
      lines.add("");
      problems.forEach(p -> lines.add("note: " + p));
    }
    return lines;
  }

  static ObjectNode toJson(ClusterView view, List<NodeStatus> nodes) {
    ObjectNode o = Json.object();
    long up = nodes.stream().filter(NodeStatus::up).count();
    o.put("node", view.ring().node()).put("epoch", view.ring().epoch())
        .put("shards", view.ring().shards().size()).put("up", up)
        .put("down", nodes.size() - up);
    ArrayNode list = o.putArray("nodes");
    nodes.forEach(n -> list.add(n.toJson()));
    return o;
  }
}
