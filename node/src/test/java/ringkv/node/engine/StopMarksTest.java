package ringkv.node.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** Goal: the committed line says where a participant's stop went, and nothing it did not see. */
class StopMarksTest {
  @Test
  void phasesSplitTheStopAndMarkWhatWasNotReached() {
    StopMarks s = new StopMarks(1_000);
    s.drainedMs = 1_004;
    s.transferMs = 1_030;
    s.sentMs = 1_031;
    s.changedKeys = 12;
    s.sentKeys = 3;
    assertEquals("drain-ms=4 to-transfer-ms=26 transfer-ms=1 to-commit-ms=69 changed-keys=12 "
        + "delta-keys=3", s.phases(1_100));
    StopMarks noTransfer = new StopMarks(1_000);
    noTransfer.drainedMs = 1_002;
    assertEquals("drain-ms=2 to-transfer-ms=- transfer-ms=- to-commit-ms=- changed-keys=- "
        + "delta-keys=-",
        noTransfer.phases(1_050));
    assertEquals("", StopMarks.none().phases(1_050), "prepared before this process started");
  }
}
