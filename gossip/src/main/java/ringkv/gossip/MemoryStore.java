package ringkv.gossip;

import static com.google.common.base.Preconditions.checkArgument;

import java.util.ArrayList;
import java.util.List;
import java.util.NavigableMap;
import java.util.NavigableSet;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.Consumer;

/**
 * A {@link Store} in a sorted map (so replicas can stream it in pages): data lives as long as the
 * process. Keys are sorted by {@link KeyOrder} (UTF-8 byte order), like the durable store's.
 *
 * <p>Not thread-safe; confine to one event loop.
 */
public final class MemoryStore implements Store {
  /** Initial capacity bound of a scan's page list (the page grows past it if asked to). */
  private static final int SCAN_PAGE_CAPACITY_MAX = 1024;

  private final NavigableMap<String, Entry> entries = new TreeMap<>(KeyOrder.COMPARATOR);
  /** The keys whose entry is a tombstone. */
  private final NavigableSet<String> tombstones = new TreeSet<>(KeyOrder.COMPARATOR);
  private long live;

  @Override
  public Entry get(String key) {
    return entries.get(key);
  }

  @Override
  public void put(Entry entry) {
    Entry old = entries.put(entry.key(), entry);
    live += liveDelta(old, entry);
    if (entry.isTombstone()) {
      tombstones.add(entry.key());
    } else if (old != null && old.isTombstone()) {
      tombstones.remove(entry.key());
    }
  }

  @Override
  public void remove(String key) {
    Entry old = entries.remove(key);
    if (old != null && !old.isTombstone()) {
      live--;
    } else if (old != null) {
      tombstones.remove(key);
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
    checkArgument(limit > 0, "limit must be > 0, got %s", limit);
    NavigableMap<String, Entry> tail =
        afterKey == null ? entries : entries.tailMap(afterKey, false);
    // Not tail.size(): a tail view counts its entries one by one.
    List<Entry> page = new ArrayList<>(Math.min(limit, SCAN_PAGE_CAPACITY_MAX));
    for (Entry e : tail.values()) {
      if (page.size() >= limit) {
        break;
      }
      page.add(e);
    }
    return page;
  }

  @Override
  public List<Entry> scanTombstones(String afterKey, int limit) {
    checkArgument(limit > 0, "limit must be > 0, got %s", limit);
    NavigableSet<String> tail = afterKey == null ? tombstones : tombstones.tailSet(afterKey, false);
    List<Entry> page = new ArrayList<>(Math.min(limit, Math.min(tombstones.size(), 64)));
    for (String key : tail) {
      if (page.size() >= limit) {
        break;
      }
      page.add(entries.get(key));
    }
    return page;
  }

  static int liveDelta(Entry old, Entry replacement) {
    int before = old != null && !old.isTombstone() ? 1 : 0;
    int after = replacement.isTombstone() ? 0 : 1;
    return after - before;
  }
}
