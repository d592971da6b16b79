package ringkv.gossip;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import org.junit.jupiter.api.Test;
import ringkv.ring.ClusterConfig;
import ringkv.ring.NodeAddress;

/**
 * Goal: a participant prepares one change at a time, only a newer one, commits or aborts only
 * the change it prepared, aborts itself at its deadline
 * while copying (and is in doubt, not aborted, once prepared), and reports how long key-value
 * requests were refused and what it sent; which epoch heard from a peer is news.
 * Method: table cases with explicit times.
 */
class ViewChangeParticipantTest {
  private static final List<NodeAddress> NODES = List.of(NodeAddress.parse("10.0.0.1:1"),
      NodeAddress.parse("10.0.0.2:1"), NodeAddress.parse("10.0.0.3:1"),
      NodeAddress.parse("10.0.0.4:1"));
  private static final ClusterConfig E1 = ClusterConfig.initial(NODES, 1, 20);
  private static final ClusterConfig E2 = E1.reshard(NODES, 2);
  private static final ClusterConfig E3 = E2.reshard(NODES, 1);

  /*
   * Simulation seed 66847: a copy batch of an aborted change, late, was taken by the next change
   * at the same epoch. Batches name their change by its configuration's fingerprint.
   */
  @Test
  void takesCopiesOnlyForTheVeryChangeUnderWay() {
    ViewChangeParticipant p = new ViewChangeParticipant();
    ClusterConfig other = E1.withView(NODES.subList(0, 3));
    assertEquals(E2.epoch(), other.epoch());
    assertFalse(p.acceptsTransfer(E2.epoch(), E2.fingerprint()), "idle");
    assertTrue(p.startCopy(E1, E2, Set.copyOf(NODES), 0, 10_000).prepared());
    assertTrue(p.acceptsTransfer(E2.epoch(), E2.fingerprint()));
    assertFalse(p.acceptsTransfer(E2.epoch(), other.fingerprint()), "another change, one epoch");
    assertTrue(p.abort(E2.epoch()));
    assertTrue(p.startCopy(E1, other, Set.copyOf(NODES), 0, 10_000).prepared());
    assertFalse(p.acceptsTransfer(E2.epoch(), E2.fingerprint()), "the aborted one's late copy");
    assertTrue(p.acceptsTransfer(other.epoch(), other.fingerprint()));
  }

  @Test
  void preparesCommitsAndReportsTheWindow() {
    ViewChangeParticipant p = new ViewChangeParticipant();
    assertTrue(p.prepare(E1, E2, Set.copyOf(NODES), 1_000, 21_000).prepared());
    assertTrue(p.isPrepared(E2.epoch()));
    assertEquals(E2, p.pending().orElseThrow());
    p.onSent(10, 500);
    p.onSent(5, 100);
    var commit = p.commit(E2.epoch(), 1_250).orElseThrow();
    assertEquals(E2, commit.next());
    assertEquals(250, commit.windowMs());
    assertEquals(15, commit.keysSent());
    assertEquals(600, commit.bytesSent());
    assertTrue(p.pending().isEmpty(), "idle after commit");
  }

  @Test
  void refusesAnotherEpochWhilePreparedAndAnOlderOne() {
    ViewChangeParticipant p = new ViewChangeParticipant();
    assertFalse(p.prepare(E2, E1, Set.of(), 0, 10).prepared(), "not newer");
    assertTrue(p.prepare(E1, E2, Set.of(), 0, 10).prepared());
    assertTrue(p.prepare(E1, E2, Set.of(), 1, 11).prepared(), "the same change again");
    var refusal = p.prepare(E1, E3, Set.of(), 2, 12);
    assertFalse(refusal.prepared());
    assertTrue(refusal.refusal().orElseThrow().contains("already installing"), refusal.toString());
  }

  @Test
  void commitsAndAbortsOnlyThePreparedEpoch() {
    ViewChangeParticipant p = new ViewChangeParticipant();
    assertTrue(p.commit(E2.epoch(), 5).isEmpty(), "nothing prepared");
    assertFalse(p.abort(E2.epoch()));
    p.prepare(E1, E2, Set.of(), 0, 100);
    assertTrue(p.commit(E3.epoch(), 5).isEmpty(), "another epoch");
    assertFalse(p.abort(E3.epoch()));
    assertTrue(p.abort(E2.epoch()));
    assertTrue(p.pending().isEmpty());
  }

  @Test
  void abortsItselfAtItsDeadlineOnlyWhileCopying() {
    ViewChangeParticipant p = new ViewChangeParticipant();
    p.startCopy(E1, E2, Set.of(), 1_000, 21_000);
    assertEquals(OptionalLong.empty(), p.onTick(20_999));
    assertEquals(OptionalLong.of(E2.epoch()), p.onTick(21_000));
    assertTrue(p.underWay().isEmpty());
    assertTrue(p.commit(E2.epoch(), 21_001).isEmpty(), "a late commit changes nothing");
  }

  @Test
  void aPreparedChangePastItsDeadlineIsInDoubtNotAborted() {
    ViewChangeParticipant p = new ViewChangeParticipant();
    p.startCopy(E1, E2, Set.of(), 1_000, 21_000);
    p.prepare(E1, E2, Set.of(), 2_000, 22_000);
    assertTrue(p.inDoubt(21_999).isEmpty());
    assertEquals(OptionalLong.empty(), p.onTick(22_000), "the coordinator may have committed");
    assertEquals(E2, p.inDoubt(22_000).orElseThrow());
    assertEquals(E2, p.pending().orElseThrow(), "still refusing requests");
    assertTrue(p.commit(E2.epoch(), 30_000).isPresent(), "a late commit still installs it");
    assertTrue(p.inDoubt(30_000).isEmpty());
  }

  @Test
  void aNewerConfigurationInstalledOtherwiseMakesThePreparedOneMoot() {
    ViewChangeParticipant p = new ViewChangeParticipant();
    p.prepare(E1, E2, Set.of(), 0, 100);
    p.onInstalled(E3);
    assertTrue(p.pending().isEmpty());
    p.prepare(E1, E2, Set.of(), 0, 100);
    p.onInstalled(E1);
    assertTrue(p.isPrepared(E2.epoch()), "an older configuration does not cancel it");
  }

  @Test
  void refusesAnEpochBeyondTheBound() {
    ViewChangeParticipant p = new ViewChangeParticipant(new EpochBound(2));
    ClusterConfig e4 = E3.reshard(NODES, 2);
    ClusterConfig e5 = e4.reshard(NODES, 1);
    assertTrue(p.prepare(E1, e4, Set.of(), 0, 10).refusal().isPresent(), "three ahead");
    assertTrue(p.prepare(E2, e4, Set.of(), 0, 10).prepared(), "two ahead: missed one change");
    assertTrue(p.abort(e4.epoch()));
    assertFalse(new ViewChangeParticipant().prepare(E1, forgedAtTheCeiling(), Set.of(), 0, 10)
        .prepared(), "the wipe of issue 14: a prepare at epoch 2^62 is refused");
    assertTrue(p.pending().isEmpty());
    assertFalse(p.prepare(E1, e5, Set.of(), 0, 10).prepared());
  }

  private static ClusterConfig forgedAtTheCeiling() {
    return new ClusterConfig(ClusterConfig.EPOCH_MAX, E1.view(), E1.ring(), E1.layout());
  }

  @Test
  void aNewerEpochIsNewsUnlessANewerChangeIsPrepared() {
    assertTrue(ViewChangeParticipant.isNews(1, Optional.empty(), 2));
    assertFalse(ViewChangeParticipant.isNews(2, Optional.empty(), 2), "the same epoch");
    assertFalse(ViewChangeParticipant.isNews(2, Optional.empty(), 1), "an older one");
    assertTrue(ViewChangeParticipant.isNews(1, Optional.of(E2), E2.epoch()),
        "the prepared change may have committed elsewhere");
    assertTrue(ViewChangeParticipant.isNews(1, Optional.of(E2), E3.epoch()));
    assertFalse(ViewChangeParticipant.isNews(1, Optional.of(E3), E2.epoch()),
        "older than the change prepared here");
  }
}
