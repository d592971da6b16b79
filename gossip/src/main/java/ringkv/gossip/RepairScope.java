package ringkv.gossip;

import static com.google.common.base.Preconditions.checkArgument;

import java.util.BitSet;

/**
 * Which entries of a shard one anti-entropy round compares. Both replicas apply the same scope
 * (the round's initiator chooses it and sends it along), so the pairs they compare are comparable.
 *
 * <p>{@code horizon}: only entries written at or below this Lamport counter count (see
 * {@link SettleHorizon}: younger writes may still be in flight in a replication queue).
 * {@code leaves}: only keys in these {@link RangeDigest} leaves count; {@code null} means all.
 *
 * <p>Immutable (the leaf set is copied in and out); thread-safe.
 */
public record RepairScope(long horizon, BitSet leaves) {

  public RepairScope {
    checkArgument(horizon >= 0, "horizon must be >= 0, got %s", horizon);
    checkArgument(leaves == null || leaves.length() <= RangeDigest.LEAVES,
        "leaf %s out of range", leaves == null ? 0 : leaves.length() - 1);
    leaves = leaves == null ? null : (BitSet) leaves.clone();
  }

  /** Every leaf, entries at or below {@code horizon}. */
  public static RepairScope upTo(long horizon) {
    return new RepairScope(horizon, null);
  }

  /** This scope narrowed to {@code differing} leaves. */
  public RepairScope within(BitSet differing) {
    return new RepairScope(horizon, differing);
  }

  @Override
  public BitSet leaves() {
    return leaves == null ? null : (BitSet) leaves.clone();
  }

  /** Whether {@code key} held at {@code version} is compared in this scope. */
  public boolean includes(String key, Version version) {
    return version.counter() <= horizon
        && (leaves == null || leaves.get(RangeDigest.leafOf(key)));
  }

  public boolean includes(Entry e) {
    return includes(e.key(), e.version());
  }
}
