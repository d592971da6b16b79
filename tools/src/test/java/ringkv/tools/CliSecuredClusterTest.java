package ringkv.tools;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import ringkv.node.inprocess.InProcessCluster;

/**
 * Goal: against a cluster that closes its doors (CLUSTER_SECRET, ADMIN_TOKEN, CLIENT_TOKEN), the
 * CLI sends the right token to each route: without tokens key-value and admin commands exit 4
 * (unauthorized) and change nothing, read-only commands still work, and with them everything
 * works. Method: four real nodes in this JVM with the three secrets, the CLI run in-process with
 * the tokens in (or left out of) its environment.
 */
class CliSecuredClusterTest {
  private static final String ADMIN = "admin-token-0123456789abcdef";
  private static final String CLIENT = "client-token-0123456789abcdef";

  @TempDir
  Path dir;

  private Map<String, String> env(InProcessCluster c, boolean tokens) {
    Map<String, String> env = new HashMap<>();
    env.put("KVS_NODE", c.node(0).toString());
    env.put("KVS_SESSION", dir.resolve("session.json").toString());
    if (tokens) {
      env.put("ADMIN_TOKEN", ADMIN);
      env.put("CLIENT_TOKEN", CLIENT);
    }
    return env;
  }

  @Test
  void eachRouteGetsItsTokenAndNoTokenChangesNothing() {
    try (InProcessCluster c = new InProcessCluster(4, Map.of("SHARD_COUNT", "2",
        "CLUSTER_SECRET", "cluster-secret-0123456789abcdef", "ADMIN_TOKEN", ADMIN,
        "CLIENT_TOKEN", CLIENT))) {
      Map<String, String> open = env(c, false);
      assertEquals(4, Cli.run(open, "put", "k", "v").exit(), "no client token");
      assertEquals(4, Cli.run(open, "reshard", "1").exit(), "no admin token");
      Cli.Result status = Cli.run(open, "status");
      assertEquals(0, status.exit(), status::toString);
      assertTrue(status.out().contains("UP"), status.out());
      Cli.Result view = Cli.run(open, "view", "--json");
      assertEquals(0, view.exit(), view::toString);
      assertTrue(view.out().contains("\"epoch\" : 1") || view.out().contains("\"epoch\":1"),
          "nothing changed: " + view.out());

      Map<String, String> tokens = env(c, true);
      assertEquals(0, Cli.run(tokens, "put", "k", "v").exit());
      Cli.Result get = Cli.run(tokens, "get", "k");
      assertEquals(0, get.exit(), get::toString);
      assertTrue(get.out().contains("v"), get.out());
      Cli.Result reshard = Cli.run(tokens, "reshard", "1");
      assertEquals(0, reshard.exit(), reshard::toString);
      assertTrue(c.send(c.node(1), "GET", "/key-value-store-shard/shard-ids", null).body()
          .contains("[1]"), "one shard now");
    }
  }
}
