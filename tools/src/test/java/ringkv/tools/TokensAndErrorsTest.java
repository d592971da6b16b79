package ringkv.tools;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Goal: the CLI sends ADMIN_TOKEN on admin routes and CLIENT_TOKEN on key routes as bearer
 * tokens, nothing when they are unset, and turns 401/403, 5xx and silence into exit codes 4, 5
 * and 3 with a message that says what to do. Method: a fake node (the base nodes require no
 * token yet) that records each request's Authorization header and answers as told.
 */
class TokensAndErrorsTest {
  private static final String RING = "{\"epoch\":1,\"hash-function\":\"murmur3_128\","
      + "\"vnodes-per-shard\":20,\"shards\":[],\"tokens\":[]}";
  private static final String UNAUTHORIZED =
      "{\"error\":\"Unauthorized\",\"message\":\"Error in PUT\"}";

  @TempDir
  Path dir;

  private FakeNode node;

  @BeforeEach
  void start() {
    node = new FakeNode();
  }

  @AfterEach
  void stop() {
    node.close();
  }

  @Test
  void adminRoutesCarryTheAdminTokenAndKeyRoutesTheClientToken() {
    node.answer("/ring", 200, RING)
        .answer("/key-value-store/k", 200, "{\"message\":\"Retrieved successfully\","
            + "\"value\":\"v\",\"causal-metadata\":{\"keys\":{\"k\":[5,\"n\"]}}}");
    Map<String, String> env = Map.of("KVS_NODE", node.address(), "ADMIN_TOKEN", "adm1n",
        "CLIENT_TOKEN", "cl1ent");
    assertEquals(0, Cli.run(env, "ring").exit());
    Path session = dir.resolve("s.json");
    Cli.Result get = Cli.run(env, "get", "k", "--session", session.toString());
    assertEquals(0, get.exit(), get::toString);
    assertEquals("v\n", get.out());
    assertEquals("Bearer adm1n", node.seen().get(0).authorization());
    assertEquals("Bearer cl1ent", node.seen().get(1).authorization());
  }

  @Test
  void noTokenInTheEnvironmentSendsNoHeader() {
    node.answer("/ring", 200, RING);
    assertEquals(0, Cli.run(Map.of("KVS_NODE", node.address()), "ring").exit());
    assertNull(node.seen().get(0).authorization());
  }

  @Test
  void aMissingOrWrongTokenExitsFourAndNamesTheVariable() {
    node.answer("/key-value-store-shard/reshard", 401, UNAUTHORIZED)
        .answer("/key-value-store/k", 403, "{\"error\":\"Forbidden\",\"message\":\"Error\"}");
    Cli.Result missing = Cli.run(Map.of("KVS_NODE", node.address()), "reshard", "2");
    assertEquals(ExitCode.UNAUTHORIZED.code(), missing.exit(), missing::toString);
    assertTrue(missing.err().contains("set ADMIN_TOKEN"), missing.err());
    Cli.Result wrong = Cli.run(Map.of("KVS_NODE", node.address(), "CLIENT_TOKEN", "nope"),
        "get", "k", "--session", dir.resolve("s.json").toString());
    assertEquals(ExitCode.UNAUTHORIZED.code(), wrong.exit(), wrong::toString);
    assertTrue(wrong.err().contains("refused the token in CLIENT_TOKEN"), wrong.err());
  }

  @Test
  void theSessionsMetadataGoesOutWithTheNextRequest() throws Exception {
    Path session = dir.resolve("s.json");
    Files.writeString(session, "{\"causal-metadata\":{\"keys\":{\"a\":[9,\"x\"]}}}");
    node.answer("/key-value-store/a%2Fb", 201, "{\"message\":\"Added successfully\","
        + "\"causal-metadata\":{\"keys\":{\"a\":[9,\"x\"],\"a/b\":[10,\"x\"]}},\"shard-id\":2}");
    Cli.Result r = Cli.run(Map.of("KVS_NODE", node.address()), "put", "a/b", "1",
        "--json-value", "--session", session.toString());
    assertEquals(0, r.exit(), r::toString);
    assertEquals("Added a/b (shard 2)\n", r.out());
    FakeNode.Seen put = node.seen().get(0);
    assertEquals("PUT", put.method());
    assertEquals(Json.MAPPER.readTree("{\"value\":1,\"causal-metadata\":{\"keys\":{\"a\":[9,"
        + "\"x\"]}}}"), Json.MAPPER.readTree(put.body()));
    assertEquals("{\"keys\":{\"a\":[9,\"x\"],\"a/b\":[10,\"x\"]}}",
        Json.compact(Session.load(session).metadata()));
  }

  @Test
  void aServerErrorExitsFiveWithTheNodesError() {
    node.answer("/key-value-store/k", 500,
        "{\"error\":\"View change in progress\",\"message\":\"Error in GET\"}");
    Cli.Result r = Cli.run(Map.of("KVS_NODE", node.address()), "get", "k", "--session",
        dir.resolve("s.json").toString());
    assertEquals(ExitCode.UNAVAILABLE.code(), r.exit(), r::toString);
    assertEquals("kvs: View change in progress (500 from " + node.address()
        + ", GET /key-value-store/k)\n", r.err());
  }

  @Test
  void aNodeThatDoesNotAnswerInTimeExitsThree() {
    node.hold();
    Cli.Result r = Cli.run(Map.of("KVS_NODE", node.address()), "view", "--timeout", "0.5");
    assertEquals(ExitCode.UNREACHABLE.code(), r.exit(), r::toString);
    assertTrue(r.err().contains("no answer within 500 ms"), r.err());
  }
}
