package ringkv.tools;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import ringkv.node.inprocess.InProcessCluster;
import ringkv.node.peer.PeerProtocol;
import ringkv.ring.NodeAddress;

/**
 * Goal: every CLI command works against a real cluster and says what the nodes say. Method:
 * four real nodes in 2 shards of 2 in this JVM (the node's InProcessCluster, whose network the
 * test can slow), the CLI run in-process with its output captured, and each result checked
 * against what the nodes answer over HTTP: status and shards, a key-value round trip whose
 * session file carries the metadata, a planned change committed with its progress, an abort,
 * a change settled on every node after its coordinator died, and a stopped node shown DOWN.
 */
class CliClusterTest {
  @TempDir
  Path dir;

  private InProcessCluster cluster;

  @BeforeEach
  void start() {
    cluster = new InProcessCluster(4, Map.of("SHARD_COUNT", "2"));
  }

  @AfterEach
  void stop() {
    cluster.close();
  }

  private Map<String, String> env(int node) {
    Map<String, String> env = new HashMap<>();
    env.put("KVS_NODE", cluster.node(node).toString());
    env.put("KVS_SESSION", dir.resolve("session.json").toString());
    return env;
  }

  private static Cli.Result ok(Cli.Result r) {
    assertEquals(0, r.exit(), r::toString);
    return r;
  }

  private static JsonNode json(Cli.Result r) throws Exception {
    return Json.MAPPER.readTree(ok(r).out());
  }

  private JsonNode http(NodeAddress a, String path) throws Exception {
    InProcessCluster.Answer answer = cluster.send(a, "GET", path, null);
    assertEquals(200, answer.status(), answer::toString);
    return Json.MAPPER.readTree(answer.body());
  }

  @Test
  void statusShowsEveryMemberUpInItsShard() throws Exception {
    JsonNode status = json(Cli.run(env(0), "status", "--json"));
    assertEquals(4, status.path("up").asInt(), status::toString);
    assertEquals(0, status.path("down").asInt());
    assertEquals(1, status.path("epoch").asLong());
    for (JsonNode n : status.path("nodes")) {
      NodeAddress a = NodeAddress.parse(n.path("address").asText());
      int shard = http(a, "/key-value-store-shard/node-shard-id").path("shard-id").asInt();
      assertEquals(shard, n.path("shard-id").asInt(), n::toString);
      assertEquals("UP", n.path("status").asText());
      assertEquals("ready", n.path("state").asText());
      assertEquals(0, n.path("replication-queue").asLong());
    }
    String table = ok(Cli.run(env(0), "status")).out();
    assertTrue(table.startsWith("Cluster of " + cluster.node(0) + ": epoch 1, 2 shards, "
        + "4 nodes: 4 up, 0 down\n"), table);
    for (int i = 0; i < 4; i++) {
      assertTrue(table.matches("(?s).*\\nUP +" + cluster.node(i) + " +[12] +ready .*"), table);
    }
    JsonNode view = json(Cli.run(env(1), "view", "--json"));
    assertEquals(2, view.path("shards").size());
    assertEquals(4, view.path("live-view").size());
    JsonNode ring = json(Cli.run(env(2), "ring", "--json"));
    assertEquals(40, ring.path("tokens").size());
    assertTrue(ok(Cli.run(env(2), "ring")).out().contains("Shard       Owns     Keys"));
  }

  @Test
  void putGetDeleteCarryTheSessionsMetadata() throws Exception {
    Path session = dir.resolve("session.json");
    assertEquals("Added greeting (shard ", ok(Cli.run(env(0), "put", "greeting", "hello"))
        .out().substring(0, 22));
    JsonNode metadata = Session.load(session).metadata();
    assertTrue(metadata.toString().contains("greeting"), metadata::toString);
    assertEquals("hello\n", ok(Cli.run(env(3), "get", "greeting")).out());
    JsonNode typed = json(Cli.run(env(2), "put", "n", "[1,2]", "--json-value", "--json"));
    assertEquals(true, typed.path("created").asBoolean());
    assertEquals("[1,2]", Json.compact(json(Cli.run(env(1), "get", "n", "--json"))
        .path("value")));
    assertTrue(Files.readString(session).contains("\"n\""), "the session holds both keys");
    assertEquals("Deleted greeting\n", ok(Cli.run(env(1), "delete", "greeting")).out());
    Cli.Result gone = Cli.run(env(2), "get", "greeting");
    assertEquals(ExitCode.REFUSED.code(), gone.exit(), gone::toString);
    assertTrue(gone.err().startsWith("kvs: Key does not exist (404 from "), gone.err());
  }

  @Test
  void aPlanCommittedWithProgressReachesTheNewView() throws Exception {
    for (int i = 0; i < 200; i++) {
      cluster.send(cluster.node(i % 4), "PUT", "/key-value-store/k" + i, "{\"value\":" + i + "}");
    }
    JsonNode plan = json(Cli.run(env(0), "plan", "reshard", "1", "--json"));
    assertEquals(2, plan.path("epoch").asLong(), plan::toString);
    assertEquals(200, plan.path("keys-moving").asLong());
    assertTrue(ok(Cli.run(env(0), "plan", "show")).out().contains("Run it:  ./kvs commit"));
    // Slow the copy so that the progress line shows while it runs.
    cluster.network((from, to, route) -> route == PeerProtocol.REPLICATE ? 600 : 0);
    Cli.Result commit = ok(Cli.run(env(0), "commit"));
    assertTrue(commit.out().startsWith("View change committed: epoch 2, 400 key copies"),
        commit::toString);
    assertTrue(commit.err().matches("(?s).*copying \\(epoch 2\\): \\d+/400 key copies \\(.*"),
        commit::toString);
    cluster.network((from, to, route) -> 0);
    JsonNode view = json(Cli.run(env(3), "view", "--json"));
    assertEquals(2, view.path("epoch").asLong());
    assertEquals(1, view.path("shards").size());
    assertEquals(4, view.path("shards").get(0).path("members").size());
    assertEquals("Resharded to 2 shards (epoch 3)\n", ok(Cli.run(env(1), "reshard", "2")).out());
    await().atMost(Duration.ofSeconds(10)).untilAsserted(() ->
        assertEquals(3, http(cluster.node(2), "/ring").path("epoch").asLong()));
    Cli.Result none = Cli.run(env(0), "commit");
    assertEquals(ExitCode.REFUSED.code(), none.exit(), none::toString);
    assertTrue(none.err().contains("no plan is staged on " + cluster.node(0)), none.err());
  }

  @Test
  void anAbortStopsACopyAndTheCommitSaysSo() throws Exception {
    for (int i = 0; i < 100; i++) {
      cluster.send(cluster.node(i % 4), "PUT", "/key-value-store/k" + i, "{\"value\":" + i + "}");
    }
    ok(Cli.run(env(0), "plan", "reshard", "1"));
    cluster.network((from, to, route) -> route == PeerProtocol.REPLICATE ? 3_000 : 0);
    CompletableFuture<Cli.Result> commit =
        CompletableFuture.supplyAsync(() -> Cli.run(env(0), "commit"));
    await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> assertEquals("copying",
        http(cluster.node(0), "/admin/view-change").path("status").asText()));
    assertEquals(0, Cli.run(env(0), "abort").exit());
    Cli.Result result = commit.get(30, TimeUnit.SECONDS);
    assertEquals(ExitCode.UNAVAILABLE.code(), result.exit(), result::toString);
    assertTrue(result.err().contains("aborted by the operator"), result::toString);
    cluster.network((from, to, route) -> 0);
    assertEquals(1, json(Cli.run(env(1), "view", "--json")).path("epoch").asLong());
    Cli.Result again = Cli.run(env(0), "abort");
    assertEquals(ExitCode.REFUSED.code(), again.exit(), again::toString);
  }

  @Test
  void settleAllEndsAChangeWhoseCoordinatorDiedAfterCommittingAlone() throws Exception {
    for (int i = 0; i < 40; i++) {
      cluster.send(cluster.node(i % 4), "PUT", "/key-value-store/k" + i, "{\"value\":" + i + "}");
    }
    NodeAddress coordinator = cluster.node(0);
    cluster.network((from, to, route) -> (route == PeerProtocol.COMMIT && !to.equals(coordinator))
        || (route == PeerProtocol.CONFIG && from.equals(coordinator)) ? -1 : 0);
    ok(Cli.run(env(0), "reshard", "1"));
    cluster.kill(coordinator);
    cluster.network((from, to, route) -> 0);
    assertEquals(500, cluster.send(cluster.node(1), "PUT", "/key-value-store/new",
        "{\"value\":1}").status(), "prepared, in doubt");
    Cli.Result settled = Cli.run(env(1), "settle", "--epoch", "2", "--all", "--timeout", "3");
    assertEquals(0, settled.exit(), settled::toString);
    for (int i = 1; i < 4; i++) {
      assertTrue(settled.out().contains(cluster.node(i) + ": epoch 2 settled, abort"),
          settled::toString);
    }
    assertTrue(settled.out().contains(coordinator + ": "), "the dead coordinator is listed: "
        + settled);
    Cli.Result again = Cli.run(env(1), "settle", "--epoch", "2");
    assertEquals(ExitCode.REFUSED.code(), again.exit(), again::toString);
    assertEquals(201, cluster.send(cluster.node(1), "PUT", "/key-value-store/new",
        "{\"value\":1}").status(), "serves writes again");
    assertEquals(1, json(Cli.run(env(2), "view", "--json")).path("epoch").asLong());
  }

  @Test
  void aStoppedNodeShowsDown() throws Exception {
    NodeAddress stopped = cluster.node(3);
    cluster.kill(stopped);
    Cli.Result r = ok(Cli.run(env(0), "status", "--timeout", "2"));
    assertTrue(r.out().matches("(?s).*\\nDOWN +" + stopped + " +[12] +- .*"), r::toString);
    JsonNode status = json(Cli.run(env(0), "status", "--json", "--timeout", "2"));
    assertEquals(3, status.path("up").asInt());
    assertEquals(1, status.path("down").asInt());
    for (JsonNode n : status.path("nodes")) {
      boolean down = n.path("address").asText().equals(stopped.toString());
      assertEquals(down ? "DOWN" : "UP", n.path("status").asText(), n::toString);
    }
    Cli.Result direct = Cli.run(env(3), "status", "--timeout", "2");
    assertEquals(ExitCode.UNREACHABLE.code(), direct.exit(), direct::toString);
    assertTrue(direct.err().contains(stopped + "/ring"), direct.err());
  }
}
