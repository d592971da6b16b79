package ringkv.node.inprocess;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import org.junit.jupiter.api.Test;
import ringkv.ring.NodeAddress;

/*
 * Goal: BIND_ADDRESS decides where a node listens, not what it is called. By default it listens
 * on its own address only (six nodes of a host network share a port on different addresses);
 * with 0.0.0.0 (the container image's default) it also answers on another address of the
 * machine, as a container does on a second network after `docker network connect`.
 * Method: one real node in this JVM at 127.0.0.1:<port>; the test asks it at 127.0.0.2:<port>.
 */
class BindAddressTest {
  @Test
  void byDefaultANodeListensOnItsOwnAddressOnly() {
    try (InProcessCluster c = new InProcessCluster(1, Map.of("SHARD_COUNT", "1"))) {
      NodeAddress self = c.node(0);
      assertTrue(c.live(self));
      assertFalse(c.live(new NodeAddress("127.0.0.2", self.port())), "not on 127.0.0.2");
    }
  }

  @Test
  void withBindAddressAnyItAnswersOnEveryAddressUnderItsOwnName() {
    try (InProcessCluster c = new InProcessCluster(1,
        Map.of("SHARD_COUNT", "1", "BIND_ADDRESS", "0.0.0.0"))) {
      NodeAddress self = c.node(0);
      NodeAddress other = new NodeAddress("127.0.0.2", self.port());
      assertEquals(201, c.send(other, "PUT", "/key-value-store/k", "{\"value\":\"v\"}").status());
      var view = c.send(other, "GET", "/key-value-store-view", null);
      assertTrue(view.body().contains(self.toString()), "still named by its address: " + view);
      assertTrue(c.send(self, "GET", "/key-value-store/k", null).body().contains("\"v\""));
    }
  }
}
