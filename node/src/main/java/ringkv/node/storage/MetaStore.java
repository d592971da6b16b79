package ringkv.node.storage;

import java.util.Optional;

/**
 * Small named values a node keeps across restarts when it has a {@code DATA_DIR}: the cluster
 * configuration it last installed and its stable-time mark (below which every peer acknowledged
 * its writes). Implemented by {@link RocksDbStore}, in the same database as the data.
 */
public interface MetaStore {
  /** The value stored under {@code name}, if any. */
  Optional<byte[]> getMeta(String name);

  /** Stores {@code value} under {@code name}, as durably as entries. */
  void putMeta(String name, byte[] value);
}
