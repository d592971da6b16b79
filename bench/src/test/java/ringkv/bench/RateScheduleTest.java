package ringkv.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.junit.jupiter.api.Test;

/*
 * Goal: the open-loop schedule (--rate) issues operations at exactly the rate asked, spread
 * evenly over the slots; a slot that is ready early waits and is on time, a slot that is ready
 * after the due time issues at once and counts as late (by how much), operations due before a
 * phase's end but never issued count as missed; a phase sums these into its RateStats.
 *
 * Method: pure logic driven with made-up nanoTime values (no clock, no threads): tables of
 * ready times and the waits, tickets and missed counts they must give.
 */
class RateScheduleTest {
  private static final long MS = 1_000_000;

  @Test
  void slotsShareTheRateEvenly() {
    // 1,000 ops/s over 4 slots: each slot every 4 ms, slot i offset by i ms.
    List<Long> due = new ArrayList<>();
    for (int slot = 0; slot < 4; slot++) {
      RateSchedule s = RateSchedule.forSlot(slot, 4, 1_000, 100 * MS);
      assertEquals(4 * MS, s.intervalNanos());
      for (int k = 0; k < 5; k++) {
        due.add(s.take(0).dueNanos());
      }
    }
    Collections.sort(due);
    for (int i = 0; i < due.size(); i++) {
      assertEquals(100 * MS + i * MS, due.get(i), "operation " + i);
    }
  }

  @Test
  void readyEarlyWaitsAndIsOnTime() {
    RateSchedule s = new RateSchedule(10 * MS, 5 * MS);
    assertEquals(10 * MS, s.dueNanos());
    assertEquals(7 * MS, s.waitNanos(3 * MS));
    // The timer fires a little after the due time: that is not lateness.
    RateSchedule.Ticket t = s.take(3 * MS);
    assertEquals(10 * MS, t.dueNanos());
    assertFalse(t.late());
    assertEquals(0, t.lateNanos());
    assertEquals(15 * MS, s.dueNanos());
    // Ready exactly at the due time: no wait, not late.
    assertEquals(0, s.waitNanos(15 * MS));
    assertFalse(s.take(15 * MS).late());
    assertEquals(2, s.taken());
  }

  @Test
  void readyAfterTheDueTimeIssuesAtOnceAndIsLate() {
    RateSchedule s = new RateSchedule(0, 10 * MS);
    s.take(0);
    // The first operation took 23 ms: the second was due at 10 ms, the third at 20 ms.
    assertEquals(0, s.waitNanos(23 * MS));
    RateSchedule.Ticket second = s.take(23 * MS);
    assertTrue(second.late());
    assertEquals(10 * MS, second.dueNanos(), "latency counts from the due time");
    assertEquals(13 * MS, second.lateNanos());
    RateSchedule.Ticket third = s.take(24 * MS);
    assertEquals(20 * MS, third.dueNanos());
    assertEquals(4 * MS, third.lateNanos());
    // Caught up: the fourth is due at 30 ms, so a slot ready at 25 ms waits 5 ms.
    assertEquals(5 * MS, s.waitNanos(25 * MS));
    assertFalse(s.take(25 * MS).late());
  }

  @Test
  void missedCountsOperationsDueBeforeTheEndAndNeverIssued() {
    RateSchedule s = new RateSchedule(0, 10 * MS);
    s.take(0); // due 0; the next is due at 10 ms
    assertEquals(0, s.missedBefore(10 * MS), "due exactly at the end is not missed");
    assertEquals(1, s.missedBefore(10 * MS + 1));
    assertEquals(3, s.missedBefore(35 * MS)); // 10, 20, 30
    assertEquals(0, s.missedBefore(5 * MS));
    assertEquals(1, s.taken(), "counting does not take");
  }

  @Test
  void phaseSumsLatenessIntoItsRateStats() {
    LoadRunner.Phase phase = new LoadRunner.Phase("measure", 250);
    RateSchedule s = new RateSchedule(0, 4 * MS);
    phase.issued(s.take(0));
    phase.issued(s.take(9 * MS)); // due 4: 5 ms late
    phase.issued(s.take(9 * MS)); // due 8: 1 ms late
    phase.issued(s.take(9 * MS)); // due 12: waited, on time
    phase.missed.add(s.missedBefore(21 * MS)); // due 16 and 20
    for (int i = 0; i < 3; i++) {
      phase.record(true, 2 * MS, MS, null, null);
    }
    phase.record(false, 2 * MS, MS, null, new IllegalStateException("boom"));
    LoadRunner.PhaseResult r = phase.result(phase.startNanos + 1_000 * MS);
    LoadRunner.RateStats rate = r.rate();
    assertEquals(250, rate.targetOpsPerSec());
    assertEquals(4, rate.issued());
    assertEquals(2, rate.late());
    assertEquals(0.5, rate.lateFraction());
    assertEquals(5.0, rate.lateMsMax());
    assertEquals(2, rate.missed());
    assertEquals(3, r.ops());
    assertEquals(r.ops() + r.errorCount(), rate.issued());
    assertEquals(2_000, r.all().getMaxValue(), 2, "latency from the due time, in us");
    assertEquals(1_000, r.service().getMaxValue(), 1, "service time from the call, in us");
    assertNull(new LoadRunner.Phase("measure", 0).result(0).rate(), "closed loop");
  }

  @Test
  void badSchedulesAreRejected() {
    assertThrows(IllegalArgumentException.class, () -> new RateSchedule(0, 0));
    assertThrows(IllegalArgumentException.class, () -> RateSchedule.forSlot(4, 4, 100, 0));
    assertThrows(IllegalArgumentException.class, () -> RateSchedule.forSlot(0, 4, 0, 0));
  }
}
