package ringkv.tools;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import picocli.CommandLine.Command;

/** {@code ./kvs ring}: the ring of a running cluster as a table, like {@code nodetool ring}. */
@Command(name = "ring", description = "Print the ring as one node sees it: shards with their "
    + "share of the hash space, key counts and members (* = live), then every token and the "
    + "range it owns.")
final class RingCommand extends ConnectedCommand {
  @Override
  int run(Output out) {
    RingSnapshot ring = ring();
    return out.result(ring::toJson, () -> format(ring));
  }

  /** The table, line by line (the same text the shell+Python {@code ./kvs ring} printed). */
  static List<String> format(RingSnapshot ring) {
    List<String> lines = new ArrayList<>();
    lines.add("Ring of " + ring.node() + ": epoch " + ring.epoch() + ", hash "
        + ring.hashFunction() + ", " + ring.vnodesPerShard() + " vnodes per shard, "
        + ring.tokens().size() + " tokens");
    lines.add("");
    lines.add(String.format(Locale.ROOT, "%-7s%9s%9s  %s", "Shard", "Owns", "Keys",
        "Members (* = live)"));
    for (RingSnapshot.Shard s : ring.shards()) {
      List<String> members = new ArrayList<>();
      for (String m : s.members()) {
        members.add(m + (s.liveMembers().contains(m) ? "*" : ""));
      }
      String owns = s.ownedFraction() == null ? "?"
          : String.format(Locale.ROOT, "%.2f%%", 100 * s.ownedFraction());
      String keys = s.keyCount() == null ? "?" : s.keyCount().toString();
      lines.add(String.format(Locale.ROOT, "%-7s%9s%9s  %s", s.id(), owns, keys,
          String.join(" ", members)).stripTrailing());
    }
    lines.add("");
    lines.add(String.format(Locale.ROOT, "%22s  %-7s%8s", "Token", "Shard", "Range"));
    for (int i = 0; i < ring.tokens().size(); i++) {
      RingSnapshot.Token t = ring.tokens().get(i);
      lines.add(String.format(Locale.ROOT, "%22d  %-7s%7.2f%%", t.token(), t.shardId(),
          100 * RingSnapshot.rangeFraction(ring.tokens(), i)));
    }
    return lines;
  }
}
