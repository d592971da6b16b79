package ringkv.gossip;

import static com.google.common.base.Preconditions.checkArgument;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BiPredicate;

/**
 * What a reply hands back as the client's causal metadata: the client's own context, raised by
 * what the request taught it (the version written or read and the dependencies of a value read),
 * and nothing removed — clients and third-party suites compare the metadata they get back with
 * the metadata they sent (SPEC §6, "metadata round-trips"). Only when the result holds more than
 * {@link #ENTRIES_MAX} entries are entries dropped: stable ones (every replica of their shard
 * holds them, so no replica ever needs them to serve the client), oldest (lowest counter) first,
 * down to the bound. Entries that are not stable are never dropped, whatever the size.
 *
 * <p>Stateless; thread-safe.
 */
public final class ContextBound {
  /**
   * Entries a reply's context keeps without looking at stability: about 1 KB of JSON. Above it,
   * stable entries go, oldest first.
   */
  public static final int ENTRIES_MAX = 16;

  private ContextBound() {}

  /**
   * The context to answer with: {@code sent} merged with {@code learned} (what serving the
   * request added), then bounded to {@code entriesMax} by dropping entries {@code stable}
   * selects, lowest counter first (ties by key). Returns {@code sent} itself when the result
   * holds exactly its entries (the request taught the client nothing new, or only what the
   * bound drops).
   */
  public static CausalContext reply(CausalContext sent, CausalContext learned, int entriesMax,
      BiPredicate<String, Version> stable) {
    checkArgument(entriesMax >= 0, "entriesMax must be >= 0");
    return dropsOnlyTheNewEntry(sent, learned, entriesMax, stable)
        ? sent : bySorting(sent, learned, entriesMax, stable);
  }

  /**
   * Whether the bound would drop exactly what the request taught: {@code sent} is at the bound
   * and {@code learned} adds one key it lacks, stable and below every stable entry of
   * {@code sent} (a read of a key older than all a full context holds: the usual read of a
   * session). Answers without building the merged context.
   */
  private static boolean dropsOnlyTheNewEntry(CausalContext sent, CausalContext learned,
      int entriesMax, BiPredicate<String, Version> stable) {
    if (sent.size() != entriesMax || learned.isEmpty()) {
      return false;
    }
    String key = null;
    Version version = null;
    for (Map.Entry<String, Version> e : learned.keys().entrySet()) {
      Version had = sent.keys().get(e.getKey());
      if (had == null) {
        if (key != null) {
          return false;
        }
        key = e.getKey();
        version = e.getValue();
      } else if (!had.isAtLeast(e.getValue())) {
        return false;
      }
    }
    if (key == null || !stable.test(key, version)) {
      return false;
    }
    for (Map.Entry<String, Version> e : sent.keys().entrySet()) {
      long c = e.getValue().counter();
      boolean below = c < version.counter()
          || (c == version.counter() && e.getKey().compareTo(key) < 0);
      if (below && stable.test(e.getKey(), e.getValue())) {
        return false;
      }
    }
    return true;
  }

  /** {@link #reply} by merging, then sorting the stable entries; what the shortcut must equal. */
  static CausalContext bySorting(CausalContext sent, CausalContext learned, int entriesMax,
      BiPredicate<String, Version> stable) {
    CausalContext merged = sent.merge(learned);
    if (merged.size() <= entriesMax) {
      return merged;
    }
    List<Map.Entry<String, Version>> droppable = new ArrayList<>();
    for (Map.Entry<String, Version> e : merged.keys().entrySet()) {
      if (stable.test(e.getKey(), e.getValue())) {
        droppable.add(e);
      }
    }
    if (droppable.isEmpty()) {
      return merged;
    }
    droppable.sort(Comparator.comparingLong((Map.Entry<String, Version> e) -> e.getValue()
        .counter()).thenComparing(Map.Entry::getKey));
    int excess = merged.size() - entriesMax;
    HashMap<String, Version> kept = new HashMap<>(merged.keys());
    for (int i = 0; i < excess && i < droppable.size(); i++) {
      kept.remove(droppable.get(i).getKey());
    }
    // What the request taught may be exactly what the bound drops (a read of a stable key older
    // than every entry kept): the client gets its own context back, the same object, which the
    // dialects echo as the client wrote it.
    return sent.sameEntries(kept) ? sent : CausalContext.of(kept);
  }
}
