package ringkv.node.storage;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import ringkv.node.time.Clock;

/**
 * Syncs a write-ahead log according to a {@link DurabilityMode}, off the caller's thread.
 *
 * <p>Writers write unsynced, then call {@link #noteWrite()}; whoever must not answer before those
 * writes are durable calls {@link #whenDurable()} and answers when the stage completes.
 *
 * <ul>
 *   <li>{@link DurabilityMode#SYNC}: group commit. One thread runs one sync at a time. A waiter
 *       joins the next batch; when the thread starts a sync it takes the whole batch, notes how
 *       many writes had been made ({@code covered}), syncs, then completes the batch. Every waiter
 *       of the batch called {@link #whenDurable()} after its writes were noted, so those writes
 *       are among {@code covered}, and the sync started after them: the acknowledgement of a
 *       write completes only after a sync that started after the write. Waiters that arrive
 *       while a sync runs share the next one, so there is never more than one sync running and
 *       one batch waiting, whatever the load. A waiter with nothing unsynced is answered at once.
 *   <li>{@link DurabilityMode#PERIODIC}: the thread syncs every interval if anything was written;
 *       {@link #whenDurable()} completes at once.
 *   <li>{@link DurabilityMode#OS}: no thread, no sync; {@link #whenDurable()} completes at once.
 * </ul>
 *
 * <p>A failed sync is not retried: after a failed fsync the kernel may have dropped the dirty
 * pages it could not write, so a later "successful" sync proves nothing. The failure is sticky:
 * the waiting and every later {@link #whenDurable()} fail with a {@link StorageException}, and
 * the node answers 500 to writes until it is restarted (which replays what the log holds).
 *
 * <p>Thread-safe. Stages complete on the syncer's thread (adapt them to an event loop with
 * {@code Future.fromCompletionStage(stage, context)}).
 */
final class WalSyncer {
  private static final Logger LOG = LoggerFactory.getLogger(WalSyncer.class);
  private static final CompletionStage<Void> DONE = CompletableFuture.completedStage(null);

  /** The sync itself: {@code db.syncWal()} in the store, a fake in tests. */
  interface SyncAction {
    void sync() throws Exception;
  }

  private final DurabilityMode mode;
  private final long intervalMs;
  private final SyncAction action;
  private final String name;
  private final Clock clock;
  private final Thread thread;
  /** Writes noted so far. */
  private final AtomicLong written = new AtomicLong();

  private final Object lock = new Object();
  /** Writes covered by the last completed sync (guarded by lock). */
  private long syncedThrough;
  /** Waiters for the next sync to start (guarded by lock). */
  private List<CompletableFuture<Void>> batch = new ArrayList<>();
  /** A sync asked for without a waiter (metadata writes; guarded by lock). */
  private boolean syncRequested;
  private boolean stopping;
  private StorageException failure;
  private long syncs;
  private long syncNanosTotal;
  private long batchMax;

  /** {@code clock} paces the periodic syncs and times each sync. */
  WalSyncer(DurabilityMode mode, long intervalMs, SyncAction action, String name, Clock clock) {
    this.mode = mode;
    this.clock = clock;
    this.intervalMs = intervalMs;
    this.action = action;
    this.name = name;
    if (mode == DurabilityMode.OS) {
      thread = null;
    } else {
      thread = new Thread(mode == DurabilityMode.SYNC ? this::runGroupCommit : this::runPeriodic,
          "ringkv-wal-sync");
      thread.setDaemon(true); // a store nobody closed must not keep the JVM alive
      thread.start();
    }
  }

  DurabilityMode mode() {
    return mode;
  }

  /** Call after each write has returned from the log (it is in the OS, not yet synced). */
  void noteWrite() {
    written.incrementAndGet();
  }

  /**
   * Completes when every write noted before this call is as durable as the mode promises; fails
   * (StorageException) if a sync failed.
   */
  CompletionStage<Void> whenDurable() {
    long target = written.get();
    synchronized (lock) {
      if (failure != null) {
        return CompletableFuture.failedStage(failure);
      }
      if (mode != DurabilityMode.SYNC || target <= syncedThrough) {
        return DONE;
      }
      if (stopping) {
        return CompletableFuture.failedStage(new IllegalStateException("the store is closing"));
      }
      CompletableFuture<Void> waiter = new CompletableFuture<>();
      batch.add(waiter);
      lock.notifyAll();
      return waiter;
    }
  }

  /** SYNC mode: asks for a sync soon without waiting for it (metadata writes). */
  void requestSync() {
    if (mode != DurabilityMode.SYNC) {
      return;
    }
    synchronized (lock) {
      syncRequested = true;
      lock.notifyAll();
    }
  }

  private void runGroupCommit() {
    while (true) {
      List<CompletableFuture<Void>> taken;
      long covered;
      synchronized (lock) {
        while (!stopping && batch.isEmpty() && !syncRequested) {
          waitOn(0);
        }
        if (batch.isEmpty() && (stopping || !syncRequested)) {
          return; // stopping with nobody waiting: the store's close syncs last
        }
        taken = batch;
        batch = new ArrayList<>();
        syncRequested = false;
        covered = written.get(); // every write of every waiter taken is counted here
      }
      if (!syncOnce(covered, taken)) {
        return;
      }
    }
  }

  private void runPeriodic() {
    while (true) {
      long covered;
      synchronized (lock) {
        long deadline = clock.nanos() + intervalMs * 1_000_000L;
        for (long left = intervalMs; !stopping && left > 0;
            left = (deadline - clock.nanos()) / 1_000_000L) {
          waitOn(left);
        }
        if (stopping) {
          return;
        }
        covered = written.get();
        if (covered <= syncedThrough) {
          continue;
        }
      }
      if (!syncOnce(covered, List.of())) {
        return;
      }
    }
  }

  /** Syncs; then completes {@code waiters}. Returns false (and fails everyone) on failure. */
  private boolean syncOnce(long covered, List<CompletableFuture<Void>> waiters) {
    long start = clock.nanos();
    try {
      action.sync();
    } catch (Exception e) {
      fail(e, waiters);
      return false;
    }
    synchronized (lock) {
      syncedThrough = Math.max(syncedThrough, covered);
      syncs++;
      syncNanosTotal += clock.nanos() - start;
      batchMax = Math.max(batchMax, waiters.size());
    }
    for (CompletableFuture<Void> w : waiters) {
      w.complete(null);
    }
    return true;
  }

  private void fail(Exception e, List<CompletableFuture<Void>> taken) {
    List<CompletableFuture<Void>> all = new ArrayList<>(taken);
    StorageException f = new StorageException("syncing the write-ahead log of " + name
        + " failed; writes are refused until the node restarts: " + e.getMessage(), e);
    synchronized (lock) {
      failure = f;
      all.addAll(batch);
      batch = new ArrayList<>();
    }
    LOG.error("event=wal-sync-failed store={} mode={} waiting={}", name, mode.label(),
        all.size(), e);
    for (CompletableFuture<Void> w : all) {
      w.completeExceptionally(f);
    }
  }

  private void waitOn(long ms) {
    try {
      lock.wait(ms);
    } catch (InterruptedException e) {
      // Only close() stops this thread, through "stopping": keep the flag, go on waiting.
      Thread.currentThread().interrupt();
      stopping = true;
    }
  }

  /**
   * Stops the thread after it has served every waiter it had. Call before the final sync of the
   * log; waiters that come after fail.
   */
  void stop() {
    synchronized (lock) {
      stopping = true;
      lock.notifyAll();
    }
    if (thread != null) {
      try {
        thread.join();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  /**
   * After the store's final sync ({@code synced}: whether it succeeded): completes whatever is
   * still waiting (only a waiter that raced with {@link #stop}).
   */
  void finish(boolean synced) {
    List<CompletableFuture<Void>> left;
    synchronized (lock) {
      left = batch;
      batch = new ArrayList<>();
      if (synced) {
        syncedThrough = written.get();
      }
    }
    for (CompletableFuture<Void> w : left) {
      if (synced) {
        w.complete(null);
      } else {
        w.completeExceptionally(new StorageException("the store closed without syncing"));
      }
    }
  }

  SyncStats stats() {
    synchronized (lock) {
      return new SyncStats(mode, written.get(), syncedThrough, syncs, syncNanosTotal / 1_000,
          batchMax, failure != null);
    }
  }
}
