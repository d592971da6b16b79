package ringkv.ring;

import com.google.common.base.Preconditions;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.PriorityQueue;

/**
 * Adds shards to a ring one at a time. Old tokens never move and the new shard k+1 gets exactly V
 * new tokens carved out of old arcs, so the only space that changes owner is what the new shard
 * takes: 1/(k+1) of the circle, the minimum. Because every step only adds tokens, the ring for
 * M shards is exactly the ring for N &gt; M shards with the tokens of shards M+1..N deleted; that
 * is how {@link Ring#reshard} shrinks, and why shrinking also moves only the minimum.
 *
 * <p>One step k -&gt; k+1, with target share τ = 2^64/(k+1) and each old shard aiming to give
 * its surplus {@code owned - τ}:
 * <ol>
 *   <li>Pieces: a new token's arc lies inside one old arc, and one piece per old arc can take
 *       up to that arc's length minus one point, so a shard giving c pieces can give at most its
 *       c longest arcs minus c. Each of the V pieces goes to the shard whose surplus exceeds
 *       what its current pieces can carry by the most (ties: lowest id); once every surplus can
 *       be carried, the remaining pieces go to the donor with the largest mean piece.
 *   <li>Amounts: donors are lowered towards one common level (found by bisection) so that they
 *       give τ in total, each within [c, its c longest arcs - c].
 *   <li>Carving: each donor splits its amount over its c longest arcs in proportion to their
 *       lengths, carving each piece from the start of its arc.
 * </ol>
 * With k &lt;= V every shard can usually give its surplus and shares become equal; with k &gt; V
 * only V shards can give, so the others grow relative to 1/(k+1) by at most (k+1)/k. For the
 * default V = 20 the tests check every N up to 1024 stays within 1/21 of 1/N.
 *
 * <p>The working state is mutable and confined to one {@link #grow} call; not thread-safe.
 */
final class RingGrowth {
  private final int vnodes;
  /** Per shard (index = shard id - 1): its V tokens. */
  private final List<long[]> tokens = new ArrayList<>();
  /** Per shard: the arc length owned by each of its tokens; 0 means the full circle. */
  private final List<long[]> arcs = new ArrayList<>();
  /** Per shard: the exact space it owns. */
  private final List<BigInteger> owned = new ArrayList<>();

  private RingGrowth(Ring ring) {
    this.vnodes = ring.vnodesPerShard();
    int[] filled = new int[ring.shardCount()];
    for (int s = 0; s < ring.shardCount(); s++) {
      tokens.add(new long[vnodes]);
      arcs.add(new long[vnodes]);
      owned.add(BigInteger.ZERO);
    }
    for (int i = 0; i < ring.tokenCount(); i++) {
      int s = ring.ownerAt(i) - 1;
      tokens.get(s)[filled[s]] = ring.tokenAt(i);
      arcs.get(s)[filled[s]] = ring.arcAt(i);
      owned.set(s, owned.get(s).add(Unsigned64.exact(ring.arcAt(i))));
      filled[s]++;
    }
  }

  static Ring grow(Ring ring, int newShardCount) {
    Preconditions.checkArgument(newShardCount > ring.shardCount(), "growth needs more shards");
    Preconditions.checkArgument((long) newShardCount * ring.vnodesPerShard() <= Ring.TOKENS_MAX,
        "%s shards of %s vnodes exceed %s tokens",
        newShardCount, ring.vnodesPerShard(), Ring.TOKENS_MAX);
    RingGrowth growth = new RingGrowth(ring);
    while (growth.owned.size() < newShardCount) {
      growth.addShard();
    }
    return growth.toRing();
  }

  private void addShard() {
    int oldCount = owned.size();
    BigInteger take = Unsigned64.SPACE_EXACT.divide(BigInteger.valueOf(oldCount + 1));
    Donor[] donors = new Donor[oldCount];
    for (int s = 0; s < oldCount; s++) {
      donors[s] = new Donor(s, owned.get(s).subtract(take).max(BigInteger.ZERO));
    }
    dealPieces(donors);
    level(donors, take);
    long[] newTokens = new long[vnodes];
    long[] newArcs = new long[vnodes];
    int next = 0;
    BigInteger given = BigInteger.ZERO;
    for (Donor donor : donors) {
      if (donor.pieces > 0) {
        next = carve(donor, newTokens, newArcs, next);
        given = given.add(donor.give);
      }
    }
    Preconditions.checkState(next == vnodes, "carved %s pieces, expected %s", next, vnodes);
    tokens.add(newTokens);
    arcs.add(newArcs);
    owned.add(given);
  }

  /** One old shard's part in a step; its arcs are sorted longest first once it gets a piece. */
  private final class Donor {
    final int shard;
    final BigInteger surplus;
    int pieces;
    /** Indices into the shard's token array, longest arc first (ties: lower token). */
    Integer[] longest;
    /** What its current pieces can carry: its longest arcs minus one point each. */
    BigInteger capacity = BigInteger.ZERO;
    BigInteger give = BigInteger.ZERO;

    Donor(int shard, BigInteger surplus) {
      this.shard = shard;
      this.surplus = surplus;
    }

    BigInteger unmet() {
      return surplus.subtract(capacity);
    }

    double meanPiece() {
      return surplus.doubleValue() / pieces;
    }

    void addPiece() {
      if (longest == null) {
        long[] shardTokens = tokens.get(shard);
        long[] shardArcs = arcs.get(shard);
        longest = new Integer[vnodes];
        for (int j = 0; j < vnodes; j++) {
          longest[j] = j;
        }
        Arrays.sort(longest, (a, b) -> {
          int byLength = Unsigned64.compareArcs(shardArcs[b], shardArcs[a]);
          return byLength != 0 ? byLength : Long.compare(shardTokens[a], shardTokens[b]);
        });
      }
      long arc = arcs.get(shard)[longest[pieces]];
      capacity = capacity.add(Unsigned64.exact(arc)).subtract(BigInteger.ONE);
      pieces++;
    }
  }

  private void dealPieces(Donor[] donors) {
    PriorityQueue<Donor> byUnmet = new PriorityQueue<>(
        Comparator.comparing(Donor::unmet, Comparator.reverseOrder())
            .thenComparingInt(d -> d.shard));
    for (Donor donor : donors) {
      if (donor.surplus.signum() > 0) {
        byUnmet.add(donor);
      }
    }
    Preconditions.checkState(!byUnmet.isEmpty(), "no shard owns more than its share");
    int dealt = 0;
    while (dealt < vnodes && byUnmet.peek().unmet().signum() > 0) {
      Donor donor = byUnmet.poll();
      donor.addPiece();
      byUnmet.add(donor);
      dealt++;
    }
    PriorityQueue<Donor> byMeanPiece = new PriorityQueue<>(
        Comparator.comparingDouble((Donor d) -> -d.meanPiece()).thenComparingInt(d -> d.shard));
    for (Donor donor : donors) {
      if (donor.pieces > 0) {
        byMeanPiece.add(donor);
      }
    }
    for (; dealt < vnodes; dealt++) {
      Donor donor = byMeanPiece.poll();
      Preconditions.checkState(donor != null && donor.pieces < vnodes,
          "no shard can take piece %s", dealt);
      donor.addPiece();
      byMeanPiece.add(donor);
    }
  }

  /**
   * Sets each donor's amount to {@code owned - level} clamped to [pieces, capacity], with the
   * lowest level at which the donors give at most {@code take} together.
   */
  private void level(Donor[] donors, BigInteger take) {
    BigInteger low = BigInteger.ZERO;
    BigInteger high = Unsigned64.SPACE_EXACT;
    while (high.subtract(low).compareTo(BigInteger.ONE) > 0) {
      BigInteger middle = low.add(high).shiftRight(1);
      if (totalGiven(donors, middle).compareTo(take) > 0) {
        low = middle;
      } else {
        high = middle;
      }
    }
    for (Donor donor : donors) {
      donor.give = amount(donor, high);
    }
  }

  private BigInteger totalGiven(Donor[] donors, BigInteger level) {
    BigInteger total = BigInteger.ZERO;
    for (Donor donor : donors) {
      total = total.add(amount(donor, level));
    }
    return total;
  }

  private BigInteger amount(Donor donor, BigInteger level) {
    if (donor.pieces == 0) {
      return BigInteger.ZERO;
    }
    return owned.get(donor.shard).subtract(level)
        .max(BigInteger.valueOf(donor.pieces)).min(donor.capacity);
  }

  /**
   * Splits the donor's amount over its longest arcs in proportion to their lengths, each piece
   * in [1, arc - 1], carving from the start of the arc; returns the next free slot.
   */
  private int carve(Donor donor, long[] newTokens, long[] newArcs, int next) {
    long[] shardTokens = tokens.get(donor.shard);
    long[] shardArcs = arcs.get(donor.shard);
    BigInteger[] lengths = new BigInteger[donor.pieces];
    BigInteger sum = BigInteger.ZERO;
    for (int j = 0; j < donor.pieces; j++) {
      lengths[j] = Unsigned64.exact(shardArcs[donor.longest[j]]);
      sum = sum.add(lengths[j]);
    }
    BigInteger[] pieces = new BigInteger[donor.pieces];
    BigInteger rest = donor.give;
    for (int j = 0; j < donor.pieces; j++) {
      BigInteger proportional = donor.give.multiply(lengths[j]).divide(sum);
      pieces[j] = proportional.max(BigInteger.ONE).min(lengths[j].subtract(BigInteger.ONE));
      rest = rest.subtract(pieces[j]);
    }
    for (int j = 0; j < donor.pieces && rest.signum() != 0; j++) {
      BigInteger room = rest.signum() > 0
          ? lengths[j].subtract(BigInteger.ONE).subtract(pieces[j])
          : BigInteger.ONE.subtract(pieces[j]);
      BigInteger change = rest.signum() > 0 ? rest.min(room) : rest.max(room);
      pieces[j] = pieces[j].add(change);
      rest = rest.subtract(change);
    }
    Preconditions.checkState(rest.signum() == 0, "shard %s cannot give %s", donor.shard + 1,
        donor.give);
    for (int j = 0; j < donor.pieces; j++) {
      int index = donor.longest[j];
      long piece = pieces[j].longValue();
      long start = shardTokens[index] - shardArcs[index];
      newTokens[next] = start + piece;
      newArcs[next] = piece;
      shardArcs[index] -= piece;
      next++;
    }
    owned.set(donor.shard, owned.get(donor.shard).subtract(donor.give));
    return next;
  }

  private Ring toRing() {
    int total = owned.size() * vnodes;
    long[] allTokens = new long[total];
    int[] owners = new int[total];
    for (int s = 0; s < owned.size(); s++) {
      System.arraycopy(tokens.get(s), 0, allTokens, s * vnodes, vnodes);
      Arrays.fill(owners, s * vnodes, (s + 1) * vnodes, s + 1);
    }
    return Ring.of(vnodes, allTokens, owners);
  }
}
