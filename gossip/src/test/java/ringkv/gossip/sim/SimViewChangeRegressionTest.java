package ringkv.gossip.sim;

import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/*
 * Goal: each view-change fix found by the simulation (-Dsim.viewChanges=true) stays fixed. Every
 * seed here fails, every time, with the fix it names reverted, and must pass with it. Each was
 * re-checked on h-seeds (after outsidersSettled and takesReplicatedWrites changed the schedules)
 * and again on h-sim18 (after strandedKeys, the learner's catch-up and the queue's retain) by
 * reverting the fix in the working tree (never committed) and running the seed with and
 * without it; seeds that no longer failed without their fix were replaced (SeedSearch). Any
 * change to the simulation or the core may make a seed pass without its fix again: re-check.
 *  - 1008, 1037 (were 1000, 1041, which pass without the sweep on h-seeds): a durable node
 *    killed while keys were copied to it kept them after its restart: the change was aborted
 *    meanwhile, so they stayed as keys of a shard it does not serve. Fix: leftover copies are
 *    swept once start-up is over (SimCatchUp.caughtUp, the node's
 *    ChangeParticipant.sweepLeftovers). Without it: "placement: n4:1 holds Entry{k0 16682@n1:1
 *    tombstone} of shard 2 at epoch 1" at tick 2055 (1008) and "placement: n2:1 holds
 *    Entry{k0 11900@n1:1} of shard 2 at epoch 1" at tick 2054 (1037), both in the healed phase
 *    (28 of seeds 1000..2499 fail so).
 *  - 1027, 2176: a node left out of a change (its coordinator saw it down) kept undelivered
 *    writes of keys of a shard it no longer served; the new members' reports made them stable,
 *    so a read went without one ("causality/context"; on main before h-sim18 2176 failed as
 *    "causality/model"). Fix: no shard is stable until every node serving a shard reported
 *    above 0 at the new epoch (NodeStability.stableTime, outsidersSettled). Without it:
 *    "causality/context: c0 read k5=3131@n3:1 at n1:1 but its context requires 3371@n3:1" at
 *    tick 335 (1027), "causality/context: c3 read k6=13916@n1:1 at n1:1 but its context
 *    requires 14275@n2:1" at tick 1398 (2176, re-checked on h-sim18). Since h-sim18, 2176 also
 *    needs the checker's tombstone floor to bind only nodes at the newest epoch or in the key's
 *    shard under it (SafetyChecker): without that, a node left out of a change was flagged at
 *    tick 1421 for reading its own value of a key the new owners had deleted meanwhile, which
 *    it may (it serves the old layout until it learns the new one).
 *  - 1039, 2094: the left-out node's write reached an old owner after its transfer began, so
 *    the new owner installed the key below a tombstone every old replica held ("tombstone").
 *    Fix: replicated writes are not taken from the transfer to the commit
 *    (ViewChangeParticipant.takesReplicatedWrites, the node's REPLICATE route). Without it:
 *    "tombstone: n3:1 caught up holding k6: value 5279@n2:1 after every replica held the
 *    tombstone 8823@n0:1" at tick 901 (1039), "tombstone: n1:1 caught up holding k7: value
 *    10324@n0:1 after every replica held the tombstone 10633@n2:1" at tick 1087 (2094).
 *  - 2014 (h-sim18): a change whose only participant was its coordinator committed a reshard
 *    2->1: the old shard 1's keys gained two owners and reached none (no member of that shard
 *    took part), while its members, left out, kept serving them with a stable time that
 *    covered a write a new owner made under the new layout. Fix: a participant refuses a
 *    change that would strand keys (TransferPlan.strandedKeys, checked by
 *    ViewChangeParticipant). Without it: "causality/context: c0 read k4=14988@n2:1 at n0:1 but
 *    its context requires 15176@n3:1" at tick 1548. (2018 failed by the same kind of change,
 *    then as 2144; either fix alone makes it pass, so it is not pinned.)
 *  - 2144, 2268 (h-sim18): every member of a shard learned a change none of them took part in
 *    (it left their shard alone but for a member moved out, or their keys stayed) and each
 *    waited for another to answer its catch-up, which a node catching up did not. Fixed first
 *    by letting such a learner end its catch-up after one unanswered round (h-sim18), which
 *    seed 63319 showed unsafe (below); since session 12 a node catching up answers its peers'
 *    catch-up (SimCatchUp, the node's CatchUp.scan), which is the fix now. Without either:
 *    "liveness: not converged 2000 ticks after healing: n3:1 is CATCHING_UP" (2144), "...
 *    n1:1 is CATCHING_UP" (2268), at tick 4000.
 *  - 2061 (session 9): a node stopped by a view change serves reads of the keys it holds
 *    (KeyValueCore.servesInStop), but only when it holds the very version the client's context
 *    names: the old layout's stable time does not cover a write a new owner made under the new
 *    layout. With the stable predicate instead (KeyValueCore.missing): "causality/context: c0
 *    read k5=6412@n3:1 at n1:1 but its context requires 7205@n2:1" at tick 695; with no check
 *    at all, the same read at tick 766.
 *  - 2242, 2056 (session 9, found once stopped nodes served reads, which moved the schedules):
 *    a participant moved to another shard dropped, at adopt, the writes its queue still owed
 *    to old peers left out of the change that keep the key under the new layout (2242), and a
 *    node left out of a change did the same with writes owed to peers that still own their
 *    keys (2056); nothing else carried them ("lost-write"). Fix: the queue keeps, per peer, the
 *    writes of keys that peer owns under the new layout (ReplicationQueue.retain), and a node
 *    owing one outside its shard reports 0 until it is acknowledged (NodeStability.localStable,
 *    ReplicationQueue.owesOutside). Without it: "lost-write: n0:1 converged on 14528@n2:1 but
 *    the newest acknowledged write of k6 is 15257@n2:1" at tick 2007 (2242), "lost-write: n1:1
 *    converged on 19338@n1:1 but the newest acknowledged write of k1 is 19908@n3:1" at tick
 *    2075 (2056). The seeds above were not re-checked without their fixes after this schedule
 *    change (they pass with them).
 *  - 21639 (session 13, the first failure in 8,000 seeds from 20000): a node left out of a
 *    change learned it and handed its writes of keys that moved to their new owners,
 *    reporting 0 meanwhile; the other nodes' stable time of the new owners' shard stayed 0, but
 *    its own did not (the outsiders rule skipped the node itself), so it pruned such a write
 *    from the context of a write it served, and a client that read that write then read past
 *    the first on a new owner the hand-off had not reached. Fix: the node's own report of 0
 *    holds its stable time of every other shard too (NodeStability.outsidersSettled). Without
 *    it: "causality/model: c3 read k1=11506@n1:1 at n3:1 but it must see at least 11666@n1:1
 *    because it read k4=12390@n1:1 whose writer had seen k1=11666@n1:1" at tick 1185.
 *  - 23581 (session 13, the next failure in that range; the checker, not the code): a node
 *    moved out of a key's shard after collecting a tombstone of it, a replica of its old shard
 *    (alone there) deleted the key again and collected that tombstone at once, and a reshard
 *    gave the node the key back with nothing to copy. Its "nothing" is that delete, and the
 *    stable time says so, but the checker still bound the node by the tombstone it had
 *    collected itself, never dropped (only stored keys were reported as dropped). Fix: a node
 *    installing a configuration drops every key it does not give it from the model
 *    (SimCluster.checkNode). Without it: "causality/context: c1 read k5=nothing (collected
 *    tombstone 6886@n1:1) at n3:1 but its context requires 8186@n1:1" at tick 762.
 *  - 25180 (session 13, next): a node restarted without its data could not copy its shard
 *    (its one peer was cut off) and took part in a move as its old shard's only sender: it had
 *    nothing of a key but a stale write a peer's queue re-sent it, older than a tombstone every
 *    replica had held, and the new owner installed that. Fix: a node that lost its data and has
 *    not copied its shard refuses to take part in a change (NodeStability.viewChangeRefusal).
 *    Without it: "tombstone: n1:1 caught up holding k1: value 5411@n0:1 after every replica
 *    held the tombstone 7847@n3:1" at tick 1167.
 *  - 63319 (session 13, in 60000..67999): a durable node left out of two changes learned the
 *    second at its restart and, its peers slow to answer (30% loss), ended its catch-up after
 *    one round, serving the value it had kept, older than a delete every replica held. Fix: a
 *    node that learned a configuration copies its shard before it serves, however many rounds
 *    it takes (NodeStability.mayEndCatchUpUncopied). Without it: "tombstone: n2:1 caught up
 *    holding k4: value 6608@n2:1 after every replica held the tombstone 6713@n1:1" at tick 957.
 *  - 63774 (session 13, the simulation behind the node): a durable node left out of a change
 *    learned it, handed its writes of keys that moved to their new owners, and crashed before
 *    they acknowledged; the simulation kept the hand-off in memory only, so an acknowledged
 *    write was lost, while the node keeps such keys in its store until they are delivered and
 *    hands them over again after a restart (session 12, DurableHandOffTest). Fix: the
 *    simulation does the same (SimNode.installLearned, releaseHandOff). Without it:
 *    "lost-write: n0:1 converged on 10242@n2:1 but the newest acknowledged write of k2 is
 *    16703@n2:1" at tick 2038.
 *  - 66847 (session 13): a replica asked a shard peer for a key (a pull for a client's
 *    dependency) under one layout, and the answer, a stale version that peer held, arrived after
 *    it installed the next: the new layout's stable time starts from 0, so the version was not
 *    taken for the stale duplicate it was, and came back below a tombstone the replica had
 *    collected. Fix: a pull answered after another configuration was installed is dropped
 *    (SimNode's PullResponse, the node's KvService.awaitVersion). The same trace showed a late
 *    copy batch of an aborted change taken by the next change at the same epoch, fixed with
 *    it (batches name their change by its configuration's fingerprint; ViewChangeParticipantTest).
 *    Without the pull fix: "tombstone/resurrected: n2:1 collected the tombstone k6=4799@n0:1 and
 *    now holds Entry{k6 3903@n0:1}" at tick 513.
 * Method: SimCluster runs of those seeds with view changes.
 */
class SimViewChangeRegressionTest {
  @ParameterizedTest(name = "seed {0}: {1}")
  @CsvSource({"1008, copies left by an aborted change after a durable restart",
      "1037, copies left by an aborted change after a durable restart",
      "1027, a left-out node's undelivered write taken for stable (read)",
      "2176, a left-out node's undelivered write taken for stable (context)",
      "1039, a left-out node's write missed the transfer (tombstone)",
      "2094, a left-out node's write missed the transfer (tombstone)",
      "2014, a change that stranded the keys of a shard none of whose members took part",
      "2144, every member of a shard waited for another to answer its catch-up",
      "2268, every member of a shard waited for another to answer its catch-up",
      "2061, a stopped node read past a write made under the new layout",
      "2242, a participant dropped writes owed to an old peer that keeps the key",
      "2056, a left-out node dropped writes owed to a peer that keeps the key",
      "21639, a left-out node pruned a cause it was still handing to its new owners",
      "23581, the model bound a node that moved away by a tombstone it had collected",
      "25180, a replica that lost its data sent its old shard's keys before copying them",
      "63319, a durable node that learned a change served what it kept without copying",
      "63774, a durable left-out node crashed before its hand-off was delivered",
      "66847, a pull answered under the old layout brought back a collected delete's value"})
  void seedThatOnceFailedPasses(long seed, String what) {
    SimResult result = new SimCluster(seed, ReplicaBug.NONE, true).run();
    assertTrue(result.passed(), what + ": " + result.report());
  }
}
