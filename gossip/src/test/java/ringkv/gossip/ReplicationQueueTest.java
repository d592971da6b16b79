package ringkv.gossip;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.OptionalLong;
import java.util.Set;
import org.junit.jupiter.api.Test;

import ringkv.gossip.ReplicationQueue.Batch;
import ringkv.gossip.ReplicationQueue.Limits;

/*
 * Goal: ReplicationQueue batches, paces and bounds replication as documented: at most
 * batchEntriesMax entries per batch, one batch in flight per peer, an ack frees the next batch at
 * once, a failure requeues with capped exponential backoff (exact delays), one entry per key
 * (the newest, also across a failed in-flight batch), stale acks and failures ignored, the queue
 * bounded by queueEntriesMax, retainPeers and oldestUnackedCounter correct; with a batch
 * interval, a peer's batches at least that far apart (the first at once) and nextDueMs saying
 * when the held-back one may go.
 * Method: table tests that drive the queue by its inputs with a fake clock (a plain long nowMs)
 * and inspect its outputs (the batches onTick returns) and its counters.
 */
class ReplicationQueueTest {
  private static final List<String> B = List.of("b");
  private static final List<String> BC = List.of("b", "c");

  private static Entry entry(String key, long counter) {
    return Entry.value(key, "\"" + key + counter + "\"", new Version(counter, "a"),
        CausalContext.EMPTY);
  }

  private static List<String> keys(Batch batch) {
    return batch.entries().stream().map(Entry::key).toList();
  }

  /** The batch to {@code peer} among {@code batches} (there is one: one in flight per peer). */
  private static Batch batchTo(String peer, List<Batch> batches) {
    return batches.stream().filter(b -> b.peer().equals(peer)).findFirst().orElseThrow();
  }

  /** A queue (retry delays 20 to 100 ms) with {@code forB} enqueued for b, in order. */
  private static ReplicationQueue queue(int entriesMax, int batchMax, Entry... forB) {
    return queueFor(B, entriesMax, batchMax, forB);
  }

  /** A queue (retry delays 20 to 100 ms) with {@code entries} enqueued for {@code peers}. */
  private static ReplicationQueue queueFor(List<String> peers, int entriesMax, int batchMax,
      Entry... entries) {
    ReplicationQueue q = new ReplicationQueue(new Limits(entriesMax, batchMax, 20, 100));
    for (Entry e : entries) {
      q.enqueue(e, peers);
    }
    return q;
  }

  @Test
  void batchesHoldAtMostBatchEntriesMaxInInsertionOrder() {
    ReplicationQueue q = queue(100, 2);
    for (int i = 0; i < 5; i++) {
      q.enqueue(entry("k" + i, i + 1), B);
    }
    List<Batch> first = q.onTick(0);
    assertEquals(1, first.size());
    assertEquals("b", first.get(0).peer());
    assertEquals(List.of("k0", "k1"), keys(first.get(0)));
    assertEquals(5, q.pending("b"), "in flight still counts as unacknowledged");
    q.onAck("b", first.get(0).id(), 0);
    assertEquals(List.of("k2", "k3"), keys(q.onTick(0).get(0)));
  }

  @Test
  void unreachablePeersAreSkippedAndSentAtOnceWhenUp() {
    ReplicationQueue q = queueFor(BC, 100, 10, entry("k", 1));
    List<Batch> onlyB = q.onTick(0, peer -> !peer.equals("c"));
    assertEquals(List.of("b"), onlyB.stream().map(Batch::peer).toList());
    assertEquals(1, q.pending("c"), "kept for the unreachable peer");
    Batch toC = q.onTick(0, peer -> true).get(0);
    q.onSendFailed("c", toC.id(), 0);
    assertTrue(q.onTick(10, peer -> true).isEmpty(), "backing off after the failure");
    q.onPeerUp("c", 10);
    assertEquals(List.of("c"), q.onTick(10, peer -> true).stream().map(Batch::peer).toList());
  }

  @Test
  void oneBatchInFlightPerPeerAndAckFreesTheNextAtOnce() {
    ReplicationQueue q = queueFor(BC, 100, 1, entry("x", 1), entry("y", 2));
    List<Batch> batches = q.onTick(10);
    assertEquals(2, batches.size(), "one per peer");
    assertNotEquals(batches.get(0).id(), batches.get(1).id());
    assertTrue(q.onTick(11).isEmpty(), "nothing while a batch is in flight");
    Batch toB = batchTo("b", batches);
    q.onAck("b", toB.id(), 12);
    List<Batch> next = q.onTick(12);
    assertEquals(1, next.size(), "only b was freed");
    assertEquals("b", next.get(0).peer());
    assertEquals(List.of("y"), keys(next.get(0)));
    assertEquals(1, q.pending("b"));
    assertEquals(2, q.pending("c"));
  }

  @Test
  void batchIntervalHoldsTheNextBatchAndGathersWhatArrivesMeanwhile() {
    ReplicationQueue q = new ReplicationQueue(new Limits(100, 100, 20, 100, 5));
    assertEquals(OptionalLong.empty(), q.nextDueMs(0));
    q.enqueue(entry("x", 1), B);
    q.enqueue(entry("v", 2), B);
    Batch first = q.onTick(1_000).get(0);
    assertEquals(List.of("x", "v"), keys(first), "the first writes after a quiet spell: at once");
    q.enqueue(entry("y", 3), B);
    q.onAck("b", first.id(), 1_001);
    q.enqueue(entry("z", 4), B);
    assertTrue(q.onTick(1_004).isEmpty(),
        "after a batch of several writes (a stream): held until 5 ms after it");
    assertEquals(OptionalLong.of(1_005), q.nextDueMs(1_004));
    Batch second = q.onTick(1_005).get(0);
    assertEquals(List.of("y", "z"), keys(second), "one batch for what came in the interval");
    assertEquals(OptionalLong.empty(), q.nextDueMs(1_005), "nothing held while in flight");
    q.onAck("b", second.id(), 1_020);
    q.enqueue(entry("w", 5), B);
    Batch third = q.onTick(1_020).get(0);
    assertEquals(List.of("w"), keys(third), "the interval has passed: at once");
    assertTrue(q.onTick(1_020).isEmpty(), "one batch in flight");
    q.onAck("b", third.id(), 1_021);
    q.enqueue(entry("u", 6), B);
    assertEquals(List.of("u"), keys(q.onTick(1_021).get(0)),
        "after a batch of one write (a writer that waits for each answer): no interval");
    assertThrows(IllegalArgumentException.class, () -> new Limits(1, 1, 1, 1, -1));
    assertThrows(IllegalArgumentException.class,
        () -> new Limits(1, 1, 1, 1, Limits.BATCH_INTERVAL_MS_MAX + 1));
  }

  @Test
  void failureRequeuesWithCappedExponentialBackoff() {
    ReplicationQueue q = new ReplicationQueue(new Limits(100, 10, 20, 100));
    q.enqueue(entry("x", 1), B);
    long now = 1_000;
    long[] expectedDelays = {20, 40, 80, 100, 100, 100};
    for (long delay : expectedDelays) {
      Batch batch = q.onTick(now).get(0);
      q.onSendFailed("b", batch.id(), now);
      assertEquals(1, q.pending("b"), "requeued, not lost");
      assertTrue(q.onTick(now + delay - 1).isEmpty(), "too early at +" + (delay - 1));
      now += delay;
    }
    Batch batch = q.onTick(now).get(0);
    q.onAck("b", batch.id(), now);
    q.enqueue(entry("y", 2), B);
    Batch afterAck = q.onTick(now).get(0);
    q.onSendFailed("b", afterAck.id(), now);
    assertTrue(q.onTick(now + 19).isEmpty());
    assertEquals(1, q.onTick(now + 20).size(), "an ack resets the backoff to the minimum");
  }

  @Test
  void retryDelayDoublesFromMinToMax() {
    ReplicationQueue q = new ReplicationQueue(new Limits(1, 1, 20, 2_000));
    assertEquals(20, q.retryDelayMs(1));
    assertEquals(40, q.retryDelayMs(2));
    assertEquals(1_280, q.retryDelayMs(7));
    assertEquals(2_000, q.retryDelayMs(8));
    assertEquals(2_000, q.retryDelayMs(Integer.MAX_VALUE));
  }

  /*
   * The backoff must stay within [retryDelayMsMin, retryDelayMsMax] for every Limits the
   * constructor accepts. retryDelayMs computes min << min(failures - 1, 30), which overflows a
   * long once min >= 2^33: with min = 2^34 the 31st failure gives 2^64 = 0, so the peer is
   * retried with no delay at all (and a min of 3·2^33 gives a negative delay).
   */
  @Test
  void retryDelayStaysWithinBoundsForLargeMinimum() {
    long min = 1L << 34;
    ReplicationQueue q = new ReplicationQueue(new Limits(1, 1, min, Long.MAX_VALUE));
    for (int failures = 1; failures <= 64; failures++) {
      long delay = q.retryDelayMs(failures);
      assertTrue(delay >= min, "failures=" + failures + " delay=" + delay);
    }
  }

  @Test
  void newerVersionReplacesQueuedOlderInPlace() {
    ReplicationQueue q = queue(100, 10, entry("x", 1), entry("y", 2));
    q.enqueue(entry("x", 3), B);
    q.enqueue(entry("y", 1), B); // older than the queued one: ignored
    assertEquals(2, q.pending("b"));
    Batch batch = q.onTick(0).get(0);
    assertEquals(List.of(entry("x", 3), entry("y", 2)), batch.entries());
  }

  @Test
  void failureKeepsTheNewestVersionQueuedWhileTheBatchWasInFlight() {
    ReplicationQueue q = queue(100, 10, entry("x", 1), entry("y", 2));
    Batch inFlight = q.onTick(0).get(0);
    q.enqueue(entry("x", 5), B);
    q.enqueue(entry("z", 6), B);
    assertEquals(4, q.pending("b"), "x twice: once in flight, once pending");
    q.onSendFailed("b", inFlight.id(), 0);
    assertEquals(3, q.pending("b"), "one entry per key after the requeue");
    Batch retry = q.onTick(20).get(0);
    assertEquals(List.of(entry("x", 5), entry("y", 2), entry("z", 6)), retry.entries());
  }

  @Test
  void ackWhileNewerVersionQueuedSendsTheNewerNext() {
    ReplicationQueue q = queue(100, 10, entry("x", 1));
    Batch inFlight = q.onTick(0).get(0);
    q.enqueue(entry("x", 2), B);
    q.onAck("b", inFlight.id(), 1);
    assertEquals(List.of(entry("x", 2)), q.onTick(1).get(0).entries());
  }

  @Test
  void lateAndStaleAcksAndFailuresAreIgnored() {
    ReplicationQueue q = queue(100, 10, entry("x", 1));
    Batch first = q.onTick(0).get(0);
    q.onSendFailed("b", first.id(), 0);
    Batch second = q.onTick(20).get(0);
    assertNotEquals(first.id(), second.id(), "a retry is a new batch");
    q.onAck("b", first.id(), 21);
    q.onSendFailed("b", first.id(), 21);
    assertEquals(1, q.pending("b"), "the late ack did not free the retry");
    assertTrue(q.onTick(21).isEmpty(), "the late failure did not requeue the retry");
    q.onAck("nobody", second.id(), 21);
    q.onSendFailed("nobody", second.id(), 21);
    q.onAck("b", second.id(), 22);
    assertTrue(q.isDrained());
    q.onAck("b", second.id(), 23); // duplicate ack
    q.onSendFailed("b", second.id(), 23);
    assertTrue(q.isDrained());
    assertTrue(q.onTick(1_000).isEmpty());
  }

  @Test
  void boundedByQueueEntriesMaxButRoomForAKeyAlreadyPending() {
    ReplicationQueue q = queue(2, 10);
    q.enqueue(entry("x", 1), BC);
    q.enqueue(entry("y", 2), B);
    assertFalse(q.hasRoomFor("z", B), "b is full");
    assertFalse(q.hasRoomFor("z", BC), "one full target is enough to refuse");
    assertTrue(q.hasRoomFor("z", List.of("c")), "c has room");
    assertTrue(q.hasRoomFor("x", B), "x replaces its queued version in place");
    assertTrue(q.hasRoomFor("z", List.of("fresh-peer")));
    assertThrows(IllegalStateException.class, () -> q.enqueue(entry("z", 3), BC));
    assertEquals(1, q.pending("c"), "a refused enqueue changes nothing");
    q.enqueue(entry("x", 4), B);
    assertEquals(2, q.pending("b"));
  }

  @Test
  void inFlightEntriesCountTowardsTheBound() {
    ReplicationQueue q = queue(2, 10, entry("x", 1), entry("y", 2));
    Batch batch = q.onTick(0).get(0);
    assertFalse(q.hasRoomFor("z", B));
    // x is in flight, not pending: a newer x needs a pending slot of its own.
    assertFalse(q.hasRoomFor("x", B));
    q.onAck("b", batch.id(), 1);
    assertTrue(q.hasRoomFor("z", B));
  }

  @Test
  void retainPeersDropsTheQueuesOfRemovedPeers() {
    ReplicationQueue q = queueFor(List.of("b", "c", "d"), 100, 10, entry("x", 1));
    Batch toC = batchTo("c", q.onTick(0));
    q.retainPeers(Set.of("b"));
    assertEquals(0, q.pending("c"));
    assertEquals(0, q.pending("d"));
    assertEquals(1, q.pendingTotal());
    q.onAck("c", toC.id(), 1); // ack from a removed peer: ignored, no resurrection
    q.onSendFailed("c", toC.id(), 1);
    assertEquals(1, q.pendingTotal());
    assertFalse(q.describe().lines().anyMatch(l -> l.startsWith("c ")), q.describe());
    assertTrue(q.describe().startsWith("b pending=0 inFlight=1"), q.describe());
  }

  @Test
  void retainDropsTheWritesOfKeysTheShardNoLongerHolds() {
    ReplicationQueue q = queueFor(BC, 100, 2, entry("moved", 3), entry("kept", 5));
    Batch toB = batchTo("b", q.onTick(0));
    assertEquals(2, toB.entries().size());
    q.enqueue(entry("moved", 7), BC);
    q.enqueue(entry("gone", 2), List.of("c"));
    q.retain((peer, key) -> key.equals("kept"));
    assertEquals(1, q.pending("b"), "in flight to b: only kept");
    assertEquals(1, q.pending("c"), "pending for c: only kept");
    assertEquals(5, q.oldestUnackedCounter("b").orElseThrow());
    assertEquals(5, q.oldestUnackedCounter("c").orElseThrow());
    assertEquals(q.oldestUnackedCounterByScan("c"), q.oldestUnackedCounter("c"));
    q.onSendFailed("b", toB.id(), 1); // what is left of the batch is requeued, nothing more
    assertEquals(List.of("kept"), q.onTick(10_000).stream().filter(b -> b.peer().equals("b"))
        .flatMap(b -> b.entries().stream()).map(Entry::key).toList());
    q.retain((peer, key) -> false);
    assertTrue(q.isDrained(), q.describe());
  }

  @Test
  void retainKeepsWritesOwedToPeersThatOwnTheirKeyOutsideTheShard() {
    // Seed 2242: this node moves to another shard; its old peer d, left out of the change,
    // still owns "stays-with-d" under the new layout and never got the write.
    ReplicationQueue q = queueFor(List.of("b", "d"), 100, 10, entry("stays-with-d", 4),
        entry("left-both", 6));
    Batch toD = batchTo("d", q.onTick(0));
    q.retain((peer, key) -> peer.equals("d") && key.equals("stays-with-d"));
    assertEquals(0, q.pending("b"));
    assertEquals(1, q.pending("d"), q.describe());
    assertTrue(q.owesOutside(List.of("b")), "d is outside the new shard {b}");
    assertFalse(q.owesOutside(List.of("b", "d")));
    q.onSendFailed("d", toD.id(), 1);
    Batch retry = batchTo("d", q.onTick(10_000));
    assertEquals(List.of("stays-with-d"), keys(retry));
    q.onAck("d", retry.id(), 10_001);
    assertFalse(q.owesOutside(List.of("b")), q.describe());
    assertTrue(q.isDrained(), q.describe());
  }

  @Test
  void oldestUnackedCounterSpansPendingAndInFlight() {
    ReplicationQueue q = queue(100, 1);
    assertEquals(OptionalLong.empty(), q.oldestUnackedCounter("b"));
    q.enqueue(entry("x", 7), B);
    q.enqueue(entry("y", 3), B);
    assertEquals(OptionalLong.of(3), q.oldestUnackedCounter("b"));
    Batch batch = q.onTick(0).get(0); // x@7 in flight, y@3 pending
    assertEquals(List.of("x"), keys(batch));
    q.enqueue(entry("z", 9), B);
    assertEquals(OptionalLong.of(3), q.oldestUnackedCounter("b"));
    q.onAck("b", batch.id(), 0);
    Batch second = q.onTick(0).get(0); // y@3 in flight, z@9 pending
    assertEquals(OptionalLong.of(3), q.oldestUnackedCounter("b"), "in flight still counts");
    q.onAck("b", second.id(), 0);
    assertEquals(OptionalLong.of(9), q.oldestUnackedCounter("b"));
    q.onAck("b", q.onTick(0).get(0).id(), 0);
    assertEquals(OptionalLong.empty(), q.oldestUnackedCounter("b"));
    assertEquals(OptionalLong.empty(), q.oldestUnackedCounter("never-seen"));
  }

  /*
   * A version replaced in the queue before it was delivered (x@5 by x@9) is still unacknowledged
   * by the peer, which holds neither it nor anything newer of x until x@9 is acked; stability
   * (Replica.localStable) must not pass it. Same through a failed batch whose in-flight x@5 is
   * merged away by the pending x@9.
   */
  @Test
  void oldestUnackedCounterRemembersReplacedUndeliveredVersions() {
    ReplicationQueue q = queue(100, 10);
    q.enqueue(entry("x", 5), B);
    q.enqueue(entry("x", 9), B);
    assertEquals(OptionalLong.of(5), q.oldestUnackedCounter("b"), "replaced while pending");
    q.onAck("b", q.onTick(0).get(0).id(), 0);
    assertEquals(OptionalLong.empty(), q.oldestUnackedCounter("b"), "x@9 acked covers x@5");

    ReplicationQueue failed = queue(100, 10, entry("y", 5));
    Batch inFlight = failed.onTick(0).get(0);
    failed.enqueue(entry("y", 9), B);
    failed.onSendFailed("b", inFlight.id(), 0);
    assertEquals(OptionalLong.of(5), failed.oldestUnackedCounter("b"), "merged by a failure");
  }

  @Test
  void limitsAndBatchesAreValidated() {
    assertThrows(IllegalArgumentException.class, () -> new Limits(0, 1, 1, 1));
    assertThrows(IllegalArgumentException.class, () -> new Limits(1, 0, 1, 1));
    assertThrows(IllegalArgumentException.class, () -> new Limits(1, 1, 0, 1));
    assertThrows(IllegalArgumentException.class, () -> new Limits(1, 1, 5, 4));
    assertThrows(IllegalArgumentException.class, () -> new Batch("b", 1, List.of()));
    assertThrows(NullPointerException.class, () -> new ReplicationQueue(null));
    Limits defaults = Limits.defaults();
    assertTrue(defaults.batchEntriesMax() <= defaults.queueEntriesMax());
  }

  @Test
  void oldestUnackedCounterKeptIncrementallyMatchesAFullPass() {
    java.util.Random random = new java.util.Random(11);
    for (int run = 0; run < 50; run++) {
      ReplicationQueue q = new ReplicationQueue(new ReplicationQueue.Limits(1_000, 4, 20, 2_000));
      List<Batch> out = new java.util.ArrayList<>();
      long now = 0;
      for (int step = 0; step < 400; step++) {
        now += 10;
        switch (random.nextInt(5)) {
          case 0, 1 -> {
            String key = "k" + random.nextInt(12);
            long counter = 1 + random.nextInt(200);
            q.enqueue(Entry.value(key, "1", new Version(counter, "a"), CausalContext.EMPTY),
                List.of("b", "c"));
          }
          case 2 -> out.addAll(q.onTick(now));
          case 3 -> {
            if (!out.isEmpty()) {
              Batch b = out.remove(random.nextInt(out.size()));
              q.onAck(b.peer(), b.id(), now);
            }
          }
          default -> {
            if (!out.isEmpty()) {
              Batch b = out.remove(random.nextInt(out.size()));
              q.onSendFailed(b.peer(), b.id(), now);
            }
          }
        }
        for (String peer : List.of("b", "c")) {
          assertEquals(q.oldestUnackedCounterByScan(peer), q.oldestUnackedCounter(peer),
              "run " + run + " step " + step + " peer " + peer);
        }
      }
    }
  }
}
