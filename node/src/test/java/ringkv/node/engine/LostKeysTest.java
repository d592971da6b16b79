package ringkv.node.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import ringkv.gossip.Entry;
import ringkv.gossip.QuarantiningStore;

/*
 * Goal: LostKeys marks a quarantined key lost only when every other replica of its shard denied
 * having a copy (or there is none), once, and forgets it when its quarantine clears.
 * Method: table cases over a QuarantiningStore (a MemoryStore whose quarantine the test sets by
 * hand).
 */
class LostKeysTest {
  @Test
  void lostOnlyWhenEveryReplicaDeniedAndUntilItsQuarantineClears() {
    QuarantiningStore store = new QuarantiningStore();
    store.quarantine("a", "b", "c");
    LostKeys lost = new LostKeys(store);
    List<String> asked = List.of("a", "b", "c", "d");
    // Two other replicas: a denied by both, b by one (the other was down), c by none, d is
    // not quarantined (repaired during the pass).
    assertEquals(List.of("a"), lost.judge(asked, Map.of("a", 2, "b", 1, "d", 2), 2));
    assertTrue(lost.isLost("a"));
    assertFalse(lost.isLost("b"));
    assertFalse(lost.isLost("d"));
    assertEquals(List.of(), lost.judge(asked, Map.of("a", 2), 2), "reported once");
    assertEquals(1, lost.count());
    // A shard of one: no replica to ask, every quarantined key is lost.
    assertEquals(List.of("b", "c"), lost.judge(asked, Map.of(), 0));
    assertEquals(3, lost.count());
    store.put(Entry.value("a", "1", new ringkv.gossip.Version(9, "n"),
        ringkv.gossip.CausalContext.EMPTY));
    assertFalse(lost.isLost("a"), "a new write clears it at once");
    assertEquals(1, lost.prune());
    assertEquals(2, lost.count());
  }
}
