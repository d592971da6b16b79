package ringkv.ring;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/*
 * Goal: NodeAddress parses exactly the addresses SPEC §1 allows, names the bad text when it
 * rejects one, and orders addresses totally (IPv4 numerically). Method: table tests for parse,
 * parseList and toString; a seeded property check that compareTo is a total order consistent
 * with equals over a mix of IPv4 literals and hostnames.
 */
class NodeAddressTest {
  @Test
  void parsesAndPrints() {
    NodeAddress address = NodeAddress.parse("10.10.0.2:8085");
    assertEquals(new NodeAddress("10.10.0.2", 8085), address);
    assertEquals("10.10.0.2:8085", address.toString());
    assertEquals("localhost:1", NodeAddress.parse("localhost:1").toString());
    assertEquals("node-1.example.org:65535",
        NodeAddress.parse("node-1.example.org:65535").toString());
  }

  @Test
  void rejectsBadAddressesNamingThem() {
    String[] bad = {"", "1.2.3.4", "1.2.3.4:0", ":80", "1.2.3.400:80", "a:99999", "x:y",
        "a:", "a:-1", "a:1:2", "a..b:80", ".a:80", "a.:80", "a b:80", "1.2.3:80", "a:+80"};
    for (String text : bad) {
      IllegalArgumentException error = assertThrows(IllegalArgumentException.class,
          () -> NodeAddress.parse(text), text);
      if (!text.isEmpty()) {
        assertTrue(error.getMessage().contains("'" + text + "'"), error.getMessage());
      }
    }
    assertThrows(IllegalArgumentException.class, () -> NodeAddress.parse(null));
    assertThrows(IllegalArgumentException.class, () -> new NodeAddress("1.2.3.4", 70000));
    assertThrows(IllegalArgumentException.class, () -> new NodeAddress("bad host", 80));
  }

  @Test
  void parsesLists() {
    List<NodeAddress> list = NodeAddress.parseList(" 10.0.0.3:80 ,10.0.0.1:80,host:1 ");
    assertEquals(List.of(NodeAddress.parse("10.0.0.3:80"), NodeAddress.parse("10.0.0.1:80"),
        NodeAddress.parse("host:1")), list);
    for (String bad : new String[] {"", "  ", "a:1,,b:2", "a:1,", ",a:1", "a:1,a:1", "a:1,b"}) {
      assertThrows(IllegalArgumentException.class, () -> NodeAddress.parseList(bad), bad);
    }
  }

  @Test
  void ordersIpv4NumericallyThenPort() {
    List<NodeAddress> sorted = new ArrayList<>(NodeAddress.parseList(
        "10.0.0.10:80,10.0.0.9:81,10.0.0.9:80,9.0.0.1:80,b.host:1,a.host:2,127.0.0.2:8085"));
    Collections.sort(sorted);
    assertEquals(NodeAddress.parseList(
        "9.0.0.1:80,10.0.0.9:80,10.0.0.9:81,10.0.0.10:80,127.0.0.2:8085,a.host:2,b.host:1"),
        sorted);
  }

  @Test
  void orderIsTotalAndConsistentWithEquals() {
    long seed = 42;
    Random random = new Random(seed);
    String[] hosts = {"9.0.0.1", "10.0.0.1", "5x", "1a", "10.0.0.10", "host", "a-b.c", "0.0.0.0"};
    List<NodeAddress> all = new ArrayList<>();
    for (int i = 0; i < 40; i++) {
      all.add(new NodeAddress(hosts[random.nextInt(hosts.length)], 1 + random.nextInt(3)));
    }
    for (NodeAddress a : all) {
      for (NodeAddress b : all) {
        assertEquals(Integer.signum(a.compareTo(b)), -Integer.signum(b.compareTo(a)),
            "seed=" + seed + " " + a + " " + b);
        assertEquals(a.equals(b), a.compareTo(b) == 0, "seed=" + seed + " " + a + " " + b);
        for (NodeAddress c : all) {
          if (a.compareTo(b) < 0 && b.compareTo(c) < 0) {
            assertTrue(a.compareTo(c) < 0, "seed=" + seed + " " + a + " " + b + " " + c);
          }
        }
      }
    }
  }
}
