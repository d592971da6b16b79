package ringkv.tests;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import ringkv.tests.support.Http;
import ringkv.tests.support.Http.Reply;
import ringkv.tests.support.LocalCluster;

/*
 * Goal: node addresses may be DNS names (issue 18 item 4): SOCKET_ADDRESS and VIEW name hosts,
 * a node listens on the address its name resolves to when it starts, and peers resolve a name
 * when they connect, not once at start — a Kubernetes pod keeps its name when it is rescheduled
 * but gets a new IP. The configuration, views, ring and forwarding replies show the names as
 * given.
 *
 * Method: 4 node processes (2 shards of 2) whose addresses are names of a hosts file the harness
 * writes (node-a.ringkv.test -> 127.0.0.11, ...); each node JVM resolves through it with the
 * JDK's resolver and no cache (LocalCluster.RESOLVER_FLAGS), the test JVM talks to the IPs.
 * 1. Views, ring and shard members on every node list exactly the names; a node answers on its
 *    name's IP and not on 127.0.0.1. Keys written through one node in the view-change dialect
 *    report the name of the node that served them when forwarded, and read back through every
 *    node (forwarding by name both ways).
 * 2. Node C is stopped, its name moved to 127.0.0.23 (a rescheduled pod) and C started again: it
 *    listens on the new IP only, catches up from its shard peer by name, and every other node
 *    reaches it at the new IP — a node outside C's shard forwards a key that C serves, C's shard
 *    peer replicates a write to C.
 */
class HostNamesTest {
  private static final Map<String, String> HOSTS = new LinkedHashMap<>();

  static {
    HOSTS.put("node-a.ringkv.test", "127.0.0.11");
    HOSTS.put("node-b.ringkv.test", "127.0.0.12");
    HOSTS.put("node-c.ringkv.test", "127.0.0.13");
    HOSTS.put("node-d.ringkv.test", "127.0.0.14");
  }

  private static final int C = 2;
  private static final String MOVED_TO = "127.0.0.23";
  private static final int KEYS = 24;
  /** Keys tried to find one that a given node forwards to C (about 1 in 4 is C's). */
  private static final int TRIES_MAX = 200;

  @Test
  void aClusterOfHostNamesServesForwardsAndFollowsAMovedNode() {
    // Anti-entropy off: C's own rounds with its peer must not stand in for the peer's
    // replication to C that step 2 checks.
    try (LocalCluster cluster = LocalCluster.builder("HostNamesTest").nodes(4).shards(2)
        .hostNames(HOSTS).env("ANTI_ENTROPY_INTERVAL_MS", "3600000").start()) {
      Set<String> names = new TreeSet<>(cluster.addresses());
      assertTrue(names.stream().allMatch(a -> a.startsWith("node-")), names.toString());
      for (int i = 0; i < cluster.size(); i++) {
        assertShowsNames(cluster, i, names);
        assertListensOnlyOn(cluster, i, HOSTS.get(cluster.address(i).split(":")[0]));
      }
      Kvs.Client client = new Kvs.Client();
      Map<String, String> written = new LinkedHashMap<>();
      Set<String> servers = new HashSet<>();
      for (int k = 0; k < KEYS; k++) {
        Reply r = client.put(cluster.node(0), "k" + k, "v" + k);
        assertEquals(201, r.status(), r.toString());
        servers.add(r.field("address").asText(cluster.address(0)));
        written.put("k" + k, "v" + k);
      }
      assertTrue(names.containsAll(servers), "served by " + servers + ", not names");
      assertTrue(servers.size() >= 3, "A forwarded to " + servers + " only");
      for (int i = 0; i < cluster.size(); i++) {
        assertReads(client, cluster.node(i), written);
      }

      cluster.stop(C);
      cluster.moveHost(C, MOVED_TO);
      cluster.start(C); // waits until it answers on the new IP, caught up
      assertEquals(MOVED_TO + ":" + port(cluster.address(C)), cluster.node(C));
      assertListensOnlyOn(cluster, C, MOVED_TO);
      assertRefused(HOSTS.get(host(cluster.address(C))), port(cluster.address(C)));
      assertReads(client, cluster.node(C), written);
      int shardOfC = shardOf(cluster, C);
      for (int i = 0; i < cluster.size(); i++) {
        if (i == C) {
          continue;
        }
        if (shardOf(cluster, i) == shardOfC) {
          assertReplicatesTo(cluster, i, C, client);
        } else {
          assertForwardsTo(cluster, i, C, client);
        }
      }
    }
  }

  /** Node i's view, shard members, ring and health name the nodes exactly as configured. */
  private static void assertShowsNames(LocalCluster cluster, int i, Set<String> names) {
    String node = cluster.node(i);
    Reply view = Http.get(node, "/key-value-store-view");
    assertEquals(names, new TreeSet<>(List.of(view.field("view").asText().split(","))),
        node + " view: " + view);
    Set<String> members = new TreeSet<>();
    for (JsonNode shard : Http.get(node, "/ring").field("shards")) {
      shard.path("members").forEach(m -> members.add(m.asText()));
    }
    assertEquals(names, members, node + " ring members");
    Reply ids = Http.get(node, "/key-value-store-shard/shard-ids");
    Set<String> shardMembers = new TreeSet<>();
    for (JsonNode id : ids.field("shard-ids")) {
      Http.get(node, "/key-value-store-shard/shard-id-members/" + id.asInt())
          .field("shard-id-members").forEach(m -> shardMembers.add(m.asText()));
    }
    assertEquals(names, shardMembers, node + " shard members");
    assertEquals(cluster.address(i), Http.get(node, "/health/ready").field("node").asText());
  }

  /** Node i answers on {@code ip} (where its name points) and nothing listens on 127.0.0.1. */
  private static void assertListensOnlyOn(LocalCluster cluster, int i, String ip) {
    int port = port(cluster.address(i));
    assertEquals(200, Http.get(ip + ":" + port, "/health/live").status());
    assertRefused(LocalCluster.HOST, port);
  }

  private static void assertRefused(String ip, int port) {
    assertThrows(ConnectException.class, () -> {
      try (Socket s = new Socket()) {
        s.connect(new InetSocketAddress(ip, port), 2_000);
      }
    }, ip + ":" + port + " accepted a connection");
  }

  private static void assertReads(Kvs.Client client, String node, Map<String, String> written) {
    for (Map.Entry<String, String> e : written.entrySet()) {
      Reply r = client.get(node, e.getKey());
      assertEquals(200, r.status(), node + " " + e.getKey() + ": " + r);
      assertEquals(e.getValue(), r.field("value").asText(), node + " " + e.getKey());
    }
  }

  /** Node i, outside C's shard, forwards some key to C: it resolved C's name again. */
  private static void assertForwardsTo(LocalCluster cluster, int i, int c, Kvs.Client client) {
    List<String> servedBy = new ArrayList<>();
    for (int k = 0; k < TRIES_MAX; k++) {
      String key = "via-" + i + "-" + k;
      Reply r = client.put(cluster.node(i), key, "x");
      assertEquals(201, r.status(), r.toString());
      String server = r.field("address").asText(cluster.address(i));
      if (server.equals(cluster.address(c))) {
        return;
      }
      servedBy.add(server);
    }
    fail(cluster.address(i) + " never forwarded to " + cluster.address(c) + " in " + TRIES_MAX
        + " keys; served by " + new TreeSet<>(servedBy));
  }

  /** Node i, C's shard peer, serves a write itself and replicates it to C at its new IP. */
  private static void assertReplicatesTo(LocalCluster cluster, int i, int c,
      Kvs.Client client) {
    for (int k = 0; k < TRIES_MAX; k++) {
      String key = "peer-" + k;
      Reply r = client.put(cluster.node(i), key, "p" + k);
      assertEquals(201, r.status(), r.toString());
      if (r.field("address").isMissingNode()) { // served by node i itself
        String value = "\"p" + k + "\"";
        await(cluster.address(c) + " holds " + key).atMost(Duration.ofSeconds(15))
            .pollInterval(Duration.ofMillis(100))
            .until(() -> value.equals(Http.get(cluster.node(c), "/key-value-store/" + key)
                .field("value").toString()));
        return;
      }
    }
    fail(cluster.address(i) + " served none of " + TRIES_MAX + " keys itself");
  }

  private static int shardOf(LocalCluster cluster, int i) {
    return Http.get(cluster.node(i), "/key-value-store-shard/node-shard-id").field("shard-id")
        .asInt();
  }

  private static String host(String address) {
    return address.substring(0, address.lastIndexOf(':'));
  }

  private static int port(String address) {
    return Integer.parseInt(address.substring(address.lastIndexOf(':') + 1));
  }

  static {
    // Fail early and clearly where loopback aliases are missing (they exist on Linux).
    for (String ip : List.of("127.0.0.11", MOVED_TO)) {
      try (Socket s = new Socket()) {
        s.bind(new InetSocketAddress(ip, 0));
      } catch (IOException e) {
        throw new IllegalStateException("cannot bind " + ip + ": " + e);
      }
    }
  }
}
