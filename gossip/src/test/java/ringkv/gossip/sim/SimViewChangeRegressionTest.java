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
 * Method: SimCluster runs of those seeds with view changes.
 */
class SimViewChangeRegressionTest {
  @ParameterizedTest(name = "seed {0}: {1}")
  @CsvSource({"1000, copies left by an aborted change after a durable restart",
      "1041, copies left by an aborted change after a durable restart"})
  void seedThatOnceFailedPasses(long seed, String what) {
    SimResult result = new SimCluster(seed, ReplicaBug.NONE, true).run();
    assertTrue(result.passed(), what + ": " + result.report());
  }
}
