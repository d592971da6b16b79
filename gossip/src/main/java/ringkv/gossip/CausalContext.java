package ringkv.gossip;

import static com.google.common.base.Preconditions.checkArgument;

import java.util.Collections;
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
public final class CausalContext {

  public static final CausalContext EMPTY = new CausalContext(Map.of(), false);

  /** Unmodifiable; never shared with a caller that could change it. */
  private final Map<String, Version> keys;

  /** A context holding a copy of {@code keys}; prefer {@link #of}, which shares EMPTY. */
  public CausalContext(Map<String, Version> keys) {
    this(copy(keys), false);
  }

  /** Wraps {@code owned}, which nobody else references. */
  private CausalContext(Map<String, Version> owned, boolean unused) {
    this.keys = owned.isEmpty() ? Map.of() : Collections.unmodifiableMap(owned);
  }

  /** The context holding {@code keys}: {@link #EMPTY} when there are none (no copy then). */
  public static CausalContext of(Map<String, Version> keys) {
    return keys.isEmpty() ? EMPTY : new CausalContext(keys);
  }

  private static Map<String, Version> copy(Map<String, Version> keys) {
    Objects.requireNonNull(keys, "keys");
    // Not Map.copyOf: its open addressing degrades badly on dense short keys ("0", "1", …),
    // which a client controls; a HashMap copy stays linear.
    HashMap<String, Version> copy = new HashMap<>(Math.max(4, keys.size() * 4 / 3 + 1));
    for (Map.Entry<String, Version> e : keys.entrySet()) {
      checkArgument(e.getKey() != null && e.getValue() != null, "null in context");
      copy.put(e.getKey(), e.getValue());
    }
    return copy;
  }

  private static CausalContext owning(HashMap<String, Version> owned) {
    return owned.isEmpty() ? EMPTY : new CausalContext(owned, false);
  }

  /** For each key, the newest version seen; unmodifiable. */
  public Map<String, Version> keys() {
    return keys;
  }

  /** The version this context requires for {@code key}, or {@link Version#ZERO}. */
  public Version get(String key) {
    Version v = keys.get(key);
    return v == null ? Version.ZERO : v;
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
    if (other.isEmpty() || other == this) {
      return this;
    }
    if (isEmpty()) {
      return other;
    }
    // No copy when this context already covers the other (the common case: a session reading
    // keys whose dependencies it has seen).
    boolean covers = true;
    for (Map.Entry<String, Version> e : other.keys.entrySet()) {
      if (!get(e.getKey()).isAtLeast(e.getValue())) {
        covers = false;
        break;
      }
    }
    if (covers) {
      return this;
    }
    HashMap<String, Version> merged = new HashMap<>(keys);
    other.keys.forEach((k, v) -> merged.merge(k, v, Version::max));
    return owning(merged);
  }

  /** This context, raised to at least {@code version} for {@code key}. */
  public CausalContext with(String key, Version version) {
    Objects.requireNonNull(key, "key");
    Objects.requireNonNull(version, "version");
    if (get(key).isAtLeast(version)) {
      return this;
    }
    HashMap<String, Version> merged = new HashMap<>(keys);
    merged.put(key, version);
    return owning(merged);
  }

  /** This context without the entries {@code drop} selects. */
  public CausalContext without(BiPredicate<String, Version> drop) {
    boolean[] dropped = null;
    int keptCount = 0;
    int i = 0;
    for (Map.Entry<String, Version> e : keys.entrySet()) {
      if (drop.test(e.getKey(), e.getValue())) {
        if (dropped == null) {
          dropped = new boolean[keys.size()];
        }
        dropped[i] = true;
      } else {
        keptCount++;
      }
      i++;
    }
    if (dropped == null) {
      return this;
    }
    if (keptCount == 0) {
      return EMPTY; // the usual pruning of a client's context: every entry stable
    }
    HashMap<String, Version> kept = new HashMap<>(Math.max(4, keptCount * 4 / 3 + 1));
    i = 0;
    for (Map.Entry<String, Version> e : keys.entrySet()) {
      if (!dropped[i++]) {
        kept.put(e.getKey(), e.getValue());
      }
    }
    return owning(kept);
  }

  /** Whether {@code other} holds exactly this context's entries. */
  boolean sameEntries(Map<String, Version> other) {
    if (other.size() != keys.size()) {
      return false;
    }
    for (Map.Entry<String, Version> e : other.entrySet()) {
      if (!e.getValue().equals(keys.get(e.getKey()))) {
        return false;
      }
    }
    return true;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof CausalContext c && keys.equals(c.keys);
  }

  @Override
  public int hashCode() {
    return keys.hashCode();
  }

  @Override
  public String toString() {
    return "CausalContext[keys=" + keys + "]";
  }
}
