package ringkv.tests.causal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import ringkv.tests.causal.CausalChecker.Kind;
import ringkv.tests.causal.CausalChecker.Op;
import ringkv.tests.causal.CausalChecker.OpKind;
import ringkv.tests.causal.CausalChecker.Version;
import ringkv.tests.causal.CausalChecker.Violation;

/*
 * Goal: CausalChecker accepts a causally consistent history and reports each kind of violation
 * (read-your-writes, monotonic reads, writes-follow-reads, cross-key causality, fabricated and
 * future values, inconsistent version claims), so a passing multi-process run means something.
 * Method: hand-made histories, built operation by operation on a fake clock (each operation
 * takes 1 ns after the previous one unless it overlaps on purpose); each violation history is
 * the clean pattern with one thing broken, and must yield exactly that violation kind.
 */
class CausalCheckerTest {

  /** Builds a history; operations are sequential in the order added unless given times. */
  private static final class History {
    final List<Op> ops = new ArrayList<>();
    long now;

    History op(String client, OpKind kind, String key, String value, int status,
        Object... received) {
      long start = now++;
      return timed(client, kind, key, value, status, start, now++, received);
    }

    History timed(String client, OpKind kind, String key, String value, int status,
        long startNs, long endNs, Object... received) {
      Map<String, Version> meta = new LinkedHashMap<>();
      for (int i = 0; i < received.length; i += 2) {
        meta.put((String) received[i], (Version) received[i + 1]);
      }
      ops.add(new Op(client, kind, key, value, status, Map.of(), meta, startNs, endNs));
      return this;
    }

    History put(String client, String key, String value, Object... received) {
      return op(client, OpKind.PUT, key, value, 201, received);
    }

    History get(String client, String key, String value, Object... received) {
      return op(client, OpKind.GET, key, value, value == null ? 404 : 200, received);
    }

    History delete(String client, String key, Object... received) {
      return op(client, OpKind.DELETE, key, null, 200, received);
    }

    List<Violation> check() {
      return CausalChecker.check(ops);
    }
  }

  private static Version v(long counter) {
    return new Version(counter, "n1");
  }

  @Test
  void cleanHistoryWithCrossKeyReadsDeletesErrorsAndConcurrencyPasses() {
    History h = new History()
        .put("c1", "x", "c1-0", "x", v(10))
        .put("c1", "y", "c1-1", "x", v(10), "y", v(11))
        .get("c2", "y", "c1-1", "y", v(11), "x", v(10))
        .get("c2", "x", "c1-0")                           // metadata pruned: still fine
        .delete("c2", "x", "x", v(12))
        .get("c1", "x", null)                             // c2's delete explains it
        .op("c3", OpKind.GET, "y", null, 503)             // an error is recorded, not judged
        .op("c3", OpKind.PUT, "z", "c3-0", 503)           // may or may not have happened
        .get("c2", "z", "c3-0")                           // it did
        .put("c3", "z", "c3-1", "z", v(14))
        .put("c1", "x", "c1-2", "x", v(13));
    // Concurrent writes of w: a reader may see either, but never go back in claimed order.
    h.timed("c1", OpKind.PUT, "w", "c1-3", 201, 100, 110, "w", v(20));
    h.timed("c2", OpKind.PUT, "w", "c2-0", 201, 101, 109, "w", v(21));
    h.now = 111;
    h.get("c3", "w", "c1-3").get("c3", "w", "c2-0").get("c3", "w", "c2-0", "w", v(21));
    List<Violation> violations = h.check();
    assertEquals(List.of(), violations);
    String summary = CausalChecker.summary(h.ops);
    assertTrue(summary.contains("errors by status={503=2}"), summary);
  }

  /**
   * Violation histories: each is the clean pattern with one thing broken, named by what breaks,
   * with the only violation kind it must yield.
   */
  static Stream<Arguments> brokenHistories() {
    return Stream.of(
        // No metadata at all: the history alone orders c1's two writes.
        Arguments.of("stale read after own write", Kind.READ_YOUR_WRITES, new History()
            .put("c1", "x", "c1-0").put("c1", "x", "c1-1")
            .get("c1", "x", "c1-0")),
        Arguments.of("not found after own write, with no delete", Kind.READ_YOUR_WRITES,
            new History().put("c1", "x", "c1-0").get("c1", "x", null)),
        Arguments.of("reading an older value after a newer one", Kind.MONOTONIC_READS,
            new History()
                .put("c1", "x", "c1-0", "x", v(10))
                .put("c2", "x", "c2-0", "x", v(20))  // concurrent with c1-0, newer by version
                .get("c3", "x", "c2-0")
                .get("c3", "x", "c1-0")),            // back in time
        Arguments.of("old value after seeing its delete", Kind.MONOTONIC_READS, new History()
            .put("c1", "x", "c1-0", "x", v(10))
            .get("c2", "x", "c1-0")
            .delete("c1", "x", "x", v(20))
            .get("c2", "x", null)                    // observes the delete
            .get("c2", "x", "c1-0")),                // and then the deleted value again
        Arguments.of("missing cause of a value read", Kind.CROSS_KEY, new History()
            .put("c1", "x", "c1-0")
            .put("c1", "y", "c1-1")                  // c1 had written x first
            .get("c2", "y", "c1-1")
            .get("c2", "x", null)),                  // the cause of y is missing
        Arguments.of("older value than the cause of a value read", Kind.CROSS_KEY, new History()
            .put("c0", "x", "c0-0", "x", v(5))
            .put("c1", "x", "c1-0", "x", v(10))
            .put("c1", "y", "c1-1", "y", v(11))
            .get("c2", "y", "c1-1")
            .get("c2", "x", "c0-0")),                // older than c1-0, which y's writer knew
        Arguments.of("cause lost through an observed delete", Kind.CROSS_KEY, new History()
            .put("c1", "k", "c1-0")
            .get("c2", "k", "c1-0")
            .put("c1", "x", "c1-1")
            .delete("c1", "k")                       // its writer had written x
            .get("c2", "k", null)                    // c2 observes the delete...
            .get("c2", "x", null)),                  // ...but not its cause
        Arguments.of("write versioned below what its writer read", Kind.WRITES_FOLLOW_READS,
            new History()
                .put("c1", "x", "c1-0", "x", v(10))
                .get("c2", "x", "c1-0")
                .put("c2", "x", "c2-0", "x", v(5))), // would lose to the value it overwrote
        Arguments.of("value nobody wrote", Kind.FABRICATED,
            new History().get("c1", "x", "c9-9")),
        Arguments.of("value written after the read ended", Kind.FUTURE_READ,
            new History().get("c1", "x", "c2-0").put("c2", "x", "c2-0")),
        Arguments.of("two versions for one write", Kind.INCONSISTENT_VERSIONS, new History()
            .put("c1", "x", "c1-0", "x", v(10))
            .get("c2", "x", "c1-0", "x", v(11))));
  }

  @ParameterizedTest(name = "{0}: {1}")
  @MethodSource("brokenHistories")
  void aBrokenHistoryYieldsExactlyItsViolation(String broken, Kind kind, History h) {
    List<Violation> violations = h.check();
    assertEquals(1, violations.size(), broken + ": " + violations);
    assertEquals(kind, violations.get(0).kind(), broken + ": " + violations.get(0));
  }
}
