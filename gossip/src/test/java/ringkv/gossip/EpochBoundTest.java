package ringkv.gossip;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import ringkv.ring.ClusterConfig;

/*
 * Goal: a node accepts only newer epochs, at most the bound ahead (a node that missed two
 * changes still follows), never past EPOCH_MAX, and the check itself cannot overflow.
 * Method: table cases, including the overflowing epoch 2^63-1 of issue 14.
 */
class EpochBoundTest {
  @Test
  void newerWithinTheBoundOnly() {
    EpochBound bound = new EpochBound(10);
    assertTrue(bound.admits(5, 6));
    assertTrue(bound.admits(5, 7), "missed two changes");
    assertTrue(bound.admits(5, 15));
    assertFalse(bound.admits(5, 16));
    assertFalse(bound.admits(5, 5), "not newer");
    assertFalse(bound.admits(5, 4));
    assertTrue(bound.refusal(5, 16).orElseThrow().contains("EPOCH_AHEAD_MAX"));
  }

  @Test
  void neverPastTheLargestEpochWhateverTheBound() {
    EpochBound loose = new EpochBound(Long.MAX_VALUE);
    assertFalse(loose.admits(1, Long.MAX_VALUE));
    assertFalse(loose.admits(ClusterConfig.EPOCH_MAX, Long.MAX_VALUE));
    assertFalse(loose.admits(ClusterConfig.EPOCH_MAX - 1, ClusterConfig.EPOCH_MAX + 1));
    assertTrue(loose.admits(ClusterConfig.EPOCH_MAX - 1, ClusterConfig.EPOCH_MAX));
    assertFalse(new EpochBound(EpochBound.AHEAD_MAX_DEFAULT).admits(1, Long.MAX_VALUE));
    assertThrows(IllegalArgumentException.class, () -> new EpochBound(0));
  }
}
