package ringkv.node.engine;

/**
 * Where a participant's stop (its 500 window) goes: draining its replication queue, waiting for
 * the coordinator's transfer request (the slowest participant's drain), sending what changed
 * since the copy began, and waiting for the commit (the slowest participant's transfer). Logged
 * with {@code event=view-change-committed}.
 *
 * <p>Not thread-safe; the participant's event loop.
 */
final class StopMarks {
  final long preparedMs;
  long drainedMs = -1;
  long transferMs = -1;
  long sentMs = -1;
  /** Keys changed here since the copy began, and keys the stop's transfer sent. */
  long changedKeys = -1;
  long sentKeys = -1;

  StopMarks(long preparedMs) {
    this.preparedMs = preparedMs;
  }

  /** No stop began in this process (a change prepared before a restart): logs nothing. */
  static StopMarks none() {
    return new StopMarks(-1);
  }

  /** The phases as log fields, up to {@code committedMs} ("-" for a phase not reached). */
  String phases(long committedMs) {
    if (preparedMs < 0) {
      return "";
    }
    return "drain-ms=" + since(preparedMs, drainedMs) + " to-transfer-ms="
        + since(drainedMs, transferMs) + " transfer-ms=" + since(transferMs, sentMs)
        + " to-commit-ms=" + since(sentMs, committedMs) + " changed-keys="
        + (changedKeys < 0 ? "-" : Long.toString(changedKeys)) + " delta-keys="
        + (sentKeys < 0 ? "-" : Long.toString(sentKeys));
  }

  private static String since(long from, long to) {
    return from < 0 || to < 0 ? "-" : Long.toString(to - from);
  }
}
