package ringkv.node.engine;

import java.nio.charset.StandardCharsets;
import java.util.Optional;
import ringkv.node.storage.MetaStore;
import ringkv.node.wire.ConfigJson;
import ringkv.ring.ClusterConfig;

/**
 * The one owner of what a node keeps about itself in {@code DATA_DIR} besides its data: the
 * configuration it last installed, and its stable mark (every peer acknowledged all its writes
 * at or below it, so a restart re-sends only the writes above). Without {@code DATA_DIR} it
 * keeps nothing and restores nothing.
 *
 * <p>Not thread-safe; confine to the node's event loop.
 */
public final class NodeMeta {
  static final String CONFIG = "config";
  static final String STABLE = "stable";

  /** Null when the node keeps everything in memory. */
  private final MetaStore store;
  private long savedStable = -1;

  public NodeMeta(MetaStore store) {
    this.store = store;
  }

  public boolean durable() {
    return store != null;
  }

  /** The configuration saved by a previous process, if any. */
  public Optional<ClusterConfig> restoredConfig() {
    return store == null ? Optional.empty()
        : store.getMeta(CONFIG).map(ConfigJson::read);
  }

  /** The stable mark saved by a previous process (0 if none). */
  public long restoredStableMark() {
    return store == null ? 0 : store.getMeta(STABLE)
        .map(b -> Long.parseLong(new String(b, StandardCharsets.US_ASCII))).orElse(0L);
  }

  public void saveConfig(ClusterConfig c) {
    if (store != null) {
      store.putMeta(CONFIG, ConfigJson.bytes(c));
    }
  }

  /** Saves the stable mark when it changed. */
  public void saveStableMark(long stable) {
    if (store != null && stable != savedStable) {
      store.putMeta(STABLE, Long.toString(stable).getBytes(StandardCharsets.US_ASCII));
      savedStable = stable;
    }
  }
}
