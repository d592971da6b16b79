package ringkv.gossip.sim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import ringkv.gossip.sim.SimMessage.PullRequest;
import ringkv.gossip.sim.SimNetwork.Delivery;

/*
 * Goal: the simulated network does what the simulation relies on: delays within bounds,
 * delivery in (time, send order), drops and duplicates at the configured rates, partitions that
 * block one or both directions (also for messages already in flight), heal, and reproducibility
 * from the seed.
 * Method: table tests on a SimNetwork with its own seeded Random and SimClock, sending
 * PullRequests whose key numbers them, then advancing the clock and polling.
 */
class SimNetworkTest {
  private static final long SEED = 0x5eed_0006L;

  private final SimClock clock = new SimClock();

  private SimNetwork network(long seed) {
    return new SimNetwork(new Random(seed), clock);
  }

  private static List<String> drain(SimNetwork network) {
    List<String> keys = new ArrayList<>();
    Delivery d;
    while ((d = network.poll()) != null) {
      keys.add(((PullRequest) d.message()).key());
    }
    return keys;
  }

  @Test
  void perfectNetworkDeliversEverythingOnceInSendOrderAfterOneMs() {
    SimNetwork net = network(SEED);
    for (int i = 0; i < 5; i++) {
      net.send("a", "b", new PullRequest("m" + i, 1));
    }
    assertNull(net.poll(), "nothing arrives before its delay");
    clock.advance(1);
    assertEquals(List.of("m0", "m1", "m2", "m3", "m4"), drain(net));
    assertEquals(0, net.inFlight());
    assertEquals(new SimNetwork.Counters(5, 0, 0, 0, 5), net.counters());
  }

  @Test
  void delaysStayWithinBoundsAndReorder() {
    SimNetwork net = network(SEED);
    net.setOptions(new NetworkOptions(0, 0, 10, 50));
    for (int i = 0; i < 200; i++) {
      net.send("a", "b", new PullRequest("m" + i, 1));
    }
    clock.advance(9);
    assertNull(net.poll(), "seed=" + SEED + ": nothing before delayMsMin");
    clock.advance(41);
    List<String> order = drain(net);
    assertEquals(200, order.size(), "seed=" + SEED + ": everything by delayMsMax");
    assertTrue(!order.equals(order.stream().sorted((x, y) -> Integer.compare(
        Integer.parseInt(x.substring(1)), Integer.parseInt(y.substring(1)))).toList()),
        "seed=" + SEED + ": independent delays reorder");
  }

  @Test
  void dropAndDuplicateRatesAreRoughlyAsConfigured() {
    SimNetwork net = network(SEED);
    net.setOptions(new NetworkOptions(0.25, 0.5, 1, 1));
    int sends = 10_000;
    for (int i = 0; i < sends; i++) {
      net.send("a", "b", new PullRequest("m", 1));
    }
    clock.advance(1);
    SimNetwork.Counters c = net.counters();
    assertEquals(sends, c.sent());
    assertTrue(Math.abs(c.dropped() - 2_500) < 250, "seed=" + SEED + " " + c);
    assertTrue(Math.abs(c.duplicated() - 3_750) < 300, "seed=" + SEED + " " + c);
    assertEquals(sends - c.dropped() + c.duplicated(), drain(net).size());
  }

  @Test
  void asymmetricBlockCutsOneDirectionIncludingMessagesInFlight() {
    SimNetwork net = network(SEED);
    net.send("a", "b", new PullRequest("in-flight", 1));
    net.block("a", "b");
    net.send("a", "b", new PullRequest("blocked", 1));
    net.send("b", "a", new PullRequest("reverse", 1));
    clock.advance(1);
    assertEquals(List.of("reverse"), drain(net));
    assertEquals(1, net.counters().cut());
    assertEquals(1, net.counters().dropped());
    net.heal();
    net.send("a", "b", new PullRequest("healed", 1));
    clock.advance(1);
    assertEquals(List.of("healed"), drain(net));
  }

  @Test
  void symmetricPartitionBlocksBothWaysAcrossButNotWithin() {
    SimNetwork net = network(SEED);
    List<String> all = List.of("a", "b", "c");
    net.partition(List.of("a"), all);
    assertTrue(net.isBlocked("a", "b") && net.isBlocked("b", "a"));
    assertTrue(net.isBlocked("a", "c") && net.isBlocked("c", "a"));
    assertTrue(!net.isBlocked("b", "c") && !net.isBlocked("c", "b"));
    net.heal();
    assertTrue(!net.isBlocked("a", "b"));
  }

  @Test
  void sameSeedSameSchedule() {
    List<List<String>> runs = new ArrayList<>();
    for (int run = 0; run < 2; run++) {
      SimClock own = new SimClock();
      SimNetwork net = new SimNetwork(new Random(SEED), own);
      net.setOptions(new NetworkOptions(0.2, 0.2, 1, 30));
      for (int i = 0; i < 300; i++) {
        net.send("a", "b", new PullRequest("m" + i, 1));
      }
      own.advance(30);
      List<String> order = new ArrayList<>();
      Delivery d;
      while ((d = net.poll()) != null) {
        order.add(d.atMs() + ":" + ((PullRequest) d.message()).key());
      }
      runs.add(order);
    }
    assertEquals(runs.get(0), runs.get(1));
  }
}
