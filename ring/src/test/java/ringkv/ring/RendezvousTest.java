package ringkv.ring;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Goal: the replica a key is sent to is a fixed function of the key and the members, spreads
 * keys evenly, and moves only the keys of a member that leaves. Method: seeded property loops
 * over generated keys and member lists.
 */
class RendezvousTest {
  private static final List<String> MEMBERS =
      List.of("10.0.0.1:8085", "10.0.0.2:8085", "10.0.0.3:8085");

  @Test
  void theOrderDoesNotDependOnTheOrderMembersAreListedIn() {
    Random random = new Random(7);
    for (int i = 0; i < 2000; i++) {
      String key = "k" + random.nextInt(1_000_000);
      List<String> shuffled = new ArrayList<>(MEMBERS);
      Collections.shuffle(shuffled, random);
      assertEquals(Rendezvous.orderNames(key, MEMBERS), Rendezvous.orderNames(key, shuffled),
          key);
    }
  }

  @Test
  void keysSpreadEvenlyOverTheMembers() {
    Map<String, Integer> first = new HashMap<>();
    int keys = 30_000;
    for (int i = 0; i < keys; i++) {
      first.merge(Rendezvous.orderNames("user" + i, MEMBERS).get(0), 1, Integer::sum);
    }
    for (String m : MEMBERS) {
      double share = first.getOrDefault(m, 0) / (double) keys;
      assertTrue(Math.abs(share - 1.0 / 3) < 0.02, m + " gets " + share);
    }
  }

  @Test
  void onlyTheKeysOfALeavingMemberMove() {
    List<String> without = List.of(MEMBERS.get(0), MEMBERS.get(2));
    for (int i = 0; i < 5000; i++) {
      String key = "key-" + i;
      List<String> before = Rendezvous.orderNames(key, MEMBERS);
      List<String> after = Rendezvous.orderNames(key, without);
      List<String> expected = new ArrayList<>(before);
      expected.remove(MEMBERS.get(1));
      assertEquals(expected, after, key);
    }
  }

  @Test
  void addressesAndNamesOrderAlike() {
    List<NodeAddress> addresses = MEMBERS.stream().map(NodeAddress::parse).toList();
    for (int i = 0; i < 500; i++) {
      String key = "x" + i;
      assertEquals(Rendezvous.orderNames(key, MEMBERS),
          Rendezvous.order(key, addresses).stream().map(NodeAddress::toString).toList());
    }
  }

  @Test
  void theWeightIsFixed() {
    // Pinned: the node and every client library must agree on it across releases.
    assertEquals(-9108127127761136269L, Rendezvous.weight("sampleKey", "127.0.0.1:8083"));
    assertTrue(Rendezvous.weight("ab", "c:1") != Rendezvous.weight("a", "bc:1"));
  }
}
