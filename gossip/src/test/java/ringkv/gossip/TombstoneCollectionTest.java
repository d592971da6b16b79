package ringkv.gossip;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import ringkv.gossip.ReplicationQueue.Batch;
import ringkv.gossip.ReplicationQueue.Limits;

/*
 * Goal: tombstone collection never changes what a client can observe. (1) A tombstone is
 * collected only when it and every one of its dependencies are stable in their own shards: a
 * client that read a value and then reads "not found" has observed the delete and must see its
 * causes, which only the tombstone carried (a bug the simulation found, reported as
 * causality/model). (2) A pulled entry older than a collected tombstone must be dropped like a
 * stale replicated one (applyReplicated), not merged (apply): merging resurrects the deleted
 * value (the simulation's PULLS_IGNORE_STABILITY variant).
 * Method: two replicas driven by hand through put, delete, replication, acks, localStable and
 * collection; a stale pull answer is captured before the delete and delivered after collection.
 */
class TombstoneCollectionTest {
  private static final Version X_SEEN = new Version(150, "c");

  private static Replica replica(String self) {
    return new Replica(self, new MemoryStore(), new ReplicationQueue(Limits.defaults()),
        new LamportClock());
  }

  /** Sends every batch {@code from} has for {@code to}, applies it there and acks it. */
  private static void replicate(Replica from, Replica to, long nowMs) {
    for (Batch batch : from.queue().onTick(nowMs)) {
      assertEquals(to.self(), batch.peer());
      batch.entries().forEach(e -> to.applyReplicated(e, 0));
      from.queue().onAck(to.self(), batch.id(), nowMs);
    }
  }

  @Test
  void aPagedSweepCollectsTheSameTombstonesAndEnds() {
    Replica a = replica("a");
    for (int i = 0; i < 10; i++) {
      a.put("k" + i, "1", CausalContext.EMPTY, List.of(), 100 + i);
      if (i % 2 == 0) {
        a.delete("k" + i, CausalContext.EMPTY, List.of(), 200 + i);
      }
    }
    int removed = 0;
    int pages = 0;
    String after = null;
    do {
      Replica.Sweep sweep = a.collectTombstones(key -> 10_000, after, 3);
      removed += sweep.removed();
      after = sweep.resumeAfter();
      pages++;
    } while (after != null);
    assertEquals(5, removed);
    assertEquals(5, a.store().size(), "only the live keys are left");
    assertEquals(2, pages, "pages visit only the 5 tombstones, at most 3 at a time");
  }

  @Test
  void tombstoneWithAnUnstableDependencyOnAnotherShardIsKept() {
    Replica a = replica("a");
    a.put("k", "1", CausalContext.EMPTY, List.of(), 100);
    a.delete("k", new CausalContext(Map.of("x", X_SEEN)), List.of(), 200);
    Entry tombstone = a.store().get("k");
    assertTrue(tombstone.isTombstone());
    assertEquals(Map.of("x", X_SEEN), tombstone.deps().keys());

    // k's shard is stable far beyond the tombstone; x's shard not yet at x's version.
    assertEquals(0, a.collectTombstones(key -> key.equals("x") ? 149 : 10_000));
    assertNotNull(a.store().get("k"), "the delete's cause x=150 would be lost");

    assertEquals(1, a.collectTombstones(key -> key.equals("x") ? 150 : 10_000));
    assertNull(a.store().get("k"));
  }

  @Test
  void ownShardOnlyCollectionKeepsTombstonesWithDependencies() {
    Replica a = replica("a");
    a.put("k", "1", CausalContext.EMPTY, List.of(), 100);
    a.put("j", "1", CausalContext.EMPTY, List.of(), 110);
    a.delete("k", new CausalContext(Map.of("x", X_SEEN)), List.of(), 200);
    a.delete("j", CausalContext.EMPTY, List.of(), 210);

    // Only the own shard's stable time is known: a dependency may be on another shard.
    assertEquals(1, a.collectTombstones(10_000L));
    assertNull(a.store().get("j"), "a dependency-free tombstone goes");
    assertNotNull(a.store().get("k"), "a tombstone with dependencies stays");
  }

  @Test
  void stalePullAnswerArrivingAfterCollectionIsDroppedNotMerged() {
    Replica a = replica("a");
    Replica b = replica("b");
    a.put("k", "\"old\"", CausalContext.EMPTY, List.of("b"), 100);
    replicate(a, b, 100);
    // b asks a for k (a client needs it); a's answer is delayed in the network.
    Entry staleAnswer = a.store().get("k");

    a.delete("k", CausalContext.EMPTY, List.of("b"), 200);
    replicate(a, b, 200);
    long stable = Math.min(a.localStable(List.of("b")), b.localStable(List.of("a")));
    assertTrue(stable >= a.store().get("k").version().counter(), "stable=" + stable);
    assertEquals(1, b.collectTombstones(key -> stable));
    assertNull(b.store().get("k"));

    // The fix: pulled entries take the same stale check as replicated ones.
    assertFalse(b.applyReplicated(staleAnswer, stable));
    assertNull(b.store().get("k"), "the deleted value came back");

    // What Engine.awaitVersion does today (applyAll(entries, false) -> apply): resurrection.
    assertTrue(b.apply(staleAnswer));
    assertEquals("\"old\"", b.store().get("k").value());
  }
}
