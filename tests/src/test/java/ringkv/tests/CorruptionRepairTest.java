package ringkv.tests;

import static java.nio.charset.StandardCharsets.US_ASCII;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static ringkv.tests.support.Http.obj;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.rocksdb.ColumnFamilyDescriptor;
import org.rocksdb.ColumnFamilyHandle;
import org.rocksdb.DBOptions;
import org.rocksdb.RocksDB;
import ringkv.tests.support.Http;
import ringkv.tests.support.LocalCluster;

/*
 * Goal: a stored record damaged on the disk is detected, never served, and repaired from a
 * replica without a further restart (issue 15 items 4-5; SPEC §6): the node starts and serves
 * although one of its records fails its checksum, quarantines it (logged with its key), and
 * gets the key back from the other replica without waiting for anti-entropy (its catch-up copy
 * at start, or its request for the keys it quarantined; the node-module QuarantineRepairTest
 * covers a running node whose scrub finds the damage).
 * Method: two real nodes, one shard, a DATA_DIR each, anti-entropy off (an hour), so only the
 * node's own copy or request can bring k7 back. 50 keys are
 * written and replicated; node 1 is stopped (SIGTERM), one bit of key k7's stored record is
 * flipped through RocksDB (the store's layout: column family "entries", key -> record), and node
 * 1 restarts. Its key count must come back to 50, its log must show the quarantine and the
 * repair of k7, k7 must read its value, and its quarantine gauge must be 0.
 */
class CorruptionRepairTest {
  private static final String STORE = "/key-value-store/";
  private static final int KEYS = 50;

  @TempDir
  Path data;

  @Test
  void aDamagedRecordIsQuarantinedAtStartAndRepairedFromTheOtherReplica() throws Exception {
    try (LocalCluster cluster = LocalCluster.builder("CorruptionRepairTest").nodes(2).shards(1)
        .dataDirs(data).env("ANTI_ENTROPY_INTERVAL_MS", "3600000").start()) {
      for (int i = 0; i < KEYS; i++) {
        Http.Reply r = Http.put(cluster.node(i % 2), STORE + "k" + i, obj("value", i));
        assertTrue(r.status() == 201, r.toString());
      }
      awaitKeyCount(cluster, 1, KEYS);
      cluster.terminate(1); // SIGTERM: the store closes cleanly
      String port = cluster.node(1).substring(cluster.node(1).indexOf(':') + 1);
      flipABit(data.resolve("node-" + port).resolve("store"), "k7");

      cluster.start(1);
      awaitKeyCount(cluster, 1, KEYS);
      String log = Files.readString(cluster.log(1), StandardCharsets.UTF_8);
      assertTrue(log.contains("event=record-quarantined") && log.contains("key='k7'"), log);
      assertTrue(log.contains("event=record-repaired"), log);
      assertTrue(Http.get(cluster.node(1), "/metrics").raw().contains(
          "\nringkv_store_quarantined 0.0\n"), "quarantine gauge");
      for (String node : cluster.addresses()) {
        Http.Reply r = Http.get(node, STORE + "k7");
        assertEquals(200, r.status(), r.toString());
        assertEquals(7, r.field("value").asInt());
      }
    }
  }

  private static void awaitKeyCount(LocalCluster cluster, int node, long expected) {
    await("node " + node + " holds " + expected + " keys").atMost(Duration.ofSeconds(30))
        .pollInterval(Duration.ofMillis(200)).untilAsserted(() -> assertEquals(expected,
            Http.get(cluster.node(node), "/key-value-store-shard/shard-id-key-count/1")
                .field("shard-id-key-count").asLong()));
  }

  /** Flips one bit in the middle of {@code key}'s stored record, the node being stopped. */
  private static void flipABit(Path store, String key) throws Exception {
    RocksDB.loadLibrary();
    List<ColumnFamilyDescriptor> families = new ArrayList<>();
    try (org.rocksdb.Options listing = new org.rocksdb.Options()) {
      for (byte[] name : RocksDB.listColumnFamilies(listing, store.toString())) {
        families.add(new ColumnFamilyDescriptor(name));
      }
    }
    List<ColumnFamilyHandle> handles = new ArrayList<>();
    try (DBOptions options = new DBOptions();
        RocksDB db = RocksDB.open(options, store.toString(), families, handles)) {
      try {
        ColumnFamilyHandle entries = null;
        for (int i = 0; i < families.size(); i++) {
          if (new String(families.get(i).getName(), US_ASCII).equals("entries")) {
            entries = handles.get(i);
          }
        }
        byte[] record = db.get(entries, key.getBytes(US_ASCII));
        record[record.length / 2] ^= 0x04;
        db.put(entries, key.getBytes(US_ASCII), record);
      } finally {
        handles.forEach(ColumnFamilyHandle::close);
      }
    }
  }
}
