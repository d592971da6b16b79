package ringkv.gossip;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/*
 * Goal: one definition of the Store contract that every implementation passes, so the replica
 * (and replicas paging through each other's data) can't tell the stores apart: get/put/replace/
 * remove, exact live count and size through tombstones and replacements, forEach and scan in
 * UTF-8 byte key order (also for keys where that differs from String.compareTo, and for lone
 * surrogates), scan cursors present or absent, 1 MiB values, 10,000 keys, dependency round trips;
 * a damaged record is quarantined (absent for reads, scans and counts, listed for repair until
 * a put or remove of its key), never served.
 * Method: an abstract JUnit 5 class; each implementation's test class extends it and supplies a
 * fresh store per test (newStore) and its cleanup (closeStore); an implementation that can
 * damage a stored record on purpose (damage) runs the quarantine test, the others skip it.
 * Shared through the gossip test-jar. Expected values are written out by hand or derived from
 * String.getBytes(UTF_8).
 */
public abstract class StoreContract {

  /** The store under test, fresh for each test. */
  protected Store store;

  /** A new, empty store. */
  protected abstract Store newStore();

  /** Releases {@code store} after a test (e.g. closes its database). */
  protected void closeStore(Store s) {}

  /**
   * Damages the stored record of {@code key} (present) behind the store's back, as a disk
   * would; returns false if the implementation cannot be damaged (the quarantine test skips).
   */
  protected boolean damage(String key) {
    return false;
  }

  @BeforeEach
  public void createStore() {
    store = newStore();
  }

  @AfterEach
  public void releaseStore() {
    closeStore(store);
  }

  protected static Version v(long counter) {
    return new Version(counter, "n1");
  }

  protected static Entry value(String key, String json, long counter) {
    return Entry.value(key, json, v(counter), CausalContext.EMPTY);
  }

  protected static Entry tombstone(String key, long counter) {
    return Entry.tombstone(key, v(counter), CausalContext.EMPTY);
  }

  private static List<String> keys(List<Entry> entries) {
    return entries.stream().map(Entry::key).toList();
  }

  private List<String> allKeys() {
    List<String> keys = new ArrayList<>();
    store.forEach(e -> keys.add(e.key()));
    return keys;
  }

  @Test
  public void emptyStoreHasNothing() {
    assertNull(store.get("a"));
    assertEquals(0, store.liveCount());
    assertEquals(0, store.size());
    assertEquals(List.of(), store.scan(null, 10));
    assertEquals(List.of(), allKeys());
  }

  @Test
  public void putThenGetReturnsTheWholeEntry() {
    Entry e = value("a", "{\"x\":[1,2,\"é\"]}", 7);
    store.put(e);
    assertEquals(e, store.get("a"));
    assertNull(store.get("b"));
    assertNull(store.get("A"));
  }

  @Test
  public void putReplacesValuesAndTombstones() {
    store.put(value("a", "1", 1));
    store.put(value("a", "2", 2));
    assertEquals(value("a", "2", 2), store.get("a"));
    store.put(tombstone("a", 3));
    assertEquals(tombstone("a", 3), store.get("a"));
    assertTrue(store.get("a").isTombstone());
    store.put(value("a", "4", 4));
    assertEquals(value("a", "4", 4), store.get("a"));
    // The store keeps what it is given: last-writer-wins is the replica's job, not the store's.
    store.put(value("a", "old", 1));
    assertEquals(value("a", "old", 1), store.get("a"));
  }

  @Test
  public void removeForgetsTheKeyAndIgnoresMissingKeys() {
    store.put(value("a", "1", 1));
    store.put(tombstone("b", 2));
    store.remove("a");
    store.remove("b");
    store.remove("never");
    assertNull(store.get("a"));
    assertNull(store.get("b"));
    assertEquals(0, store.liveCount());
    assertEquals(0, store.size());
    store.put(value("a", "again", 3));
    assertEquals(value("a", "again", 3), store.get("a"));
  }

  @Test
  public void liveCountAndSizeFollowTombstonesAndReplacements() {
    store.put(value("a", "1", 1));
    assertCounts(1, 1);
    store.put(value("a", "2", 2)); // value replaces value
    assertCounts(1, 1);
    store.put(value("b", "1", 3));
    assertCounts(2, 2);
    store.put(tombstone("a", 4)); // tombstone replaces value
    assertCounts(1, 2);
    store.put(tombstone("a", 5)); // tombstone replaces tombstone
    assertCounts(1, 2);
    store.put(tombstone("c", 6)); // tombstone of an unseen key
    assertCounts(1, 3);
    store.put(value("c", "1", 7)); // value replaces tombstone
    assertCounts(2, 3);
    store.remove("a"); // remove a tombstone
    assertCounts(2, 2);
    store.remove("b"); // remove a value
    assertCounts(1, 1);
    store.remove("b"); // remove again
    assertCounts(1, 1);
  }

  protected void assertCounts(long live, long size) {
    assertEquals(live, store.liveCount(), "liveCount");
    assertEquals(size, store.size(), "size");
  }

  @Test
  public void forEachVisitsEveryEntryInKeyOrder() {
    for (String k : List.of("m", "b", "z", "a", "ab", "aa")) {
      store.put(value(k, "1", 1));
    }
    store.put(tombstone("c", 2));
    assertEquals(List.of("a", "aa", "ab", "b", "c", "m", "z"), allKeys());
    List<Entry> visited = new ArrayList<>();
    store.forEach(visited::add);
    assertEquals(tombstone("c", 2), visited.get(4));
  }

  @Test
  public void scanPagesAfterPresentAndAbsentKeys() {
    for (String k : List.of("b", "d", "f", "h")) {
      store.put(value(k, "1", 1));
    }
    store.put(tombstone("e", 2));
    assertEquals(List.of("b", "d", "e", "f", "h"), keys(store.scan(null, 10)));
    assertEquals(List.of("b", "d"), keys(store.scan(null, 2)));
    assertEquals(List.of("e", "f"), keys(store.scan("d", 2)), "after a present key");
    assertEquals(List.of("f", "h"), keys(store.scan("e", 5)), "after a tombstone");
    assertEquals(List.of("d", "e"), keys(store.scan("c", 2)), "after an absent key");
    assertEquals(List.of("b"), keys(store.scan("a", 1)), "before every key");
    assertEquals(List.of("b"), keys(store.scan("", 1)), "after the empty key");
    assertEquals(List.of("d"), keys(store.scan("b\u0000", 1)), "after a key's extension");
    assertEquals(List.of("h"), keys(store.scan("f", 1)));
    assertEquals(List.of(), store.scan("h", 3), "exhausted after the last key");
    assertEquals(List.of(), store.scan("zzz", 3), "exhausted after an absent last key");
    assertEquals(tombstone("e", 2), store.scan("d", 1).get(0));
    assertThrows(IllegalArgumentException.class, () -> store.scan(null, 0));
  }

  @Test
  public void scanTombstonesVisitsOnlyTombstonesInKeyOrder() {
    for (String k : List.of("a", "b", "c", "d", "e", "f")) {
      store.put(value(k, "1", 1));
    }
    assertEquals(List.of(), store.scanTombstones(null, 10));
    assertEquals(0, store.tombstoneCount());
    store.put(tombstone("e", 2));
    store.put(tombstone("b", 2));
    store.put(tombstone("x", 2)); // a tombstone for a key never seen
    store.put(tombstone("d", 2));
    store.put(value("d", "2", 3)); // written again: no longer a tombstone
    assertEquals(List.of("b", "e", "x"), keys(store.scanTombstones(null, 10)));
    assertEquals(tombstone("e", 2), store.scanTombstones("b", 1).get(0));
    assertEquals(List.of("e"), keys(store.scanTombstones("c", 1)), "after an absent key");
    assertEquals(List.of("x"), keys(store.scanTombstones("e", 5)), "after a tombstone");
    assertEquals(List.of(), store.scanTombstones("x", 5));
    assertEquals(3, store.tombstoneCount());
    store.remove("e");
    store.put(tombstone("x", 3)); // tombstone replaces tombstone: still one
    assertEquals(List.of("b", "x"), keys(store.scanTombstones(null, 10)));
    store.remove("a"); // removing a value leaves the tombstones alone
    assertEquals(List.of("b", "x"), keys(store.scanTombstones(null, 10)));
    assertThrows(IllegalArgumentException.class, () -> store.scanTombstones(null, 0));
  }

  @Test
  public void scanPagesAreSnapshotsTheCallerMayRemoveFrom() {
    for (int i = 0; i < 10; i++) {
      store.put(value("k" + i, "1", 1));
    }
    // Engine.dropForeignKeys removes each page's keys, then scans after the last one.
    String after = null;
    int removed = 0;
    for (List<Entry> page = store.scan(null, 3); !page.isEmpty(); page = store.scan(after, 3)) {
      for (Entry e : page) {
        store.remove(e.key());
        removed++;
      }
      after = page.get(page.size() - 1).key();
    }
    assertEquals(10, removed);
    assertCounts(0, 0);
  }

  /** Keys in UTF-8 byte order, hand-sorted (code points in the comments). */
  protected static final List<String> UNICODE_KEYS_IN_ORDER = List.of(
      "A", // 41
      "a", // 61
      "a\u00e9", // 61 E9: a longer key after its prefix
      "\u00e9", // E9
      "\u4e2d", // 4E2D
      "\ud800", // a lone high surrogate, sorted at its code unit value D800
      "\ud83dx", // a lone high surrogate (no low one follows), then 78
      "\udc00", // a lone low surrogate, DC00
      "\ue000", // E000, private use: String.compareTo puts it after the emoji below
      "\ufffd", // FFFD, the replacement character
      "\ud83d\ude00", // 1F600, an emoji (a surrogate pair)
      "\ud83d\ude00\u0000", // 1F600 0
      "\udbff\udfff"); // 10FFFF, the last code point

  @Test
  public void unicodeKeysSortInUtf8ByteOrder() {
    List<String> shuffled = new ArrayList<>(UNICODE_KEYS_IN_ORDER);
    Collections.shuffle(shuffled, new Random(42));
    long counter = 1;
    for (String k : shuffled) {
      store.put(value(k, "\"" + k.length() + "\"", counter++));
    }
    assertEquals(UNICODE_KEYS_IN_ORDER.size(), store.size(), "no two keys collide");
    assertEquals(UNICODE_KEYS_IN_ORDER, allKeys());
    assertEquals(UNICODE_KEYS_IN_ORDER, keys(store.scan(null, 100)));
    for (int i = 0; i < UNICODE_KEYS_IN_ORDER.size(); i++) {
      String k = UNICODE_KEYS_IN_ORDER.get(i);
      assertEquals(k, store.get(k).key());
      List<String> rest = UNICODE_KEYS_IN_ORDER.subList(i + 1, UNICODE_KEYS_IN_ORDER.size());
      assertEquals(rest, keys(store.scan(k, 100)), "after " + codePoints(k));
    }
    assertNull(store.get("?"), "a lone surrogate is not stored as '?'");
    assertEquals(List.of("\ue000"), keys(store.scan("\udfff", 1)), "after an absent surrogate");
  }

  @Test
  public void unicodeOrderIsUtf8ByteOrderNotStringOrder() {
    // The hand-sorted list agrees with UTF-8 bytes wherever those are defined (no lone
    // surrogates), and disagrees with String.compareTo: the point of KeyOrder.
    List<String> valid = UNICODE_KEYS_IN_ORDER.stream()
        .filter(k -> k.codePoints().noneMatch(c -> c >= 0xD800 && c <= 0xDFFF))
        .toList();
    List<String> byBytes = new ArrayList<>(valid);
    byBytes.sort((a, b) -> Arrays.compareUnsigned(a.getBytes(UTF_8), b.getBytes(UTF_8)));
    assertEquals(valid, byBytes);
    List<String> byString = new ArrayList<>(valid);
    byString.sort(String::compareTo);
    assertNotEquals(valid, byString);
    for (int i = 0; i + 1 < UNICODE_KEYS_IN_ORDER.size(); i++) {
      String a = UNICODE_KEYS_IN_ORDER.get(i);
      String b = UNICODE_KEYS_IN_ORDER.get(i + 1);
      assertTrue(KeyOrder.compare(a, b) < 0, codePoints(a) + " < " + codePoints(b));
      assertTrue(KeyOrder.compare(b, a) > 0, codePoints(b) + " > " + codePoints(a));
      assertEquals(0, KeyOrder.compare(a, new String(a)));
    }
  }

  private static String codePoints(String s) {
    StringBuilder sb = new StringBuilder();
    s.chars().forEach(c -> sb.append(String.format("U+%04X ", c)));
    return sb.toString().trim();
  }

  @Test
  public void largeValuesRoundTrip() {
    StringBuilder sb = new StringBuilder("\"");
    while (sb.length() < (1 << 20)) {
      sb.append("abc\u00e9\u4e2d\ud83d\ude00 ").append(sb.length());
    }
    String big = sb.append('"').toString();
    store.put(value("big", big, 1));
    store.put(value("small", "1", 2));
    assertEquals(big, store.get("big").value());
    assertEquals(big, store.scan(null, 1).get(0).value());
    assertCounts(2, 2);
  }

  @Test
  public void manyKeysPageToTheEnd() {
    int n = 10_000;
    List<String> expected = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      String k = String.format("key-%05d", i);
      expected.add(k);
      store.put(i % 10 == 0 ? tombstone(k, i + 1) : value(k, Integer.toString(i), i + 1));
    }
    assertCounts(n - n / 10, n);
    List<String> seen = new ArrayList<>();
    String after = null;
    int pages = 0;
    for (List<Entry> page = store.scan(null, 333); !page.isEmpty();
        page = store.scan(after, 333)) {
      assertTrue(page.size() <= 333);
      page.forEach(e -> seen.add(e.key()));
      after = page.get(page.size() - 1).key();
      pages++;
    }
    assertEquals(expected, seen);
    assertEquals((n + 332) / 333, pages);
    assertEquals(expected, allKeys());
  }

  @Test
  public void dependenciesRoundTrip() {
    Map<String, Version> deps = new HashMap<>();
    for (int i = 0; i < 50; i++) {
      deps.put("dep-" + i + "-\u00e9\ud83d\ude00", new Version(1L << (i % 63), "node-" + i % 3));
    }
    deps.put("zero", Version.ZERO);
    deps.put("\ud800lone", new Version(Long.MAX_VALUE, "\u4e2d"));
    Entry withDeps = Entry.value("a", "{}", new Version(Long.MAX_VALUE, "n\u00e9"),
        new CausalContext(deps));
    Entry tombstoneWithDeps = Entry.tombstone("b", new Version(1, "x"), new CausalContext(deps));
    store.put(withDeps);
    store.put(tombstoneWithDeps);
    assertEquals(withDeps, store.get("a"));
    assertEquals(tombstoneWithDeps, store.get("b"));
    assertEquals(List.of(withDeps, tombstoneWithDeps), store.scan(null, 2));
    assertEquals(new CausalContext(deps), store.get("a").deps());
  }

  @Test
  public void aHealthyStoreQuarantinesNothing() {
    store.put(value("a", "1", 1));
    store.put(tombstone("b", 2));
    store.remove("a");
    store.scan(null, 10);
    assertEquals(0, store.quarantinedCount());
    assertEquals(List.of(), store.quarantinedKeys(null, 10));
    assertEquals(false, store.isQuarantined("b"));
    assertThrows(IllegalArgumentException.class, () -> store.quarantinedKeys(null, 0));
  }

  @Test
  public void aDamagedRecordIsQuarantinedNeverServedAndClearedByPutOrRemove() {
    store.put(value("a", "1", 1));
    store.put(tombstone("b", 2));
    store.put(value("c", "3", 3));
    store.put(value("d", "4", 4));
    org.junit.jupiter.api.Assumptions.assumeTrue(damage("b") && damage("c"),
        "this store cannot be damaged on purpose");
    assertNull(store.get("c"), "a damaged record reads as absent");
    assertEquals(List.of("c"), store.quarantinedKeys(null, 10));
    assertEquals(List.of("a", "d"), keys(store.scan(null, 10)), "scans skip it, pages stay full");
    assertEquals(List.of("b", "c"), store.quarantinedKeys(null, 10));
    assertEquals(List.of("c"), store.quarantinedKeys("b", 10));
    assertEquals(List.of(), store.scanTombstones(null, 10));
    assertEquals(2, store.quarantinedCount());
    assertTrue(store.isQuarantined("b"));
    assertCounts(2, 2);
    assertEquals(List.of("a", "d"), allKeys());

    Entry repaired = value("c", "3", 3);
    store.put(repaired);
    assertEquals(repaired, store.get("c"));
    assertEquals(List.of("b"), store.quarantinedKeys(null, 10));
    assertEquals(false, store.isQuarantined("c"));
    store.remove("b");
    assertEquals(0, store.quarantinedCount());
    assertEquals(List.of(), store.quarantinedKeys(null, 10));
    assertCounts(3, 3);
  }
}
