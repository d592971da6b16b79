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
}
