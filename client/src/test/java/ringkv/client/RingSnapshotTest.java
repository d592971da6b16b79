package ringkv.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import ringkv.ring.KeyHash;
import ringkv.ring.Ring;
import ringkv.ring.TokenEntry;

/*
 * Goal: the client routes every key to the shard the server places it in: it hashes like the
 * server (golden token read from a running node) and owner = first token >= key token,
 * wrapping, over the token table it read from GET /ring, in both dialects' shard-id types.
 *
 * Method: /ring bodies rendered from the server's canonical rings (2, 3 and 5 shards, and a
 * reshard walk), parsed back; 1,000 keys per ring compared with a from-scratch linear-scan
 * implementation of the placement rule. (The integration test ClientClusterTest compares with
 * a real cluster's GET /ring/key.)
 */
class RingSnapshotTest {
  private static final ObjectMapper MAPPER = new ObjectMapper();

  @Test
  void hashesLikeTheServer() {
    // A running node's GET /ring/key/sampleKey answered this token.
    assertEquals(-4173964342984453547L, KeyHash.tokenOf("sampleKey"));
  }

  @Test
  void routingFollowsTheFirstTokenAtOrAfterTheKeyWrapping() throws Exception {
    List<Ring> rings = List.of(Ring.initial(2, 20), Ring.initial(3, 20), Ring.initial(5, 20),
        Ring.initial(2, 20).reshard(4).reshard(3), Ring.initial(1, 7));
    for (Ring ring : rings) {
      List<List<String>> members = new ArrayList<>();
      for (int s = 1; s <= ring.shardCount(); s++) {
        members.add(List.of("10.0.0." + s + ":8085", "10.0.1." + s + ":8085"));
      }
      RingSnapshot snapshot = RingSnapshot.fromJson(
          MAPPER.readTree(FakeNode.ringJson(7, ring, members)), 0);
      assertEquals(7, snapshot.epoch());
      for (int i = 0; i < 1000; i++) {
        String key = i % 3 == 0 ? "key" + i : i % 3 == 1 ? "user" + i * 7919 : "ü-" + i;
        int expected = linearOwner(ring.tokens(), KeyHash.tokenOf(key));
        assertEquals(expected, snapshot.shardOf(key), key + " in " + ring);
        assertEquals(members.get(expected - 1), snapshot.membersOf(expected));
      }
    }
  }

  /** The placement rule from scratch: the first token >= t in signed order, else the first. */
  private static int linearOwner(List<TokenEntry> sorted, long t) {
    for (TokenEntry e : sorted) {
      if (e.token() >= t) {
        return e.shardId();
      }
    }
    return sorted.get(0).shardId();
  }

  @Test
  void acceptsStringShardIdsAndSeparatesLiveMembers() throws Exception {
    Ring ring = Ring.initial(2, 20);
    String json = FakeNode.ringJson(3, ring, List.of(List.of("a:1", "b:1"), List.of("c:1")))
        .replace("\"shard-id\":1", "\"shard-id\":\"1\"")
        .replace("\"shard-id\":2", "\"shard-id\":\"2\"")
        .replaceFirst("\"live-members\":\\[\"a:1\",\"b:1\"]", "\"live-members\":[\"b:1\"]");
    RingSnapshot s = RingSnapshot.fromJson(MAPPER.readTree(json), 0);
    assertEquals(List.of("a:1", "b:1"), s.membersOf(1));
    assertEquals(List.of("b:1"), s.liveMembersOf(1));
    assertEquals(List.of("a:1", "b:1", "c:1"), s.nodes());
    assertEquals(List.of("b:1", "c:1"), s.liveNodes());
    assertEquals(ring.shardOf("sampleKey"), s.shardOf("sampleKey"));
  }

  @Test
  void rejectsWhatIsNotARing() throws Exception {
    String good = FakeNode.ringJson(1, Ring.initial(2, 20), List.of(List.of("a:1"),
        List.of("b:1")));
    for (String bad : new String[] {"{}", good.replace("murmur3_128", "md5"),
        good.replace("\"vnodes-per-shard\":20", "\"vnodes-per-shard\":10"),
        good.replaceFirst("\\{\"shard-id\":2,[^}]*},?", "").replace(",]", "]")}) {
      JsonNode body = MAPPER.readTree(bad);
      assertThrows(IllegalArgumentException.class, () -> RingSnapshot.fromJson(body, 0), bad);
    }
  }
}
