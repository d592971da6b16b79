package ringkv.node.storage;

import static java.nio.charset.StandardCharsets.US_ASCII;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.rocksdb.ColumnFamilyDescriptor;
import org.rocksdb.ColumnFamilyHandle;
import org.rocksdb.DBOptions;
import org.rocksdb.RocksDB;
import ringkv.gossip.CausalContext;
import ringkv.gossip.Entry;
import ringkv.gossip.Version;

/*
 * Goal: a store written by the release before record checksums (storage format 2, entry format
 * 1; issue 15 item 6) opens with this build, keeps every record and its metadata, and is
 * converted in place (every record rewritten with its checksum, the metadata sealed), so that it
 * reads the same after a reopen; a record of the old store that does not decode is quarantined
 * by the conversion, which goes on.
 * Method: the fixture src/test/resources/store-format-2 was written by that release
 * (FormatTwoFixtureWriter, at main 293e7c6); each test copies it to a @TempDir (RocksDB writes
 * to the directory it opens), opens it and compares every entry with expected.jsonl, a
 * codec-free listing of what was written; raw reads check the records' new format.
 */
class StoreUpgradeTest {
  @TempDir
  Path dir;

  private Path copyFixture() throws IOException, URISyntaxException {
    Path source = Path.of(getClass().getResource("/store-format-2/db").toURI());
    Path target = dir.resolve("db");
    Files.createDirectories(target);
    try (Stream<Path> files = Files.list(source)) {
      for (Path f : (Iterable<Path>) files::iterator) {
        Files.copy(f, target.resolve(f.getFileName()));
      }
    }
    return target;
  }

  static List<Entry> expected() throws IOException, URISyntaxException {
    Path listing = Path.of(StoreUpgradeTest.class.getResource("/store-format-2/expected.jsonl")
        .toURI());
    ObjectMapper json = new ObjectMapper();
    List<Entry> out = new ArrayList<>();
    for (String line : Files.readAllLines(listing, UTF_8)) {
      JsonNode n = json.readTree(line);
      Map<String, Version> deps = new HashMap<>();
      for (Iterator<Map.Entry<String, JsonNode>> it = n.get("deps").fields(); it.hasNext(); ) {
        Map.Entry<String, JsonNode> d = it.next();
        deps.put(d.getKey(), new Version(d.getValue().get(0).asLong(),
            d.getValue().get(1).asText()));
      }
      Version version = new Version(n.get("counter").asLong(), n.get("node").asText());
      String value = n.get("value").isNull() ? null : n.get("value").asText();
      out.add(new Entry(n.get("key").asText(), value, version, CausalContext.of(deps)));
    }
    return out;
  }

  @Test
  void aStoreOfTheFormerFormatOpensWithEveryRecordAndReadsTheSameAfterReopen()
      throws Exception {
    Path db = copyFixture();
    List<Entry> expected = expected();
    assertEquals(FormatTwoFixtureWriter.ENTRIES, expected.size());
    for (int round = 0; round < 2; round++) { // the open that converts, then a plain one
      try (RocksDbStore store = new RocksDbStore(db)) {
        assertEverything(store, expected, "open " + (round + 1));
        for (Entry e : expected) {
          byte[] raw = store.getRawForTest(e.key());
          assertEquals(EntryCodec.FORMAT_VERSION, raw[0], "converted: " + e.key());
        }
        assertEquals(0, store.quarantinedCount());
      }
    }
  }

  @Test
  void aDamagedRecordOfTheFormerFormatIsQuarantinedAndTheRestConverted() throws Exception {
    Path db = copyFixture();
    List<Entry> expected = expected();
    Entry victim = expected.get(17);
    List<ColumnFamilyDescriptor> families = List.of( // the former layout's four families
        new ColumnFamilyDescriptor(RocksDB.DEFAULT_COLUMN_FAMILY),
        new ColumnFamilyDescriptor(StoreLayout.ENTRIES_FAMILY.getBytes(US_ASCII)),
        new ColumnFamilyDescriptor(StoreLayout.META_FAMILY.getBytes(US_ASCII)),
        new ColumnFamilyDescriptor(StoreLayout.TOMBSTONES_FAMILY.getBytes(US_ASCII)));
    List<ColumnFamilyHandle> handles = new ArrayList<>();
    try (DBOptions options = new DBOptions();
        RocksDB raw = RocksDB.open(options, db.toString(), families, handles)) {
      byte[] key = ringkv.gossip.Wtf8.encode(victim.key());
      byte[] record = raw.get(handles.get(1), key);
      record[record.length - 1] = (byte) 0xFF; // a count of deps with its high bit: truncated
      raw.put(handles.get(1), key, record);
      handles.forEach(ColumnFamilyHandle::close);
    }
    try (RocksDbStore store = new RocksDbStore(db)) {
      assertEquals(List.of(victim.key()), store.quarantinedKeys(null, 10));
      assertEquals(null, store.get(victim.key()));
      for (Entry e : expected) {
        if (!e.equals(victim)) {
          assertEquals(e, store.get(e.key()));
        }
      }
      assertEquals(expected.size() - 1, store.size());
    }
  }

  private static void assertEverything(RocksDbStore store, List<Entry> expected, String when) {
    long live = expected.stream().filter(e -> !e.isTombstone()).count();
    for (Entry e : expected) {
      assertEquals(e, store.get(e.key()), when + ": " + e.key());
    }
    List<Entry> all = new ArrayList<>();
    store.forEach(all::add);
    List<Entry> sorted = new ArrayList<>(expected);
    sorted.sort((a, b) -> ringkv.gossip.KeyOrder.COMPARATOR.compare(a.key(), b.key()));
    assertEquals(sorted, all, when + ": every entry, in key order");
    assertEquals(live, store.liveCount(), when);
    assertEquals(expected.size(), store.size(), when);
    assertEquals(sorted.stream().filter(Entry::isTombstone).toList(),
        store.scanTombstones(null, 1000), when + ": tombstone index");
    assertArrayEquals("{\"epoch\":7,\"fixture\":true}".getBytes(UTF_8),
        store.getMeta("config").orElseThrow(), when);
    assertArrayEquals("4242".getBytes(US_ASCII), store.getMeta("stable").orElseThrow(), when);
  }
}
