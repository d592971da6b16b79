package ringkv.gossip;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/*
 * Goal: the counter bound is the wall clock plus the allowance, saturating instead of wrapping,
 * and it refuses an entry whose version or any dependency lies beyond it (the forged
 * [2^63-1, "~"] of issue 14), while an honest node's counters minutes ahead pass.
 * Method: table cases at the edges of the long range.
 */
class CounterBoundTest {
  private static final long NOW = 1_800_000_000_000L;
  private static final long DAY = CounterBound.AHEAD_MS_MAX_DEFAULT;

  @Test
  void limitIsTheClockPlusTheAllowanceAndSaturates() {
    assertEquals(NOW + DAY, CounterBound.limit(NOW, DAY));
    assertEquals(NOW, CounterBound.limit(NOW, 0));
    assertEquals(Long.MAX_VALUE, CounterBound.limit(Long.MAX_VALUE - 5, DAY));
    assertEquals(Long.MAX_VALUE, CounterBound.limit(NOW, Long.MAX_VALUE));
    assertThrows(IllegalArgumentException.class, () -> CounterBound.limit(NOW, -1));
  }

  @Test
  void refusesAForgedVersionOrDependencyAndAdmitsAFastClock() {
    long limit = CounterBound.limit(NOW, DAY);
    Entry forged = Entry.value("k", "1", new Version(Long.MAX_VALUE, "~"), CausalContext.EMPTY);
    Entry forgedDep = Entry.value("k", "1", new Version(NOW, "a"),
        CausalContext.of(Map.of("x", new Version(Long.MAX_VALUE, "~"))));
    Entry fastClock = Entry.value("k", "1", new Version(NOW + 5 * 60_000, "a"),
        CausalContext.of(Map.of("x", new Version(NOW + 5 * 60_000, "b"))));
    Entry atTheLimit = Entry.tombstone("k", new Version(limit, "a"), CausalContext.EMPTY);
    assertFalse(CounterBound.admits(forged, limit));
    assertFalse(CounterBound.admits(forgedDep, limit));
    assertTrue(CounterBound.admits(fastClock, limit), "minutes ahead: a clock, not a forgery");
    assertTrue(CounterBound.admits(atTheLimit, limit));
    assertEquals(Optional.of(forgedDep),
        CounterBound.firstBeyond(List.of(fastClock, forgedDep, forged), limit));
    assertEquals(Optional.empty(), CounterBound.firstBeyond(List.of(fastClock), limit));
  }
}
