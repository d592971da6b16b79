package ringkv.gossip;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import ringkv.gossip.ChangeTermination.Answer;
import ringkv.gossip.ChangeTermination.Decision;
import ringkv.gossip.ChangeTermination.Standing;
import ringkv.ring.ClusterConfig;
import ringkv.ring.NodeAddress;

/**
 * Goal: a prepared participant whose coordinator fell silent commits when anyone installed the
 * change or the coordinator committed it, follows a newer configuration without dropping
 * anything, aborts only on the coordinator's word, and waits (never aborts) while the
 * coordinator runs the change or cannot be asked; settled by the operator (the coordinator
 * declared gone), it aborts only once every other participant answered and none installed it.
 * Method: table cases over answers.
 */
class ChangeTerminationTest {
  private static final NodeAddress A = NodeAddress.parse("10.0.0.1:1");
  private static final NodeAddress B = NodeAddress.parse("10.0.0.2:1");
  private static final NodeAddress C = NodeAddress.parse("10.0.0.3:1");
  private static final NodeAddress D = NodeAddress.parse("10.0.0.4:1");
  private static final List<NodeAddress> NODES = List.of(A, B, C, D);
  private static final ClusterConfig E1 = ClusterConfig.initial(NODES, 1, 20);
  private static final ClusterConfig E2 = E1.reshard(NODES, 2);
  /** Another change at epoch 2: the same epoch, another layout (a retried, different change). */
  private static final ClusterConfig E2_OTHER = E1.withView(List.of(A, B, C));
  private static final ClusterConfig E3 = E2.reshard(NODES, 1);

  @Test
  void commitsWhenAnyoneInstalledExactlyThisChange() {
    Decision d = ChangeTermination.decide(E2, A, Map.of(C, new Answer(E2, Standing.UNKNOWN)));
    assertInstanceOf(Decision.Commit.class, d, "the coordinator is silent, C committed");
    assertInstanceOf(Decision.Commit.class, ChangeTermination.decide(E2, A,
        Map.of(A, new Answer(E1, Standing.ABORTED), B, new Answer(E2, Standing.UNKNOWN))),
        "an installed change wins over any word: it committed somewhere");
  }

  @Test
  void followsTheCoordinatorsWord() {
    assertInstanceOf(Decision.Commit.class, ChangeTermination.decide(E2, A,
        Map.of(A, new Answer(E1, Standing.COMMITTED))));
    assertInstanceOf(Decision.Abort.class, ChangeTermination.decide(E2, A,
        Map.of(A, new Answer(E1, Standing.ABORTED), B, new Answer(E1, Standing.UNKNOWN))));
    assertInstanceOf(Decision.Abort.class, ChangeTermination.decide(E2, A,
        Map.of(A, new Answer(E1, Standing.UNKNOWN))), "a restarted coordinator committed nothing");
    assertInstanceOf(Decision.Wait.class, ChangeTermination.decide(E2, A,
        Map.of(A, new Answer(E1, Standing.RUNNING))), "still deciding: a transfer may be slow");
  }

  @Test
  void waitsWhileTheCoordinatorCannotBeAsked() {
    Decision d = ChangeTermination.decide(E2, A, Map.of(B, new Answer(E1, Standing.UNKNOWN),
        C, new Answer(E1, Standing.UNKNOWN), D, new Answer(E1, Standing.UNKNOWN)));
    assertInstanceOf(Decision.Wait.class, d,
        "every participant still prepared: the coordinator may have committed itself");
    assertInstanceOf(Decision.Wait.class, ChangeTermination.decide(E2, A, Map.of()));
  }

  @Test
  void aNewerConfigurationOrAnotherAtTheSameEpochSupersedesIt() {
    Decision newer = ChangeTermination.decide(E2, A, Map.of(A, new Answer(E1, Standing.ABORTED),
        B, new Answer(E3, Standing.UNKNOWN)));
    assertEquals(new Decision.Superseded(E3, B), newer, "never drop keys by a stale layout");
    Decision other = ChangeTermination.decide(E2, A,
        Map.of(C, new Answer(E2_OTHER, Standing.UNKNOWN)));
    assertEquals(new Decision.Superseded(E2_OTHER, C), other);
  }

  @Test
  void anOperatorSettlesAChangeWhoseCoordinatorIsGoneOnlyWithEveryOtherParticipantsAnswer() {
    Set<NodeAddress> all = Set.of(A, B, C, D);
    Answer prepared = new Answer(E1, Standing.UNKNOWN);
    Decision d = ChangeTermination.settle(E2, A, all, Map.of(B, prepared, C, prepared,
        D, prepared));
    assertInstanceOf(Decision.Abort.class, d, "nobody but the gone coordinator can hold it");
    Decision missing = ChangeTermination.settle(E2, A, all, Map.of(B, prepared, C, prepared));
    assertInstanceOf(Decision.Wait.class, missing, "D may have installed it");
    assertTrue(((Decision.Wait) missing).why().contains(D.toString()), missing.toString());
    assertInstanceOf(Decision.Commit.class, ChangeTermination.settle(E2, A, all,
        Map.of(B, prepared, C, new Answer(E2, Standing.UNKNOWN))), "C installed it: commit");
    assertEquals(new Decision.Superseded(E3, B), ChangeTermination.settle(E2, A, all,
        Map.of(B, new Answer(E3, Standing.UNKNOWN), C, prepared, D, prepared)));
  }

  @Test
  void aCoordinatorThatAnswersAfterAllIsFollowedWhenSettling() {
    Set<NodeAddress> all = Set.of(A, B, C, D);
    Answer prepared = new Answer(E1, Standing.UNKNOWN);
    assertInstanceOf(Decision.Wait.class, ChangeTermination.settle(E2, A, all,
        Map.of(A, new Answer(E1, Standing.RUNNING), B, prepared, C, prepared, D, prepared)),
        "it is not gone: it still decides");
    assertInstanceOf(Decision.Commit.class, ChangeTermination.settle(E2, A, all,
        Map.of(A, new Answer(E1, Standing.COMMITTED), B, prepared, C, prepared, D, prepared)));
  }
}
