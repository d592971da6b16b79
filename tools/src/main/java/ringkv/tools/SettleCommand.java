package ringkv.tools;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code ./kvs settle --epoch E}: settles a view change stuck in doubt because its coordinator is
 * gone for good ({@code POST /admin/view-change/settle} on --node, or on every node of the view
 * with {@code --all}). A node commits if any participant installed the change and aborts once
 * every participant but the coordinator answered and none did; a node that cannot decide yet
 * names who did not answer (exit 5).
 */
@Command(name = "settle",
    description = "Settle the view change of epoch E stuck on --node (or on every node with "
        + "--all) because its coordinator is gone for good: commit if any participant "
        + "installed it, else abort once every other participant answered.")
final class SettleCommand extends ConnectedCommand {
  @Option(names = "--epoch", paramLabel = "E", required = true,
      description = "The epoch of the stuck change (the next one after the cluster's).")
  private long epoch;

  @Option(names = "--all", description = "Settle it on every node of --node's view; nodes "
      + "without that change under way are skipped, nodes that do not answer are listed.")
  private boolean all;

  @Override
  int run(Output out) {
    if (!all) {
      Reply r = settle(connection.seed());
      if (r.status() == 404) {
        throw new CliException(ExitCode.REFUSED, "no view change of epoch " + epoch
            + " is under way on " + connection.seed());
      }
      r.expectOk();
      return out.result(() -> r.json(), line(r));
    }
    List<String> nodes = ClusterView.fetch(connection.client(), connection.seed()).nodes();
    ArrayNode results = Json.MAPPER.createArrayNode();
    List<String> lines = new ArrayList<>();
    CliException failed = null;
    for (String node : nodes) {
      ObjectNode o = results.addObject().put("node", node);
      try {
        Reply r = settle(node);
        o.put("status", r.status()).set("answer", r.json());
        if (r.ok()) {
          lines.add(line(r));
        } else if (r.status() == 404) {
          lines.add(node + ": nothing to settle");
        } else {
          failed = r.failure();
          lines.add(node + ": " + r.describeError());
        }
      } catch (CliException e) {
        o.put("error", e.getMessage());
        lines.add(node + ": " + e.getMessage());
      }
    }
    int code = out.result(() -> Json.object().put("epoch", epoch).set("nodes", results),
        () -> lines);
    if (failed != null) {
      throw new CliException(failed.exitCode(), "epoch " + epoch + " is not settled everywhere: "
          + failed.getMessage());
    }
    return code;
  }

  private Reply settle(String node) {
    return connection.client().send(node, NodeClient.Request.admin("POST",
        "/admin/view-change/settle", Json.object().put("epoch", epoch)));
  }

  private String line(Reply r) {
    return r.address() + ": epoch " + epoch + " settled, " + r.json().path("action").asText()
        + " (" + r.json().path("reason").asText() + ")";
  }
}
