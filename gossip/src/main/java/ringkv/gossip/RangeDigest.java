package ringkv.gossip;

import static com.google.common.base.Preconditions.checkArgument;
import static java.nio.charset.StandardCharsets.UTF_8;

import com.google.common.hash.Hashing;
import java.util.Arrays;
import java.util.BitSet;
import ringkv.ring.KeyHash;

/**
 * A digest of a set of entries (one replica's entries of one shard), split into {@value #LEAVES}
 * leaves by the top {@value #LEAF_BITS} bits of each key's ring token ({@link KeyHash#tokenOf}).
 * Two replicas compare their leaf vectors to find the leaves where they differ, then compare only
 * the (key, version) pairs of those leaves (see {@link VersionMerge}).
 *
 * <p>A leaf's digest is the sum, modulo 2^64, of a 64-bit murmur3 hash of every (key, version)
 * pair in it: the entry's {@link Entry#checksum} (which covers its key, version, tombstone flag
 * and value bytes, so two copies of one version with different bytes differ too) in a round
 * between nodes of this release, {@link #pairHash} (key and version only) in a round with a
 * peer of an earlier release. A sum does not depend on the order in which entries are added,
 * so a replica can digest its store in any order (or page by page while it changes), and an
 * equal set of pairs always gives an equal digest; a different version (or, with checksums,
 * other bytes) of one key changes its leaf's digest except with probability 2^-64. Tombstones
 * count like values: their versions are pairs too.
 *
 * <p>Why token-prefix leaves and one level: the leaves are the same on every replica (they depend
 * only on the key), are balanced whatever the keys look like (murmur3 is uniform, key strings
 * are not), and 4096 of them are a 32 KiB vector, small enough to exchange whole in one round
 * trip instead of descending a Merkle tree level by level. At 100,000 keys a leaf holds about 25
 * keys, so one differing key costs a comparison of about 25 versions.
 *
 * <p>Not thread-safe; confine to one thread. Pure: no I/O, no clock.
 */
public final class RangeDigest {
  /** Leaves are numbered by this many top bits of the token. */
  public static final int LEAF_BITS = 12;
  public static final int LEAVES = 1 << LEAF_BITS;

  private final long[] leaves;
  private long entries;

  /** An empty digest (of no entries). */
  public RangeDigest() {
    this.leaves = new long[LEAVES];
  }

  private RangeDigest(long[] leaves) {
    this.leaves = leaves;
  }

  /** A digest received from a peer: its {@link #leafDigests()}. */
  public static RangeDigest ofLeaves(long[] leafDigests) {
    checkArgument(leafDigests.length == LEAVES, "a digest has %s leaves, got %s", LEAVES,
        leafDigests.length);
    return new RangeDigest(leafDigests.clone());
  }

  /** The leaf of {@code key}. */
  public static int leafOf(String key) {
    return (int) (KeyHash.tokenOf(key) >>> (Long.SIZE - LEAF_BITS));
  }

  /** The 64-bit hash of one (key, version) pair. */
  public static long pairHash(String key, Version version) {
    return Hashing.murmur3_128().newHasher()
        .putInt(key.length()).putString(key, UTF_8)
        .putLong(version.counter())
        .putString(version.node(), UTF_8)
        .hash().asLong();
  }

  /** Adds {@code key} held at {@code version}. Each key must be added at most once. */
  public void add(String key, Version version) {
    leaves[leafOf(key)] += pairHash(key, version);
    entries++;
  }

  /** Adds {@code kv}: its checksum if it carries one, else its (key, version) pair. */
  public void add(KeyVersion kv) {
    leaves[leafOf(kv.key())] += kv.checksum().orElse(pairHash(kv.key(), kv.version()));
    entries++;
  }

  /** Adds {@code e}'s (key, version) pair, without its value (see {@link #add(KeyVersion)}). */
  public void add(Entry e) {
    add(e.key(), e.version());
  }

  /** The number of pairs added (0 for a digest received from a peer). */
  public long entries() {
    return entries;
  }

  public long leaf(int index) {
    return leaves[index];
  }

  /** A copy of the leaf digests, for the wire. */
  public long[] leafDigests() {
    return leaves.clone();
  }

  /** The leaves whose digests differ from {@code other}'s: where the two sets of pairs differ. */
  public BitSet differingLeaves(RangeDigest other) {
    BitSet out = new BitSet(LEAVES);
    for (int i = 0; i < LEAVES; i++) {
      if (leaves[i] != other.leaves[i]) {
        out.set(i);
      }
    }
    return out;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof RangeDigest d && Arrays.equals(leaves, d.leaves);
  }

  @Override
  public int hashCode() {
    return Arrays.hashCode(leaves);
  }

  @Override
  public String toString() {
    long nonEmpty = Arrays.stream(leaves).filter(l -> l != 0).count();
    return "RangeDigest{entries=" + entries + " non-zero-leaves=" + nonEmpty + "}";
  }
}
