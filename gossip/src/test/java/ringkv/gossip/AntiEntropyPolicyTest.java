package ringkv.gossip;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * Goal: anti-entropy takes live peers in turn, skips a peer that is reconciling with it already,
 * lets exactly one of two nodes that started with each other go on, and answers only a quiet
 * round at its own epoch between members of the shard. Method: table cases with explicit times.
 */
class AntiEntropyPolicyTest {
  private static final List<String> SHARD = List.of("a", "b", "c");

  @Test
  void peersInTurnLiveOnesOnlySkippingOneThatAskedRecently() {
    AntiEntropyPolicy p = new AntiEntropyPolicy("a", 1_000);
    assertEquals(Optional.of("b"), p.nextPeer(SHARD, n -> true, 0));
    assertEquals(Optional.of("c"), p.nextPeer(SHARD, n -> true, 0));
    assertEquals(Optional.of("b"), p.nextPeer(SHARD, n -> true, 0));
    assertEquals(Optional.of("c"), p.nextPeer(SHARD, n -> !n.equals("b"), 0));
    assertEquals(Optional.empty(), p.nextPeer(SHARD, n -> false, 0));
    assertTrue(p.refusal("b", 1, 5, true, 5, SHARD, 100).isEmpty());
    assertEquals(Optional.of("c"), p.nextPeer(SHARD, n -> true, 500), "b asked at 100");
    assertEquals(Optional.of("b"), p.nextPeer(SHARD, n -> true, 1_100), "an interval later");
  }

  @Test
  void ofTwoNodesThatStartedWithEachOtherTheLowerGoesOn() {
    assertFalse(new AntiEntropyPolicy("a", 10).yieldsTo("b", "b"), "a < b: a goes on");
    assertTrue(new AntiEntropyPolicy("b", 10).yieldsTo("a", "a"), "b gives way to a");
    assertTrue(new AntiEntropyPolicy("a", 10).yieldsTo("c", "b"), "not the same pair");
    assertTrue(new AntiEntropyPolicy("a", 10).yieldsTo(null, "b"), "no round of its own");
  }

  @Test
  void answersOnlyAQuietRoundAtItsEpochBetweenMembers() {
    AntiEntropyPolicy p = new AntiEntropyPolicy("a", 10);
    assertTrue(p.refusal("b", 1, 5, false, 5, SHARD, 0).isPresent(), "busy");
    assertTrue(p.refusal("b", 1, 4, true, 5, SHARD, 0).isPresent(), "another epoch");
    assertTrue(p.refusal("z", 1, 5, true, 5, SHARD, 0).isPresent(), "not a member");
    assertTrue(p.refusal("b", 1, 5, true, 5, List.of("b", "c"), 0).isPresent(), "not mine");
    assertTrue(p.refusal("b", 1, 5, true, 5, SHARD, 0).isEmpty());
    assertEquals(700, AntiEntropyPolicy.horizon(700, 300));
  }
}
