package ringkv.node.storage;

/** Test support for other packages: damages a stored record behind the store's back. */
public final class StoreDamage {
  private StoreDamage() {}

  /**
   * Flips one bit in the middle of {@code key}'s stored record (present), as a disk would; the
   * store notices when it next reads the record (a get, a scan or its scrub).
   */
  public static void flipABit(RocksDbStore store, String key) {
    byte[] record = store.getRawForTest(key);
    if (record == null) {
      throw new IllegalArgumentException("no record stored for " + key);
    }
    record[record.length / 2] ^= 0x04;
    store.putRawForTest(key, record);
  }

  /**
   * Replaces {@code entry.key()}'s stored record by {@code entry}'s, with a valid checksum, behind
   * the store's back: a copy whose bytes changed while its version was kept (a bug, or damage
   * the record's checksum does not see), which the store itself cannot tell from an honest one.
   * The key must hold a value both before and after (the counts are not touched).
   */
  public static void rewrite(RocksDbStore store, ringkv.gossip.Entry entry) {
    if (store.getRawForTest(entry.key()) == null || entry.isTombstone()) {
      throw new IllegalArgumentException("rewrite replaces a value by a value: " + entry);
    }
    store.putRawForTest(entry.key(), EntryCodec.encode(entry));
  }
}
