package ringkv.gossip;

import java.util.Random;
import java.util.function.Function;

/**
 * The seeded property loop the value-type tests share: {@code rounds} times, draw a triple from
 * one {@link Random} seeded with {@code seed} and check it; the check gets a description of the
 * seed, the round and the triple to put in every assertion message.
 */
final class SeededDraws {
  /** Checks one triple; {@code where} names the seed, the round and the values. */
  interface TripleCheck<T> {
    void check(T a, T b, T c, String where);
  }

  private SeededDraws() {
  }

  static <T> void triples(long seed, int rounds, Function<Random, T> draw, TripleCheck<T> check) {
    Random random = new Random(seed);
    for (int i = 0; i < rounds; i++) {
      T a = draw.apply(random);
      T b = draw.apply(random);
      T c = draw.apply(random);
      check.check(a, b, c, "seed=" + seed + " i=" + i + " a=" + a + " b=" + b + " c=" + c);
    }
  }
}
