package ringkv.gossip;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.function.ToIntFunction;
import org.junit.jupiter.api.Test;
import ringkv.gossip.AntiEntropy.Refusal;
import ringkv.gossip.AntiEntropyRound.Action;
import ringkv.gossip.AntiEntropyRound.AskDigest;
import ringkv.gossip.AntiEntropyRound.AskVersions;
import ringkv.gossip.AntiEntropyRound.Done;
import ringkv.gossip.AntiEntropyRound.Limits;
import ringkv.gossip.AntiEntropyRound.Pull;
import ringkv.gossip.AntiEntropyRound.Push;
import ringkv.gossip.AntiEntropyRound.Yield;

/*
 * Goal: the anti-entropy round as the node and the simulation both run it (AntiEntropy +
 * AntiEntropyRound) repairs two diverged replicas in both directions with tiny pages and batches,
 * leaves writes above the horizon and other shards' keys alone, ends at once on equal digests,
 * fails when the node's epoch moves or the peer serves nothing, ignores answers after a failure,
 * and answers peers by AntiEntropyPolicy's rules (who gives way, epoch, membership, bounds).
 * Values, not only versions: two replicas holding one version of a key with different bytes
 * both end with the copy of the higher checksum, and the round lists the key; with a peer of an
 * earlier release (its digest says nothing of checksums) the round compares versions only.
 * Method: two MemoryStores and a loop that pumps next() and plays the responder in memory, over
 * seeded random divergences, checked against the expected merged store; table cases for the rest.
 */
class AntiEntropyRoundTest {
  private static final Limits TINY = new Limits(3, 2, 2, 200);
  private static final ToIntFunction<String> ONE_SHARD = k -> 0;
  private static final List<String> MEMBERS = List.of("a", "b");

  private static Entry value(String key, long counter, String node) {
    return Entry.value(key, "\"" + key + counter + "\"", new Version(counter, node),
        CausalContext.EMPTY);
  }

  /** Runs one round of {@code mine} against {@code theirs}; returns how it ended. */
  private static Done run(Store mine, Store theirs, long horizon, ToIntFunction<String> shardOf) {
    return run(mine, theirs, horizon, shardOf, false, new ArrayList<>());
  }

  /**
   * As above; {@code earlierRelease}: the responder ignores the request's checksums flag, as a
   * node of an earlier release does. The round's value conflicts go to {@code conflicts}.
   */
  private static Done run(Store mine, Store theirs, long horizon, ToIntFunction<String> shardOf,
      boolean earlierRelease, List<VersionMerge.Conflict> conflicts) {
    AntiEntropy initiator = new AntiEntropy("a", 100, 10, TINY);
    AntiEntropy responder = new AntiEntropy("b", 100, 10, TINY);
    AntiEntropyRound round = initiator.start(0, 1, MEMBERS, m -> true, true, 0).orElseThrow();
    responder.sample(0, horizon);
    for (int steps = 0; steps < 100_000; steps++) {
      Action a = round.next(mine, shardOf, true, 1);
      conflicts.addAll(round.takeConflicts());
      if (a instanceof Done d) {
        initiator.finished(round);
        return d;
      }
      if (a instanceof AskDigest ask) {
        assertTrue(responder.admitDigest(ask.scope(), ask.leafBits(), true, 1, MEMBERS, 20)
            .isEmpty());
        AntiEntropy.DigestScan scan = responder.digestFor(old(ask.scope(), earlierRelease), 20);
        while (!scan.scanPage(theirs, shardOf)) {
          continue;
        }
        responder.digestDone();
        round.onDigest(scan.reply());
      } else if (a instanceof AskVersions ask) {
        round.onVersions(AntiEntropy.versions(theirs, old(ask.scope(), earlierRelease),
            ask.leaves(), ask.after(), ask.limit(), shardOf));
      } else if (a instanceof Pull pull) {
        int fresh = 0;
        for (String k : pull.keys().subList(0, Math.min(1, pull.keys().size()))) {
          Entry e = theirs.get(k);
          if (e != null && e.supersedes(mine.get(k))) {
            mine.put(e);
            fresh++;
          }
        }
        round.onPulled(1, fresh); // serves one key at a time: the continuation must hold
      } else if (a instanceof Push push) {
        int applied = 0;
        for (Entry e : push.entries()) {
          if (e.supersedes(theirs.get(e.key()))) {
            theirs.put(e);
            applied++;
          }
        }
        round.onPushed(applied);
      } else {
        assertInstanceOf(Yield.class, a);
      }
    }
    throw new AssertionError("the round did not end");
  }

  private static AntiEntropyRound.Scope old(AntiEntropyRound.Scope s, boolean earlierRelease) {
    return earlierRelease ? new AntiEntropyRound.Scope(s.from(), s.shard(), s.epoch(),
        s.horizon()) : s;
  }

  private static Version held(Store s, String key) {
    Entry e = s.get(key);
    return e == null ? Version.ZERO : e.version();
  }

  /** One seed's case: diverges two empty stores at random, repairs them, checks the result. */
  private interface DivergedStores {
    void check(int seed, Random random, MemoryStore mine, MemoryStore theirs);
  }

  /**
   * Runs {@code property} for 50 seeds, each on two fresh stores; after it, the stores must be
   * converged: a second round ends at the digest.
   */
  private static void forEachSeed(DivergedStores property) {
    for (int seed = 0; seed < 50; seed++) {
      Random random = new Random(seed);
      MemoryStore mine = new MemoryStore();
      MemoryStore theirs = new MemoryStore();
      property.check(seed, random, mine, theirs);
      Done again = run(mine, theirs, 1_000, ONE_SHARD);
      assertEquals(0, again.leaves(), "seed " + seed + ": converged stores end at the digest");
    }
  }

  @Test
  void repairsBothWaysBelowTheHorizon() {
    forEachSeed((seed, random, mine, theirs) -> {
      List<Entry> newest = new ArrayList<>();
      for (int i = 0; i < 30; i++) {
        String key = "k" + i;
        Entry old = value(key, 1 + random.nextInt(50), "a");
        Entry young = value(key, old.version().counter() + 1 + random.nextInt(50), "b");
        int dice = random.nextInt(6);
        if (dice == 0) {
          mine.put(old);
        } else if (dice == 1) {
          theirs.put(old);
        } else if (dice == 2) {
          mine.put(old);
          theirs.put(young);
        } else if (dice == 3) {
          mine.put(young);
          theirs.put(old);
        } else {
          mine.put(young);
          theirs.put(young);
        }
        newest.add(dice == 0 || dice == 1 ? old : young);
      }
      Done done = run(mine, theirs, 1_000, ONE_SHARD);
      assertTrue(done.completed(), done.toString());
      for (Entry e : newest) {
        assertEquals(e.version(), held(mine, e.key()), "seed " + seed + " mine " + e.key());
        assertEquals(e.version(), held(theirs, e.key()), "seed " + seed + " theirs " + e.key());
      }
    });
  }

  @Test
  void bytesThatDifferAtOneVersionConvergeOnTheHigherChecksum() {
    forEachSeed((seed, random, mine, theirs) -> {
      List<Entry> expected = new ArrayList<>();
      List<String> altered = new ArrayList<>();
      for (int i = 0; i < 30; i++) {
        String key = "k" + i;
        Version v = new Version(1 + random.nextInt(50), "a");
        Entry honest = Entry.value(key, "\"" + key + "\"", v, CausalContext.EMPTY);
        Entry other = random.nextInt(4) == 0 ? Entry.tombstone(key, v, CausalContext.EMPTY)
            : Entry.value(key, "\"" + key + "-altered\"", v, CausalContext.EMPTY);
        boolean alter = random.nextBoolean();
        mine.put(honest);
        theirs.put(alter && random.nextBoolean() ? other : honest);
        if (alter && honest.equals(theirs.get(key))) {
          mine.put(other);
        }
        if (alter) {
          altered.add(key);
        }
        expected.add(alter && other.supersedes(honest) ? other : honest);
      }
      List<VersionMerge.Conflict> conflicts = new ArrayList<>();
      Done done = run(mine, theirs, 1_000, ONE_SHARD, false, conflicts);
      assertTrue(done.completed(), done.toString());
      for (Entry e : expected) {
        assertEquals(e, mine.get(e.key()), "seed " + seed + " mine " + e.key());
        assertEquals(e, theirs.get(e.key()), "seed " + seed + " theirs " + e.key());
      }
      assertEquals(altered.stream().sorted(KeyOrder::compare).toList(),
          conflicts.stream().map(VersionMerge.Conflict::key).toList(),
          "seed " + seed + ": every altered key is reported, once");
      for (VersionMerge.Conflict c : conflicts) {
        Entry kept = mine.get(c.key());
        assertEquals(kept.checksum(), c.theirsWins() ? c.theirs() : c.mine(), c.toString());
      }
      assertEquals(altered.size(), done.sent() + done.received(), "seed " + seed);
    });
  }

  @Test
  void aPeerOfAnEarlierReleaseComparesVersionsOnly() {
    MemoryStore mine = new MemoryStore();
    MemoryStore theirs = new MemoryStore();
    Version v = new Version(3, "a");
    Entry honest = Entry.value("same", "1", v, CausalContext.EMPTY);
    Entry altered = Entry.value("same", "2", v, CausalContext.EMPTY);
    mine.put(honest);
    theirs.put(altered);
    mine.put(value("newer", 7, "a"));
    theirs.put(value("newer", 5, "a"));
    List<VersionMerge.Conflict> conflicts = new ArrayList<>();
    Done done = run(mine, theirs, 1_000, ONE_SHARD, true, conflicts);
    assertTrue(done.completed(), done.toString());
    assertEquals(new Version(7, "a"), held(theirs, "newer"), "versions are still reconciled");
    assertEquals(honest, mine.get("same"), "not compared with an earlier release");
    assertEquals(altered, theirs.get("same"));
    assertTrue(conflicts.isEmpty());
    Done between = run(mine, theirs, 1_000, ONE_SHARD, false, conflicts);
    assertTrue(between.completed());
    assertEquals(mine.get("same"), theirs.get("same"), "compared once both are upgraded");
    assertEquals(1, conflicts.size());
  }

  @Test
  void leavesYoungWritesAndOtherShardsAlone() {
    MemoryStore mine = new MemoryStore();
    MemoryStore theirs = new MemoryStore();
    mine.put(value("young", 500, "a"));
    mine.put(value("foreign", 5, "a"));
    mine.put(value("settled", 5, "a"));
    Done done = run(mine, theirs, 100, k -> k.equals("foreign") ? 1 : 0);
    assertTrue(done.completed());
    assertNull(theirs.get("young"), "above the horizon: the queues' business");
    assertNull(theirs.get("foreign"), "another shard's key");
    assertEquals(new Version(5, "a"), held(theirs, "settled"));
  }

  @Test
  void failsWhenTheEpochMovesOrThePeerServesNothing() {
    MemoryStore mine = new MemoryStore();
    AntiEntropy initiator = new AntiEntropy("a", 100, 10, TINY);
    AntiEntropyRound round = initiator.start(0, 1, MEMBERS, m -> true, true, 0).orElseThrow();
    assertTrue(initiator.start(0, 1, MEMBERS, m -> true, true, 0).isEmpty(), "one at a time");
    assertInstanceOf(AskDigest.class, round.next(mine, ONE_SHARD, true, 1));
    Done d = (Done) round.next(mine, ONE_SHARD, true, 2);
    assertFalse(d.completed());
    round.onDigest(new AntiEntropyRound.DigestReply(new RangeDigest(), 0)); // late: ignored
    assertEquals(d, round.next(mine, ONE_SHARD, true, 1));
    initiator.finished(round);

    mine.put(value("x", 1, "a"));
    AntiEntropyRound pulling = initiator.start(0, 1, MEMBERS, m -> true, true, 20).orElseThrow();
    pulling.next(mine, ONE_SHARD, true, 1);
    RangeDigest other = new RangeDigest();
    other.add("y", new Version(1, "b"));
    pulling.onDigest(new AntiEntropyRound.DigestReply(other, 100));
    Action a;
    while (!((a = pulling.next(mine, ONE_SHARD, true, 1)) instanceof AskVersions)) {
      assertInstanceOf(Yield.class, a);
    }
    pulling.onVersions(new AntiEntropyRound.VersionsPage(
        List.of(new KeyVersion("y", new Version(1, "b"))), null));
    while (!((a = pulling.next(mine, ONE_SHARD, true, 1)) instanceof Pull)) {
      assertInstanceOf(Yield.class, a);
    }
    pulling.onPulled(0, 0);
    assertFalse(((Done) pulling.next(mine, ONE_SHARD, true, 1)).completed());
  }

  @Test
  void answersByThePolicysRules() {
    AntiEntropy b = new AntiEntropy("b", 100, 10, TINY);
    AntiEntropyRound.Scope fromA = new AntiEntropyRound.Scope("a", 0, 1, 0);
    AntiEntropyRound.Scope fromC = new AntiEntropyRound.Scope("c", 0, 1, 0);
    assertEquals(Optional.of(Refusal.Kind.UNAVAILABLE),
        b.admitDigest(fromA, RangeDigest.LEAF_BITS, false, 1, MEMBERS, 0).map(Refusal::kind));
    assertEquals(Optional.of(Refusal.Kind.UNAVAILABLE),
        b.admitDigest(fromA, RangeDigest.LEAF_BITS, true, 2, MEMBERS, 0).map(Refusal::kind));
    assertEquals(Optional.of(Refusal.Kind.UNAVAILABLE),
        b.admitDigest(fromC, RangeDigest.LEAF_BITS, true, 1, MEMBERS, 0).map(Refusal::kind));
    assertEquals(Optional.of(Refusal.Kind.BAD_REQUEST),
        b.admitDigest(fromA, 3, true, 1, MEMBERS, 0).map(Refusal::kind));
    for (int i = 0; i < AntiEntropy.DIGESTS_IN_FLIGHT_MAX; i++) {
      assertTrue(b.admitDigest(fromA, RangeDigest.LEAF_BITS, true, 1, MEMBERS, 0).isEmpty());
    }
    assertEquals(Optional.of(Refusal.Kind.OVERLOADED),
        b.admitDigest(fromA, RangeDigest.LEAF_BITS, true, 1, MEMBERS, 0).map(Refusal::kind));
    b.digestDone();
    assertTrue(b.admitDigest(fromA, RangeDigest.LEAF_BITS, true, 1, MEMBERS, 0).isEmpty());
    // b runs a round with a: b ("b" > "a") gives way; a does not.
    AntiEntropy b2 = new AntiEntropy("b", 100, 10, TINY);
    b2.start(0, 1, MEMBERS, m -> true, true, 0).orElseThrow();
    assertTrue(b2.admitDigest(fromA, RangeDigest.LEAF_BITS, true, 1, MEMBERS, 0).isEmpty());
    AntiEntropy a = new AntiEntropy("a", 100, 10, TINY);
    a.start(0, 1, MEMBERS, m -> true, true, 0).orElseThrow();
    assertEquals(Optional.of(Refusal.Kind.UNAVAILABLE), a.admitDigest(
        new AntiEntropyRound.Scope("b", 0, 1, 0), RangeDigest.LEAF_BITS, true, 1, MEMBERS, 0)
        .map(Refusal::kind));
  }
}
