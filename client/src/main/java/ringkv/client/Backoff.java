package ringkv.client;

/**
 * Delay before a retry: capped exponential backoff with equal jitter, and never less than what
 * the server asked for in {@code Retry-After} (itself capped at {@link #RETRY_AFTER_MS_MAX}, so
 * a confused server cannot stall a client).
 *
 * <p>Pure; thread-safe.
 */
final class Backoff {
  /** Upper bound on the {@code Retry-After} the client honours. */
  static final long RETRY_AFTER_MS_MAX = 5_000;

  private Backoff() {}

  /**
   * @param retry 1 for the first retry, 2 for the second, ...
   * @param delayMsMin delay of the first retry before jitter
   * @param delayMsMax cap of the exponential part
   * @param retryAfterMs the server's {@code Retry-After} in ms, 0 if none
   * @param jitter uniform in [0, 1)
   */
  static long delayMs(int retry, long delayMsMin, long delayMsMax, long retryAfterMs,
      double jitter) {
    if (retry < 1 || delayMsMin < 1 || delayMsMax < delayMsMin || jitter < 0 || jitter >= 1) {
      throw new IllegalArgumentException("bad backoff arguments");
    }
    int shift = Math.min(retry - 1, 30);
    long exponential = Math.min(delayMsMax, delayMsMin << shift);
    long jittered = exponential / 2 + (long) (jitter * (exponential - exponential / 2));
    return Math.max(Math.max(1, jittered), Math.min(retryAfterMs, RETRY_AFTER_MS_MAX));
  }

  /** {@code Retry-After} in ms: delta-seconds only (an HTTP date or garbage gives 0). */
  static long parseRetryAfterMs(String header) {
    if (header == null) {
      return 0;
    }
    try {
      long seconds = Long.parseLong(header.strip());
      return seconds <= 0 ? 0 : Math.min(seconds, RETRY_AFTER_MS_MAX / 1000) * 1000;
    } catch (NumberFormatException e) {
      return 0;
    }
  }
}
