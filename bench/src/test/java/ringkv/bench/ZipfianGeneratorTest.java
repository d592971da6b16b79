package ringkv.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/*
 * Goal: the key choosers draw what YCSB draws: the zipfian gives item i a probability
 * proportional to 1/(i+1)^0.99 (checked against the exact probabilities), the scrambled variant
 * keeps that skew but scatters the hot items, and uniform is flat; every draw is in range and a
 * seed repeats a run.
 *
 * Method: 200,000 seeded draws per generator; frequencies compared with the analytic
 * probabilities within tolerances several standard deviations wide.
 */
class ZipfianGeneratorTest {
  private static final int DRAWS = 200_000;

  private static long[] histogram(KeyChooser chooser, long seed) {
    SplittableRandom random = new SplittableRandom(seed);
    long[] counts = new long[(int) chooser.records()];
    for (int i = 0; i < DRAWS; i++) {
      long n = chooser.next(random);
      assertTrue(n >= 0 && n < chooser.records(), "out of range: " + n);
      counts[(int) n]++;
    }
    return counts;
  }

  @Test
  void zipfianMatchesTheAnalyticProbabilitiesOfTheHeadItems() {
    ZipfianGenerator z = new ZipfianGenerator(1000);
    assertEquals(0.99, z.theta());
    double zeta = ZipfianGenerator.zeta(1000, 0.99);
    assertEquals(1 / zeta, z.probabilityOfFirst(), 1e-12);
    long[] counts = histogram(z, 42);
    // Items 0 and 1 are exact in Gray's method; item 2 onward is approximated.
    for (int i = 0; i < 2; i++) {
      double expected = DRAWS / Math.pow(i + 1, 0.99) / zeta;
      assertEquals(expected, counts[i], 5 * Math.sqrt(expected), "item " + i);
    }
    for (int i = 2; i < 10; i++) {
      double expected = DRAWS / Math.pow(i + 1, 0.99) / zeta;
      assertEquals(expected, counts[i], 0.25 * expected, "item " + i);
    }
    long head = Arrays.stream(counts, 0, 100).sum();
    double expectedHead = DRAWS * ZipfianGenerator.zeta(100, 0.99) / zeta;
    assertEquals(expectedHead, head, 0.05 * expectedHead, "share of the 100 hottest items");
  }

  @Test
  void scrambledZipfianKeepsTheSkewButScattersTheHotRecords() {
    long[] counts = histogram(KeyChooser.zipfian(10_000), 7);
    long[] sorted = counts.clone();
    Arrays.sort(sorted);
    double hottest = sorted[sorted.length - 1] / (double) DRAWS;
    // YCSB: item 0 of the underlying zipfian has 1/zeta(10^10, 0.99) = 3.78%.
    assertTrue(hottest > 0.035 && hottest < 0.06, "hottest record share " + hottest);
    int hottestIndex = 0;
    for (int i = 0; i < counts.length; i++) {
      if (counts[i] == sorted[sorted.length - 1]) {
        hottestIndex = i;
      }
    }
    assertTrue(hottestIndex > 0, "the hottest record is not simply record 0");
    long hottestHundred = Arrays.stream(sorted, sorted.length - 100, sorted.length).sum();
    double share = hottestHundred / (double) DRAWS;
    assertTrue(share > 0.15, "the hottest 1% of the records get " + share + " of the draws");
  }

  @Test
  void uniformIsFlatAndSeedsRepeat() {
    long[] counts = histogram(KeyChooser.uniform(100), 3);
    for (long c : counts) {
      assertEquals(DRAWS / 100.0, c, 5 * Math.sqrt(DRAWS / 100.0));
    }
    assertTrue(Arrays.equals(histogram(KeyChooser.zipfian(500), 11),
        histogram(KeyChooser.zipfian(500), 11)));
    assertTrue(ScrambledZipfianGenerator.fnvHash64(0) >= 0);
  }
}
