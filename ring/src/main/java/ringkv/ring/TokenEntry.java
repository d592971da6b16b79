package ringkv.ring;

import com.google.common.base.Preconditions;

/**
 * One ring token and the shard that owns it. The token owns the arc (previous token, token] of
 * the signed 64-bit hash circle. Invariant: {@code shardId >= 1}.
 *
 * <p>Immutable; thread-safe.
 */
public record TokenEntry(long token, int shardId) {
  public TokenEntry {
    Preconditions.checkArgument(shardId >= 1, "shard id must be >= 1, got %s", shardId);
  }
}
