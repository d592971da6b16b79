package ringkv.node.inprocess;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import ringkv.gossip.CausalContext;
import ringkv.gossip.Entry;
import ringkv.gossip.Version;
import ringkv.node.peer.KvMessages.ForwardRequest;
import ringkv.node.peer.MembershipMessages.ChangeRequest;
import ringkv.node.peer.PeerProtocol;
import ringkv.node.peer.ReplicationMessages.Batch;
import ringkv.ring.ClusterConfig;
import ringkv.ring.Layout;
import ringkv.ring.NodeAddress;
import ringkv.ring.Ring;
import ringkv.gossip.KeyValueCore;

/*
 * Goal: values no honest node produces are refused in an open cluster too (issue 14, item 4):
 * a replicated entry at counter 2^63-1 (it would pin its key forever and overflow the clock), a
 * prepare at an epoch past the bound or at 2^63-1 with every shard empty (it would wipe the
 * cluster), a client counter of 2^63-1 (400, and the client's next write still wins), a forwarded
 * request naming an address outside the view (the node must not fetch a configuration there),
 * and a view change that would leave a shard holding keys without members (unless forced).
 * Method: InProcessCluster without secrets; the forged messages are encoded with the protocol's
 * own codecs, so each is exactly what a peer would send.
 */
class ForgedValuesTest {
  private static final String JSON = "application/json";

  private static String text(byte[] bytes) {
    return new String(bytes, StandardCharsets.UTF_8);
  }

  private static void put(InProcessCluster c, NodeAddress via, String key, String value,
      int status) {
    var put = c.send(via, "PUT", "/key-value-store/" + key, "{\"value\":\"" + value + "\"}");
    assertEquals(status, put.status(), put.toString());
  }

  private static void assertValue(InProcessCluster c, NodeAddress via, String key, String value) {
    var get = c.send(via, "GET", "/key-value-store/" + key, null);
    assertEquals(200, get.status(), get.toString());
    assertTrue(get.body().contains("\"value\":\"" + value + "\""), get.toString());
  }

  @Test
  void aForgedReplicationEntryIsRefusedAndItsKeyStaysWritable() {
    try (InProcessCluster c = new InProcessCluster(2, Map.of("SHARD_COUNT", "1"))) {
      put(c, c.node(0), "pinned", "before", 201);
      Entry forged = Entry.value("pinned", "\"evil\"", new Version(Long.MAX_VALUE, "~"),
          CausalContext.EMPTY);
      Entry forgedDependency = Entry.value("other", "\"evil\"", new Version(5, "~"),
          CausalContext.of(Map.of("x", new Version(Long.MAX_VALUE, "~"))));
      for (Entry e : List.of(forged, forgedDependency)) {
        for (boolean transfer : new boolean[] {false, true}) {
          var answer = c.send(c.node(0), "POST", PeerProtocol.REPLICATE.path(),
              text(PeerProtocol.REPLICATE.request().encode(
                  transfer ? new Batch(c.node(1), true, 2, 42, 0, List.of(e))
                      : Batch.replicated(c.node(1), List.of(e)))));
          // A transfer outside a change under way is refused before its entries are read.
          assertEquals(transfer ? 503 : 400, answer.status(), answer.toString());
        }
      }
      put(c, c.node(0), "pinned", "after", 200);
      assertValue(c, c.node(0), "pinned", "after");
      assertValue(c, c.node(1), "pinned", "after");
      assertEquals(404, c.send(c.node(0), "GET", "/key-value-store/other", null).status());
    }
  }

  /**
   * A replicated batch whose sender is at a newer epoch than the receiver is refused, not
   * acknowledged (the receiver would judge by its older configuration which keys it owns and
   * drop the others), and nothing of it is applied; the same batch at the receiver's epoch, or
   * not saying one, is applied.
   */
  @Test
  void aBatchFromANewerEpochIsRefusedUntilTheReceiverHasIt() {
    try (InProcessCluster c = new InProcessCluster(2, Map.of("SHARD_COUNT", "1"))) {
      long epoch = InProcessCluster.json(c.send(c.node(0), "GET", "/ring", null))
          .get("epoch").asLong();
      Entry e = Entry.value("handed", "\"h\"", new Version(7, c.node(1).toString()),
          CausalContext.EMPTY);
      var ahead = c.send(c.node(0), "POST", PeerProtocol.REPLICATE.path(), text(
          PeerProtocol.REPLICATE.request().encode(Batch.replicated(c.node(1), epoch + 1,
              List.of(e)))));
      assertEquals(500, ahead.status(), ahead.toString());
      assertTrue(ahead.body().contains("epoch " + (epoch + 1)), ahead.toString());
      assertEquals(404, c.send(c.node(0), "GET", "/key-value-store/handed", null).status(),
          "nothing of a refused batch is applied");
      var current = c.send(c.node(0), "POST", PeerProtocol.REPLICATE.path(), text(
          PeerProtocol.REPLICATE.request().encode(Batch.replicated(c.node(1), epoch,
              List.of(e)))));
      assertEquals(200, current.status(), current.toString());
      assertValue(c, c.node(0), "handed", "h");
    }
  }

  @Test
  void aClientCounterOfTwoToTheSixtyThreeGets400AndItsNextWriteWins() {
    try (InProcessCluster c = new InProcessCluster(2, Map.of("SHARD_COUNT", "1"))) {
      put(c, c.node(0), "k", "one", 201);
      var forged = c.send(c.node(0), "PUT", "/key-value-store/k", "{\"value\":\"evil\","
          + "\"causal-metadata\":{\"keys\":{\"k\":[9223372036854775807,\"~\"]}}}");
      assertEquals(400, forged.status(), forged.toString());
      var kvs = c.send(c.node(1), "PUT", "/kvs/keys/k", "{\"value\":\"evil\","
          + "\"causal-context\":{\"keys\":{\"k\":[9223372036854775807,\"~\"]}}}");
      assertEquals(400, kvs.status(), kvs.toString());
      put(c, c.node(1), "k", "two", 200);
      assertValue(c, c.node(1), "k", "two");
      await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> assertValue(c, c.node(0), "k",
          "two"));
    }
  }

  @Test
  void aForgedPrepareAtAnOverflowingOrFarEpochChangesNothing() {
    try (InProcessCluster c = new InProcessCluster(2,
        Map.of("SHARD_COUNT", "1", "EPOCH_AHEAD_MAX", "10"))) {
      put(c, c.node(0), "kept", "yes", 201);
      NodeAddress target = c.node(0);
      for (long epoch : new long[] {ClusterConfig.EPOCH_MAX, 12}) {
        ClusterConfig wipe = emptyShards(epoch, List.of(c.node(0), c.node(1)));
        var prepared = c.send(target, "POST", PeerProtocol.PREPARE.path(),
            text(PeerProtocol.PREPARE.request().encode(
                new ChangeRequest(wipe, Set.of(target), c.node(1)))));
        assertEquals(503, prepared.status(), "epoch " + epoch + ": " + prepared);
        var committed = c.send(target, "POST", PeerProtocol.COMMIT.path(),
            "{\"epoch\":" + epoch + "}");
        assertEquals(200, committed.status(), committed.toString()); // a no-op: not prepared
      }
      String overflowing = text(PeerProtocol.PREPARE.request().encode(new ChangeRequest(
          emptyShards(2, List.of(c.node(0), c.node(1))), Set.of(target), c.node(1))))
          .replace("\"epoch\":2", "\"epoch\":9223372036854775807");
      var refused = c.send(target, "POST", PeerProtocol.PREPARE.path(), overflowing);
      assertEquals(400, refused.status(), refused.toString());
      var ring = c.send(target, "GET", "/ring", null);
      assertTrue(ring.body().contains("\"epoch\":1,"), ring.toString());
      assertValue(c, target, "kept", "yes");
    }
  }

  /** A configuration of {@code view} at {@code epoch} whose one shard has no member. */
  private static ClusterConfig emptyShards(long epoch, List<NodeAddress> view) {
    TreeMap<Integer, List<NodeAddress>> none = new TreeMap<>();
    none.put(1, List.of());
    return new ClusterConfig(epoch, view, Ring.initial(1, Ring.DEFAULT_VNODES_PER_SHARD),
        Layout.of(none));
  }

  @Test
  void aForwardedRequestNamingAStrangerMakesNoNodeContactIt() {
    try (InProcessCluster c = new InProcessCluster(2, Map.of("SHARD_COUNT", "1"))) {
      NodeAddress stranger = new NodeAddress("127.0.0.1", 9);
      ForwardRequest forward = new ForwardRequest(KeyValueCore.Op.GET, "k", null,
          CausalContext.EMPTY, 0, 1, 99, stranger, false);
      var answer = c.send(c.node(0), "POST", PeerProtocol.KV.path(),
          text(PeerProtocol.KV.request().encode(forward)));
      assertEquals(200, answer.status(), answer.toString());
      assertTrue(answer.body().contains("NOT_FOUND"), answer.toString()); // served here
      var ping = c.send(c.node(0), "POST", PeerProtocol.PING.path(),
          "{\"from\":\"" + stranger + "\",\"epoch\":99}");
      assertEquals(200, ping.status(), ping.toString());
      var forgedContext = c.send(c.node(0), "POST", PeerProtocol.KV.path(), text(
          PeerProtocol.KV.request().encode(new ForwardRequest(KeyValueCore.Op.GET, "k", null,
              CausalContext.of(Map.of("k", new Version(Long.MAX_VALUE, "~"))), 0, 1, 1,
              c.node(1), false))));
      assertEquals(400, forgedContext.status(), forgedContext.toString());
      // Heartbeats keep flowing; the stranger is never among the addresses called.
      await().pollDelay(Duration.ofMillis(600)).atMost(Duration.ofSeconds(5))
          .until(() -> c.contacted().contains(c.node(1)));
      assertFalse(c.contacted().contains(stranger), "contacted: " + c.contacted());
    }
  }

  @Test
  void aChangeThatWouldDropAShardsKeysIsRefusedUnlessForced() {
    try (InProcessCluster c = new InProcessCluster(4, Map.of("SHARD_COUNT", "2"))) {
      for (int i = 0; i < 20; i++) {
        put(c, c.node(i % 4), "k" + i, "v", 201);
      }
      List<NodeAddress> shard1 = members(c, c.node(0), 1);
      NodeAddress operator = members(c, c.node(0), 2).get(0);
      var first = c.send(operator, "DELETE", "/key-value-store-view",
          "{\"socket-address\":\"" + shard1.get(0) + "\"}");
      assertEquals(200, first.status(), first.toString());
      String last = "{\"socket-address\":\"" + shard1.get(1) + "\"}";
      var refused = c.send(operator, "DELETE", "/key-value-store-view", last);
      assertEquals(400, refused.status(), refused.toString());
      assertTrue(refused.body().contains("Change would drop keys"), refused.toString());
      assertEquals(List.of(shard1.get(1)), members(c, operator, 1));
      var forced = c.send(operator, "DELETE", "/key-value-store-view?force=true", last);
      assertEquals(200, forced.status(), forced.toString());
      assertEquals(List.of(), members(c, operator, 1));
    }
  }

  /** The members of {@code shard}, as {@code asked} reports them. */
  private static List<NodeAddress> members(InProcessCluster c, NodeAddress asked, int shard) {
    var answer = c.send(asked, "GET", "/key-value-store-shard/shard-id-members/" + shard,
        null);
    String list = answer.body().replaceAll(".*\\[(.*)\\].*", "$1").replace("\"", "");
    return list.isEmpty() ? List.of() : NodeAddress.parseList(list);
  }
}
