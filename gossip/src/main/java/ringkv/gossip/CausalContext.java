package ringkv.gossip;

import static com.google.common.base.Preconditions.checkArgument;

import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import java.util.function.BiPredicate;

/**
 * What a client (or a write's author) has seen: for each key, the newest version it has observed.
 * A replica may serve key {@code k} to a client only if it holds a version of {@code k} at least
 * {@code get(k)}; merging a read version's dependencies into the reader's context carries
 * causality across keys.
 *
 * <p>Immutable; thread-safe.
 */
public record CausalContext(Map<String, Version> keys) {

  public static final CausalContext EMPTY = new CausalContext(Map.of());

  public CausalContext {
    Objects.requireNonNull(keys, "keys");
    for (Map.Entry<String, Version> e : keys.entrySet()) {
      checkArgument(e.getKey() != null && e.getValue() != null, "null in context");
    }
    // Not Map.copyOf: its open addressing degrades badly on dense short keys ("0", "1", …),
    // which a client controls; a HashMap copy stays linear.
    keys = java.util.Collections.unmodifiableMap(new HashMap<>(keys));
  }

  /** The version this context requires for {@code key}, or {@link Version#ZERO}. */
  public Version get(String key) {
    return keys.getOrDefault(key, Version.ZERO);
  }

  public int size() {
    return keys.size();
  }

  public boolean isEmpty() {
    return keys.isEmpty();
  }

  /** The highest counter anywhere in this context (0 when empty). */
  public long maxCounter() {
    long max = 0;
    for (Version v : keys.values()) {
      max = Math.max(max, v.counter());
    }
    return max;
  }

  /** Point-wise maximum of both contexts. */
  public CausalContext merge(CausalContext other) {
    if (other.isEmpty()) {
      return this;
    }
    if (isEmpty()) {
      return other;
    }
    Map<String, Version> merged = new HashMap<>(keys);
    other.keys.forEach((k, v) -> merged.merge(k, v, Version::max));
    return new CausalContext(merged);
  }

  /** This context, raised to at least {@code version} for {@code key}. */
  public CausalContext with(String key, Version version) {
    if (get(key).isAtLeast(version)) {
      return this;
    }
    Map<String, Version> merged = new HashMap<>(keys);
    merged.put(key, version);
    return new CausalContext(merged);
  }

  /** This context without the entries {@code drop} selects. */
  public CausalContext without(BiPredicate<String, Version> drop) {
    Map<String, Version> kept = new HashMap<>();
    keys.forEach((k, v) -> {
      if (!drop.test(k, v)) {
        kept.put(k, v);
      }
    });
    return kept.size() == keys.size() ? this : new CausalContext(kept);
  }
}
