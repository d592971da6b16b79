package ringkv.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/*
 * Goal: workloads A, B, C and W issue reads and updates in YCSB's proportions.
 *
 * Method: 100,000 seeded draws per workload, read share within 1 point of the target.
 */
class WorkloadTest {
  @Test
  void mixesMatchTheirReadFractions() {
    double[] expected = {0.50, 0.95, 1.00, 0.00};
    Workload[] workloads = {Workload.A, Workload.B, Workload.C, Workload.W};
    for (int w = 0; w < workloads.length; w++) {
      SplittableRandom random = new SplittableRandom(w);
      int reads = 0;
      for (int i = 0; i < 100_000; i++) {
        reads += workloads[w].isRead(random.nextDouble()) ? 1 : 0;
      }
      assertEquals(expected[w], reads / 100_000.0, 0.01, workloads[w].describe());
    }
    assertEquals("C (100% read)", Workload.C.describe());
    assertEquals("B (95% read, 5% update)", Workload.B.describe());
    assertEquals("W (100% update)", Workload.W.describe());
  }
}
