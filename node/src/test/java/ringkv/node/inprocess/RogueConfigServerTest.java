package ringkv.node.inprocess;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import ringkv.node.auth.PeerAuth;
import ringkv.node.inprocess.InProcessCluster.NodeSetup;
import ringkv.node.peer.MembershipMessages;
import ringkv.node.peer.MembershipMessages.Pong;
import ringkv.node.peer.PeerProtocol;
import ringkv.ring.ClusterConfig;
import ringkv.ring.Layout;
import ringkv.ring.NodeAddress;
import ringkv.ring.Ring;

/*
 * Goal: a server at an address the nodes take for a member's (a man in the middle, or a machine
 * that took over a member's IP) cannot feed them a configuration: its heartbeat answers report a
 * newer epoch and its /internal/config serves a configuration that makes it the only member.
 * With CLUSTER_SECRET its unsigned (or falsely signed) answers are refused and nothing changes;
 * in an open cluster its epoch 2^62 is refused by the epoch bound. Method: InProcessCluster with
 * the rogue (a JDK HTTP server run by the test) in every node's VIEW; the nodes' epoch and data
 * are checked after several heartbeats reached the rogue.
 */
class RogueConfigServerTest {
  /** The rogue: answers pings with {@code epoch} and the configuration with {@code config}. */
  private static final class Rogue implements AutoCloseable {
    final NodeAddress address = new NodeAddress("127.0.0.1", InProcessCluster.freePort());
    final AtomicInteger configsServed = new AtomicInteger();
    final AtomicInteger pingsServed = new AtomicInteger();
    final HttpServer server;
    volatile ClusterConfig config;

    Rogue() {
      try {
        server = HttpServer.create(new InetSocketAddress(address.host(), address.port()), 16);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
      server.createContext("/", this::handle);
      server.start();
    }

    private void handle(HttpExchange exchange) throws IOException {
      exchange.getRequestBody().readAllBytes();
      byte[] body;
      String path = exchange.getRequestURI().getPath();
      if (config != null && path.equals(PeerProtocol.PING.path())) {
        pingsServed.incrementAndGet();
        body = PeerProtocol.PING.answer().encode(new Pong(address, config.epoch(), 0, 1, true));
      } else if (config != null && path.equals(PeerProtocol.CONFIG.path())) {
        configsServed.incrementAndGet();
        body = MembershipMessages.CONFIG.encode(config);
      } else {
        body = "{\"message\":\"Error\",\"error\":\"Not found\"}".getBytes();
        exchange.sendResponseHeaders(404, body.length);
        exchange.getResponseBody().write(body);
        exchange.close();
        return;
      }
      // Looks signed: a well-formed header with a made-up MAC.
      exchange.getResponseHeaders().add(PeerAuth.HEADER,
          "v1 key=0123456789abcdef sig=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
      exchange.getResponseHeaders().add("Content-Type", "application/json");
      exchange.sendResponseHeaders(200, body.length);
      exchange.getResponseBody().write(body);
      exchange.close();
    }

    /** A configuration at {@code epoch} where the rogue is the only member of the one shard. */
    void serve(long epoch, List<NodeAddress> view) {
      TreeMap<Integer, List<NodeAddress>> layout = new TreeMap<>();
      layout.put(1, List.of(address));
      config = new ClusterConfig(epoch, view, Ring.initial(1, Ring.DEFAULT_VNODES_PER_SHARD),
          Layout.of(layout));
    }

    @Override
    public void close() {
      server.stop(0);
    }
  }

  private static void attackAndCheck(Map<String, String> env, long epoch, boolean signed) {
    try (Rogue rogue = new Rogue();
        InProcessCluster c = new InProcessCluster(2, env, i -> NodeSetup.PLAIN,
            List.of(rogue.address))) {
      var put = c.send(c.node(0), "PUT", "/key-value-store/kept", "{\"value\":1}");
      assertTrue(put.status() == 201, put.toString());
      rogue.serve(epoch, List.of(c.node(0), c.node(1), rogue.address));
      // Heartbeats reach the rogue every 250 ms: three rounds from each node, each answered with
      // the rogue's epoch, to bite (then the nodes would fetch its configuration).
      await().atMost(Duration.ofSeconds(10)).until(() -> rogue.pingsServed.get() >= 6);
      if (!signed) {
        await().atMost(Duration.ofSeconds(10)).until(() -> rogue.configsServed.get() >= 2);
      }
      for (int n = 0; n < 2; n++) {
        var ring = c.send(c.node(n), "GET", "/ring", null);
        assertTrue(ring.body().contains("\"epoch\":1,"), ring.toString());
        var get = c.send(c.node(n), "GET", "/key-value-store/kept", null);
        assertEquals(200, get.status(), get.toString());
      }
      if (!signed) {
        assertTrue(rogue.configsServed.get() > 0, "the open nodes did ask the rogue");
      }
    }
  }

  @Test
  void aSecuredClusterTakesNoConfigurationFromARogue() {
    Map<String, String> env = new HashMap<>(PeerAuthenticationTest.SECURED);
    env.put("SHARD_COUNT", "1");
    attackAndCheck(env, 2, true);
  }

  @Test
  void anOpenClusterTakesNoConfigurationBeyondTheEpochBound() {
    attackAndCheck(Map.of("SHARD_COUNT", "1"), ClusterConfig.EPOCH_MAX, false);
  }
}
