package ringkv.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/*
 * Goal: server CPU per operation is utime + stime from /proc, summed right: fields counted
 * from the last ')' (thread names hold spaces and parentheses), ticks converted with the
 * machine's clock rate, differences taken per process and per thread group, threads grouped
 * without their numbers.
 *
 * Method: stat lines as Linux writes them (copied from a RingKV node and a redis-server), with
 * hostile names; snapshots built by hand; one read of this JVM's own /proc entry where there is
 * a /proc (values checked for shape only, never for speed).
 */
class ProcCpuTest {
  /** A JIT thread of a node: utime 1834, stime 27. */
  private static final String C2 = "8201 (C2 CompilerThre) S 8196 8179 8179 0 -1 4194368 4853 0"
      + " 0 0 1834 27 0 0 20 0 21 0 1015 3489656832 52354 18446744073709551615 1 1 0 0 0 0 4"
      + " 0 16 0 0 0 -1 1 0 0 0 0 0 0 0 0 0 0 0 0 0";

  @Test
  void cpuTicksAreUtimePlusStime() {
    assertEquals(1861, ProcCpu.cpuTicks(C2));
    assertEquals(27, ProcCpu.systemTicks(C2));
    assertEquals("C2 CompilerThre", ProcCpu.comm(C2));
  }

  @Test
  void namesWithSpacesAndParenthesesDoNotShiftTheFields() {
    String odd = "42 (a) b) (c d) R 1 1 1 0 -1 0 0 0 0 0 7 5 0 0 20 0 1 0 0 0 0";
    assertEquals(12, ProcCpu.cpuTicks(odd));
    assertEquals("a) b) (c d", ProcCpu.comm(odd));
  }

  @Test
  void linesThatAreNotStatLinesAreRefused() {
    assertThrows(IllegalArgumentException.class, () -> ProcCpu.cpuTicks("no parenthesis"));
    assertThrows(IllegalArgumentException.class, () -> ProcCpu.cpuTicks("1 (x) S 1 2 3"));
    assertThrows(IllegalArgumentException.class,
        () -> ProcCpu.cpuTicks("1 (x) S 1 1 1 0 -1 0 0 0 0 0 u s 0 0"));
  }

  @Test
  void threadGroupsDropTrailingNumbers() {
    assertEquals("GC Thread", ProcCpu.group("GC Thread#0"));
    assertEquals("vert.x-eventloo", ProcCpu.group("vert.x-eventloo"));
    assertEquals("C2 CompilerThre", ProcCpu.group("C2 CompilerThre"));
    assertEquals("pool-1-thread", ProcCpu.group("pool-1-thread-12"));
    assertEquals("bio_lazy_free", ProcCpu.group("bio_lazy_free"));
    assertEquals("42", ProcCpu.group("42"));
  }

  @Test
  void ticksBecomeNanosAtTheClockRate() {
    assertEquals(10_000_000, ProcCpu.ticksToNanos(1, 100));
    assertEquals(2_500_000_000L, ProcCpu.ticksToNanos(250, 100));
    assertEquals(1_000_000, ProcCpu.ticksToNanos(1, 1000));
  }

  @Test
  void usageIsTheDifferencePerProcessAndGroup() {
    ProcCpu.Snapshot start = new ProcCpu.Snapshot(1_000_000_000L, new ProcCpu.Cpu(
        Map.of(10L, 100L, 11L, 50L), Map.of("vert.x-eventloo", 120L, "C2 CompilerThre", 30L),
        40), 1000);
    ProcCpu.Snapshot end = new ProcCpu.Snapshot(3_000_000_000L, new ProcCpu.Cpu(
        Map.of(10L, 300L, 11L, 50L, 12L, 7L),
        Map.of("vert.x-eventloo", 310L, "C2 CompilerThre", 30L, "VM Thread", 17L), 90), 1600);
    ProcCpu.Usage u = ProcCpu.usage(start, end, 100);
    assertEquals(2.0, u.seconds(), 1e-9);
    assertEquals(Map.of(10L, 2_000_000_000L, 11L, 0L, 12L, 70_000_000L), u.nanos().processes());
    assertEquals(2_070_000_000L, u.nanos().total());
    // Groups that used nothing are left out; the largest comes first.
    assertEquals(List.of("vert.x-eventloo", "VM Thread"),
        List.copyOf(u.nanos().groupsByCpu().keySet()));
    assertEquals(1_900_000_000L, u.nanos().groups().get("vert.x-eventloo"));
    assertEquals(207L, end.ticks().total() - start.ticks().total());
    assertEquals(600, u.timeslices());
    assertEquals(500_000_000L, u.nanos().system());
    ProcCpu.Snapshot unknown = new ProcCpu.Snapshot(1, new ProcCpu.Cpu(Map.of(), Map.of(), 0),
        -1);
    assertEquals(-1, ProcCpu.usage(start, unknown, 100).timeslices());
  }

  @Test
  void timeslicesAreTheThirdSchedstatField() {
    assertEquals(10, ProcCpu.timeslices("1277886 8909182 10\n"));
    assertEquals(-1, ProcCpu.timeslices("1277886 8909182"));
    assertEquals(-1, ProcCpu.timeslices("a b c"));
  }

  @Test
  void thisJvmCanBeRead() {
    assumeTrue(ProcCpu.available(), "no /proc on this platform");
    long self = ProcessHandle.current().pid();
    ProcCpu.Snapshot s = ProcCpu.snapshot(List.of(self, Long.MAX_VALUE));
    assertTrue(s.ticks().processes().get(self) >= 0);
    assertEquals(0L, s.ticks().processes().get(Long.MAX_VALUE)); // no such process
    assertTrue(s.ticks().groups().containsKey("main") || !s.ticks().groups().isEmpty());
    assertTrue(ProcCpu.selfTicks() >= 0);
    assertTrue(s.timeslices() > 0 || s.timeslices() == -1);
    assertTrue(ProcCpu.clockTicksPerSecond() > 0);
    assertTrue(ProcCpu.loadAverage().matches("[0-9.]+ [0-9.]+ [0-9.]+"));
  }
}
