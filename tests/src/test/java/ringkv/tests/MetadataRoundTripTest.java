package ringkv.tests;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static ringkv.tests.support.Http.obj;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.RegisterExtension;
import ringkv.tests.support.Http;
import ringkv.tests.support.Http.Reply;
import ringkv.tests.support.NetnsCluster;
import ringkv.tests.support.SharedNetnsCluster;

/*
 * Goal: causal metadata round-trips (SPEC §6) the way the Spring 2021 course suite (Assignment 3:
 * three replicas of one shard started without SHARD_COUNT) checks it: a GET that brings the
 * client nothing newer answers with the metadata exactly as sent — also on another replica, also
 * once the write is stable on every replica (when the old rule pruned it away), and after a
 * replica was cut off while the key was written and then wrote it again itself.
 * Method: three real nodes in a network namespace (NetnsCluster, shard dialect, one shard); the
 * suite's "disconnect" is an iptables partition of one replica from the other two. Where the
 * suite sleeps 10-20 s for the write to settle, this test waits (Awaitility) until every node's
 * GET /ring reports the shard's stable time at or above the write's counter: the very moment
 * the old pruning dropped the entry, so without the fix it fails every time. Skipped (not
 * failed) where namespaces or iptables are unavailable.
 */
@Tag("partition")
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class MetadataRoundTripTest {
  private static final Duration SETTLE = Duration.ofSeconds(20);
  /** Metadata of a client with no history, as the suite sends it. */
  private static final JsonNode NO_HISTORY = Http.MAPPER.getNodeFactory().textNode("");

  @RegisterExtension
  static final SharedNetnsCluster SHARED = new SharedNetnsCluster(
      name -> NetnsCluster.builder(name).nodes(3).noShardCount());

  private NetnsCluster cluster;

  @BeforeEach
  void useCluster() {
    cluster = SHARED.cluster();
  }

  private Reply put(int node, String key, String value, JsonNode metadata) {
    return cluster.put(node, "/key-value-store/" + key,
        obj("value", value, "causal-metadata", metadata));
  }

  private Reply get(int node, String key, JsonNode metadata) {
    return cluster.get(node, "/key-value-store/" + key, obj("causal-metadata", metadata));
  }

  /** The highest counter the metadata names (its newest write). */
  private static long newestCounter(JsonNode metadata) {
    long max = 0;
    for (JsonNode version : metadata.path("keys")) {
      max = Math.max(max, version.get(0).asLong());
    }
    assertTrue(max > 0, "metadata names no write: " + metadata);
    return max;
  }

  /** Waits until every node reports the shard's stable time at or above {@code counter}. */
  private void awaitStable(long counter) {
    await("the write is stable on every replica").atMost(SETTLE)
        .pollInterval(Duration.ofMillis(100)).untilAsserted(() -> {
          for (int node = 0; node < cluster.size(); node++) {
            JsonNode shard = cluster.get(node, "/ring").field("shards").get(0);
            assertTrue(shard.path("stable-time").asLong() >= counter,
                "node " + node + " stable-time " + shard.path("stable-time") + " < " + counter);
          }
        });
  }

  private static void assertRead(Reply r, String value, JsonNode sent, String where) {
    assertEquals(200, r.status(), where + ": " + r);
    assertEquals(value, r.field("value").asText(), where + ": " + r);
    assertEquals(sent, r.field("causal-metadata"), where + ": metadata changed: " + r);
  }

  /** The suite's test_c_key_value_operations. */
  @Test
  void readsHandTheMetadataBackOnEveryReplicaOnceTheWriteIsStable() {
    JsonNode m = writeAndReadOnEveryReplica("myvalue1", NO_HISTORY, 201, "GET");
    writeAndReadOnEveryReplica("myvalue2", m, 200, "GET of the update");
  }

  /**
   * PUTs mykey1 at replica 1 with {@code history} (answered {@code status}); reads it back with
   * the metadata handed out at replica 1 at once and at replicas 2 and 3 once the write is
   * stable, each handing that metadata back unchanged. Returns the metadata.
   */
  private JsonNode writeAndReadOnEveryReplica(String value, JsonNode history, int status,
      String what) {
    Reply written = put(0, "mykey1", value, history);
    assertEquals(status, written.status(), written.toString());
    JsonNode m = written.metadata();
    assertRead(get(0, "mykey1", m), value, m, what + " at replica 1");
    awaitStable(newestCounter(m));
    assertRead(get(1, "mykey1", m), value, m, what + " at replica 2 once stable");
    assertRead(get(2, "mykey1", m), value, m, what + " at replica 3 once stable");
    return m;
  }

  /** The suite's test_d_causal_consistency. */
  @Test
  void aReplicaCutOffWhileAKeyWasWrittenUpdatesItAndEveryReplicaHandsTheMetadataBack() {
    cluster.partition(List.of(1), List.of(0, 2));
    Reply foo = put(0, "k1", "foo", NO_HISTORY);
    assertEquals(201, foo.status(), foo.toString());
    JsonNode m1 = foo.metadata();
    cluster.heal();
    // At once, as the suite does: replica 2 may not have k1 yet; it waits for it (pulling it
    // from its peers), so the write is an update.
    Reply bar = put(1, "k1", "bar", m1);
    assertEquals(200, bar.status(), bar.toString());
    assertEquals("Updated successfully", bar.field("message").asText(), bar.toString());
    JsonNode m2 = bar.metadata();
    awaitStable(newestCounter(m2));
    assertRead(get(0, "k1", m2), "bar", m2, "GET at replica 1");
    assertRead(get(1, "k1", m2), "bar", m2, "GET at replica 2");
    assertRead(get(2, "k1", m2), "bar", m2, "GET at replica 3");
  }
}
