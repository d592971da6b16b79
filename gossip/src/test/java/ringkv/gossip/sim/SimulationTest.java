package ringkv.gossip.sim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import org.junit.jupiter.api.Test;

/*
 * Goal: the node's protocol core (KeyValueCore, NodeStability, Replica, ReplicationQueue,
 * FailureDetector, AntiEntropy/AntiEntropyRound, ViewChangeParticipant, TransferPlan — the
 * production classes, not copies) is safe under an adversarial network and processes that die
 * and come back, and live once the faults end: no client ever observes a causality violation, no
 * replica's version of a key ever goes back (but across a restart that lost its data, or a key it
 * dropped because its configuration no longer gives it), deleted keys stay deleted, and after
 * healing every node has caught up, every queue drains and every shard converges on the newest
 * acknowledged write of each key within a bounded number of ticks. Stability runs as in the real
 * node (reports per process incarnation, the bootstrap and hold rules, anti-entropy rounds
 * releasing holds, tombstones collected at the shard's stable time), writes go ahead after a vain
 * causal wait, and a collected tombstone must neither come back nor lose the causes a reader of
 * the delete must see. Anti-entropy is the production round (digest, differing leaves, version
 * merge, pull and push under the settled horizon, who gives way) over simulated messages.
 * With view changes (the second test, safeUnderViewChangesAndFaults, 100 seeds by default;
 * -Dsim.viewChanges=true adds them to the first), half the runs also reshard or move nodes
 * during the faults (coordinator and participants over the faulty network, copies and transfers
 * as messages, crashes, deadline aborts when the coordinator dies, stragglers learning the epoch
 * from heartbeats), and after convergence every key must live on exactly the replicas of its
 * shard. That mode was off by default until session 13: 0 of seeds 1000..1099 and 0 of
 * 2000..2299 failed after h-sim18's fixes (0 and 6 before them, 2 and 8 before session 7's);
 * then 8,000 seeds from 20000 found three more (SimViewChangeRegressionTest 21639, 23581,
 * 25180) and 60000.. three (63319, 63774, 66847, the last showing two bugs: a late copy batch
 * of an aborted change, a pull answered under the old layout); with their fixes 20000..27999
 * and 60000..67999 pass. Other gaps remain (below). Fixed
 * earlier: durable participants restarting with copies of an aborted change
 * (SimViewChangeRegressionTest 1008, 1037), a prepared participant rolling back a change that
 * committed elsewhere (ChangeTermination), a configuration learned at the epoch of a different
 * prepared change. Fixed in session 7, both about a node left out of a change (its coordinator
 * saw it down) that keeps serving the old layout: its undelivered writes were taken for stable
 * by the new members (1027, 2176, 2037: no shard is stable until every node serving one
 * reported above 0 at the new epoch), and its writes reaching an old owner after that owner's
 * transfer began missed the transfer (1039, 2094: not taken until the change ends). Fixed on
 * h-sim18: a change that strands keys (some gain an owner, and no participant of their new
 * shard holds them after the transfer) is refused by its participants (2014, and 2018 with the
 * next fix: TransferPlan.strandedKeys); every member of a shard learning a change at once waited
 * for another to answer its catch-up (2144, 2268: fixed since by nodes answering catch-up while
 * catching up themselves); a participant
 * kept queued writes of keys that left its shard and sent them to a left-out peer (2112, 2297:
 * ReplicationQueue.retain). The checker's tombstone floor binds only nodes at the newest
 * epoch or in the key's shard under it: a left-out node serving the old layout may read its
 * own value of a key the new owners deleted meanwhile (2176 after the fixes above; 2112 and
 * 2297 pass with either the queue's fix or this one; SafetyChecker). Session 9: nodes
 * stopped by a change serve reads of keys they hold (KeyValueCore.servesInStop; 2061 without
 * its exact-version check); the moved schedules showed writes a queue still owed to a peer that
 * keeps the key under the new layout dropped at adopt (2242, 2056, 2511: kept now, the owing
 * node reporting 0 until they are acknowledged, ReplicationQueue.retain). With both: 1000..1099,
 * 2000..2299 and 2300..2699 all pass, ~36,000 reads served by stopped nodes. Left:
 *  - (fixed in session 9) a left-out node, once it learned the new layout, dropped its
 *    undelivered writes of keys that moved to nodes that had not held them: it now hands every
 *    entry of a key that leaves it and is above the old shard's stable time to the new owners
 *    (HandOff; SimNode.installLearned, the node's LayoutInstaller.adoptLearned), reporting 0
 *    until they acknowledge; 1000..1099 and 2000..2599 pass with it. Not seen failing in these
 *    ranges before either (node test: LeftOutHandOffTest). In the node a hand-off lives in
 *    memory only (a crash before it is acknowledged loses it), and a new owner that has not
 *    learned the layout yet acknowledges and skips it;
 *  - a left-out node that still serves the old layout counts its shard's stable time from the
 *    old members' reports, which vouch for their writes only: a write a new owner from
 *    another old shard makes under the new layout may be below it, so a client that saw that
 *    write could read past it there (2014's read, before its change was refused; possible
 *    whenever a change leaves an old owner out, not seen in these ranges since; a stable time
 *    that vouches for a version only up to its writer's own report at this epoch would close
 *    it).
 * Second test: clients that come and go (a new session: empty context, new id) meet replicas
 * still copying their shard after a restart without data, cut off from their peers; such a
 * replica serves a client that observed nothing (KeyValueCore.servesBeforeCopy, the Fall 2020
 * partition test's case) and the checks above still hold. The simulation's 8-key contexts are
 * never pruned, so it cannot show why a client that observed anything is refused (a context
 * pruned of stable entries would let an empty store read past them); CatchingUpReplicaTest
 * covers the node.
 * Method: deterministic simulation (SimCluster) over many seeds. -Dsim.seed=S replays one seed;
 * otherwise -Dsim.seeds=N (default 200) seeds are run from a random base (-Dsim.baseSeed=B fixes
 * it). A failure message carries the seed, the tick, the violation and every node's status.
 */
class SimulationTest {
  private static final int SEEDS_DEFAULT = 200;

  static List<Long> seeds() {
    Long one = Long.getLong("sim.seed");
    if (one != null) {
      return List.of(one);
    }
    int count = Integer.getInteger("sim.seeds", SEEDS_DEFAULT);
    long base = Long.getLong("sim.baseSeed", ThreadLocalRandom.current().nextLong(1L << 48));
    List<Long> seeds = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      seeds.add(base + i);
    }
    return seeds;
  }

  @Test
  void replicasCutOffBeforeTheirCopyServeNewSessionsSafely() {
    long served = 0;
    for (long seed = 1; seed <= NEW_SESSION_SEEDS; seed++) {
      SimResult r = new SimCluster(seed, ReplicaBug.NONE, false, NEW_SESSION_PROBABILITY).run();
      assertTrue(r.passed(), r.report());
      served += r.stats().servedBeforeCopy();
    }
    System.out.printf("sim: %d seeds with new sessions: %d operations served before a copy%n",
        NEW_SESSION_SEEDS, served);
    assertTrue(served > 0, "no replica served before its copy: the case went untested");
  }

  private static final int NEW_SESSION_SEEDS = 40;
  private static final double NEW_SESSION_PROBABILITY = 0.1;

  @Test
  void safeUnderFaultsAndLiveAfterHealing() {
    run(seeds(), Boolean.getBoolean("sim.viewChanges"));
  }

  /**
   * The same with view changes in half the runs: by default the {@link #VIEW_CHANGE_SEEDS}
   * seeds from {@link #VIEW_CHANGE_BASE} (they pass), so a build fails only when a change breaks
   * one; -Dsim.seeds, -Dsim.baseSeed and -Dsim.seed explore others as above. A fixed set, unlike
   * the first run's random one, because this mode still finds a new failure in a few thousand
   * seeds (six in about 15,000 in session 13): a random set would fail one build in fifty or so,
   * whatever the change.
   */
  @Test
  void safeUnderViewChangesAndFaults() {
    List<Long> seeds = seeds();
    if (Long.getLong("sim.seed") == null && Integer.getInteger("sim.seeds") == null) {
      long base = Long.getLong("sim.baseSeed", VIEW_CHANGE_BASE);
      seeds = java.util.stream.LongStream.range(base, base + VIEW_CHANGE_SEEDS).boxed().toList();
    }
    run(seeds, true);
  }

  private static final int VIEW_CHANGE_SEEDS = 100;
  private static final long VIEW_CHANGE_BASE = 20_000;

  private static void run(List<Long> seeds, boolean viewChanges) {
    long startNs = System.nanoTime();
    long reads = 0;
    long writes = 0;
    long queueFull = 0;
    long dependencyLate = 0;
    long pulls = 0;
    long tombstoneFloors = 0;
    long collected = 0;
    long collectedReads = 0;
    long contextMax = 0;
    long dropped = 0;
    long duplicated = 0;
    long convergeTicksMax = 0;
    long crashes = 0;
    long writesAfterWait = 0;
    long changes = 0;
    long committed = 0;
    long aborted = 0;
    for (long seed : seeds) {
      SimResult result = new SimCluster(seed, ReplicaBug.NONE, viewChanges).run();
      if (!result.passed()) {
        fail("simulation failed; replay with -Dsim.seed=" + seed
            + (viewChanges ? " -Dsim.viewChanges=true" : "") + "\n" + result.report(),
            result.violation());
      }
      reads += result.stats().reads();
      writes += result.stats().writes();
      queueFull += result.stats().unavailableQueueFull();
      dependencyLate += result.stats().unavailableDependency();
      pulls += result.stats().pulls();
      tombstoneFloors += result.stats().tombstoneFloorsRaised();
      collected += result.stats().tombstonesCollected();
      collectedReads += result.stats().collectedReads();
      contextMax = Math.max(contextMax, result.stats().contextSizeMax());
      dropped += result.stats().network().dropped();
      duplicated += result.stats().network().duplicated();
      convergeTicksMax = Math.max(convergeTicksMax, result.stats().ticksToConverge());
      crashes += result.stats().crashes();
      writesAfterWait += result.stats().writesAfterWait();
      changes += result.stats().viewChangesStarted();
      committed += result.stats().viewChangesCommitted();
      aborted += result.stats().viewChangesAborted();
    }
    long elapsedMs = (System.nanoTime() - startNs) / 1_000_000;
    System.out.printf("sim%s: %d seeds from %d in %d ms: reads=%d writes=%d unavailable"
            + " (queue full=%d, dependency late=%d) pulls=%d tombstone floors=%d dropped=%d"
            + " duplicated=%d slowest convergence=%d ticks tombstones collected=%d"
            + " reads of collected deletes=%d largest context=%d processes killed=%d"
            + " writes after a vain causal wait=%d view changes=%d (committed=%d aborted=%d)%n",
        viewChanges ? " (view changes)" : "", seeds.size(), seeds.get(0), elapsedMs, reads,
        writes, queueFull, dependencyLate, pulls, tombstoneFloors, dropped, duplicated,
        convergeTicksMax, collected, collectedReads, contextMax, crashes, writesAfterWait,
        changes, committed, aborted);
    if (seeds.size() >= 20) {
      // The faults must actually bite, or the passing run proves nothing.
      assertTrue(reads > 0 && writes > 0 && queueFull > 0 && dependencyLate > 0 && pulls > 0
          && tombstoneFloors > 0 && dropped > 0 && duplicated > 0 && collected > 0
          && collectedReads > 0 && crashes > 0 && writesAfterWait > 0, "faults not exercised");
      assertTrue(!viewChanges || (committed > 0 && aborted > 0), "view changes not exercised");
    }
  }

  @Test
  void sameSeedReplaysIdentically() {
    long seed = seeds().get(0);
    SimResult first = new SimCluster(seed, ReplicaBug.NONE).run();
    SimResult second = new SimCluster(seed, ReplicaBug.NONE).run();
    assertEquals(first.report(), second.report(), "seed=" + seed);
    SimResult broken = new SimCluster(1, ReplicaBug.APPLIES_OLDER_VERSIONS).run();
    assertEquals(broken.report(),
        new SimCluster(1, ReplicaBug.APPLIES_OLDER_VERSIONS).run().report(), "seed=1");
  }
}
