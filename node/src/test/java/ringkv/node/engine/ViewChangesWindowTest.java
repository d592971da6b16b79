package ringkv.node.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Map;
import org.junit.jupiter.api.Test;
import ringkv.node.peer.MembershipMessages.Committed;
import ringkv.ring.NodeAddress;

/**
 * The window a coordinator reports for a change is the longest any participant refused
 * requests, as they reported it, not the coordinator's own time from the stop to the last
 * commit answer (which includes each participant dropping the keys that moved away: seconds at
 * a million keys).
 */
class ViewChangesWindowTest {
  private static final NodeAddress A = NodeAddress.parse("10.0.0.1:8085");
  private static final NodeAddress B = NodeAddress.parse("10.0.0.2:8085");

  @Test
  void theLongestWindowAParticipantReported() {
    assertEquals(96, ViewChanges.windowMs(Map.of(A, new Committed(51), B, new Committed(96)),
        5_949));
  }

  @Test
  void aParticipantThatCouldNotSayIsLeftOut() {
    assertEquals(51, ViewChanges.windowMs(Map.of(A, new Committed(51), B, Committed.UNKNOWN),
        5_949));
  }

  @Test
  void theCoordinatorsOwnFigureWhenNoneCouldSay() {
    assertEquals(5_949, ViewChanges.windowMs(Map.of(A, Committed.UNKNOWN), 5_949));
    assertEquals(5_949, ViewChanges.windowMs(Map.of(), 5_949));
  }
}
