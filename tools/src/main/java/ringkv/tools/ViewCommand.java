package ringkv.tools;

import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Command;

/** {@code ./kvs view}: the current view, the members of every shard and the epoch. */
@Command(name = "view", description = "Print the current view: the epoch, each shard's "
    + "members (* = live) and live nodes in no shard.")
final class ViewCommand extends ConnectedCommand {
  @Override
  int run(Output out) {
    ClusterView view = ClusterView.fetch(connection.client(), connection.seed());
    return out.result(view::toJson, () -> format(view));
  }

  static List<String> format(ClusterView view) {
    RingSnapshot ring = view.ring();
    List<String> lines = new ArrayList<>();
    lines.add("View of " + ring.node() + ": epoch " + ring.epoch() + ", "
        + ring.shards().size() + " shards, " + view.nodes().size() + " nodes ("
        + view.liveView().size() + " live)");
    lines.add("");
    Table t = Table.of("Shard", ">Members", ">Live", "Nodes (* = live)");
    for (RingSnapshot.Shard s : ring.shards()) {
      List<String> marked = new ArrayList<>();
      s.members().forEach(m -> marked.add(m + (s.liveMembers().contains(m) ? "*" : "")));
      t.row(s.id(), s.members().size(), s.liveMembers().size(), String.join(" ", marked));
    }
    lines.addAll(t.lines());
    if (!view.unassigned().isEmpty()) {
      lines.add("");
      lines.add("In no shard (add with ./kvs add-member): "
          + String.join(" ", view.unassigned()));
    }
    return lines;
  }
}
