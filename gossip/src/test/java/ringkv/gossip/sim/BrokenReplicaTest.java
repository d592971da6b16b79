package ringkv.gossip.sim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/*
 * Goal: the simulation's checker has teeth. Each deliberately broken replica variant
 * (ReplicaBug) must be caught within the seeds CI runs, and by the check that is meant to catch
 * it; in particular FORGETS_DEPENDENCIES is invisible to the code's own context and is caught
 * only by the independent history model.
 * Method: run fixed seeds 1..250 (-Dsim.brokenSeeds=N) with the broken variant until the first
 * failing run; assert
 * that there is one and that its violation kind is the one ReplicaBug names.
 */
class BrokenReplicaTest {
  private static final int SEEDS = Integer.getInteger("sim.brokenSeeds", 250);

  @ParameterizedTest
  @EnumSource(value = ReplicaBug.class, mode = EnumSource.Mode.EXCLUDE, names = "NONE")
  void brokenReplicaIsCaught(ReplicaBug bug) {
    SimResult caught = null;
    for (long seed = 1; seed <= SEEDS && caught == null; seed++) {
      SimResult result = new SimCluster(seed, bug).run();
      if (!result.passed()) {
        caught = result;
      }
    }
    assertNotNull(caught, bug + " went unnoticed in " + SEEDS + " seeds: the checker is blind");
    System.out.printf("sim: %s caught at seed %d tick %d: %s%n", bug, caught.seed(),
        caught.tick(), caught.violation().getMessage());
    assertEquals(bug.caughtBy(), caught.violation().kind(), caught.report());
  }
}
