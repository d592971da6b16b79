package ringkv.node.auth;

import java.util.Iterator;
import java.util.Map;
import java.util.TreeMap;

/**
 * Which signed requests this node has already accepted: a signed request carries a timestamp
 * and a random nonce, the node accepts a timestamp only within {@code windowMs} of its own clock,
 * and remembers every accepted nonce until its timestamp leaves that window — after which the
 * timestamp alone refuses a replay. Memory is bounded: at most {@code noncesMax} nonces at once;
 * beyond that new requests are refused ({@link Verdict#FULL}) rather than old nonces forgotten,
 * so a flood can slow peers down but never open a window for replays.
 *
 * <p>Nonces are kept as 64 bits (the first 8 bytes of a 16-byte random nonce; only signed
 * requests are recorded, so nobody without the key chooses them), in one open-addressing set per
 * second of timestamp; a second's set is dropped whole once it is out of the window.
 *
 * <p>Time comes in as {@code nowMs}. Not thread-safe; confine to the node's event loop.
 */
public final class ReplayGuard {
  /** What the guard says about a request. */
  public enum Verdict { FRESH, STALE, REPLAYED, FULL }

  private static final long BUCKET_MS = 1_000;

  private final long windowMs;
  private final int noncesMax;
  private final TreeMap<Long, LongSet> buckets = new TreeMap<>();
  private int size;

  public ReplayGuard(long windowMs, int noncesMax) {
    if (windowMs < 1 || noncesMax < 1) {
      throw new IllegalArgumentException("windowMs and noncesMax must be positive");
    }
    this.windowMs = windowMs;
    this.noncesMax = noncesMax;
  }

  /** Whether a request stamped {@code ts} with {@code nonce} could be fresh; changes nothing. */
  public Verdict check(long nowMs, long ts, long nonce) {
    if (Math.abs(ts - nowMs) > windowMs || ts < 0) {
      return Verdict.STALE;
    }
    LongSet bucket = buckets.get(Math.floorDiv(ts, BUCKET_MS));
    return bucket != null && bucket.contains(nonce) ? Verdict.REPLAYED : Verdict.FRESH;
  }

  /** Records an authenticated request; {@link Verdict#FRESH} only the first time. */
  public Verdict record(long nowMs, long ts, long nonce) {
    expire(nowMs);
    Verdict seen = check(nowMs, ts, nonce);
    if (seen != Verdict.FRESH) {
      return seen;
    }
    if (size >= noncesMax) {
      return Verdict.FULL;
    }
    buckets.computeIfAbsent(Math.floorDiv(ts, BUCKET_MS), b -> new LongSet()).add(nonce);
    size++;
    return Verdict.FRESH;
  }

  /** Nonces remembered now. */
  public int size() {
    return size;
  }

  private void expire(long nowMs) {
    Iterator<Map.Entry<Long, LongSet>> it = buckets.entrySet().iterator();
    while (it.hasNext()) {
      Map.Entry<Long, LongSet> e = it.next();
      long bucketEndMs = e.getKey() * BUCKET_MS + BUCKET_MS - 1;
      if (bucketEndMs >= nowMs - windowMs) {
        return;
      }
      size -= e.getValue().size();
      it.remove();
    }
  }

  /** A set of longs: open addressing, linear probing, 0 stands for itself via a flag. */
  static final class LongSet {
    private long[] slots = new long[16];
    private int size;
    private boolean hasZero;

    boolean contains(long v) {
      if (v == 0) {
        return hasZero;
      }
      int mask = slots.length - 1;
      for (int i = mix(v) & mask; ; i = (i + 1) & mask) {
        if (slots[i] == 0) {
          return false;
        }
        if (slots[i] == v) {
          return true;
        }
      }
    }

    void add(long v) {
      if (v == 0) {
        if (!hasZero) {
          hasZero = true;
          size++;
        }
        return;
      }
      if ((size + 1) * 2 > slots.length) {
        grow();
      }
      int mask = slots.length - 1;
      for (int i = mix(v) & mask; ; i = (i + 1) & mask) {
        if (slots[i] == v) {
          return;
        }
        if (slots[i] == 0) {
          slots[i] = v;
          size++;
          return;
        }
      }
    }

    int size() {
      return size;
    }

    private void grow() {
      long[] old = slots;
      slots = new long[old.length * 2];
      int mask = slots.length - 1;
      for (long v : old) {
        if (v != 0) {
          int i = mix(v) & mask;
          while (slots[i] != 0) {
            i = (i + 1) & mask;
          }
          slots[i] = v;
        }
      }
    }

    private static int mix(long v) {
      long h = v * 0x9E3779B97F4A7C15L;
      return (int) (h ^ (h >>> 32));
    }
  }
}
