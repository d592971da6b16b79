package ringkv.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import org.junit.jupiter.api.Test;
import ringkv.bench.JitWarmup.Verdict;

class JitWarmupTest {
  private final JitWarmup rule = new JitWarmup(30_000, 300_000, 3);

  @Test
  void theCompilersShareCountsC1AndC2ThreadsOfEveryServer() {
    assertEquals(25.0, JitWarmup.compilerPercent(Map.of("vert.x-eventloo", 600L,
        "C2 CompilerThre", 150L, "C1 CompilerThre", 50L, "VM Thread", 0L)), 1e-9);
    assertEquals(0.0, JitWarmup.compilerPercent(Map.of("redis-server", 900L)), 1e-9);
    assertEquals(0.0, JitWarmup.compilerPercent(Map.of()), 1e-9);
  }

  @Test
  void itGoesOnUntilTheMinimumEvenWhenSettled() {
    assertEquals(Verdict.GO_ON, rule.after(15_000, 0.0));
    assertEquals(Verdict.SETTLED, rule.after(30_000, 0.0));
    assertEquals(Verdict.SETTLED, rule.after(31_000, 3.0));
  }

  @Test
  void pastTheMinimumItWaitsForTheCompilersUpToTheBound() {
    assertEquals(Verdict.GO_ON, rule.after(45_000, 3.1));
    assertEquals(Verdict.GO_ON, rule.after(285_000, 40.0));
    assertEquals(Verdict.NOT_SETTLED, rule.after(286_000, 40.0));
    assertEquals(Verdict.SETTLED, rule.after(286_000, 1.0));
  }

  @Test
  void aFixedWarmupEndsAtItsMinimumSettledOrNot() {
    JitWarmup fixed = new JitWarmup(20_000, 20_000, 3);
    assertEquals(Verdict.GO_ON, fixed.after(15_000, 0.0));
    assertEquals(Verdict.NOT_SETTLED, fixed.after(30_000, 10.0));
    assertEquals(Verdict.SETTLED, fixed.after(30_000, 1.0));
    assertTrue(!new JitWarmup(0, 0, 3).any());
  }

  @Test
  void slicesAreFiveSecondsOrAThirdOfAShorterMinimum() {
    assertEquals(5_000, rule.sliceMs());
    assertEquals(15_000, rule.cycleMs());
    assertEquals(333, new JitWarmup(1_000, 1_000, 3).sliceMs());
    assertEquals(100, new JitWarmup(10, 10, 3).sliceMs());
  }

  @Test
  void boundsAreChecked() {
    assertThrows(IllegalArgumentException.class, () -> new JitWarmup(10, 5, 3));
    assertThrows(IllegalArgumentException.class, () -> new JitWarmup(-1, 5, 3));
    assertThrows(IllegalArgumentException.class, () -> new JitWarmup(0, 5, Double.NaN));
  }
}
