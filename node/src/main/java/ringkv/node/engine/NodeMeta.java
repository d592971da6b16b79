package ringkv.node.engine;

import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import ringkv.node.storage.MetaStore;
import ringkv.node.wire.ConfigJson;
import ringkv.ring.ClusterConfig;

/**
 * The one owner of what a node keeps about itself in {@code DATA_DIR} besides its data: the
 * configuration it last installed, its stable mark (every peer acknowledged all its writes
 * at or below it, so a restart re-sends only the writes above), and a hand-off not delivered
 * yet (the layout it served before a change it missed, with its shards' stable times, so a
 * restart hands the same writes over again). Without {@code DATA_DIR} it keeps nothing and
 * restores nothing.
 *
 * <p>Not thread-safe; confine to the node's event loop.
 */
public final class NodeMeta {
  static final String CONFIG = "config";
  static final String STABLE = "stable";
  /** A hand-off not delivered yet: the layout served before it (empty: none). */
  static final String HAND_OFF_CONFIG = "hand-off-config";
  /** ... and that layout's shards' stable times, {@code shard=counter} comma-separated. */
  static final String HAND_OFF_STABLE = "hand-off-stable";

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

  /** What a restart needs to hand over again what a hand-off had not delivered. */
  public record PendingHandOff(ClusterConfig old, Map<Integer, Long> oldStable) {}

  /** Saves a hand-off about to start: the layout served before it and its stable times. */
  public void saveHandOff(ClusterConfig old, Map<Integer, Long> oldStable) {
    if (store != null) {
      StringBuilder stable = new StringBuilder();
      new TreeMap<>(oldStable).forEach((shard, counter) -> stable.append(stable.isEmpty()
          ? "" : ",").append(shard).append('=').append(counter));
      store.putMeta(HAND_OFF_STABLE, stable.toString().getBytes(StandardCharsets.US_ASCII));
      store.putMeta(HAND_OFF_CONFIG, ConfigJson.bytes(old));
    }
  }

  /** Forgets the saved hand-off: every write it carried was acknowledged. */
  public void clearHandOff() {
    if (store != null) {
      store.putMeta(HAND_OFF_CONFIG, new byte[0]);
    }
  }

  /** The hand-off a previous process had not delivered, if any. */
  public Optional<PendingHandOff> restoredHandOff() {
    if (store == null) {
      return Optional.empty();
    }
    Optional<byte[]> config = store.getMeta(HAND_OFF_CONFIG).filter(b -> b.length > 0);
    if (config.isEmpty()) {
      return Optional.empty();
    }
    Map<Integer, Long> stable = new HashMap<>();
    String text = store.getMeta(HAND_OFF_STABLE)
        .map(b -> new String(b, StandardCharsets.US_ASCII)).orElse("");
    for (String pair : text.split(",")) {
      int eq = pair.indexOf('=');
      if (eq > 0) {
        stable.put(Integer.parseInt(pair.substring(0, eq)),
            Long.parseLong(pair.substring(eq + 1)));
      }
    }
    return Optional.of(new PendingHandOff(ConfigJson.read(config.get()), stable));
  }

  /** Saves the stable mark when it changed. */
  public void saveStableMark(long stable) {
    if (store != null && stable != savedStable) {
      store.putMeta(STABLE, Long.toString(stable).getBytes(StandardCharsets.US_ASCII));
      savedStable = stable;
    }
  }
}
