package ringkv.node.inprocess;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import ringkv.node.auth.PeerAuth;
import ringkv.node.config.NodeConfig;
import ringkv.node.inprocess.InProcessCluster.NodeSetup;
import ringkv.node.peer.MembershipMessages.ChangeRequest;
import ringkv.node.peer.PeerProtocol;
import ringkv.node.peer.PeerRoute;
import ringkv.node.time.Clock;
import ringkv.node.time.FakeClock;
import ringkv.ring.ClusterConfig;
import ringkv.ring.Layout;
import ringkv.ring.NodeAddress;
import ringkv.ring.Ring;

/*
 * Goal: with CLUSTER_SECRET, nodes work together as before (writes replicate, a reshard moves
 * keys) while every internal route refuses, with 401 JSON, a request that is unsigned, signed
 * with another secret, stale, replayed or altered — the header before the body is read; a
 * forged prepare and commit change nothing; a node whose clock is five minutes off keeps
 * working (its first request to each peer is refused as stale with the peer's time, and it
 * corrects itself); a rotation's two phases interoperate. Method: InProcessCluster with secrets
 * in the environment; the test signs requests itself with the protocol's PeerAuth.
 */
class PeerAuthenticationTest {
  static final String SECRET = "test-cluster-secret-0123456789";
  static final Map<String, String> SECURED = Map.of("SHARD_COUNT", "1", "CLUSTER_SECRET", SECRET);

  /** The authentication of a node with {@code secret}. */
  static PeerAuth auth(String secret) {
    return PeerAuth.of(NodeConfig.parse(Map.of("SOCKET_ADDRESS", "127.0.0.1:1", "VIEW",
        "127.0.0.1:1", "CLUSTER_SECRET", secret), new String[0]).security());
  }

  /** A request to {@code to} signed with {@code auth}, stamped {@code timestampMs}. */
  static InProcessCluster.Answer signed(InProcessCluster c, PeerAuth auth, NodeAddress to,
      String method, String path, String body, long timestampMs) {
    byte[] bytes = body == null ? new byte[0] : body.getBytes(StandardCharsets.UTF_8);
    PeerAuth.Signed s = auth.signRequest(method, path, to, bytes, timestampMs);
    return c.send(to, method, path, body, Map.of(PeerAuth.HEADER, s.header()));
  }

  static void assertUnauthorized(InProcessCluster.Answer a, String what) {
    assertEquals(401, a.status(), what + ": " + a);
    assertTrue(a.body().contains("\"error\":\"Unauthorized\""), what + ": " + a);
  }

  private static void writeAndReadEverywhere(InProcessCluster c, String prefix, int keys) {
    for (int i = 0; i < keys; i++) {
      var put = c.send(c.node(i % c.size()), "PUT", "/key-value-store/" + prefix + i,
          "{\"value\":" + i + "}");
      assertEquals(201, put.status(), put.toString());
    }
    for (int n = 0; n < c.size(); n++) {
      NodeAddress node = c.node(n);
      await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
        for (int i = 0; i < keys; i++) {
          var get = c.send(node, "GET", "/key-value-store/" + prefix + i, null);
          assertEquals(200, get.status(), node + " " + prefix + i + ": " + get);
        }
      });
    }
  }

  @Test
  void aSecuredClusterReplicatesAndReshards() {
    try (InProcessCluster c = new InProcessCluster(4, SECURED)) {
      writeAndReadEverywhere(c, "a", 20);
      var reshard = c.send(c.node(0), "PUT", "/key-value-store-shard/reshard",
          "{\"shard-count\":2}");
      assertEquals(200, reshard.status(), reshard.toString());
      writeAndReadEverywhere(c, "b", 10);
    }
  }

  @Test
  void everyInternalRouteRefusesWhatIsNotSignedRight() {
    try (InProcessCluster c = new InProcessCluster(2, SECURED)) {
      NodeAddress to = c.node(0);
      PeerAuth ours = auth(SECRET);
      PeerAuth theirs = auth("an-attackers-guess-0123456789");
      long now = System.currentTimeMillis();
      for (PeerRoute<?, ?> route : PeerProtocol.ALL) {
        assertUnauthorized(c.send(to, "POST", route.path(), "{}"), "unsigned " + route.path());
        assertUnauthorized(signed(c, theirs, to, "POST", route.path(), "{}", now),
            "another secret " + route.path());
      }
      assertUnauthorized(c.send(to, "GET", PeerProtocol.PING.path(), null), "GET ping");
      assertUnauthorized(c.send(to, "POST", "/internal/nope", "{}"), "unknown route");
      var stale = signed(c, ours, to, "GET", PeerProtocol.PING.path(), null, now - 600_000);
      assertUnauthorized(stale, "ten minutes old");
      assertTrue(stale.body().contains(PeerAuth.STALE_CODE), stale.toString());
      assertTrue(stale.body().contains(PeerAuth.SERVER_TIME_FIELD), stale.toString());
      // A signed request passes once; the same request again is a replay.
      byte[] ping = "{\"from\":\"127.0.0.1:1\",\"epoch\":1}".getBytes(StandardCharsets.UTF_8);
      String header = ours.signRequest("POST", PeerProtocol.PING.path(), to, ping, now).header();
      var first = c.send(to, "POST", PeerProtocol.PING.path(), new String(ping,
          StandardCharsets.UTF_8), Map.of(PeerAuth.HEADER, header));
      assertEquals(200, first.status(), first.toString());
      assertUnauthorized(c.send(to, "POST", PeerProtocol.PING.path(), new String(ping,
          StandardCharsets.UTF_8), Map.of(PeerAuth.HEADER, header)), "replayed");
      // The same signature on another body, another route or another node.
      String other = ours.signRequest("POST", PeerProtocol.PING.path(), to, ping, now).header();
      assertUnauthorized(c.send(to, "POST", PeerProtocol.PING.path(), "{\"from\":\"127.0.0.1:2\""
          + ",\"epoch\":1}", Map.of(PeerAuth.HEADER, other)), "altered body");
      assertUnauthorized(c.send(c.node(1), "POST", PeerProtocol.PING.path(), new String(ping,
          StandardCharsets.UTF_8), Map.of(PeerAuth.HEADER, other)), "another node");
    }
  }

  @Test
  void anUnsignedRequestIsRefusedBeforeItsBodyIsRead() throws IOException {
    try (InProcessCluster c = new InProcessCluster(1, SECURED);
        Socket socket = new Socket(c.node(0).host(), c.node(0).port())) {
      socket.setSoTimeout(5_000);
      OutputStream out = socket.getOutputStream();
      // Announces 100 MB and sends none of it: the answer must not wait for the body.
      out.write(("POST " + PeerProtocol.REPLICATE.path() + " HTTP/1.1\r\nHost: x\r\n"
          + "Content-Type: application/json\r\nContent-Length: 100000000\r\n\r\n")
          .getBytes(StandardCharsets.US_ASCII));
      out.flush();
      String head = readHead(socket.getInputStream());
      assertTrue(head.startsWith("HTTP/1.1 401"), head);
    }
  }

  static String readHead(InputStream in) throws IOException {
    StringBuilder head = new StringBuilder();
    int b;
    while ((b = in.read()) >= 0) {
      head.append((char) b);
      if (head.toString().endsWith("\r\n\r\n")) {
        break;
      }
    }
    return head.toString();
  }

  @Test
  void aForgedPrepareAndCommitChangeNothing() {
    try (InProcessCluster c = new InProcessCluster(2, SECURED)) {
      writeAndReadEverywhere(c, "k", 5);
      TreeMap<Integer, List<NodeAddress>> none = new TreeMap<>();
      none.put(1, List.of());
      ClusterConfig wipe = new ClusterConfig(2, List.of(c.node(0), c.node(1)),
          Ring.initial(1, Ring.DEFAULT_VNODES_PER_SHARD), Layout.of(none));
      String prepare = new String(PeerProtocol.PREPARE.request().encode(
          new ChangeRequest(wipe, Set.of(c.node(0)), c.node(1))), StandardCharsets.UTF_8);
      assertUnauthorized(c.send(c.node(0), "POST", PeerProtocol.PREPARE.path(), prepare),
          "forged prepare");
      assertUnauthorized(c.send(c.node(0), "POST", PeerProtocol.COMMIT.path(), "{\"epoch\":2}"),
          "forged commit");
      var ring = c.send(c.node(0), "GET", "/ring", null);
      assertTrue(ring.body().contains("\"epoch\":1,"), ring.toString());
      writeAndReadEverywhere(c, "after", 3);
    }
  }

  @Test
  void aNodeWhoseClockIsFiveMinutesAheadKeepsWorking() {
    try (InProcessCluster c = new InProcessCluster(3, SECURED, i -> i == 2
        ? new NodeSetup(Map.of(), FakeClock.systemShiftedBy(300_000))
        : NodeSetup.PLAIN)) {
      writeAndReadEverywhere(c, "skew", 15);
      // A write through the fast node, then one through another node carrying its metadata.
      var fast = c.send(c.node(2), "PUT", "/key-value-store/x", "{\"value\":\"fast\"}");
      assertEquals(201, fast.status(), fast.toString());
      String metadata = fast.body().replaceAll(".*\"causal-metadata\":(\\{.*?\\}\\}).*", "$1");
      var later = c.send(c.node(0), "PUT", "/key-value-store/x",
          "{\"value\":\"later\",\"causal-metadata\":" + metadata + "}");
      assertEquals(200, later.status(), later.toString());
      for (int n = 0; n < 3; n++) {
        NodeAddress node = c.node(n);
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertTrue(
            c.send(node, "GET", "/key-value-store/x", null).body().contains("later")));
      }
    }
  }

  @Test
  void theTwoPhasesOfARotationWorkTogether() {
    String old = SECRET;
    String fresh = "the-next-cluster-secret-98765";
    Map<String, String> phaseOne = Map.of("CLUSTER_SECRET", old, "CLUSTER_SECRET_PREVIOUS", fresh);
    Map<String, String> phaseTwo = Map.of("CLUSTER_SECRET", fresh, "CLUSTER_SECRET_PREVIOUS", old);
    Map<String, String> env = new HashMap<>(Map.of("SHARD_COUNT", "1"));
    try (InProcessCluster c = new InProcessCluster(3, env,
        i -> new NodeSetup(i == 1 ? phaseTwo : phaseOne, Clock.SYSTEM))) {
      writeAndReadEverywhere(c, "r", 12);
    }
  }
}
