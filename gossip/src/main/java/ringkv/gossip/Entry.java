package ringkv.gossip;

import static com.google.common.base.Preconditions.checkArgument;

import java.util.Objects;

/**
 * One versioned write of one key, as stored and as replicated: a value (raw JSON text, exactly as
 * the client gave it) or a tombstone ({@code value == null}), the version naming the write, and the
 * causal dependencies its author had seen when writing it.
 *
 * <p>Immutable; thread-safe.
 */
public record Entry(String key, String value, Version version, CausalContext deps) {

  public Entry {
    Objects.requireNonNull(key, "key");
    Objects.requireNonNull(version, "version");
    Objects.requireNonNull(deps, "deps");
    checkArgument(!version.equals(Version.ZERO), "an entry needs a real version");
  }

  public static Entry value(String key, String valueJson, Version version, CausalContext deps) {
    return new Entry(key, Objects.requireNonNull(valueJson, "value"), version, deps);
  }

  public static Entry tombstone(String key, Version version, CausalContext deps) {
    return new Entry(key, null, version, deps);
  }

  public boolean isTombstone() {
    return value == null;
  }

  /** Roughly how many bytes this entry takes on the wire (for batch bounds). */
  public long sizeEstimateBytes() {
    long deps = 48L * this.deps.size();
    return 64 + 2L * key.length() + (value == null ? 0 : value.length()) + deps;
  }

  /** Last-writer-wins: does this entry replace {@code other} (which may be null)? */
  public boolean supersedes(Entry other) {
    return other == null || version.isNewerThan(other.version);
  }

  @Override
  public String toString() {
    return "Entry{" + key + " " + version + (isTombstone() ? " tombstone" : "") + "}";
  }
}
