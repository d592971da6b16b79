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
 * extreme counters, dependencies), is deterministic and pinned (a golden record, checksum
 * included), and rejects every corrupt record with a CorruptEntryException that names the key,
 * never a wrong entry or an unchecked index error: every flipped bit (the CRC32C), a record read
 * under another key, and records whose checksum is right but whose fields are not (the strict
 * decoder). Records of the format before checksums are read only by decodeLegacy.
 * Method: round trips of hand-picked entries; golden byte tables; every proper prefix and every
 * single-bit flip of valid records; a table of hand-made corrupt bodies sealed with a valid
 * checksum.
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

  private static final byte[] K = {'k'};

  @Test
  public void roundTripsEveryEntry() {
    for (Entry e : SAMPLES) {
      byte[] record = EntryCodec.encode(e);
      assertEquals(e, EntryCodec.decode("k", record));
      assertEquals(e, EntryCodec.decode("k", K, record));
      assertEquals(e, EntryCodec.decodeLegacy("k", record), "the current format too");
      assertEquals(e.isTombstone(), EntryCodec.isTombstone("k", record));
      assertTrue(EntryCodec.checksumMatches(K, record));
      assertFalse(EntryCodec.isLegacy(record));
    }
  }

  @Test
  public void everyFlippedBitAndAnotherKeyAreDetected() {
    for (Entry e : SAMPLES) {
      byte[] record = EntryCodec.encode(e);
      for (int bit = 0; bit < record.length * 8; bit++) {
        byte[] flipped = record.clone();
        flipped[bit / 8] ^= (byte) (1 << (bit % 8));
        assertCorrupt(flipped, "bit " + bit + " of " + e);
        assertFalse(EntryCodec.checksumMatches(K, flipped), "bit " + bit);
      }
      CorruptEntryException moved = assertThrows(CorruptEntryException.class,
          () -> EntryCodec.decode("j", record));
      assertTrue(moved.getMessage().contains("checksum mismatch"), moved.getMessage());
    }
  }

  @Test
  public void legacyRecordsAreReadOnlyByDecodeLegacy() {
    // A record of the release before checksums (EntryCodec format 1): the same golden bytes as
    // that release's test pinned.
    byte[] legacy = bytes(
        1, 0, 0xAC, 0x02, 2, 'n', '1', 4, '"', 0xC3, 0xA9, '"', 2,
        1, 'a', 1, 2, 'n', '1',
        1, 'b', 2, 2, 'n', '2');
    Entry e = Entry.value("k", "\"\u00e9\"", new Version(300, "n1"),
        new CausalContext(Map.of("b", new Version(2, "n2"), "a", new Version(1, "n1"))));
    assertTrue(EntryCodec.isLegacy(legacy));
    assertEquals(e, EntryCodec.decodeLegacy("k", legacy));
    CorruptEntryException refused = assertCorrupt(legacy, "a legacy record");
    assertTrue(refused.getMessage().contains("format version 1"), refused.getMessage());
    assertEquals(e, EntryCodec.decode("k", EntryCodec.encode(e)));
    assertThrows(CorruptEntryException.class,
        () -> EntryCodec.decodeLegacy("k", Arrays.copyOf(legacy, legacy.length - 1)));
  }

  @Test
  public void goldenRecordPinsTheFormat() {
    Entry e = Entry.value("k", "\"\u00e9\"", new Version(300, "n1"),
        new CausalContext(Map.of("b", new Version(2, "n2"), "a", new Version(1, "n1"))));
    byte[] expected = bytes(
        2, 0, // format version, flags
        0xAC, 0x02, 2, 'n', '1', // counter 300 as a varint, node
        4, '"', 0xC3, 0xA9, '"', // value
        2, // deps, in key order
        1, 'a', 1, 2, 'n', '1',
        1, 'b', 2, 2, 'n', '2',
        0x89, 0x5B, 0x87, 0x93); // CRC32C of "k" and the bytes above, big-endian
    assertArrayEquals(expected, EntryCodec.encode(e));
    byte[] tombstone = EntryCodec.encode(Entry.tombstone("k", new Version(5, "n"),
        CausalContext.EMPTY));
    assertArrayEquals(bytes(2, 1, 5, 1, 'n', 0, 0x9E, 0x06, 0x17, 0x77), tombstone);
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
    byte[] longer = Arrays.copyOf(reseal(record), record.length - 3);
    assertCorrupt(seal(longer), "trailing byte under a valid checksum");
    for (int b = 0; b < 256; b++) {
      byte[] changed = record.clone();
      changed[0] = (byte) b;
      if (b != EntryCodec.FORMAT_VERSION) {
        CorruptEntryException e = assertCorrupt(changed, "version " + b);
        assertTrue(e.getMessage().contains("format version " + b), e.getMessage());
      }
      byte[] flags = reseal(record);
      flags[1] = (byte) b;
      byte[] sealedFlags = seal(flags);
      if (b > 1) {
        assertCorrupt(sealedFlags, "flags " + b + " under a valid checksum");
        assertThrows(CorruptEntryException.class,
            () -> EntryCodec.isTombstone("k", sealedFlags));
      }
    }
    byte[] tombstone = reseal(record);
    tombstone[1] = 1; // a value record claiming to be a tombstone: the value reads as deps
    assertCorrupt(seal(tombstone), "flag flipped under a valid checksum");
  }

  @Test
  public void rejectsHandMadeCorruptRecords() {
    // Bodies sealed with a valid checksum: what the strict decoder alone must reject (a record
    // written by a buggy build, or damage that happens to keep the checksum).
    int[][] corrupt = {
        {2}, // no flags
        {2, 0, 0, 1, 'n', 1, 'v', 0}, // counter 0 with a node: only Version.ZERO has it
        {2, 0, 1, 1, 'n', 1, 'v', 0x7F}, // 127 deps announced, none present
        {2, 0, 1, 1, 'n', 0x85, 0x80, 0x80, 0x80, 0x08, 'v', 0}, // string of 2^31+5 bytes
        {2, 0, 1, 1, 'n', 1, 0xC0, 0}, // bad UTF-8 in the value
        {2, 0, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x02, 1, 'n', 1, 'v', 0},
        // (above: a counter over 64 bits)
        {2, 0, 0x81, 0x00, 1, 'n', 1, 'v', 0}, // varint not in its shortest form
        {2, 0, 1, 1, 'n', 1, 'v', 2, 1, 'a', 1, 1, 'n', 1, 'a', 2, 1, 'n'}, // duplicate dep
        {2, 1, 1, 0, 0}, // valid (see below)
    };
    for (int i = 0; i < corrupt.length - 1; i++) {
      assertCorrupt(seal(bytes(corrupt[i])), "record " + i + " " + Arrays.toString(corrupt[i]));
    }
    assertCorrupt(new byte[0], "empty");
    // The last one is valid (counter 1, node ""): the table's rejections are not accidental.
    assertEquals(Entry.tombstone("k", new Version(1, ""), CausalContext.EMPTY),
        EntryCodec.decode("k", seal(bytes(corrupt[corrupt.length - 1]))));
  }

  @Test
  public void messageNamesTheKeyAndTheDefect() {
    CorruptEntryException e = assertThrows(CorruptEntryException.class,
        () -> EntryCodec.decode("user-42", bytes(7, 0)));
    assertEquals("corrupt entry for key 'user-42' at byte 0: unknown format version 7 "
        + "(this build reads 2)", e.getMessage());
    assertFalse(e.getMessage().isEmpty());
  }

  /** A record without its checksum (the body). */
  private static byte[] reseal(byte[] record) {
    return Arrays.copyOf(record, record.length - EntryCodec.CHECKSUM_BYTES);
  }

  private static byte[] seal(byte[] body) {
    return EntryCodec.seal(K, body);
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
