package ringkv.tools;

import picocli.CommandLine.Command;

/** {@code ./kvs abort}: stops the change the node coordinates while it copies keys. */
@Command(name = "abort", description = "Abort the view change that --node coordinates (only "
    + "while it copies keys; everything rolls back). Exits 1 when no change is copying there.")
final class AbortCommand extends ConnectedCommand {
  @Override
  int run(Output out) {
    NodeClient.Request post = NodeClient.Request.admin("POST", "/admin/view-change/abort",
        Json.object());
    Reply r = connection.send(post);
    if (r.status() == 404) {
      throw new CliException(ExitCode.REFUSED, "no change that " + connection.seed()
          + " coordinates is copying keys (only a copy can be aborted; the coordinator is the "
          + "node the change was sent to)");
    }
    r.expectOk();
    return out.result(() -> Json.object().put("message", r.json().path("message").asText()),
        "Abort requested on " + connection.seed()
            + ": the change rolls back and its commit answers 503");
  }
}
