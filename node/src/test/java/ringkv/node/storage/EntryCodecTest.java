package ringkv.node.storage;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import ringkv.gossip.CausalContext;
import ringkv.gossip.Entry;
import ringkv.gossip.Version;

/*
 * Goal: the stored entry format round-trips every entry exactly (values, tombstones, unicode,
 * extreme counters, dependencies), is deterministic and pinned (a golden record), and rejects
 * every corrupt record with a CorruptEntryException that names the key, never a wrong entry or
 * an unchecked index error.
 * Method: round trips of hand-picked entries; a golden byte table; every proper prefix of valid
 * records, every single-byte change of the header, and a table of hand-made corrupt records.
 */
class EntryCodecTest {
  private static final CausalContext DEPS = new CausalContext(Map.of(
      "x", new Version(3, "n2"), "\u00e9\ud83d\ude00", new Version(Long.MAX_VALUE, "\u4e2d"),
      "\ud800", Version.ZERO, "", new Version(1, "")));

  private static final List<Entry> SAMPLES = List.of(
      Entry.value("k", "1", new Version(1, "n1"), CausalContext.EMPTY),
      Entry.value("k", "", new Version(1, ""), CausalContext.EMPTY),
      Entry.value("k", "{\"a\":[\"\u00e9\",\"\ud83d\ude00\"]}", new Version(300, "n1"), DEPS),
      Entry.tombstone("k", new Version(Long.MAX_VALUE, "node-\u00e9"), DEPS),
      Entry.tombstone("k", new Version(127, "n"), CausalContext.EMPTY),
      Entry.value("k", "\"\ud800 lone\"", new Version(128, "n"), CausalContext.EMPTY));

  @Test
  public void roundTripsEveryEntry() {
    for (Entry e : SAMPLES) {
      byte[] record = EntryCodec.encode(e);
      assertEquals(e, EntryCodec.decode("k", record));
      assertEquals(e.isTombstone(), EntryCodec.isTombstone("k", record));
    }
  }

  @Test
  public void goldenRecordPinsTheFormat() {
    Entry e = Entry.value("k", "\"\u00e9\"", new Version(300, "n1"),
        new CausalContext(Map.of("b", new Version(2, "n2"), "a", new Version(1, "n1"))));
    byte[] expected = bytes(
        1, 0, // format version, flags
        0xAC, 0x02, 2, 'n', '1', // counter 300 as a varint, node
        4, '"', 0xC3, 0xA9, '"', // value
        2, // deps, in key order
        1, 'a', 1, 2, 'n', '1',
        1, 'b', 2, 2, 'n', '2');
    assertArrayEquals(expected, EntryCodec.encode(e));
    byte[] tombstone = EntryCodec.encode(Entry.tombstone("k", new Version(5, "n"),
        CausalContext.EMPTY));
    assertArrayEquals(bytes(1, 1, 5, 1, 'n', 0), tombstone);
  }

  @Test
  public void encodingIsDeterministic() {
    Map<String, Version> forward = new LinkedHashMap<>();
    Map<String, Version> backward = new LinkedHashMap<>();
    for (int i = 0; i < 20; i++) {
      forward.put("d" + i, new Version(i + 1, "n"));
      backward.put("d" + (19 - i), new Version(20 - i, "n"));
    }
    Version v = new Version(9, "n");
    assertArrayEquals(EntryCodec.encode(Entry.value("k", "1", v, new CausalContext(forward))),
        EntryCodec.encode(Entry.value("k", "1", v, new CausalContext(backward))));
  }

  @Test
  public void rejectsEveryTruncation() {
    for (Entry e : SAMPLES) {
      byte[] record = EntryCodec.encode(e);
      for (int n = 0; n < record.length; n++) {
        byte[] prefix = Arrays.copyOf(record, n);
        assertCorrupt(prefix, "prefix of " + n + " of " + record.length + " bytes of " + e);
      }
    }
  }

  @Test
  public void rejectsTrailingBytesUnknownVersionsAndFlags() {
    byte[] record = EntryCodec.encode(SAMPLES.get(2));
    byte[] longer = Arrays.copyOf(record, record.length + 1);
    assertCorrupt(longer, "trailing byte");
    for (int b = 0; b < 256; b++) {
      byte[] changed = record.clone();
      changed[0] = (byte) b;
      if (b != EntryCodec.FORMAT_VERSION) {
        CorruptEntryException e = assertCorrupt(changed, "version " + b);
        assertTrue(e.getMessage().contains("format version " + b), e.getMessage());
      }
      byte[] flags = record.clone();
      flags[1] = (byte) b;
      if (b > 1) {
        assertCorrupt(flags, "flags " + b);
        assertThrows(CorruptEntryException.class, () -> EntryCodec.isTombstone("k", flags));
      }
    }
    byte[] tombstone = record.clone();
    tombstone[1] = 1; // a value record claiming to be a tombstone: the value reads as deps
    assertCorrupt(tombstone, "flag flipped");
  }

  @Test
  public void rejectsHandMadeCorruptRecords() {
    int[][] corrupt = {
        {}, // empty
        {1}, // no flags
        {1, 0, 0, 1, 'n', 1, 'v', 0}, // counter 0 with a node: only Version.ZERO has it
        {1, 0, 1, 1, 'n', 1, 'v', 0x7F}, // 127 deps announced, none present
        {1, 0, 1, 1, 'n', 0x85, 0x80, 0x80, 0x80, 0x08, 'v', 0}, // string of 2^31+5 bytes
        {1, 0, 1, 1, 'n', 1, 0xC0, 0}, // bad UTF-8 in the value
        {1, 0, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x02, 1, 'n', 1, 'v', 0},
        // (above: a counter over 64 bits)
        {1, 0, 0x81, 0x00, 1, 'n', 1, 'v', 0}, // varint not in its shortest form
        {1, 0, 1, 1, 'n', 1, 'v', 2, 1, 'a', 1, 1, 'n', 1, 'a', 2, 1, 'n'}, // duplicate dep
        {1, 1, 1, 0, 0}, // valid (see below)
    };
    for (int i = 0; i < corrupt.length - 1; i++) {
      assertCorrupt(bytes(corrupt[i]), "record " + i + " " + Arrays.toString(corrupt[i]));
    }
    // The last one is valid (counter 1, node ""): the table's rejections are not accidental.
    assertEquals(Entry.tombstone("k", new Version(1, ""), CausalContext.EMPTY),
        EntryCodec.decode("k", bytes(corrupt[corrupt.length - 1])));
  }

  @Test
  public void messageNamesTheKeyAndTheDefect() {
    CorruptEntryException e = assertThrows(CorruptEntryException.class,
        () -> EntryCodec.decode("user-42", bytes(7, 0)));
    assertEquals("corrupt entry for key 'user-42' at byte 0: unknown format version 7 "
        + "(this build reads 1)", e.getMessage());
    assertFalse(e.getMessage().isEmpty());
  }

  private static CorruptEntryException assertCorrupt(byte[] record, String what) {
    return assertThrows(CorruptEntryException.class, () -> EntryCodec.decode("k", record), what);
  }

  private static byte[] bytes(int... values) {
    byte[] out = new byte[values.length];
    for (int i = 0; i < values.length; i++) {
      out[i] = (byte) values[i];
    }
    return out;
  }
}
