package ringkv.gossip;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Goal: a peer is up until it has been silent for longer than the timeout, transitions are
 * reported once, a new peer starts up, untracked senders are ignored, and tracking forgets
 * peers that left. Method: table cases with explicit times.
 */
class FailureDetectorTest {
  @Test
  void silentPastTheTimeoutIsDownAndHeardAgainIsUp() {
    FailureDetector d = new FailureDetector(1_500);
    d.track(List.of("b", "c"), 0);
    assertTrue(d.isUp("b"), "a new peer starts up");
    d.onHeard("c", 1_000);
    assertEquals(List.of(), d.onTick(1_500), "exactly the timeout: still up");
    assertEquals(List.of(new FailureDetector.Transition("b", false)), d.onTick(1_501));
    assertFalse(d.isUp("b"));
    assertTrue(d.isUp("c"));
    assertEquals(List.of(), d.onTick(1_600), "a transition is reported once");
    assertEquals(new FailureDetector.Transition("b", true), d.onHeard("b", 1_700));
    assertNull(d.onHeard("b", 1_800), "already up");
    assertTrue(d.isUp("b"));
  }

  @Test
  void untrackedSendersAreIgnoredAndTrackingForgets() {
    FailureDetector d = new FailureDetector(100);
    d.track(List.of("b"), 0);
    assertNull(d.onHeard("stranger", 10));
    assertEquals(List.of(new FailureDetector.Transition("b", false)), d.onTick(500));
    d.track(List.of("c"), 500);
    assertTrue(d.isUp("b"), "a peer no longer tracked is not reported down");
    assertEquals(List.of(), d.onTick(550));
    assertEquals(List.of(new FailureDetector.Transition("c", false)), d.onTick(601));
  }

  @Test
  void aLateMessageDoesNotMoveTheLastHeardTimeBack() {
    FailureDetector d = new FailureDetector(100);
    d.track(List.of("b"), 0);
    d.onHeard("b", 500);
    d.onHeard("b", 200); // a delayed answer processed late
    assertEquals(List.of(), d.onTick(590));
  }
}
