package ringkv.tools;

import com.fasterxml.jackson.databind.node.ObjectNode;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code ./kvs plan KIND ...}: plans a view change on the node ({@code POST /admin/plan}) and
 * shows it; the node keeps it staged until {@code ./kvs commit} runs it or
 * {@code ./kvs plan drop} drops it. {@code ./kvs plan} (or {@code plan show}) shows the staged
 * plan.
 */
@Command(name = "plan",
    description = "Plan a view change (shown, staged on --node, run by ./kvs commit).",
    subcommands = {PlanCommand.Reshard.class, PlanCommand.AddMember.class,
        PlanCommand.AddNode.class, PlanCommand.RemoveNode.class, PlanCommand.ViewChange.class,
        PlanCommand.Show.class, PlanCommand.Drop.class})
final class PlanCommand extends ConnectedCommand {
  @Override
  int run(Output out) {
    return Show.show(connection, out);
  }

  /**
   * A kind of change: the body of {@code POST /admin/plan}, whose {@code "kind"} is the
   * subcommand's name.
   */
  abstract static class Kind extends ConnectedCommand {
    @Spec
    CommandSpec spec;

    /** Adds the kind's fields to {@code body}. */
    abstract ObjectNode fields(ObjectNode body);

    @Override
    int run(Output out) {
      ObjectNode body = fields(Json.object().put("kind", spec.name()));
      NodeClient.Request post = NodeClient.Request.admin("POST", "/admin/plan", body);
      return print(connection, out, connection.send(post).expectOk());
    }
  }

  /** Shows the plan in {@code r} (as JSON with --json), as the node at --node answered it. */
  private static int print(Connection connection, Output out, Reply r) {
    return out.result(r::json, () -> PlanFormat.format(connection.seed(), r.json()));
  }

  /** A change of one node's place in the view: the body names the kind and the node. */
  abstract static class NodeKind extends Kind {
    @Parameters(index = "0", paramLabel = "HOST:PORT")
    private String address;

    @Override
    final ObjectNode fields(ObjectNode body) {
      return body.put("socket-address", Connection.Target.parse(address).address());
    }
  }

  @Command(name = "reshard",
      description = "Plan a reshard to N shards.")
  static final class Reshard extends Kind {
    @Parameters(index = "0", paramLabel = "N")
    private int shards;

    @Override
    ObjectNode fields(ObjectNode body) {
      return body.put("shard-count", shards);
    }
  }

  @Command(name = "add-member",
      description = "Plan adding a node to a shard.")
  static final class AddMember extends Kind {
    @Parameters(index = "0", paramLabel = "HOST:PORT")
    private String address;

    @Option(names = "--shard", paramLabel = "ID", required = true)
    private int shard;

    @Override
    ObjectNode fields(ObjectNode body) {
      return body.put("shard-id", shard)
          .put("socket-address", Connection.Target.parse(address).address());
    }
  }

  @Command(name = "add-node",
      description = "Plan adding a node to the view (in no shard).")
  static final class AddNode extends NodeKind {
  }

  @Command(name = "remove-node",
      description = "Plan removing a node from the view.")
  static final class RemoveNode extends NodeKind {
  }

  @Command(name = "view-change",
      description = "Plan a new view with a replication factor (the view-change dialect's "
          + "change).")
  static final class ViewChange extends Kind {
    @Option(names = "--view", paramLabel = "A:P,B:P,...", required = true)
    private String view;

    @Option(names = "--repl-factor", paramLabel = "R", required = true)
    private int factor;

    @Override
    ObjectNode fields(ObjectNode body) {
      return body.put("view", view).put("repl-factor", factor);
    }
  }

  @Command(name = "show",
      description = "Show the plan staged on --node (exit 1 if none).")
  static final class Show extends ConnectedCommand {
    @Override
    int run(Output out) {
      return show(connection, out);
    }

    /** The plan staged on --node; exit 1 with a clear message when there is none. */
    static Reply staged(Connection connection) {
      String node = connection.seed();
      Reply r = connection.send(NodeClient.Request.get("/admin/plan"));
      if (r.status() == 404) {
        throw new CliException(ExitCode.REFUSED, "no plan is staged on " + node
            + " (./kvs plan KIND ... --node " + node + " stages one)");
      }
      return r.expectOk();
    }

    static int show(Connection connection, Output out) {
      return print(connection, out, staged(connection));
    }
  }

  @Command(name = "drop",
      description = "Drop the plan staged on --node (exit 1 if none).")
  static final class Drop extends ConnectedCommand {
    @Override
    int run(Output out) {
      NodeClient.Request delete = NodeClient.Request.admin("DELETE", "/admin/plan", null);
      Reply r = connection.send(delete);
      if (r.status() == 404) {
        throw new CliException(ExitCode.REFUSED, "no plan is staged on " + connection.seed());
      }
      r.expectOk();
      return out.result(r::json, "Plan dropped on " + connection.seed());
    }
  }
}
