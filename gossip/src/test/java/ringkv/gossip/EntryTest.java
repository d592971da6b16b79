package ringkv.gossip;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/*
 * Goal: Entry, which keeps its value as bytes and its version as two fields, gives back exactly
 * what it was built from (every string, lone surrogates included), exposes its value's bytes as
 * Wtf8 would write them, and keeps the equality, hash code and string form of the record it was.
 * Method: hand-picked values (ASCII, JSON escapes, Latin-1, CJK, a surrogate pair, lone
 * surrogates, empty); pairs of entries differing in one component.
 */
class EntryTest {
  private static final List<String> VALUES = List.of(
      "1", "", "\"plain ascii\"", "\"esc \\\" \\\\ \\n \\u00e9 \\ud83d\\ude00\"",
      "{\"a\":[\"\u00e9\",\"\u00ff\"]}", "\"\u4e2d\u6587 \u05e9\u05dc\u05d5\u05dd\"",
      "\"\ud83d\ude00\"", "\"\ud800 lone high\"", "\"lone low \udc00\"", "\"\ude00\ud83d\"",
      "\"\ud83d\"", "\"\u0000\u2028\"");
  private static final Version V = new Version(7, "n1");
  private static final CausalContext DEPS = new CausalContext(Map.of("d", new Version(3, "n2")));

  @Test
  public void givesBackWhatItWasBuiltFrom() {
    for (String value : VALUES) {
      Entry e = Entry.value("k", value, V, DEPS);
      assertEquals(value, e.value());
      assertEquals("k", e.key());
      assertEquals(V, e.version());
      assertEquals(DEPS, e.deps());
      assertFalse(e.isTombstone());
    }
  }

  @Test
  public void valueBytesAreWtf8() {
    for (String value : VALUES) {
      Entry e = Entry.value("k", value, V, CausalContext.EMPTY);
      byte[] expected = Wtf8.encode(value);
      assertEquals(expected.length, e.valueUtf8Length(), value);
      byte[] out = new byte[expected.length + 3];
      assertEquals(expected.length + 2, e.writeValueUtf8(out, 2));
      byte[] written = new byte[expected.length];
      System.arraycopy(out, 2, written, 0, expected.length);
      assertArrayEquals(expected, written, value);
    }
    // A valid string's bytes are its UTF-8.
    String valid = "\"\u00e9\u4e2d\ud83d\ude00\"";
    assertArrayEquals(valid.getBytes(UTF_8), Wtf8.encode(valid));
  }

  @Test
  public void tombstoneHasNoValue() {
    Entry t = Entry.tombstone("k", V, CausalContext.EMPTY);
    assertTrue(t.isTombstone());
    assertNull(t.value());
    assertThrows(IllegalStateException.class, t::valueUtf8Length);
    assertThrows(IllegalStateException.class, () -> t.writeValueUtf8(new byte[8], 0));
  }

  @Test
  public void equalityIsByKeyValueVersionAndDeps() {
    Entry e = Entry.value("k", "\"\u00e9\"", V, DEPS);
    Entry same = new Entry(new String("k"), new String("\"\u00e9\""),
        new Version(7, new String("n1")), new CausalContext(Map.of("d", new Version(3, "n2"))));
    assertEquals(e, same);
    assertEquals(e.hashCode(), same.hashCode());
    for (Entry other : List.of(
        Entry.value("k2", "\"\u00e9\"", V, DEPS),
        Entry.value("k", "\"e\"", V, DEPS),
        Entry.value("k", "\"\u00e9\"", new Version(8, "n1"), DEPS),
        Entry.value("k", "\"\u00e9\"", new Version(7, "n2"), DEPS),
        Entry.value("k", "\"\u00e9\"", V, CausalContext.EMPTY),
        Entry.tombstone("k", V, DEPS))) {
      assertNotEquals(e, other, other.toString());
    }
    assertEquals(Entry.tombstone("k", V, DEPS), Entry.tombstone("k", V, DEPS));
    // Two lone surrogates that UTF-8 would both turn into '?' stay distinct.
    assertNotEquals(Entry.value("k", "\"\ud800\"", V, DEPS),
        Entry.value("k", "\"\ud801\"", V, DEPS));
  }

  @Test
  public void stringFormAndOrderAreTheRecordsOnes() {
    assertEquals("Entry{k 7@n1}", Entry.value("k", "1", V, DEPS).toString());
    assertEquals("Entry{k 7@n1 tombstone}", Entry.tombstone("k", V, DEPS).toString());
    Entry older = Entry.value("k", "1", V, DEPS);
    Entry newer = Entry.value("k", "1", new Version(7, "n2"), DEPS);
    assertTrue(newer.supersedes(older));
    assertFalse(older.supersedes(newer));
    assertFalse(older.supersedes(older));
    assertTrue(older.supersedes(null));
  }

  @Test
  public void checksumCoversKeyVersionTombstoneAndValueButNotDeps() {
    long honest = Entry.value("k", "1", V, DEPS).checksum();
    assertEquals(honest, Entry.value("k", "1", V, CausalContext.EMPTY).checksum());
    assertNotEquals(honest, Entry.value("k", "2", V, DEPS).checksum());
    assertNotEquals(honest, Entry.value("k2", "1", V, DEPS).checksum());
    assertNotEquals(honest, Entry.value("k", "1", new Version(7, "n2"), DEPS).checksum());
    assertNotEquals(honest, Entry.tombstone("k", V, DEPS).checksum());
    assertNotEquals(Entry.tombstone("k", V, DEPS).checksum(),
        Entry.value("k", "", V, DEPS).checksum());
  }

  @Test
  public void atOneVersionTheHigherChecksumSupersedesSoTheOrderIsTotal() {
    for (int i = 0; i < 200; i++) {
      Entry a = Entry.value("k", "\"a" + i + "\"", V, DEPS);
      Entry b = i % 7 == 0 ? Entry.tombstone("k", V, DEPS)
          : Entry.value("k", "\"b" + i + "\"", V, DEPS);
      assertTrue(a.supersedes(b) != b.supersedes(a), "exactly one of two copies wins: " + i);
      assertEquals(Long.compareUnsigned(a.checksum(), b.checksum()) > 0, a.supersedes(b));
      assertEquals(Entry.checksumLoses(b.checksum(), a.checksum()), a.supersedes(b));
    }
    Entry same = Entry.value("k", "1", V, DEPS);
    assertFalse(same.supersedes(Entry.value("k", "1", V, CausalContext.EMPTY)),
        "equal bytes at one version: neither replaces the other");
    Entry newerButSmaller = Entry.value("k", "1", new Version(8, "n1"), DEPS);
    assertTrue(newerButSmaller.supersedes(same), "the version decides first");
  }

  @Test
  public void rejectsWhatTheRecordRejected() {
    assertThrows(IllegalArgumentException.class,
        () -> Entry.value("k", "1", Version.ZERO, CausalContext.EMPTY));
    assertThrows(NullPointerException.class,
        () -> Entry.value(null, "1", V, CausalContext.EMPTY));
    assertThrows(NullPointerException.class, () -> Entry.value("k", null, V, DEPS));
    assertThrows(NullPointerException.class, () -> Entry.value("k", "1", null, DEPS));
    assertThrows(NullPointerException.class, () -> Entry.value("k", "1", V, null));
  }

  @Test
  public void sizeEstimateCountsTheValuesBytes() {
    assertEquals(64 + 2 + 3, Entry.value("k", "\"a\"", V, CausalContext.EMPTY)
        .sizeEstimateBytes());
    assertEquals(64 + 2 + 4 + 48, Entry.value("k", "\"\u00e9\"", V, DEPS).sizeEstimateBytes());
    assertEquals(64 + 2, Entry.tombstone("k", V, CausalContext.EMPTY).sizeEstimateBytes());
  }
}
