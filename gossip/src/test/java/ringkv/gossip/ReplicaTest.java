package ringkv.gossip;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

import ringkv.gossip.Replica.ReadResult;
import ringkv.gossip.Replica.WriteResult;
import ringkv.gossip.ReplicationQueue.Limits;

/*
 * Goal: Replica's client-facing semantics (put/read/delete results, existed flags, tombstones,
 * delete of a missing key as a no-op), versioning (above the client's context, the stored version
 * and nowMs), merge of replicated writes (higher version wins, so duplicates and reordering are
 * harmless), missing() and the context a read hands back; MemoryStore's live count.
 * Method: table tests on a replica with a MemoryStore and fixed nowMs; the merge property is a
 * seeded loop that applies a random history in order to one replica and shuffled with duplicates
 * to another, and compares both stores with the last-writer-wins model.
 */
class ReplicaTest {
  private static final long SEED = 0x5eed_0005L;
  private static final List<String> PEERS = List.of("b", "c");
  private static final long NOW_MS = 100;

  private static Replica replica(String self) {
    return new Replica(self, new MemoryStore(), new ReplicationQueue(Limits.defaults()),
        new LamportClock());
  }

  private static Version v(long counter, String node) {
    return new Version(counter, node);
  }

  private static CausalContext ctx(Object... keysAndVersions) {
    Map<String, Version> keys = new HashMap<>();
    for (int i = 0; i < keysAndVersions.length; i += 2) {
      keys.put((String) keysAndVersions[i], (Version) keysAndVersions[i + 1]);
    }
    return new CausalContext(keys);
  }

  @Test
  void putCreatesThenUpdates() {
    Replica r = replica("a");
    WriteResult first = r.put("k", "1", CausalContext.EMPTY, PEERS, NOW_MS);
    assertFalse(first.existed());
    assertEquals("1", first.entry().value());
    assertEquals("a", first.entry().version().node());
    assertEquals(first.entry().version(), first.context().get("k"));
    WriteResult second = r.put("k", "2", first.context(), PEERS, NOW_MS);
    assertTrue(second.existed());
    assertTrue(second.entry().version().isNewerThan(first.entry().version()));
    assertEquals(second.entry(), r.store().get("k"));
    assertEquals(1, r.store().liveCount());
  }

  @Test
  void writeIsStoredThenQueuedForEveryPeerWithTheClientContextAsDeps() {
    Replica r = replica("a");
    CausalContext seen = ctx("x", v(7, "b"), "k", v(3, "c"));
    WriteResult w = r.put("k", "1", seen, PEERS, NOW_MS);
    assertEquals(ctx("x", v(7, "b")), w.entry().deps(), "deps: the context minus the key");
    assertEquals(ctx("x", v(7, "b"), "k", w.entry().version()), w.context());
    assertEquals(1, r.queue().pending("b"));
    assertEquals(1, r.queue().pending("c"));
    List<ReplicationQueue.Batch> batches = r.queue().onTick(NOW_MS);
    assertEquals(List.of(w.entry()), batches.get(0).entries());
  }

  @Test
  void readOfNeverSeenKeyReturnsNothingAndKeepsTheContext() {
    Replica r = replica("a");
    CausalContext seen = ctx("x", v(7, "b"));
    ReadResult read = r.read("k", seen);
    assertNull(read.entry());
    assertFalse(read.found());
    assertSame(seen, read.context());
  }

  @Test
  void readMergesTheEntryVersionAndDepsIntoTheContext() {
    Replica r = replica("a");
    Entry y = Entry.value("y", "1", v(20, "b"), ctx("x", v(7, "b"), "z", v(2, "c")));
    assertTrue(r.apply(y));
    ReadResult read = r.read("y", ctx("z", v(5, "a"), "w", v(1, "a")));
    assertTrue(read.found());
    assertEquals(y, read.entry());
    assertEquals(ctx("x", v(7, "b"), "y", v(20, "b"), "z", v(5, "a"), "w", v(1, "a")),
        read.context());
  }

  @Test
  void readObservesTheClientContextSoLaterWritesOrderAfterIt() {
    Replica r = replica("a");
    r.read("k", ctx("x", v(900, "b")));
    assertTrue(r.clock().current() >= 900);
    assertTrue(r.put("k", "1", CausalContext.EMPTY, PEERS, NOW_MS).entry().version().counter()
        > 900);
  }

  @Test
  void deleteWritesATombstoneAndReadSeesItAsNotFound() {
    Replica r = replica("a");
    WriteResult put = r.put("k", "1", CausalContext.EMPTY, PEERS, NOW_MS);
    WriteResult del = r.delete("k", put.context(), PEERS, NOW_MS);
    assertTrue(del.existed());
    assertNotNull(del.entry());
    assertTrue(del.entry().isTombstone());
    assertTrue(del.entry().version().isNewerThan(put.entry().version()));
    assertEquals(del.entry().version(), del.context().get("k"));
    ReadResult read = r.read("k", del.context());
    assertFalse(read.found());
    assertTrue(read.entry().isTombstone(), "the tombstone is stored, not the key removed");
    assertEquals(del.entry().version(), read.context().get("k"));
    assertEquals(0, r.store().liveCount());
    assertEquals(1, r.store().size());
    WriteResult again = r.put("k", "2", del.context(), PEERS, NOW_MS);
    assertFalse(again.existed(), "a put after a delete creates");
  }

  @Test
  void deleteOfNeverSeenKeyIsANoOp() {
    Replica r = replica("a");
    CausalContext seen = ctx("x", v(50, "b"));
    WriteResult del = r.delete("k", seen, PEERS, NOW_MS);
    assertNull(del.entry());
    assertFalse(del.existed());
    assertSame(seen, del.context());
    assertNull(r.store().get("k"));
    assertTrue(r.queue().isDrained(), "nothing to replicate");
    assertTrue(r.clock().current() >= 50, "the context is still observed");
  }

  @Test
  void deleteOfDeletedKeyIsANoOpThatReportsTheTombstone() {
    Replica r = replica("a");
    Entry tombstone = Entry.tombstone("k", v(40, "b"), CausalContext.EMPTY);
    r.apply(tombstone);
    WriteResult del = r.delete("k", CausalContext.EMPTY, PEERS, NOW_MS);
    assertNull(del.entry());
    assertFalse(del.existed());
    assertEquals(v(40, "b"), del.context().get("k"));
    assertSame(tombstone, r.store().get("k"));
    assertTrue(r.queue().isDrained());
  }

  /*
   * A 404 from DELETE tells the client the same thing a 404 from GET does: it has observed the
   * tombstone. read() merges a tombstone's deps into the context; the no-op delete does not, so
   * a client that learnt of the delete can afterwards read a value older than one the deleter
   * had seen (SimulationTest finds this end to end as a "causality/model" violation).
   */
  @Test
  void deleteOfDeletedKeyCarriesTheTombstoneDependenciesLikeARead() {
    Replica r = replica("a");
    r.apply(Entry.tombstone("k", v(40, "b"), ctx("x", v(30, "b"))));
    CausalContext afterRead = r.read("k", CausalContext.EMPTY).context();
    CausalContext afterDelete = r.delete("k", CausalContext.EMPTY, PEERS, NOW_MS).context();
    assertEquals(v(30, "b"), afterRead.get("x"));
    assertEquals(afterRead, afterDelete);
  }

  @Test
  void versionIsAboveTheContextTheStoredVersionAndNowMs() {
    Replica r = replica("a");
    Version aboveContext = r.put("k", "1", ctx("x", v(1_000, "b")), PEERS, NOW_MS)
        .entry().version();
    assertTrue(aboveContext.counter() > 1_000);
    r.apply(Entry.value("j", "1", v(5_000, "c"), CausalContext.EMPTY));
    Version aboveStored = r.put("j", "2", CausalContext.EMPTY, PEERS, NOW_MS).entry().version();
    assertTrue(aboveStored.isNewerThan(v(5_000, "c")));
    Version aboveNow = r.put("n", "1", CausalContext.EMPTY, PEERS, 1_000_000).entry().version();
    assertTrue(aboveNow.counter() >= 1_000_000);
  }

  @Test
  void applyKeepsTheHigherVersion() {
    Replica r = replica("a");
    Entry older = Entry.value("k", "old", v(5, "b"), CausalContext.EMPTY);
    Entry newer = Entry.value("k", "new", v(5, "c"), CausalContext.EMPTY);
    Entry tombstone = Entry.tombstone("k", v(6, "b"), CausalContext.EMPTY);
    assertTrue(r.apply(newer));
    assertFalse(r.apply(older), "older loses");
    assertFalse(r.apply(newer), "a duplicate is a no-op");
    assertSame(newer, r.store().get("k"));
    assertTrue(r.apply(tombstone), "a newer tombstone wins over a value");
    assertFalse(r.apply(newer));
    assertEquals(v(6, "b"), r.held("k"));
    assertTrue(r.clock().current() >= 6, "apply observes the incoming counter");
  }

  @Test
  void applyingAShuffledHistoryWithDuplicatesConvergesToLastWriterWins() {
    Random random = new Random(SEED);
    String[] nodes = {"a", "b", "c"};
    for (int round = 0; round < 200; round++) {
      List<Entry> history = new ArrayList<>();
      Map<String, Entry> winner = new HashMap<>();
      Set<Version> used = new HashSet<>();
      for (int i = 0; i < 40; i++) {
        String key = "k" + random.nextInt(5);
        Version version = v(1 + random.nextInt(30), nodes[random.nextInt(nodes.length)]);
        if (!used.add(version)) {
          continue; // a version names exactly one write
        }
        Entry e = random.nextInt(4) == 0
            ? Entry.tombstone(key, version, CausalContext.EMPTY)
            : Entry.value(key, "\"" + version + "\"", version, CausalContext.EMPTY);
        history.add(e);
        winner.merge(key, e, (a, b) -> b.supersedes(a) ? b : a);
      }
      List<Entry> shuffled = new ArrayList<>(history);
      for (int i = 0; i < 20; i++) {
        shuffled.add(history.get(random.nextInt(history.size())));
      }
      Collections.shuffle(shuffled, random);
      Replica inOrder = replica("x");
      Replica reordered = replica("y");
      history.forEach(inOrder::apply);
      shuffled.forEach(reordered::apply);
      String where = "seed=" + SEED + " round=" + round;
      assertEquals(winner, contents(inOrder), where);
      assertEquals(winner, contents(reordered), where);
      long live = winner.values().stream().filter(e -> !e.isTombstone()).count();
      assertEquals(live, reordered.store().liveCount(), where);
    }
  }

  private static Map<String, Entry> contents(Replica r) {
    Map<String, Entry> out = new HashMap<>();
    r.store().forEach(e -> out.put(e.key(), e));
    return out;
  }

  @Test
  void missingNamesTheVersionTheReplicaLacks() {
    Replica r = replica("a");
    assertEquals(Optional.empty(), r.missing("k", CausalContext.EMPTY));
    assertEquals(Optional.empty(), r.missing("k", ctx("other", v(9, "b"))));
    assertEquals(Optional.of(v(3, "b")), r.missing("k", ctx("k", v(3, "b"))));
    r.apply(Entry.value("k", "1", v(3, "b"), CausalContext.EMPTY));
    assertEquals(Optional.empty(), r.missing("k", ctx("k", v(3, "b"))), "equal is enough");
    assertEquals(Optional.empty(), r.missing("k", ctx("k", v(2, "z"))), "newer is enough");
    assertEquals(Optional.of(v(3, "c")), r.missing("k", ctx("k", v(3, "c"))), "tie-break");
    r.apply(Entry.tombstone("k", v(4, "b"), CausalContext.EMPTY));
    assertEquals(Optional.empty(), r.missing("k", ctx("k", v(4, "b"))), "a tombstone counts");
    assertEquals(Version.ZERO, r.held("never"));
  }

  @Test
  void memoryStoreCountsLiveKeys() {
    MemoryStore s = new MemoryStore();
    s.put(Entry.value("a", "1", v(1, "n"), CausalContext.EMPTY));
    s.put(Entry.value("a", "2", v(2, "n"), CausalContext.EMPTY));
    s.put(Entry.value("b", "1", v(3, "n"), CausalContext.EMPTY));
    assertEquals(2, s.liveCount());
    s.put(Entry.tombstone("a", v(4, "n"), CausalContext.EMPTY));
    assertEquals(1, s.liveCount());
    assertEquals(2, s.size());
    s.put(Entry.tombstone("a", v(5, "n"), CausalContext.EMPTY));
    assertEquals(1, s.liveCount(), "tombstone over tombstone");
    s.put(Entry.tombstone("c", v(6, "n"), CausalContext.EMPTY));
    assertEquals(1, s.liveCount());
    s.put(Entry.value("a", "3", v(7, "n"), CausalContext.EMPTY));
    assertEquals(2, s.liveCount(), "a value over a tombstone");
    s.remove("a");
    s.remove("c");
    s.remove("never");
    assertEquals(1, s.liveCount());
    assertEquals(1, s.size());
    List<String> keys = new ArrayList<>();
    s.forEach(e -> keys.add(e.key()));
    assertEquals(List.of("b"), keys);
  }

  @Test
  void aQuarantinedKeyTakesAReplicasCopyEvenAtOrBelowTheStableTime() {
    QuarantiningStore store = new QuarantiningStore();
    Replica r = new Replica("a", store, new ReplicationQueue(Limits.defaults()),
        new LamportClock());
    Entry old = new Entry("k", "\"v\"", v(10, "b"), CausalContext.EMPTY);
    assertFalse(r.applyReplicated(old, 20), "an unknown key below the stable time is stale");
    assertNull(r.store().get("k"));
    store.quarantine("k");
    assertTrue(r.applyReplicated(old, 20), "a damaged key is repaired from the copy");
    assertEquals(old, r.store().get("k"));
    assertFalse(store.isQuarantined("k"));
  }

  @Test
  void theStableTimeIsAskedOnlyForAKeyTheReplicaDoesNotHold() {
    Replica r = new Replica("a", new MemoryStore(), new ReplicationQueue(Limits.defaults()),
        new LamportClock());
    java.util.List<String> asked = new java.util.ArrayList<>();
    java.util.function.ToLongFunction<String> stable = key -> {
      asked.add(key);
      return 20;
    };
    Entry held = new Entry("k", "\"v1\"", v(30, "b"), CausalContext.EMPTY);
    assertTrue(r.applyReplicated(held, stable));
    assertEquals(java.util.List.of("k"), asked, "an absent key: is the copy stale?");
    Entry newer = new Entry("k", "\"v2\"", v(31, "b"), CausalContext.EMPTY);
    assertTrue(r.applyReplicated(newer, stable));
    assertFalse(r.applyReplicated(held, stable), "older than what it holds");
    assertEquals(java.util.List.of("k"), asked, "a held key needs no stability figure");
    assertFalse(r.applyReplicated(new Entry("j", "\"x\"", v(5, "b"), CausalContext.EMPTY),
        stable), "an unknown key below the stable time is stale");
    assertNull(r.store().get("j"));
    assertEquals(31, r.clock().current(), "every copy's version is observed");
  }
}
