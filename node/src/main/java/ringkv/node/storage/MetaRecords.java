package ringkv.node.storage;

import static com.google.common.base.Preconditions.checkArgument;

import java.util.Objects;
import java.util.Optional;
import org.rocksdb.RocksDBException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import ringkv.gossip.Wtf8;

/**
 * The {@link MetaStore} part of a {@link RocksDbStore}: named values in the meta family (names
 * prefixed with {@value StoreLayout#META_NAME_PREFIX}), each sealed with a CRC32C of its key and
 * value ({@link Checksums}), written as durably as entries.
 *
 * <p>Thread-safe: reads hold no lock; a write holds the {@link StoreDatabase} monitor. A record
 * only to hold its collaborators; it has no state of its own.
 */
record MetaRecords(StoreDatabase database, StoreCounts counts, WalSyncer syncer)
    implements MetaStore {
  private static final Logger LOG = LoggerFactory.getLogger(RocksDbStore.class);

  /**
   * The value last stored under metadata {@code name}, if any. A value that fails its checksum
   * is reported (WARN) and read as absent: the configuration then comes from the cluster, and a
   * missing stable mark only makes the node re-send more of its writes.
   */
  @Override
  public Optional<byte[]> getMeta(String name) {
    database.checkOpen();
    byte[] key = metaKey(name);
    try {
      byte[] sealed = database.db().get(database.meta(), key);
      if (sealed == null) {
        return Optional.empty();
      }
      byte[] value = Checksums.unseal(key, sealed);
      if (value == null) {
        counts.corruptionFound();
        LOG.warn("event=meta-damaged store={} name={}: read as absent", database.dir(), name);
      }
      return Optional.ofNullable(value);
    } catch (RocksDBException e) {
      throw database.failed("getMeta", e);
    }
  }

  /**
   * Stores {@code value} under metadata {@code name}, replacing any previous value, as durably
   * as an entry: in SYNC mode it asks for a sync at once (without waiting for it).
   */
  @Override
  public void putMeta(String name, byte[] value) {
    Objects.requireNonNull(value, "value");
    byte[] key = metaKey(name);
    database.locked("putMeta", () -> database.db().put(database.meta(),
        database.writeOptions(), key, Checksums.seal(key, value)));
    syncer.noteWrite();
    syncer.requestSync();
  }

  private static byte[] metaKey(String name) {
    Objects.requireNonNull(name, "name");
    checkArgument(!name.isEmpty(), "metadata name must not be empty");
    return Wtf8.encode(StoreLayout.META_NAME_PREFIX + name);
  }
}
