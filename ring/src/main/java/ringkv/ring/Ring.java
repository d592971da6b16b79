package ringkv.ring;

import com.google.common.base.Preconditions;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.SortedMap;
import java.util.SortedSet;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * The consistent-hash ring: which shard owns each point of the signed 64-bit hash circle.
 *
 * <p>Every shard 1..N owns exactly {@code vnodesPerShard} (V) tokens; a token owns the arc
 * (previous token, token], and the first token also owns the wrap-around after the last one.
 * Tokens are never placed at random. {@link #base} splits the circle into V equal arcs of shard
 * 1; growth adds shards one at a time, each carving V new tokens out of the most loaded shards
 * without moving any old token ({@link RingGrowth}). Hence the ring for N shards is always the
 * ring for N+1 shards minus shard N+1's tokens: there is one canonical ring per (N, V), shrinking
 * is deleting tokens, and a reshard N -&gt; M moves exactly the space owned by shards
 * min(N,M)+1..max(N,M) in the larger ring: the minimum |M-N|/max(M,N) up to their share
 * deviation.
 *
 * <p>Balance: with N &lt;= V+1 all shares are equal (up to rounding); beyond that only V shards
 * can give to each new shard, and for the default V = 20 every N up to 1024 stays within 1/21
 * (4.8%) of 1/N. The tests check both exhaustively.
 *
 * <p>Invariants: tokens are distinct and sorted in signed order; shard ids are exactly 1..N;
 * each shard owns exactly V tokens; N &lt;= {@link #SHARD_COUNT_MAX}, V &lt;=
 * {@link #VNODES_PER_SHARD_MAX}, N * V &lt;= {@link #TOKENS_MAX}.
 *
 * <p>Immutable; thread-safe.
 */
public final class Ring {
  public static final int DEFAULT_VNODES_PER_SHARD = 20;
  public static final int SHARD_COUNT_MAX = 1024;
  public static final int VNODES_PER_SHARD_MAX = 1024;
  public static final int TOKENS_MAX = 1 << 16;

  private final int vnodesPerShard;
  private final int shardCount;
  /** Sorted in signed order. */
  private final long[] tokens;
  /** owners[i] owns tokens[i]. */
  private final int[] owners;
  /** shares[s - 1] is the fraction of the circle owned by shard s. */
  private final double[] shares;
  private final List<TokenEntry> entries;

  private Ring(int vnodesPerShard, long[] tokens, int[] owners) {
    Preconditions.checkArgument(vnodesPerShard >= 1 && vnodesPerShard <= VNODES_PER_SHARD_MAX,
        "vnodes per shard must be in 1..%s, got %s", VNODES_PER_SHARD_MAX, vnodesPerShard);
    Preconditions.checkArgument(tokens.length == owners.length, "tokens and owners differ");
    Preconditions.checkArgument(tokens.length >= 1 && tokens.length <= TOKENS_MAX,
        "token count must be in 1..%s, got %s", TOKENS_MAX, tokens.length);
    Preconditions.checkArgument(tokens.length % vnodesPerShard == 0,
        "token count %s is not a multiple of vnodes per shard %s", tokens.length, vnodesPerShard);
    this.vnodesPerShard = vnodesPerShard;
    this.shardCount = tokens.length / vnodesPerShard;
    Preconditions.checkArgument(shardCount <= SHARD_COUNT_MAX,
        "shard count must be <= %s, got %s", SHARD_COUNT_MAX, shardCount);
    this.tokens = tokens;
    this.owners = owners;
    int[] counts = new int[shardCount];
    for (int i = 0; i < tokens.length; i++) {
      Preconditions.checkArgument(i == 0 || tokens[i - 1] < tokens[i],
          "tokens must be distinct; %s appears twice", tokens[i]);
      Preconditions.checkArgument(owners[i] >= 1 && owners[i] <= shardCount,
          "shard ids must be exactly 1..%s, got %s", shardCount, owners[i]);
      counts[owners[i] - 1]++;
    }
    for (int s = 1; s <= shardCount; s++) {
      Preconditions.checkArgument(counts[s - 1] == vnodesPerShard,
          "shard %s owns %s tokens, expected %s", s, counts[s - 1], vnodesPerShard);
    }
    this.shares = computeShares();
    List<TokenEntry> list = new ArrayList<>(tokens.length);
    for (int i = 0; i < tokens.length; i++) {
      list.add(new TokenEntry(tokens[i], owners[i]));
    }
    this.entries = List.copyOf(list);
  }

  /** The ring for {@code shardCount} shards: {@code base(vnodesPerShard).reshard(shardCount)}. */
  public static Ring initial(int shardCount, int vnodesPerShard) {
    checkShardCount(shardCount);
    return base(vnodesPerShard).reshard(shardCount);
  }

  /**
   * Rebuilds a ring from its token table (as sent over the wire), in any order.
   *
   * @throws IllegalArgumentException unless tokens are distinct, shard ids are exactly 1..N and
   *     each shard owns exactly {@code vnodesPerShard} tokens
   */
  public static Ring fromTokens(int vnodesPerShard, List<TokenEntry> tokens) {
    Preconditions.checkNotNull(tokens, "tokens");
    List<TokenEntry> sorted = new ArrayList<>(tokens);
    sorted.sort(Comparator.comparingLong(TokenEntry::token));
    long[] tokenArray = new long[sorted.size()];
    int[] ownerArray = new int[sorted.size()];
    for (int i = 0; i < sorted.size(); i++) {
      tokenArray[i] = sorted.get(i).token();
      ownerArray[i] = sorted.get(i).shardId();
    }
    return new Ring(vnodesPerShard, tokenArray, ownerArray);
  }

  /** Builds a ring from unsorted parallel arrays (takes ownership of neither). */
  static Ring of(int vnodesPerShard, long[] tokens, int[] owners) {
    Preconditions.checkArgument(tokens.length == owners.length, "tokens and owners differ");
    List<TokenEntry> list = new ArrayList<>(tokens.length);
    for (int i = 0; i < tokens.length; i++) {
      list.add(new TokenEntry(tokens[i], owners[i]));
    }
    return fromTokens(vnodesPerShard, list);
  }

  /** One shard whose tokens split the circle into {@code vnodesPerShard} equal arcs. */
  static Ring base(int vnodesPerShard) {
    Preconditions.checkArgument(vnodesPerShard >= 1 && vnodesPerShard <= VNODES_PER_SHARD_MAX,
        "vnodes per shard must be in 1..%s, got %s", VNODES_PER_SHARD_MAX, vnodesPerShard);
    long step = vnodesPerShard == 1 ? 0 : Unsigned64.spaceDividedBy(vnodesPerShard);
    long[] tokenArray = new long[vnodesPerShard];
    int[] ownerArray = new int[vnodesPerShard];
    for (int j = 0; j < vnodesPerShard; j++) {
      tokenArray[j] = Long.MIN_VALUE + j * step;
      ownerArray[j] = 1;
    }
    return new Ring(vnodesPerShard, tokenArray, ownerArray);
  }

  /**
   * Derives the ring for {@code newShardCount} shards from this one. Growth keeps every token
   * and adds shards N+1..M one at a time; shrinking deletes the tokens of shards M+1..N, whose
   * space returns to the tokens it was carved from. Only the space of the added or removed
   * shards changes owner. Returns {@code this} when the count is unchanged.
   */
  public Ring reshard(int newShardCount) {
    checkShardCount(newShardCount);
    if (newShardCount == shardCount) {
      return this;
    }
    return newShardCount > shardCount
        ? RingGrowth.grow(this, newShardCount)
        : prefix(newShardCount);
  }

  /** The ring of shards 1..newShardCount: this ring without the tokens of the others. */
  private Ring prefix(int newShardCount) {
    int kept = newShardCount * vnodesPerShard;
    long[] keptTokens = new long[kept];
    int[] keptOwners = new int[kept];
    int next = 0;
    for (int i = 0; i < tokens.length; i++) {
      if (owners[i] <= newShardCount) {
        keptTokens[next] = tokens[i];
        keptOwners[next] = owners[i];
        next++;
      }
    }
    return new Ring(vnodesPerShard, keptTokens, keptOwners);
  }

  public int shardCount() {
    return shardCount;
  }

  public int vnodesPerShard() {
    return vnodesPerShard;
  }

  /** The shard ids, 1..N. */
  public SortedSet<Integer> shardIds() {
    SortedSet<Integer> ids = new TreeSet<>();
    for (int s = 1; s <= shardCount; s++) {
      ids.add(s);
    }
    return Collections.unmodifiableSortedSet(ids);
  }

  public int shardOf(String key) {
    return shardOfToken(KeyHash.tokenOf(key));
  }

  /** The owner of the first token >= {@code token} in signed order, wrapping to the first. */
  public int shardOfToken(long token) {
    int index = Arrays.binarySearch(tokens, token);
    if (index < 0) {
      index = -index - 1;
    }
    return owners[index == tokens.length ? 0 : index];
  }

  /** Fraction of the 2^64 hash space owned by {@code shardId}. */
  public double share(int shardId) {
    checkShardId(shardId);
    return shares[shardId - 1];
  }

  public SortedMap<Integer, Double> shares() {
    SortedMap<Integer, Double> map = new TreeMap<>();
    for (int s = 1; s <= shardCount; s++) {
      map.put(s, shares[s - 1]);
    }
    return Collections.unmodifiableSortedMap(map);
  }

  /** The token table, sorted by token in signed order. */
  public List<TokenEntry> tokens() {
    return entries;
  }

  /**
   * The fraction of the hash space (so, on average, of the keys) whose shard differs between
   * two rings: measured exactly over the elementary arcs both token tables cut the ring into.
   */
  public static double movedFraction(Ring before, Ring after) {
    long[] points = new long[before.tokenCount() + after.tokenCount()];
    for (int i = 0; i < before.tokenCount(); i++) {
      points[i] = before.tokenAt(i);
    }
    for (int i = 0; i < after.tokenCount(); i++) {
      points[before.tokenCount() + i] = after.tokenAt(i);
    }
    long[] boundaries = java.util.Arrays.stream(points).sorted().distinct().toArray();
    double moved = 0;
    for (int i = 0; i < boundaries.length; i++) {
      long point = boundaries[i];
      if (before.shardOfToken(point) != after.shardOfToken(point)) {
        long previous = boundaries[i == 0 ? boundaries.length - 1 : i - 1];
        moved += Unsigned64.fraction(Unsigned64.arc(previous, point));
      }
    }
    return moved;
  }

  /** The fraction of keys a reshard from {@code from} to {@code to} shards must move. */
  public static double unavoidableMovedFraction(int from, int to) {
    return from == to ? 0 : (double) Math.abs(to - from) / Math.max(from, to);
  }

  public String hashFunction() {
    return KeyHash.HASH_FUNCTION;
  }

  int tokenCount() {
    return tokens.length;
  }

  long tokenAt(int index) {
    return tokens[index];
  }

  int ownerAt(int index) {
    return owners[index];
  }

  /** Length of the arc owned by the token at {@code index}; 0 means the full circle. */
  long arcAt(int index) {
    long previous = tokens[index == 0 ? tokens.length - 1 : index - 1];
    return Unsigned64.arc(previous, tokens[index]);
  }

  /** A table like {@code nodetool ring}: per-shard shares, then every token. */
  public String describe() {
    StringBuilder out = new StringBuilder();
    out.append(String.format("Ring hash=%s shards=%d vnodesPerShard=%d tokens=%d%n",
        hashFunction(), shardCount, vnodesPerShard, tokens.length));
    out.append(String.format("%-6s %-7s %9s%n", "Shard", "Tokens", "Owns"));
    for (int s = 1; s <= shardCount; s++) {
      out.append(String.format("%-6d %-7d %8.4f%%%n", s, vnodesPerShard, 100 * shares[s - 1]));
    }
    out.append(String.format("%-21s %-6s %9s%n", "Token", "Shard", "Owns"));
    for (int i = 0; i < tokens.length; i++) {
      out.append(String.format("%-21d %-6d %8.4f%%%n",
          tokens[i], owners[i], 100 * Unsigned64.fraction(arcAt(i))));
    }
    return out.toString();
  }

  @Override
  public boolean equals(Object other) {
    return other instanceof Ring ring
        && vnodesPerShard == ring.vnodesPerShard
        && Arrays.equals(tokens, ring.tokens)
        && Arrays.equals(owners, ring.owners);
  }

  @Override
  public int hashCode() {
    return 31 * (31 * vnodesPerShard + Arrays.hashCode(tokens)) + Arrays.hashCode(owners);
  }

  @Override
  public String toString() {
    return "Ring{shards=" + shardCount + ", vnodesPerShard=" + vnodesPerShard
        + ", tokens=" + tokens.length + "}";
  }

  private double[] computeShares() {
    double[] result = new double[shardCount];
    for (int i = 0; i < tokens.length; i++) {
      result[owners[i] - 1] += Unsigned64.fraction(arcAt(i));
    }
    return result;
  }

  private void checkShardId(int shardId) {
    Preconditions.checkArgument(shardId >= 1 && shardId <= shardCount,
        "unknown shard id %s; shard ids are 1..%s", shardId, shardCount);
  }

  private static void checkShardCount(int shardCount) {
    Preconditions.checkArgument(shardCount >= 1 && shardCount <= SHARD_COUNT_MAX,
        "shard count must be in 1..%s, got %s", SHARD_COUNT_MAX, shardCount);
  }
}
