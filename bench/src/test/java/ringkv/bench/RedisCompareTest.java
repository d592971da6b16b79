package ringkv.bench;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import ringkv.ring.Rendezvous;
import ringkv.ring.Ring;
import ringkv.ring.TokenEntry;

/*
 * Goal: the comparison routes as smart clients do — every key to the one server that serves it
 * (RingKV: the rendezvous-first member of the key's shard from GET /ring; Redis: the slot's
 * master) — and spreads the generator's connections evenly.
 *
 * Method: a GET /ring body built from the ring module's own layout for 3 shards x 2 nodes;
 * routing tables from hand-made owner functions; pure helpers with exact expectations.
 */
class RedisCompareTest {
  private static final List<String> NODES = List.of("127.0.0.1:9001", "127.0.0.1:9002",
      "127.0.0.1:9003", "127.0.0.1:9004", "127.0.0.1:9005", "127.0.0.1:9006");

  private static ObjectNode ringJson(Ring ring, List<String> live) {
    ObjectMapper m = new ObjectMapper();
    ObjectNode body = m.createObjectNode();
    body.put("epoch", 1).put("hash-function", "murmur3_128").put("vnodes-per-shard", 20);
    ArrayNode shards = body.putArray("shards");
    for (int s = 1; s <= 3; s++) {
      ObjectNode shard = shards.addObject().put("shard-id", s);
      ArrayNode members = shard.putArray("members");
      ArrayNode liveMembers = shard.putArray("live-members");
      for (String n : NODES.subList(2 * (s - 1), 2 * s)) {
        members.add(n);
        if (live.contains(n)) {
          liveMembers.add(n);
        }
      }
    }
    ArrayNode tokens = body.putArray("tokens");
    for (TokenEntry t : ring.tokens()) {
      tokens.addObject().put("token", t.token()).put("shard-id", t.shardId());
    }
    return body;
  }

  @Test
  void ringKvKeysGoToTheRendezvousFirstMemberOfTheirShard() {
    Ring ring = Ring.initial(3, 20);
    RingKvCluster.Placement p = RingKvCluster.Placement.fromJson(ringJson(ring, NODES));
    assertTrue(p.allLive());
    assertEquals(NODES, p.nodes());
    Map<String, Integer> perNode = new java.util.TreeMap<>();
    for (String key : RedisCompare.keys(3000)) {
      int shard = ring.shardOf(key);
      List<String> members = NODES.subList(2 * (shard - 1), 2 * shard);
      assertEquals(Rendezvous.orderNames(key, members).get(0), p.ownerOf(key), key);
      perNode.merge(p.ownerOf(key), 1, Integer::sum);
    }
    // Every node serves some keys (reads are spread over both replicas of a shard).
    assertEquals(6, perNode.size(), perNode.toString());
  }

  @Test
  void ringKvShardIdsMayBeStringsAndLivenessIsRead() {
    ObjectNode body = ringJson(Ring.initial(3, 20), NODES.subList(0, 5));
    assertFalse(RingKvCluster.Placement.fromJson(body).allLive());
    ((ArrayNode) body.get("shards")).forEach(s -> ((ObjectNode) s).put("shard-id",
        s.path("shard-id").asText()));
    ((ArrayNode) body.get("tokens")).forEach(t -> ((ObjectNode) t).put("shard-id",
        t.path("shard-id").asText()));
    assertEquals(NODES, RingKvCluster.Placement.fromJson(body).nodes());
    body.put("hash-function", "md5");
    assertThrows(IllegalArgumentException.class, () -> RingKvCluster.Placement.fromJson(body));
  }

  @Test
  void targetsHoldTheKeysEachServerOwnsInServerOrder() {
    List<String> keys = List.of("a1", "b1", "a2", "c1", "b2");
    List<LoadGenerator.Target> t = RedisCompare.targets(keys, List.of("c", "b", "a"),
        k -> k.substring(0, 1));
    assertEquals(List.of("c", "b", "a"), t.stream().map(LoadGenerator.Target::address)
        .toList());
    assertArrayEquals(new int[] {3}, t.get(0).keys());
    assertArrayEquals(new int[] {1, 4}, t.get(1).keys());
    assertArrayEquals(new int[] {0, 2}, t.get(2).keys());
  }

  @Test
  void aKeyOwnedElsewhereOrAServerWithoutKeysIsRefused() {
    assertThrows(IllegalStateException.class,
        () -> RedisCompare.targets(List.of("a1", "z1"), List.of("a"), k -> k.substring(0, 1)));
    assertThrows(IllegalStateException.class,
        () -> RedisCompare.targets(List.of("a1"), List.of("a", "b"), k -> k.substring(0, 1)));
  }

  @Test
  void connectionsAreSpreadEvenly() {
    assertArrayEquals(new int[] {8, 8, 8, 8, 8, 8}, LoadGenerator.split(48, 6));
    assertArrayEquals(new int[] {16, 16, 16}, LoadGenerator.split(48, 3));
    assertArrayEquals(new int[] {3, 3, 2, 2}, LoadGenerator.split(10, 4));
  }

  @Test
  void valuesAreLettersAndDigitsOfTheAskedSizeFixedBySeed() {
    String v = RedisCompare.value(100, 42);
    assertEquals(100, v.length());
    assertTrue(v.matches("[a-zA-Z0-9]+"));
    assertEquals(v, RedisCompare.value(100, 42));
    assertNotEquals(v, RedisCompare.value(100, 43));
    List<String> keys = new ArrayList<>(RedisCompare.keys(3));
    assertEquals(List.of("user0", "user1", "user2"), keys);
  }
}
