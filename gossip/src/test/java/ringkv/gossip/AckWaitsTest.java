package ringkv.gossip;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/*
 * Goal: a write that asked for k replicas is released once k-1 distinct peers of those asked
 * acknowledged it (or a newer version of its key), never by an older version, another key, a
 * peer not asked or the same peer twice; at its deadline it ends with the count it reached; the
 * number of waits is bounded. Method: pure, with hand-made entries.
 */
class AckWaitsTest {
  private static Entry put(String key, long counter) {
    return Entry.value(key, "\"v\"", new Version(counter, "a:1"), CausalContext.EMPTY);
  }

  @Test
  void releasedOnceEnoughDistinctPeersHoldTheVersionOrANewerOne() {
    AckWaits waits = new AckWaits(10);
    long id = waits.await("k", new Version(5, "a:1"), Set.of("b:1", "c:1", "d:1"), 2, 1_000)
        .getAsLong();
    assertEquals(List.of(), waits.onAcked("b:1", List.of(put("k", 4))), "older version");
    assertEquals(List.of(), waits.onAcked("b:1", List.of(put("other", 9))), "another key");
    assertEquals(List.of(), waits.onAcked("x:1", List.of(put("k", 5))), "a peer not asked");
    assertEquals(List.of(), waits.onAcked("b:1", List.of(put("k", 5))));
    assertEquals(List.of(), waits.onAcked("b:1", List.of(put("k", 6))), "the same peer again");
    assertEquals(List.of(new AckWaits.Released(id, 2, 2)),
        waits.onAcked("c:1", List.of(put("other", 1), put("k", 7))), "a newer version counts");
    assertEquals(0, waits.size());
    assertTrue(new AckWaits.Released(id, 2, 2).enough());
  }

  @Test
  void aWaitEndsAtItsDeadlineWithTheCountItReached() {
    AckWaits waits = new AckWaits(10);
    long id = waits.await("k", new Version(5, "a:1"), Set.of("b:1", "c:1"), 2, 1_000)
        .getAsLong();
    waits.onAcked("b:1", List.of(put("k", 5)));
    assertEquals(List.of(), waits.expire(999));
    List<AckWaits.Released> ended = waits.expire(1_000);
    assertEquals(List.of(new AckWaits.Released(id, 1, 2)), ended);
    assertTrue(!ended.get(0).enough());
    assertEquals(List.of(), waits.onAcked("c:1", List.of(put("k", 5))), "gone");
  }

  @Test
  void boundedAndChecked() {
    AckWaits waits = new AckWaits(1);
    assertTrue(waits.await("k", Version.ZERO, Set.of("b:1"), 1, 10).isPresent());
    assertTrue(waits.await("j", Version.ZERO, Set.of("b:1"), 1, 10).isEmpty(), "full");
    assertThrows(IllegalArgumentException.class,
        () -> waits.await("k", Version.ZERO, Set.of("b:1"), 2, 10));
  }
}
