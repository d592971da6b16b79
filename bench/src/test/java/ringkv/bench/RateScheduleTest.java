package ringkv.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.Test;

/*
 * Goal: the open-loop schedule (--rate) issues operations at exactly the rate asked, evenly
 * spaced; the slots share it (each ready slot takes the next operation, once); a slot that is
 * ready before the due time waits and is on time, a slot that is ready after it (every slot was
 * busy) issues at once and counts as late (by how much); one slow operation does not make the
 * operations after it late when other slots are free; operations due before a phase's end but
 * never taken count as missed; a phase sums these into its RateStats.
 *
 * Method: pure logic driven with made-up nanoTime values (no clock), tables of ready times and
 * the tickets, waits and missed counts they must give; one multi-threaded take loop checks that
 * every operation goes to exactly one slot.
 */
class RateScheduleTest {
  private static final long MS = 1_000_000;

  @Test
  void operationsAreEvenlySpacedAtTheRate() {
    RateSchedule s = RateSchedule.of(1_000, 100 * MS);
    assertEquals(MS, s.intervalNanos());
    for (int k = 0; k < 20; k++) {
      RateSchedule.Ticket t = s.take(0);
      assertEquals(k, t.index());
      assertEquals(100 * MS + k * MS, t.dueNanos(), "operation " + k);
    }
    assertEquals(20, s.taken());
    assertEquals(3 * MS / 10, RateSchedule.of(3_333.333, 0).intervalNanos(), 1);
  }

  @Test
  void readyEarlyWaitsAndIsOnTime() {
    RateSchedule s = new RateSchedule(10 * MS, 5 * MS);
    RateSchedule.Ticket t = s.take(3 * MS);
    assertEquals(10 * MS, t.dueNanos());
    assertEquals(7 * MS, RateSchedule.waitNanos(t, 3 * MS));
    assertFalse(t.late(), "the timer firing after the due time is not lateness");
    // Ready exactly at the due time: no wait, not late.
    RateSchedule.Ticket u = s.take(15 * MS);
    assertEquals(0, RateSchedule.waitNanos(u, 15 * MS));
    assertFalse(u.late());
  }

  @Test
  void aSlotReadyAfterTheDueTimeIssuesAtOnceAndIsLate() {
    RateSchedule s = new RateSchedule(0, 10 * MS);
    s.take(0);
    // Every slot was busy until 23 ms: the next operation was due at 10 ms, the one after at 20.
    RateSchedule.Ticket second = s.take(23 * MS);
    assertEquals(0, RateSchedule.waitNanos(second, 23 * MS));
    assertTrue(second.late());
    assertEquals(10 * MS, second.dueNanos(), "latency counts from the due time");
    assertEquals(13 * MS, second.lateNanos());
    RateSchedule.Ticket third = s.take(24 * MS);
    assertEquals(20 * MS, third.dueNanos());
    assertEquals(4 * MS, third.lateNanos());
    // Caught up: the fourth is due at 30 ms, so a slot ready at 25 ms waits 5 ms.
    RateSchedule.Ticket fourth = s.take(25 * MS);
    assertEquals(5 * MS, RateSchedule.waitNanos(fourth, 25 * MS));
    assertFalse(fourth.late());
  }

  @Test
  void oneSlowOperationDelaysOnlyItsOwnSlot() {
    // Two slots, an operation every 10 ms. Slot A takes op 0 and its answer takes 35 ms; slot B
    // answers each of its operations in 1 ms and takes ops 1, 2, 3 on time.
    RateSchedule s = new RateSchedule(0, 10 * MS);
    RateSchedule.Ticket a = s.take(0);
    RateSchedule.Ticket b1 = s.take(0);
    assertFalse(a.late());
    assertEquals(10 * MS, b1.dueNanos());
    RateSchedule.Ticket b2 = s.take(11 * MS);
    RateSchedule.Ticket b3 = s.take(21 * MS);
    assertEquals(20 * MS, b2.dueNanos());
    assertEquals(30 * MS, b3.dueNanos());
    assertFalse(b2.late() || b3.late());
    // A is ready at 35 ms and takes op 4, due at 40 ms: nothing was late.
    RateSchedule.Ticket a2 = s.take(35 * MS);
    assertEquals(40 * MS, a2.dueNanos());
    assertFalse(a2.late());
  }

  @Test
  void missedCountsOperationsDueBeforeTheEndThatNoSlotTook() {
    RateSchedule s = new RateSchedule(0, 10 * MS);
    s.take(0); // due 0; the next is due at 10 ms
    assertEquals(0, s.missedBefore(10 * MS), "due exactly at the end is not missed");
    assertEquals(1, s.missedBefore(10 * MS + 1));
    assertEquals(3, s.missedBefore(35 * MS)); // 10, 20, 30
    assertEquals(0, s.missedBefore(5 * MS));
    assertEquals(1, s.taken(), "counting does not take");
  }

  @Test
  void everyOperationGoesToExactlyOneSlot() throws Exception {
    RateSchedule s = new RateSchedule(0, 1);
    int threads = 4;
    int perThread = 10_000;
    Set<Long> seen = ConcurrentHashMap.newKeySet();
    List<Thread> slots = new ArrayList<>();
    for (int i = 0; i < threads; i++) {
      Thread t = new Thread(() -> {
        for (int k = 0; k < perThread; k++) {
          assertTrue(seen.add(s.take(0).index()));
        }
      });
      slots.add(t);
      t.start();
    }
    for (Thread t : slots) {
      t.join();
    }
    assertEquals(threads * perThread, seen.size());
    assertEquals(threads * perThread, s.taken());
  }

  @Test
  void phaseSumsLatenessIntoItsRateStats() {
    LoadPhase phase = new LoadPhase("measure", 250);
    RateSchedule s = new RateSchedule(0, 4 * MS);
    phase.schedule.issued(s.take(0));
    phase.schedule.issued(s.take(9 * MS)); // due 4: 5 ms late
    phase.schedule.issued(s.take(9 * MS)); // due 8: 1 ms late
    phase.schedule.issued(s.take(9 * MS)); // due 12: waited, on time
    phase.schedule.missed.add(s.missedBefore(21 * MS)); // due 16 and 20
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
    assertNull(new LoadPhase("measure", 0).result(0).rate(), "closed loop");
  }

  @Test
  void badSchedulesAreRejected() {
    assertThrows(IllegalArgumentException.class, () -> new RateSchedule(0, 0));
    assertThrows(IllegalArgumentException.class, () -> RateSchedule.of(0, 0));
    assertThrows(IllegalArgumentException.class, () -> RateSchedule.of(Double.NaN, 0));
  }
}
