package ringkv.gossip;

import static com.google.common.base.Preconditions.checkArgument;

/**
 * Capped exponential backoff: after the first failure in a row wait {@code minMs}, then
 * 2·min, 4·min, … up to {@code maxMs}. The replication queue's retries of a peer and the node's
 * quarantine repair both wait this way.
 */
public record Backoff(long minMs, long maxMs) {
  public Backoff {
    checkArgument(minMs >= 1, "minMs must be >= 1");
    checkArgument(maxMs >= minMs, "maxMs < minMs");
  }

  /** The wait after {@code failures} failures in a row (1: the first). */
  public long delayMs(int failures) {
    long delay = minMs;
    for (int i = 1; i < failures && delay < maxMs; i++) {
      delay = delay > maxMs / 2 ? maxMs : delay * 2; // saturate instead of overflowing
    }
    return Math.min(maxMs, delay);
  }
}
