package ringkv.gossip;

import java.util.ArrayList;
import java.util.List;
import java.util.NavigableMap;
import java.util.TreeMap;
import java.util.function.Consumer;

/**
 * A {@link Store} in a sorted map (so replicas can stream it in pages): data lives as long as the
 * process.
 *
 * <p>Not thread-safe; confine to one event loop.
 */
public final class MemoryStore implements Store {
  private final NavigableMap<String, Entry> entries = new TreeMap<>();
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

  @Override
  public List<Entry> scan(String afterKey, int limit) {
    NavigableMap<String, Entry> tail = afterKey == null ? entries : entries.tailMap(afterKey, false);
    List<Entry> page = new ArrayList<>(Math.min(limit, tail.size()));
    for (Entry e : tail.values()) {
      if (page.size() >= limit) {
        break;
      }
      page.add(e);
    }
    return page;
  }

  static int liveDelta(Entry old, Entry replacement) {
    int before = old != null && !old.isTombstone() ? 1 : 0;
    int after = replacement.isTombstone() ? 0 : 1;
    return after - before;
  }
}
