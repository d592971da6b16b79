package ringkv.node.storage;

import java.util.Locale;

/**
 * When a write acknowledged by the node is on the disk ({@code DURABILITY}). Every mode writes
 * the write-ahead log before the acknowledgement, so a process crash (SIGKILL) loses nothing in
 * any mode; they differ in what a power loss or kernel crash can cost.
 */
public enum DurabilityMode {
  /**
   * A write is acknowledged only after a sync of the write-ahead log that started after the
   * write (group commit: writes that arrive while one sync runs share the next). A power loss
   * loses no acknowledged write.
   */
  SYNC,
  /**
   * A background sync every {@code FSYNC_INTERVAL_MS}; writes are acknowledged before it. A power
   * loss can lose the writes of about the last interval (plus one sync's duration).
   */
  PERIODIC,
  /** Nothing syncs the log but the operating system's writeback (and a clean shutdown). */
  OS;

  /** The mode named {@code text} ({@code sync}, {@code periodic}, {@code os}), any case. */
  public static DurabilityMode parse(String text) {
    for (DurabilityMode m : values()) {
      if (m.label().equals(text.trim().toLowerCase(Locale.ROOT))) {
        return m;
      }
    }
    throw new IllegalArgumentException("\"" + text + "\" is not one of sync, periodic, os");
  }

  /** The name operators write ({@code sync}, {@code periodic}, {@code os}). */
  public String label() {
    return name().toLowerCase(Locale.ROOT);
  }
}
