package ringkv.gossip;

import static com.google.common.base.Preconditions.checkArgument;

import java.util.Optional;
import ringkv.ring.ClusterConfig;

/**
 * Which configuration epochs a node accepts after its own: newer ones only, at most
 * {@code aheadMax} ahead ({@code EPOCH_AHEAD_MAX}), and never past
 * {@link ClusterConfig#EPOCH_MAX}. Every change is epoch + 1, so an honest peer is ahead by the
 * changes this node missed (a node down during two changes is two behind); a configuration far
 * ahead is a forgery, and one near the end of the longs would make every later change overflow.
 * Used where a node prepares a change and where it learns a configuration from a peer.
 *
 * <p>Immutable; thread-safe.
 */
public final class EpochBound {
  /** The default of {@code EPOCH_AHEAD_MAX}. */
  public static final long AHEAD_MAX_DEFAULT = 100_000;

  private final long aheadMax;

  public EpochBound(long aheadMax) {
    checkArgument(aheadMax >= 1, "aheadMax must be >= 1, got %s", aheadMax);
    this.aheadMax = aheadMax;
  }

  public long aheadMax() {
    return aheadMax;
  }

  /** Why {@code candidate} may not follow {@code current}; empty when it may. */
  public Optional<String> refusal(long current, long candidate) {
    if (candidate <= current) {
      return Optional.of("epoch " + candidate + " is not newer than " + current);
    }
    if (candidate > ClusterConfig.EPOCH_MAX) {
      return Optional.of("epoch " + candidate + " is past the largest epoch 2^62");
    }
    // candidate > current, both below 2^62 + 1: the difference cannot overflow.
    if (candidate - current > aheadMax) {
      return Optional.of("epoch " + candidate + " is more than " + aheadMax + " ahead of "
          + current + " (EPOCH_AHEAD_MAX)");
    }
    return Optional.empty();
  }

  /** Whether {@code candidate} may follow {@code current}. */
  public boolean admits(long current, long candidate) {
    return refusal(current, candidate).isEmpty();
  }
}
