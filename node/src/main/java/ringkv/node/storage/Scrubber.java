package ringkv.node.storage;

import java.nio.file.Path;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import ringkv.node.time.Clock;

/**
 * The background scrub of a {@link RocksDbStore}: reads every record in key order, pages of at
 * most a tenth of a second's worth of bytes, verifies each (checksum and decode; RocksDB checks
 * its block checksums on the way) and quarantines damaged ones, at most {@code bytesPerSec} on
 * average: after each page it waits as long as the page's bytes take at that rate. After a full
 * pass, and before the first, it pauses {@code passPauseMs}.
 *
 * <p>Runs on its own daemon thread, never on an event loop; {@link #close()} stops it (the
 * store closes it first). A page that RocksDB cannot read is logged, counted, and the pass goes
 * on after the pause from the beginning.
 */
final class Scrubber implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(Scrubber.class);
  /** Records per page, whatever their size. */
  static final int PAGE_RECORDS_MAX = 1024;
  /** Bytes per page at most (and at least 4 KiB, so a slow rate still reads whole records). */
  static final long PAGE_BYTES_MAX = 1L << 20;
  static final long PAGE_BYTES_MIN = 4L << 10;

  private final Quarantine quarantine;
  private final Path dir;
  private final long bytesPerSec;
  private final long passPauseMs;
  private final long pageBytes;
  private final Clock clock;
  private final ScheduledExecutorService thread;
  /** Where the pass stands; confined to the scrub thread. */
  private byte[] after;
  private long passQuarantined;
  private volatile long passes;
  private volatile long records;
  private volatile long bytes;
  private volatile long quarantined;
  private volatile long readErrors;

  Scrubber(Quarantine quarantine, Path dir, long bytesPerSec, long passPauseMs, Clock clock) {
    this.quarantine = quarantine;
    this.clock = clock;
    this.dir = dir;
    this.bytesPerSec = bytesPerSec;
    this.passPauseMs = passPauseMs;
    this.pageBytes = Math.max(PAGE_BYTES_MIN, Math.min(PAGE_BYTES_MAX, bytesPerSec / 10));
    this.thread = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "ringkv-scrub");
      t.setDaemon(true);
      return t;
    });
    thread.schedule(this::step, passPauseMs, TimeUnit.MILLISECONDS);
  }

  private void step() {
    long start = clock.nanos();
    long delayMs;
    try {
      Quarantine.ScrubPage page = quarantine.scrubPage(after, PAGE_RECORDS_MAX, pageBytes);
      records += page.records();
      bytes += page.bytes();
      quarantined += page.quarantined();
      passQuarantined += page.quarantined();
      long elapsedMs = (clock.nanos() - start) / 1_000_000L;
      delayMs = Math.max(0, page.bytes() * 1000 / bytesPerSec - elapsedMs);
      if (page.end()) {
        passes++;
        if (passQuarantined > 0) {
          LOG.warn("event=scrub-pass store={} pass={} quarantined={}", dir, passes,
              passQuarantined);
        }
        after = null;
        passQuarantined = 0;
        delayMs = Math.max(delayMs, passPauseMs);
      } else {
        after = page.lastKey();
      }
    } catch (RuntimeException e) {
      if (thread.isShutdown()) {
        return; // the store is closing
      }
      // A StorageException: RocksDB could not read a page (its block checksum failed). Anything
      // else is a bug. Either way the pass restarts after the pause; the scrub never stops.
      readErrors++;
      LOG.error("event=scrub-failed store={} cause=\"{}\"", dir, e.toString(),
          e instanceof StorageException ? null : e);
      after = null;
      delayMs = passPauseMs;
    }
    if (!thread.isShutdown()) {
      thread.schedule(this::step, delayMs, TimeUnit.MILLISECONDS);
    }
  }

  ScrubStats stats() {
    return new ScrubStats(passes, records, bytes, quarantined, readErrors);
  }

  /** Stops the scrub, waiting for a page in progress to finish. */
  @Override
  public void close() {
    thread.shutdownNow();
    try {
      if (!thread.awaitTermination(30, TimeUnit.SECONDS)) {
        LOG.warn("event=scrub-stop-slow store={}", dir);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
