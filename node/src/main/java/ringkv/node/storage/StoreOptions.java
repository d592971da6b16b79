package ringkv.node.storage;

import static com.google.common.base.Preconditions.checkArgument;

import java.util.Objects;

/**
 * How a {@link RocksDbStore} makes writes durable and verifies what it holds.
 *
 * @param durability when an acknowledged write is on the disk (see {@link DurabilityMode})
 * @param fsyncIntervalMs {@link DurabilityMode#PERIODIC}: time between background syncs
 * @param scrubBytesPerSec the background scrub reads and verifies every record at most this many
 *     bytes per second (keys and records); 0 turns the scrub off
 * @param scrubPassPauseMs pause between two passes of the scrub over the whole store (and
 *     before the first), so that a small store is not read over and over
 */
public record StoreOptions(DurabilityMode durability, long fsyncIntervalMs,
    long scrubBytesPerSec, long scrubPassPauseMs) {

  /** Default pause between scrub passes. */
  public static final long SCRUB_PASS_PAUSE_MS_DEFAULT = 60_000;

  /** Synced writes (group commit), periodic interval 1 s, no scrub. */
  public static final StoreOptions DEFAULTS =
      new StoreOptions(DurabilityMode.SYNC, 1_000, 0, SCRUB_PASS_PAUSE_MS_DEFAULT);

  public StoreOptions {
    Objects.requireNonNull(durability, "durability");
    checkArgument(fsyncIntervalMs > 0, "fsyncIntervalMs must be > 0, got %s", fsyncIntervalMs);
    checkArgument(scrubBytesPerSec >= 0, "scrubBytesPerSec must be >= 0, got %s",
        scrubBytesPerSec);
    checkArgument(scrubPassPauseMs >= 0, "scrubPassPauseMs must be >= 0, got %s",
        scrubPassPauseMs);
  }

  public static StoreOptions of(DurabilityMode durability) {
    return new StoreOptions(durability, DEFAULTS.fsyncIntervalMs, 0, SCRUB_PASS_PAUSE_MS_DEFAULT);
  }

  public StoreOptions withScrub(long bytesPerSec, long passPauseMs) {
    return new StoreOptions(durability, fsyncIntervalMs, bytesPerSec, passPauseMs);
  }
}
