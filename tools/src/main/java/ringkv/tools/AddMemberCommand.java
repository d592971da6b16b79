package ringkv.tools;

import java.util.Comparator;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code ./kvs add-member ADDR [--shard ID]}: places a node in a shard through the shard
 * dialect's {@code PUT /key-value-store-shard/add-member/<id>}; without {@code --shard}, in the
 * shard with the fewest members (the lowest id on a tie).
 */
@Command(name = "add-member",
    description = "Add a node to a shard (it receives the shard's keys before the change ends).")
final class AddMemberCommand extends ConnectedCommand.Change {
  @Parameters(index = "0", paramLabel = "HOST:PORT", description = "The node to add.")
  private String address;

  @Option(names = "--shard", paramLabel = "ID",
      description = "Shard to add it to (default: the one with the fewest members).")
  private Integer shard;

  @Override
  int run(Output out) {
    String node = Connection.Target.parse(address).address();
    int id = shard != null ? shard : smallestShard(ring());
    Reply r = change.run(connection, NodeClient.Request.admin("PUT",
        "/key-value-store-shard/add-member/" + id, Json.object().put("socket-address", node)));
    RingSnapshot after = ring();
    return out.result(() -> Json.object().put("address", node).put("shard-id", id)
            .put("epoch", after.epoch()).put("message", r.json().path("message").asText()),
        "Added " + node + " to shard " + id + " (epoch " + after.epoch() + ")");
  }

  static int smallestShard(RingSnapshot ring) {
    return ring.shards().stream()
        .min(Comparator.comparingInt((RingSnapshot.Shard s) -> s.members().size())
            .thenComparingInt(RingSnapshot.Shard::id))
        .orElseThrow(() -> new CliException(ExitCode.REFUSED, ring.node()
            + " has no shard yet; give --shard"))
        .id();
  }
}
