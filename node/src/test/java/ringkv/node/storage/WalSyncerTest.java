package ringkv.node.storage;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import ringkv.node.time.Clock;
import ringkv.node.time.FakeClock;

/*
 * Goal: the group commit rule of WalSyncer. In sync mode an acknowledgement completes only after
 * a sync that started after its write; writes that arrive while a sync runs share the next one
 * (one sync per batch, not per write); nothing unsynced means no wait and no sync; a failed sync
 * fails the waiting and every later acknowledgement. Periodic mode syncs in the background and
 * answers at once; os mode never syncs. Time is the injected clock's: periodic syncs are paced
 * by it and each sync is timed on it.
 * Method: a fake sync action that records, when it starts, how many writes had been noted, and
 * that a test can hold (a latch) to pile up writes behind a running sync; for time, a FakeClock
 * that only the test (or the fake sync) moves.
 */
class WalSyncerTest {
  private final List<WalSyncer> started = new ArrayList<>();
  /** Writes noted when each sync started, in order. */
  private final List<Long> syncStarts = java.util.Collections.synchronizedList(new ArrayList<>());
  private final AtomicLong noted = new AtomicLong();
  private volatile CountDownLatch hold = new CountDownLatch(0);
  private volatile Exception failWith;
  /** Runs inside each sync (a test moves its fake clock here). */
  private volatile Runnable duringSync = () -> { };

  private WalSyncer syncer(DurabilityMode mode, long intervalMs) {
    return syncer(mode, intervalMs, Clock.SYSTEM);
  }

  private WalSyncer syncer(DurabilityMode mode, long intervalMs, Clock clock) {
    WalSyncer s = new WalSyncer(mode, intervalMs, () -> {
      syncStarts.add(noted.get());
      duringSync.run();
      if (!hold.await(30, TimeUnit.SECONDS)) {
        throw new IllegalStateException("held for 30 s");
      }
      if (failWith != null) {
        throw failWith;
      }
    }, "test", clock);
    started.add(s);
    return s;
  }

  private void write(WalSyncer s) {
    noted.incrementAndGet();
    s.noteWrite();
  }

  @AfterEach
  void stop() {
    hold.countDown();
    started.forEach(WalSyncer::stop);
  }

  @Test
  void aWriteIsAcknowledgedAfterASyncThatStartedAfterIt() throws Exception {
    WalSyncer s = syncer(DurabilityMode.SYNC, 1000);
    assertTrue(s.whenDurable().toCompletableFuture().isDone(), "nothing written");
    assertEquals(0, syncStarts.size());
    write(s);
    s.whenDurable().toCompletableFuture().get(10, TimeUnit.SECONDS);
    assertEquals(List.of(1L), syncStarts);
    assertTrue(s.whenDurable().toCompletableFuture().isDone(), "all synced");
    assertEquals(1, syncStarts.size(), "no sync for nothing");
  }

  @Test
  void writesArrivingDuringASyncShareTheNextOne() throws Exception {
    WalSyncer s = syncer(DurabilityMode.SYNC, 1000);
    hold = new CountDownLatch(1);
    write(s);
    CompletableFuture<Void> first = s.whenDurable().toCompletableFuture();
    await().atMost(Duration.ofSeconds(10)).until(() -> syncStarts.size() == 1);
    // The first sync is running (held): these 50 writes came after it started.
    List<CompletableFuture<Void>> later = new ArrayList<>();
    AtomicInteger completedEarly = new AtomicInteger();
    for (int i = 0; i < 50; i++) {
      write(s);
      long mine = noted.get();
      CompletableFuture<Void> ack = s.whenDurable().toCompletableFuture();
      ack.thenRun(() -> {
        // The sync that released this ack must have started after the write.
        if (syncStarts.get(syncStarts.size() - 1) < mine) {
          completedEarly.incrementAndGet();
        }
      });
      later.add(ack);
    }
    assertFalse(first.isDone(), "the running sync is held");
    assertTrue(later.stream().noneMatch(CompletableFuture::isDone));
    hold.countDown();
    first.get(10, TimeUnit.SECONDS);
    CompletableFuture.allOf(later.toArray(CompletableFuture[]::new)).get(10, TimeUnit.SECONDS);
    assertEquals(List.of(1L, 51L), syncStarts, "one sync for the 50 that waited");
    assertEquals(0, completedEarly.get());
    assertEquals(50, s.stats().waitersPerSyncMax());
    assertEquals(51, s.stats().syncedThrough());
  }

  @Test
  void aFailedSyncFailsTheWaitingAndEveryLaterAcknowledgement() throws Exception {
    WalSyncer s = syncer(DurabilityMode.SYNC, 1000);
    failWith = new java.io.IOException("EIO");
    write(s);
    ExecutionException e = org.junit.jupiter.api.Assertions.assertThrows(
        ExecutionException.class, () -> s.whenDurable().toCompletableFuture()
            .get(10, TimeUnit.SECONDS));
    assertTrue(e.getCause() instanceof StorageException, e.toString());
    assertTrue(e.getCause().getMessage().contains("EIO"), e.getCause().getMessage());
    assertTrue(s.whenDurable().toCompletableFuture().isCompletedExceptionally(),
        "sticky, also with nothing new written");
    assertTrue(s.stats().failed());
  }

  @Test
  void periodicSyncsInTheBackgroundAndAnswersAtOnce() {
    WalSyncer s = syncer(DurabilityMode.PERIODIC, 20);
    write(s);
    assertTrue(s.whenDurable().toCompletableFuture().isDone());
    await().atMost(Duration.ofSeconds(10)).until(() -> s.stats().syncedThrough() == 1);
    int syncs = syncStarts.size();
    assertEquals(syncs, s.stats().syncs());
    write(s);
    await().atMost(Duration.ofSeconds(10)).until(() -> s.stats().syncedThrough() == 2);
  }

  @Test
  void osNeverSyncs() {
    WalSyncer s = syncer(DurabilityMode.OS, 20);
    write(s);
    s.requestSync();
    assertTrue(s.whenDurable().toCompletableFuture().isDone());
    s.stop();
    assertEquals(0, syncStarts.size());
  }

  @Test
  void aRequestedSyncRunsWithoutAWaiter() {
    WalSyncer s = syncer(DurabilityMode.SYNC, 1000);
    write(s);
    s.requestSync();
    await().atMost(Duration.ofSeconds(10)).until(() -> s.stats().syncedThrough() == 1);
  }

  @Test
  void eachSyncIsTimedOnTheInjectedClock() throws Exception {
    FakeClock clock = new FakeClock(0);
    duringSync = () -> clock.advanceNanos(7_000_000); // every sync takes 7 ms on the clock
    WalSyncer s = syncer(DurabilityMode.SYNC, 1000, clock);
    for (int i = 0; i < 3; i++) {
      write(s);
      s.whenDurable().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }
    assertEquals(3, s.stats().syncs());
    assertEquals(21_000, s.stats().syncMicrosTotal(), "3 syncs of 7 ms, on the fake clock");
  }

  @Test
  void periodicSyncsArePacedByTheInjectedClock() {
    FakeClock clock = new FakeClock(0);
    WalSyncer s = syncer(DurabilityMode.PERIODIC, 20, clock);
    write(s);
    // The interval is 20 ms of the clock, which stands still: no sync however long we wait.
    await().during(Duration.ofMillis(300)).atMost(Duration.ofSeconds(5))
        .until(() -> s.stats().syncs() == 0);
    clock.advanceMs(19);
    await().during(Duration.ofMillis(150)).atMost(Duration.ofSeconds(5))
        .until(() -> s.stats().syncs() == 0);
    clock.advanceMs(1);
    await().atMost(Duration.ofSeconds(10)).until(() -> s.stats().syncedThrough() == 1);
    write(s);
    await().during(Duration.ofMillis(150)).atMost(Duration.ofSeconds(5))
        .until(() -> s.stats().syncedThrough() == 1);
    clock.advanceMs(20);
    await().atMost(Duration.ofSeconds(10)).until(() -> s.stats().syncedThrough() == 2);
    assertEquals(2, s.stats().syncs());
  }
}
