package ringkv.gossip.sim;

import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/*
 * Goal: each view-change fix found by the simulation (-Dsim.viewChanges=true) stays fixed. Every
 * seed here failed, every time, before the fix it names, and must pass with it:
 *  - 1000, 1041: a durable node killed while keys were copied to it kept them after its
 *    restart: the change was aborted meanwhile, so they stayed as keys of a shard it does not
 *    serve
 *    ("placement" at the end of the run). Fix: leftover copies are swept once start-up is over
 *    (SimCatchUp.caughtUp, the node's ChangeParticipant.sweepLeftovers). Checked: both fail
 *    ("placement") with the sweep removed.
 *  - 1027, 2176: a node left out of a change (its coordinator saw it down) kept undelivered
 *    writes of keys of a shard it no longer served; the new members' reports made them stable,
 *    so a read went without one ("causality/context") or a write's context lost it
 *    ("causality/model"). Fix: no shard is stable until every node serving a shard reported
 *    above 0 at the new epoch (NodeStability.stableTime). Checked: both fail without it.
 *  - 1039, 2094: the left-out node's write reached an old owner after its transfer began, so
 *    the new owner installed the key below a tombstone every old replica held ("tombstone").
 *    Fix: replicated writes are not taken from the transfer to the commit
 *    (ViewChangeParticipant.takesReplicatedWrites, the node's REPLICATE route). Checked: both
 *    fail without it.
 * Method: SimCluster runs of those seeds with view changes.
 */
class SimViewChangeRegressionTest {
  @ParameterizedTest(name = "seed {0}: {1}")
  @CsvSource({"1000, copies left by an aborted change after a durable restart",
      "1041, copies left by an aborted change after a durable restart",
      "1027, a left-out node's undelivered write taken for stable (read)",
      "2176, a left-out node's undelivered write taken for stable (context)",
      "1039, a left-out node's write missed the transfer (tombstone)",
      "2094, a left-out node's write missed the transfer (tombstone)"})
  void seedThatOnceFailedPasses(long seed, String what) {
    SimResult result = new SimCluster(seed, ReplicaBug.NONE, true).run();
    assertTrue(result.passed(), what + ": " + result.report());
  }
}
