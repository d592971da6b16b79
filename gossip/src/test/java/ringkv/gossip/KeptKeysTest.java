package ringkv.gossip;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/*
 * Goal: the rule for the entries of keys a learned layout takes away from a node (the node's
 * LayoutInstaller and the simulation both run it): each may-be-unstable one is queued for its
 * new owners; a durable node keeps in its store what it handed off and what is still owed to a
 * peer, until nobody is owed it, and then drops it unless a layout gave the key back; a node
 * without durable data keeps nothing.
 * Method: node "a" of shard {a, b} learns a layout that gives keys not starting with "x" to
 * {c, d}; the old shard's stable time is 500 (HandOff.of); the queue is driven by hand.
 */
class KeptKeysTest {
  private static final ShardMap OLD = new ListLayout(List.of(List.of("a", "b"),
      List.of("c", "d")), key -> 0);
  private static final ShardMap NEXT = new ListLayout(List.of(List.of("a", "b"),
      List.of("c", "d")), key -> key.startsWith("x") ? 0 : 1);
  private static final HandOff HAND_OFF = HandOff.of("a", OLD, NEXT, Map.of(0, 500L));

  private static Entry entry(String key, long counter) {
    return new Entry(key, "1", new Version(counter, "a"), CausalContext.EMPTY);
  }

  private static ReplicationQueue queue() {
    return new ReplicationQueue(ReplicationQueue.Limits.defaults());
  }

  /** Sends every due batch and acknowledges it: nothing is owed afterwards. */
  private static void deliverAll(ReplicationQueue q) {
    for (ReplicationQueue.Batch b : q.onTick(10_000)) {
      q.onAck(b.peer(), b.id(), 10_000);
    }
  }

  @Test
  void aDurableNodeKeepsWhatItHandedOffUntilTheNewOwnersAcknowledge() {
    KeptKeys kept = new KeptKeys(true);
    ReplicationQueue q = queue();
    KeptKeys.Leaving leaving = kept.leave(entry("k", 501), HAND_OFF, q);
    assertEquals(new KeptKeys.Leaving(true, true, true), leaving);
    assertTrue(q.owes("k"), "queued for c and d");
    assertEquals(new KeptKeys.Leaving(true, true, false), kept.leave(entry("k", 501), HAND_OFF,
        q), "kept once, however often it is seen (a restart resumes the hand-off)");
    assertEquals(List.of(), kept.release(q, key -> false), "still owed: kept");
    assertTrue(kept.keeps("k"));
    deliverAll(q);
    assertEquals(List.of("k"), kept.release(q, key -> false), "delivered: dropped now");
    assertTrue(kept.isEmpty());
  }

  @Test
  void aStableEntryIsNotHandedOffAndGoesAtOnceUnlessAWriteOfItIsOwed() {
    KeptKeys kept = new KeptKeys(true);
    ReplicationQueue q = queue();
    assertEquals(new KeptKeys.Leaving(false, false, false), kept.leave(entry("k", 500),
        HAND_OFF, q), "at the old stable time: every old replica held it");
    q.enqueue(entry("j", 400), Set.of("b"));
    assertEquals(new KeptKeys.Leaving(false, true, true), kept.leave(entry("j", 400), HAND_OFF,
        q), "owed to b: a crash would lose it, so the store keeps it");
    assertEquals(new KeptKeys.Leaving(false, false, false), kept.leave(entry("x1", 900), null,
        q), "no hand-off: nothing queued");
  }

  @Test
  void aKeyGivenBackMeanwhileIsNoLongerKeptButStaysInTheStore() {
    KeptKeys kept = new KeptKeys(true);
    ReplicationQueue q = queue();
    kept.leave(entry("k", 600), HAND_OFF, q);
    deliverAll(q);
    assertEquals(List.of(), kept.release(q, key -> true));
    assertFalse(kept.keeps("k"));
  }

  @Test
  void aNodeWithoutDurableDataHandsOffAndKeepsNothing() {
    KeptKeys kept = new KeptKeys(false);
    ReplicationQueue q = queue();
    assertEquals(new KeptKeys.Leaving(true, false, false), kept.leave(entry("k", 501), HAND_OFF,
        q));
    assertTrue(q.owes("k"));
    assertTrue(kept.isEmpty());
  }
}
