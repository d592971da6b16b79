package ringkv.tools;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** A plan of {@code /admin/plan} for people: what changes, what moves, what to watch for. */
final class PlanFormat {
  private PlanFormat() {}

  static List<String> format(String node, JsonNode plan) {
    List<String> lines = new ArrayList<>();
    String message = plan.path("message").asText("Plan staged");
    lines.add(message + " (on " + node + ", epoch " + plan.path("base-epoch").asLong() + " -> "
        + plan.path("epoch").asLong() + ")");
    lines.add(String.format(Locale.ROOT,
        "Keys moving: %d of %d (%d bytes); hash space changing shard: %.2f%% (minimum %.2f%%)",
        plan.path("keys-moving").asLong(), plan.path("keys-total").asLong(),
        plan.path("bytes-moving").asLong(), 100 * plan.path("shard-moved-fraction").asDouble(),
        100 * plan.path("shard-moved-minimum").asDouble()));
    lines.add("");
    Table shards = Table.of("Shard", "Members after the change");
    plan.path("shards").fields().forEachRemaining(e -> shards.row(e.getKey(),
        String.join(" ", RingSnapshot.strings(e.getValue()))));
    lines.addAll(shards.lines());
    lines.add("");
    Table transfers = Table.of("Source", "Target", ">Keys", ">Bytes");
    for (JsonNode t : plan.path("transfers")) {
      transfers.row(t.path("source").asText(), t.path("target").asText(),
          t.path("keys").asLong(), t.path("bytes").asLong());
    }
    if (transfers.size() == 0) {
      lines.add("No key moves.");
    } else {
      lines.addAll(transfers.lines());
    }
    lines.add("");
    List<String> warnings = RingSnapshot.strings(plan.path("warnings"));
    if (warnings.isEmpty()) {
      lines.add("Warnings: none");
    } else {
      warnings.forEach(w -> lines.add("Warning: " + w));
    }
    lines.add("Run it:  ./kvs commit --node " + node);
    lines.add("Drop it: ./kvs plan drop --node " + node);
    return lines;
  }
}
