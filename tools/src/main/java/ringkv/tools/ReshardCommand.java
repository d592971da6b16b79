package ringkv.tools;

import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/**
 * {@code ./kvs reshard N}: re-lays the cluster over N shards through the shard dialect's
 * {@code PUT /key-value-store-shard/reshard}, with a progress line while keys are copied.
 */
@Command(name = "reshard",
    description = "Change the number of shards (every shard needs two live nodes).")
final class ReshardCommand extends ConnectedCommand.Change {
  @Parameters(index = "0", paramLabel = "N", description = "The new shard count.")
  private int shards;

  @Override
  int run(Output out) {
    if (shards < 1) {
      throw new CliException(ExitCode.USAGE, "the shard count must be a positive integer");
    }
    Reply r = change.run(connection, NodeClient.Request.admin("PUT",
        "/key-value-store-shard/reshard", Json.object().put("shard-count", shards)));
    RingSnapshot after = ring();
    return out.result(() -> Json.object().put("shard-count", after.shards().size())
            .put("epoch", after.epoch()).put("message", r.json().path("message").asText()),
        "Resharded to " + after.shards().size() + " shards (epoch " + after.epoch() + ")");
  }
}
