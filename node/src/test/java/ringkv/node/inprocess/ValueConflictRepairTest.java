package ringkv.node.inprocess;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.function.Predicate;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import ringkv.gossip.Entry;
import ringkv.node.storage.RocksDbStore;
import ringkv.node.storage.StoreDamage;
import ringkv.ring.NodeAddress;

/*
 * Goal: anti-entropy compares values, not only versions (issue 15 item 4): two replicas holding
 * one version of a key with different bytes (each record with a valid checksum, so the store's
 * own check sees nothing) converge on one copy, the one with the higher Entry.checksum, in both
 * directions, and the nodes count the conflict (ringkv_anti_entropy_value_conflicts_total).
 * Method: two nodes in this JVM, one shard, a RocksDB store each, anti-entropy every 300 ms,
 * the scrub off. Ten keys are written at node 0 and replicated; then node 1's records of two keys
 * are rewritten behind its store's back at the same version and dependencies with another value:
 * for k3 one whose checksum is lower than the honest copy's (node 1 must take node 0's copy
 * back), for k6 one whose checksum is higher (node 0 must take node 1's). Once the writes are
 * older than the settle window (5 s), a round must repair both. Without value checksums in the
 * digest (versions only, as before) both digests are equal and this test times out.
 */
class ValueConflictRepairTest {
  private static final int KEYS = 10;
  private static final String CONFLICTS = "ringkv_anti_entropy_value_conflicts_total";

  @TempDir
  Path data;

  @Test
  void oneVersionWithDifferentBytesConvergesOnTheHigherChecksum() {
    Map<String, String> env = Map.of("SHARD_COUNT", "1", "ANTI_ENTROPY_INTERVAL_MS", "300",
        "SCRUB_BYTES_PER_SEC", "0");
    try (InProcessCluster cluster = new InProcessCluster(2, env,
        InProcessCluster.NodeSetup.durableUnder(data))) {
      NodeAddress honest = cluster.node(0);
      NodeAddress altered = cluster.node(1);
      cluster.writeReplicated(honest, KEYS, altered);
      RocksDbStore store = cluster.store(altered);
      Entry k3 = store.get("k3");
      Entry k6 = store.get("k6");
      Entry lower = alteredCopy(k3, c -> Entry.checksumLoses(c, k3.checksum()));
      Entry higher = alteredCopy(k6, c -> Entry.checksumLoses(k6.checksum(), c));
      StoreDamage.rewrite(store, lower);
      StoreDamage.rewrite(store, higher);
      assertTrue(read(cluster, altered, "k3").contains(lower.value()), "altered in place");

      await("both keys converge").atMost(Duration.ofSeconds(30))
          .pollInterval(Duration.ofMillis(200)).untilAsserted(() -> {
            assertTrue(read(cluster, altered, "k3").contains("\"value\":3"), "k3 repaired");
            assertTrue(read(cluster, honest, "k6").contains(higher.value()), "k6 taken");
          });
      assertTrue(read(cluster, honest, "k3").contains("\"value\":3"));
      assertTrue(read(cluster, altered, "k6").contains(higher.value()));
      double conflicts = cluster.metric(honest, CONFLICTS) + cluster.metric(altered, CONFLICTS);
      assertTrue(conflicts >= 2, "conflicts counted: " + conflicts);
    }
  }

  /** A copy of {@code e} at its version and dependencies with another value whose checksum fits. */
  private static Entry alteredCopy(Entry e, Predicate<Long> checksumFits) {
    for (int i = 0; ; i++) {
      Entry copy = Entry.value(e.key(), "\"altered-" + i + "\"", e.version(), e.deps());
      if (checksumFits.test(copy.checksum())) {
        return copy;
      }
    }
  }

  private static String read(InProcessCluster cluster, NodeAddress at, String key) {
    var get = cluster.send(at, "GET", "/key-value-store/" + key, null);
    assertEquals(200, get.status(), get.toString());
    return get.body();
  }
}
