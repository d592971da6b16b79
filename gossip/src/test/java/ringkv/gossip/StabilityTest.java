package ringkv.gossip;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Goal: the reports table keeps each process's highest report, replaces it when a new process
 * (incarnation) of the node reports, counts a silent member as 0, and forgets nodes that left.
 * Method: table cases.
 */
class StabilityTest {
  @Test
  void reportsOfOneProcessOnlyGrowAndANewProcessReplacesThem() {
    Stability s = new Stability();
    s.report("a", 1, 500);
    s.report("a", 1, 400);
    assertEquals(500, s.stableTime(List.of("a")));
    s.report("a", 2, 100);
    assertEquals(100, s.stableTime(List.of("a")));
    s.report("a", 2, 300);
    assertEquals(300, s.stableTime(List.of("a")));
  }

  @Test
  void aShardsStableTimeIsTheMinimumAndSilenceCountsAsZero() {
    Stability s = new Stability();
    s.report("a", 1, 500);
    s.report("b", 1, 700);
    assertEquals(500, s.stableTime(List.of("a", "b")));
    assertEquals(0, s.stableTime(List.of("a", "b", "c")));
    assertEquals(0, s.stableTime(List.of()));
    s.retain(List.of("b"));
    assertEquals(0, s.stableTime(List.of("a")), "a left and was forgotten");
    assertEquals(700, s.stableTime(List.of("b")));
  }
}
