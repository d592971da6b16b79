package ringkv.tests.chaos;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import ringkv.tests.causal.CausalChecker;
import ringkv.tests.causal.CausalChecker.Op;
import ringkv.tests.causal.CausalChecker.OpKind;
import ringkv.tests.causal.CausalChecker.Version;

/*
 * Goal: the chaos suite's own logic is right before it judges a cluster: the nemesis schedule
 * keeps its invariant (never more than a minority of a shard impaired, every fault ended by its
 * own kind of end, one partition at a time, every kind of fault drawn, the same schedule for the
 * same seed), and LostWrites finds lost writes
 * and only those, including the concurrent cases where real time would mislead.
 * Method: pure, milliseconds. Schedules for 300 seeds are replayed step by step on a model of
 * the impaired nodes; hand-made histories (times in ns, versions as the system would claim
 * them) with known verdicts go through CausalChecker.analyze and LostWrites.
 */
class ChaosChecksTest {
  private static final List<List<Integer>> SHARDS = List.of(List.of(0, 2, 4), List.of(1, 3, 5));

  @Test
  void schedulesNeverImpairMoreThanAMinorityOfAShardAndEndEveryFault() {
    Map<Nemesis.Action, Integer> kinds = new EnumMap<>(Nemesis.Action.class);
    for (long seed = 0; seed < 300; seed++) {
      for (int variant = 0; variant < 8; variant++) {
        boolean partitions = variant % 2 == 0;
        boolean clocks = variant % 4 >= 2;
        boolean views = variant >= 4;
        List<Nemesis.Step> steps = Nemesis.schedule(seed, SHARDS, partitions, clocks, views,
            30_000);
        List<Nemesis.Step> reshards = steps.stream()
            .filter(s -> s.action() == Nemesis.Action.RESHARD).toList();
        assertEquals(views ? List.of(Nemesis.Step.reshard(10_000, 1),
            Nemesis.Step.reshard(20_000, 2)) : List.of(), reshards,
            "into one shard at a third, back at two thirds");
        assertTrue(steps.size() >= 8, "seed " + seed + ": only " + steps.size() + " steps");
        assertEquals(Nemesis.Action.KILL, steps.get(0).action(),
            "seed " + seed + ": every run kills a node mid-writes first");
        assertTrue(steps.stream().filter(s -> s.action() == Nemesis.Action.SKEW).count()
            <= Nemesis.SKEWS_MAX, "seed " + seed + ": too many clock faults");
        Set<Integer> impaired = new HashSet<>();
        Map<Integer, Nemesis.Action> downBy = new HashMap<>();
        Set<Integer> cut = new HashSet<>();
        long last = 0;
        for (Nemesis.Step s : steps) {
          assertTrue(s.atMs() >= last && s.atMs() <= 30_000, "seed " + seed + ": " + s);
          last = s.atMs();
          kinds.merge(s.action(), 1, Integer::sum);
          switch (s.action()) {
            case KILL, STOP, PAUSE, SKEW -> {
              assertTrue(clocks || s.action() != Nemesis.Action.SKEW, "seed " + seed + ": " + s);
              assertTrue(s.action() != Nemesis.Action.SKEW
                  || Math.abs(s.clockOffsetS()) >= 60 && Math.abs(s.clockOffsetS()) <= 300, "" + s);
              for (int n : s.nodes()) {
                assertTrue(impaired.add(n), "" + s);
                downBy.put(n, s.action());
              }
            }
            case RESTART, RESUME, UNSKEW -> {
              for (int n : s.nodes()) {
                assertTrue(impaired.remove(n), "" + s);
                // a restart ends a kill or a stop, a resume a pause, an unskew a skew
                Nemesis.Action fault = downBy.remove(n);
                assertEquals(s.action() == Nemesis.Action.RESUME, fault == Nemesis.Action.PAUSE,
                    "seed " + seed + ": " + s);
                assertEquals(s.action() == Nemesis.Action.UNSKEW, fault == Nemesis.Action.SKEW,
                    "seed " + seed + ": " + s);
              }
            }
            case PARTITION -> {
              assertTrue(partitions && cut.isEmpty(), "seed " + seed + ": " + s);
              s.nodes().forEach(n -> assertTrue(impaired.add(n), "" + s));
              cut.addAll(s.nodes());
              Set<Integer> all = new HashSet<>(s.nodes());
              all.addAll(s.others());
              assertEquals(6, all.size(), "a partition splits every node: " + s);
            }
            case HEAL -> {
              impaired.removeAll(cut);
              cut.clear();
            }
            case RESHARD -> assertTrue(s.nodes().isEmpty(), "impairs nobody: " + s);
            default -> throw new AssertionError(s);
          }
          for (List<Integer> shard : SHARDS) {
            long down = shard.stream().filter(impaired::contains).count();
            assertTrue(down <= 1, "seed " + seed + ": " + down + " of " + shard + " after " + s);
          }
        }
        assertTrue(impaired.isEmpty(), "seed " + seed + ": left impaired " + impaired);
      }
    }
    assertEquals(Set.of(Nemesis.Action.values()), kinds.keySet(),
        "every kind of step is drawn: " + kinds);
    assertEquals(Nemesis.schedule(7, SHARDS, true, 30_000),
        Nemesis.schedule(7, SHARDS, true, 30_000), "one seed, one schedule");
    assertThrows(IllegalArgumentException.class,
        () -> Nemesis.schedule(1, List.of(List.of(0, 1), List.of(2, 3)), true, 30_000));
  }

  /** A hand-made history; {@code t} is a logical time, each op lasting one unit. */
  private static final class History {
    final List<Op> ops = new ArrayList<>();
    final List<Op> finals = new ArrayList<>();

    Op put(String client, String key, String value, int status, Version v, long t) {
      return add(client, OpKind.PUT, key, value, status, v, t);
    }

    Op delete(String client, String key, int status, Version v, long t) {
      return add(client, OpKind.DELETE, key, null, status, v, t);
    }

    Op get(String client, String key, String value, Version v, long t) {
      return add(client, OpKind.GET, key, value, value == null ? 404 : 200, v, t);
    }

    /** A final read by the observer of {@code node}. */
    void finalRead(String node, String key, String value, Version v, long t) {
      finals.add(get("final@" + node, key, value, v, t));
    }

    private Op add(String client, OpKind kind, String key, String value, int status, Version v,
        long t) {
      Map<String, Version> received = new HashMap<>();
      if (v != null) {
        received.put(key, v);
      }
      Op op = new Op(client, kind, key, value, status, Map.of(), received, t * 10, t * 10 + 5);
      ops.add(op);
      return op;
    }

    List<LostWrites.Lost> lost() {
      return LostWrites.find(ops, finals, CausalChecker.analyze(ops));
    }
  }

  private static Version v(long counter, String node) {
    return new Version(counter, node);
  }

  /** Asserts that LostWrites finds exactly {@code writes} lost in {@code h}, in this order. */
  private static void assertLost(History h, List<Op> writes) {
    assertLost(h, writes, "lost writes");
  }

  /** {@link #assertLost(History, List)}, a failure saying {@code why} and every loss found. */
  private static void assertLost(History h, List<Op> writes, String why) {
    List<LostWrites.Lost> lost = h.lost();
    assertEquals(writes, lost.stream().map(LostWrites.Lost::write).toList(), why + ": " + lost);
  }

  @Test
  void aFinalValueOlderThanTheLastAcknowledgedWriteIsALoss() {
    History h = new History();
    h.put("c1", "k", "c1-0", 201, v(1, "a"), 1);
    Op lastWrite = h.put("c2", "k", "c2-0", 200, v(5, "b"), 2);
    h.finalRead("a", "k", "c2-0", v(5, "b"), 10);
    h.finalRead("b", "k", "c1-0", v(1, "a"), 10);
    assertLost(h, List.of(lastWrite));
  }

  @Test
  void aLaterButConcurrentWriteMayLoseToAnEarlierOneWithAHigherVersion() {
    // c2 wrote after c1's acknowledgement, through a node that had not seen c1's write (a
    // partition): concurrent, and last-writer-wins keeps c1's. Real time would call c1's
    // write superseded and the final state wrong.
    History h = new History();
    h.put("c1", "k", "c1-0", 201, v(9, "a"), 1);
    h.put("c2", "k", "c2-0", 201, v(3, "b"), 5);
    h.finalRead("a", "k", "c1-0", v(9, "a"), 10);
    assertEquals(List.of(), h.lost());
  }

  @Test
  void aCausallyLaterWriteMustWinEvenWithoutVersions() {
    History h = new History();
    h.put("c1", "k", "c1-0", 201, null, 1);
    h.get("c2", "k", "c1-0", null, 2);
    Op w = h.put("c2", "k", "c2-0", 200, null, 3); // c2 knew c1-0
    h.finalRead("a", "k", "c1-0", null, 10);
    assertLost(h, List.of(w));
  }

  @Test
  void anOverwrittenWriteIsNotCountedOnlyTheLastOne() {
    History h = new History();
    h.put("c1", "k", "c1-0", 201, v(1, "a"), 1);
    h.put("c1", "k", "c1-1", 200, v(2, "a"), 2);
    Op last = h.put("c1", "k", "c1-2", 200, v(3, "a"), 3);
    h.finalRead("a", "k", "c1-0", v(1, "a"), 10);
    assertLost(h, List.of(last));
  }

  @Test
  void absenceNeedsADeleteNotOlderThanTheAcknowledgedPuts() {
    History h = new History();
    h.put("c1", "k", "c1-0", 201, v(1, "a"), 1);
    h.delete("c1", "k", 200, v(2, "a"), 2);
    h.finalRead("a", "k", null, v(2, "a"), 10);
    assertEquals(List.of(), h.lost(), "deleted after the put");

    History lostPut = new History();
    Op put = lostPut.put("c1", "k", "c1-0", 201, v(4, "a"), 1);
    lostPut.delete("c2", "k", 200, v(2, "b"), 2);
    lostPut.finalRead("a", "k", null, null, 10);
    assertLost(lostPut, List.of(put), "the only delete is older than the put");

    History noDelete = new History();
    Op only = noDelete.put("c1", "k2", "c1-0", 201, v(4, "a"), 1);
    noDelete.finalRead("a", "k2", null, null, 10);
    assertLost(noDelete, List.of(only));
  }

  @Test
  void aRefusedDeleteNeverHappenedAndATombstoneBelowAnAcknowledgedPutIsALoss() {
    History h = new History();
    Op put = h.put("c1", "k", "c1-0", 201, v(4, "a"), 1);
    h.delete("c2", "k", CausalChecker.REFUSED, null, 2); // a killed node refused it
    h.finalRead("a", "k", null, null, 10);
    assertLost(h, List.of(put));

    History maybe = new History();
    maybe.put("c1", "k", "c1-0", 201, v(4, "a"), 1);
    maybe.delete("c2", "k", CausalChecker.NO_ANSWER, null, 2); // it may have happened
    maybe.finalRead("a", "k", null, null, 10);
    assertEquals(List.of(), maybe.lost());

    History below = new History();
    Op newer = below.put("c1", "k", "c1-0", 201, v(4, "a"), 1);
    below.delete("c2", "k", CausalChecker.NO_ANSWER, null, 2);
    below.finalRead("a", "k", null, v(3, "b"), 10); // the tombstone the node holds
    assertLost(below, List.of(newer), "last-writer-wins keeps a PUT above the tombstone");
  }

  @Test
  void aResurrectedValueLosesTheAcknowledgedDelete() {
    History h = new History();
    h.put("c1", "k", "c1-0", 201, v(1, "a"), 1);
    Op delete = h.delete("c1", "k", 200, v(2, "a"), 2);
    h.finalRead("b", "k", "c1-0", v(1, "a"), 10);
    assertLost(h, List.of(delete));
  }

  @Test
  void aMaybeWriteMayBeTheFinalStateAndUnacknowledgedWritesAreNeverLost() {
    History h = new History();
    h.put("c1", "k", "c1-0", 201, v(1, "a"), 1);
    h.put("c2", "k", "c2-0", -1, null, 2); // no answer: it may have happened
    h.put("c3", "k", "c3-0", 503, null, 3);
    h.finalRead("a", "k", "c2-0", v(7, "b"), 10);
    assertEquals(List.of(), h.lost());

    History never = new History();
    never.put("c1", "k", "c1-0", -1, null, 1);
    never.finalRead("a", "k", null, null, 10);
    assertEquals(List.of(), never.lost(), "a write without an answer may not have happened");
  }
}
