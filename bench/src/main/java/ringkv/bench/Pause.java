package ringkv.bench;

import java.io.IOException;

/** Sleeps of the bench's own threads (never an event loop's). */
final class Pause {
  private Pause() {}

  /** Sleeps {@code ms}; an interrupt ends it as an IOException, the thread's flag set again. */
  static void sleep(long ms) throws IOException {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted", e);
    }
  }
}
