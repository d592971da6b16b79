package ringkv.tools;

import com.fasterxml.jackson.databind.JsonNode;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code ./kvs commit}: runs the plan staged on the node ({@code POST /admin/plan/commit} with
 * the epoch the plan was made at, so it runs only on the cluster it was made for), printing the
 * change's progress while keys are copied.
 */
@Command(name = "commit",
    description = "Run the plan staged on --node, with a progress line while keys are copied.")
final class CommitCommand extends ConnectedCommand.Change {
  @Option(names = "--epoch", paramLabel = "E",
      description = "Commit only if the cluster is at epoch E (default: the plan's base epoch).")
  private Long epoch;

  @Override
  int run(Output out) {
    long base = epoch != null ? epoch
        : PlanCommand.Show.staged(connection).json().path("base-epoch").asLong();
    JsonNode r = change.run(connection, NodeClient.Request.admin("POST", "/admin/plan/commit",
        Json.object().put("epoch", base))).json();
    return out.result(() -> r, "View change committed: epoch " + r.path("epoch").asLong() + ", "
        + r.path("keys-moved").asLong() + " key copies, " + r.path("bytes-sent").asLong()
        + " bytes, key requests refused for " + r.path("window-ms").asLong() + " ms, "
        + ChangeWatcher.seconds(r.path("total-ms").asLong()) + " in all");
  }
}
