package ringkv.gossip;

import java.util.HashMap;
import java.util.Map;
import java.util.function.Consumer;

/**
 * A {@link Store} in a hash map: data lives as long as the process.
 *
 * <p>Not thread-safe; confine to one event loop.
 */
public final class MemoryStore implements Store {
  private final Map<String, Entry> entries = new HashMap<>();
  private long live;

  @Override
  public Entry get(String key) {
    return entries.get(key);
  }

  @Override
  public void put(Entry entry) {
    Entry old = entries.put(entry.key(), entry);
    live += liveDelta(old, entry);
  }

  @Override
  public void remove(String key) {
    Entry old = entries.remove(key);
    if (old != null && !old.isTombstone()) {
      live--;
    }
  }

  @Override
  public long liveCount() {
    return live;
  }

  @Override
  public long size() {
    return entries.size();
  }

  @Override
  public void forEach(Consumer<Entry> visitor) {
    entries.values().forEach(visitor);
  }

  static int liveDelta(Entry old, Entry replacement) {
    int before = old != null && !old.isTombstone() ? 1 : 0;
    int after = replacement.isTombstone() ? 0 : 1;
    return after - before;
  }
}
