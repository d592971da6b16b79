package ringkv.gossip;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import org.junit.jupiter.api.Test;

/**
 * Goal: the key-value path of a replica as the node and the simulation run it: a request waits
 * only for a non-stable version of its key it lacks, a read that does not get it fails while a
 * write goes ahead, a reply hands the client's metadata back as sent, a full queue refuses a
 * write, peers' entries are applied only for owned keys and never resurrect a collected
 * delete, writes queued again after a restart stand for every older version above the saved
 * mark, a restart requeues only its own writes above that mark, and tombstones are swept only
 * in a shard outside view changes and catch-up. Method: table cases on one replica of a
 * two-node shard.
 */
class KeyValueCoreTest {
  private static final ShardMap ONE_SHARD = new ShardMap() {
    @Override
    public int shardOf(String key) {
      return 1;
    }

    @Override
    public List<String> membersOf(int shard) {
      return shard == 1 ? List.of("a", "b") : List.of();
    }

    @Override
    public OptionalInt shardOfNode(String node) {
      return List.of("a", "b").contains(node) ? OptionalInt.of(1) : OptionalInt.empty();
    }

    @Override
    public List<String> nodes() {
      return List.of("a", "b");
    }
  };

  private final Replica replica = new Replica("a", new MemoryStore(),
      new ReplicationQueue(new ReplicationQueue.Limits(2, 10, 10, 100)), new LamportClock());
  private final NodeStability stability = new NodeStability("a", 1, true, ONE_SHARD, 0);
  private final KeyValueCore core = new KeyValueCore("a", replica, stability, 10);

  private static CausalContext ctx(String key, long counter, String node) {
    return CausalContext.of(Map.of(key, new Version(counter, node)));
  }

  @Test
  void waitsOnlyForAVersionItLacksThatIsNotStable() {
    assertEquals(Optional.empty(), core.missing("k", CausalContext.EMPTY));
    assertEquals(Optional.of(new Version(500, "b")), core.missing("k", ctx("k", 500, "b")));
    stability.onReport("b", 1, 0, 600);
    replica.clock().observe(700);
    assertEquals(Optional.empty(), core.missing("k", ctx("k", 500, "b")),
        "stable: every replica holds it, or its delete was collected");
    assertTrue(KeyValueCore.goesAheadWithoutDependency(KeyValueCore.Op.PUT));
    assertTrue(KeyValueCore.goesAheadWithoutDependency(KeyValueCore.Op.DELETE));
    assertFalse(KeyValueCore.goesAheadWithoutDependency(KeyValueCore.Op.GET));
  }

  @Test
  void aStoppedNodeReadsOnlyKeysItHoldsAtTheVersionTheClientSawNotMerelyAStableOne() {
    KeyValueCore.Result put = core.perform(KeyValueCore.Op.PUT, "k", "1", CausalContext.EMPTY,
        1_000);
    Version held = put.entry().version();
    KeyValueCore.Op get = KeyValueCore.Op.GET;
    assertTrue(core.servesInStop(get, "k", CausalContext.EMPTY, true, true));
    assertTrue(core.servesInStop(get, "k", put.context(), true, true));
    assertTrue(core.servesInStop(get, "absent", CausalContext.EMPTY, true, true),
        "a key it holds no entry of: nothing can write it meanwhile, 404 is the answer");
    ReplicationQueue.Batch toB = replica.queue().onTick(0).get(0);
    replica.queue().onAck("b", toB.id(), 1);
    CausalContext newer = ctx("k", held.counter() + 50, "b");
    stability.onReport("b", 1, 0, held.counter() + 100);
    replica.clock().observe(held.counter() + 200);
    assertEquals(Optional.empty(), core.missing("k", newer), "stable under the old layout");
    assertFalse(core.servesInStop(get, "k", newer, true, true),
        "a write under the next layout is not covered by this layout's stable time");
    assertFalse(core.servesInStop(KeyValueCore.Op.PUT, "k", CausalContext.EMPTY, true, true));
    assertFalse(core.servesInStop(KeyValueCore.Op.DELETE, "k", CausalContext.EMPTY, true, true));
    assertFalse(core.servesInStop(get, "k", CausalContext.EMPTY, false, true), "not its key");
    assertFalse(core.servesInStop(get, "k", CausalContext.EMPTY, true, false),
        "leaving the layout: nobody waits for its report before pruning");
  }

  @Test
  void aReadHandsTheMetadataBackAsSentAndAWriteAddsItsVersion() {
    KeyValueCore.Result put = core.perform(KeyValueCore.Op.PUT, "k", "1", CausalContext.EMPTY,
        1_000);
    assertEquals(KeyValueCore.Outcome.CREATED, put.outcome());
    assertTrue(put.wrote());
    CausalContext m = put.context();
    assertEquals(put.entry().version(), m.get("k"));
    stability.onReport("b", 1, 0, 5_000);
    KeyValueCore.Result get = core.perform(KeyValueCore.Op.GET, "k", null, m, 1_001);
    assertEquals(KeyValueCore.Outcome.FOUND, get.outcome());
    assertEquals("1", get.valueJson());
    assertEquals(m, get.context(), "stable or not, the metadata comes back as sent");
    KeyValueCore.Result again = core.perform(KeyValueCore.Op.PUT, "k", "2", m, 1_002);
    assertEquals(KeyValueCore.Outcome.UPDATED, again.outcome());
  }

  /**
   * What a view change's copy must send again at its stop: keys written or replicated here since
   * the copy began, not keys copied in (this node receives them and never sends them). Copied-in
   * keys once made each receiver's stop walk everything it had received.
   */
  @Test
  void changesSinceTheCopyLeaveOutKeysCopiedIn() {
    core.trackChanges();
    Entry copied = new Entry("in", "1", new Version(5, "b"), CausalContext.EMPTY);
    assertEquals(1, core.applyTransferred(List.of(copied)).fresh());
    assertEquals(copied, replica.store().get("in"));
    core.applyFromPeers(List.of(new Entry("peer", "2", new Version(6, "b"),
        CausalContext.EMPTY)), true, key -> true);
    core.perform(KeyValueCore.Op.PUT, "own", "3", CausalContext.EMPTY, 1_000);
    assertEquals(java.util.Set.of("peer", "own"), core.takeChanges());
    assertEquals(java.util.Set.of(), core.takeChanges(), "tracking stopped");
  }

  @Test
  void aFullQueueRefusesTheWriteAndKeepsTheContext() {
    CausalContext sent = ctx("z", 1, "b");
    core.perform(KeyValueCore.Op.PUT, "k1", "1", CausalContext.EMPTY, 1);
    core.perform(KeyValueCore.Op.PUT, "k2", "1", CausalContext.EMPTY, 2);
    KeyValueCore.Result full = core.perform(KeyValueCore.Op.PUT, "k3", "1", sent, 3);
    assertEquals(KeyValueCore.Outcome.QUEUE_FULL, full.outcome());
    assertSame(sent, full.context());
    assertEquals(null, replica.store().get("k3"), "nothing written");
  }

  @Test
  void aWriteReleasesTheRequestsWaitingForIt() {
    long id = core.await("k", new Version(1, "a"), 10_000).getAsLong();
    KeyValueCore.Result put = core.perform(KeyValueCore.Op.PUT, "k", "1", CausalContext.EMPTY,
        5);
    assertEquals(List.of(id), put.released());
  }

  @Test
  void peersEntriesAreAppliedOnlyForOwnedKeysAndNeverResurrectACollectedDelete() {
    Entry foreign = Entry.value("mine-not", "1", new Version(10, "b"), CausalContext.EMPTY);
    assertEquals(0, core.applyFromPeers(List.of(foreign), true, k -> false).fresh());
    stability.onReport("b", 1, 0, 50);
    replica.clock().observe(100);
    Entry stale = Entry.value("gone", "1", new Version(20, "b"), CausalContext.EMPTY);
    assertEquals(0, core.applyFromPeers(List.of(stale), true, k -> true).fresh(),
        "at or below the stable time with nothing held: a write a collected delete superseded");
    assertEquals(1, core.applyFromPeers(List.of(stale), false, k -> true).fresh(),
        "copied data is merged as it is");
    Entry fresh = Entry.value("new", "1", new Version(80, "b"), CausalContext.EMPTY);
    assertEquals(1, core.applyFromPeers(List.of(fresh), true, k -> true).fresh());
  }

  @Test
  void requeuedWritesStandForEveryVersionAboveTheMarkAndOverflowHolds() {
    Entry own = Entry.value("k", "1", new Version(900, "a"), CausalContext.EMPTY);
    replica.store().put(own);
    KeyValueCore.Requeued r = core.requeue(List.of(own), 500, k -> true);
    assertEquals(new KeyValueCore.Requeued(1, 0), r);
    assertEquals(500, stability.localStable(replica),
        "an older write of k above the mark may be undelivered too");
    Entry two = Entry.value("j", "1", new Version(901, "a"), CausalContext.EMPTY);
    Entry three = Entry.value("i", "1", new Version(902, "a"), CausalContext.EMPTY);
    KeyValueCore.Requeued over = core.requeue(List.of(two, three), 500, k -> true);
    assertEquals(new KeyValueCore.Requeued(1, 1), over, "the queue holds two keys");
    assertEquals(Optional.of(NodeStability.OUTBOX_OVERFLOW), stability.holdReason());
    assertEquals(0, stability.localStable(replica));
  }

  /*
   * A change committed while a's queue still owed its write of a key that left it (a coordinator
   * that saw every other replica down); its store kept the key (KeptKeys) and a restart queues
   * the write again for the key's owners, not for its own shard, whose peers do not keep it.
   */
  @Test
  void aRestartQueuesItsWritesOfKeysThatLeftItForTheirOwners() {
    ShardMap two = new ListLayout(List.of(List.of("a", "b"), List.of("c", "d")),
        key -> key.startsWith("x") ? 0 : 1);
    Replica r = new Replica("a", new MemoryStore(),
        new ReplicationQueue(ReplicationQueue.Limits.defaults()), new LamportClock());
    KeyValueCore c = new KeyValueCore("a", r, new NodeStability("a", 1, true, two, 0), 10);
    Entry mine = Entry.value("x1", "1", new Version(900, "a"), CausalContext.EMPTY);
    Entry left = Entry.value("k", "1", new Version(901, "a"), CausalContext.EMPTY);
    assertEquals(new KeyValueCore.Requeued(2, 0),
        c.requeue(List.of(mine, left), 500, k -> k.startsWith("x")));
    assertEquals(1, r.queue().pending("b"), "x1 for its shard peer");
    assertEquals(1, r.queue().pending("c"), "k for its owners");
    assertEquals(1, r.queue().pending("d"));
  }

  @Test
  void requeueSelectsOnlyItsOwnWritesAboveTheMark() {
    Entry below = Entry.value("k", "1", new Version(500, "a"), CausalContext.EMPTY);
    Entry above = Entry.value("j", "1", new Version(501, "a"), CausalContext.EMPTY);
    Entry peers = Entry.value("i", "1", new Version(900, "b"), CausalContext.EMPTY);
    Store store = new MemoryStore();
    List.of(below, above, peers).forEach(store::put);
    assertEquals(List.of(above), KeyValueCore.unacknowledgedOwn(store, "a", 500),
        "at the mark counts as acknowledged; a peer's write is its own to requeue");
    assertEquals(List.of(peers), KeyValueCore.unacknowledgedOwn(store, "b", 0));
  }

  @Test
  void sweepsOnlyInAShardOutsideViewChangesAndCatchUp() {
    assertTrue(KeyValueCore.maySweepTombstones(true, false, false));
    assertFalse(KeyValueCore.maySweepTombstones(false, false, false), "no shard");
    assertFalse(KeyValueCore.maySweepTombstones(true, true, false), "a change under way");
    assertFalse(KeyValueCore.maySweepTombstones(true, false, true), "catching up");
  }
}
