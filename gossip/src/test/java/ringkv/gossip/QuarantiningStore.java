package ringkv.gossip;

import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Consumer;

/**
 * A {@link MemoryStore} whose keys the test marks quarantined (damaged, awaiting repair) by hand;
 * a put or remove of a key clears its mark, as a real store's repair does. Only
 * {@link #isQuarantined} reports the marks: reads, scans and counts are the MemoryStore's. Used
 * by ReplicaTest and by the node's LostKeysTest (through this module's test-jar).
 */
public final class QuarantiningStore implements Store {
  private final MemoryStore store = new MemoryStore();
  private final Set<String> quarantined = new HashSet<>();

  /** Marks {@code keys} quarantined until their next put or remove. */
  public void quarantine(String... keys) {
    quarantined.addAll(Arrays.asList(keys));
  }

  @Override
  public Entry get(String key) {
    return store.get(key);
  }

  @Override
  public void put(Entry entry) {
    quarantined.remove(entry.key());
    store.put(entry);
  }

  @Override
  public void remove(String key) {
    quarantined.remove(key);
    store.remove(key);
  }

  @Override
  public long liveCount() {
    return store.liveCount();
  }

  @Override
  public long size() {
    return store.size();
  }

  @Override
  public void forEach(Consumer<Entry> visitor) {
    store.forEach(visitor);
  }

  @Override
  public List<Entry> scan(String afterKey, int limit) {
    return store.scan(afterKey, limit);
  }

  @Override
  public List<Entry> scanTombstones(String afterKey, int limit) {
    return store.scanTombstones(afterKey, limit);
  }

  @Override
  public boolean isQuarantined(String key) {
    return quarantined.contains(key);
  }
}
