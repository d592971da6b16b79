package ringkv.gossip;

import static com.google.common.base.Preconditions.checkArgument;
import static com.google.common.base.Preconditions.checkState;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;

/**
 * The key-level step of anti-entropy: a merge-join of two key-ordered streams of
 * {@link KeyVersion}s over the same {@link RepairScope}, this replica's ("mine") and a peer's
 * ("theirs"), deciding for every key where they differ which side must send its entry. A key only
 * one side holds, or holds at the higher version, is pushed (mine) or pulled (theirs); a key both
 * hold at the same version is skipped, unless both pairs carry a checksum ({@link
 * KeyVersion#checksum}) and these differ: the two copies of that version hold different bytes,
 * which an honest cluster never writes. Such a key is a {@link Conflict}: the copy with the
 * higher checksum is sent to the other side (the tie-break of {@link Entry#supersedes}, so every
 * replica ends up with the same copy), and the conflict is listed ({@link #takeConflicts}) for
 * the caller to report. Tombstones are versions like any other.
 *
 * <p>Bounded memory: the streams arrive in pages ({@link #addMine}, {@link #addTheirs}), each in
 * {@link KeyOrder} and after the previous page of its stream; {@link #advance} consumes them as
 * far as it can and says what it needs next. Decided keys wait in two lists of at most
 * {@code batchKeysMax} each; when one fills, {@link #advance} returns {@link Need#DRAIN} and the
 * caller takes and transfers them. A key is decided only once both streams are known past it,
 * so the caller's stores may gain entries behind the streams' cursors (the repairs themselves)
 * without the merge seeing them.
 *
 * <p>Inputs are method calls, outputs are values; not thread-safe, confine to one thread.
 */
public final class VersionMerge {
  /** What {@link #advance} needs before it can go on. */
  public enum Need {
    /** The next page of this replica's stream. */
    MINE,
    /** The next page of the peer's stream. */
    THEIRS,
    /** {@link #takePull()} and {@link #takePush()}, then advance again. */
    DRAIN,
    /** Both streams are exhausted and every decision was taken. */
    DONE
  }

  /**
   * One key both replicas hold at {@code version} with different bytes; {@code mine} and
   * {@code theirs} are the two copies' checksums, and {@code theirsWins} says which one both
   * replicas keep.
   */
  public record Conflict(String key, Version version, long mine, long theirs,
      boolean theirsWins) {}

  private final int batchKeysMax;
  private final ArrayDeque<KeyVersion> mine = new ArrayDeque<>();
  private final ArrayDeque<KeyVersion> theirs = new ArrayDeque<>();
  private boolean mineExhausted;
  private boolean theirsExhausted;
  private String mineLast;
  private String theirsLast;
  private List<String> pull = new ArrayList<>();
  private List<String> push = new ArrayList<>();
  private List<Conflict> conflicts = new ArrayList<>();
  private long pulled;
  private long pushed;

  public VersionMerge(int batchKeysMax) {
    checkArgument(batchKeysMax > 0, "batchKeysMax must be > 0, got %s", batchKeysMax);
    this.batchKeysMax = batchKeysMax;
  }

  /** The next page of this replica's pairs; {@code exhausted}: no page follows. */
  public void addMine(List<KeyVersion> page, boolean exhausted) {
    checkState(!mineExhausted, "my stream is already exhausted");
    mineLast = append(mine, page, mineLast);
    mineExhausted = exhausted;
  }

  /** The next page of the peer's pairs; {@code exhausted}: no page follows. */
  public void addTheirs(List<KeyVersion> page, boolean exhausted) {
    checkState(!theirsExhausted, "their stream is already exhausted");
    theirsLast = append(theirs, page, theirsLast);
    theirsExhausted = exhausted;
  }

  private static String append(ArrayDeque<KeyVersion> into, List<KeyVersion> page, String last) {
    for (KeyVersion kv : page) {
      checkArgument(last == null || KeyOrder.compare(last, kv.key()) < 0,
          "pages must be in key order: %s after %s", kv.key(), last);
      into.addLast(kv);
      last = kv.key();
    }
    return last;
  }

  /** Decides as many keys as the buffered pages allow; returns what is needed next. */
  public Need advance() {
    while (true) {
      if (pull.size() >= batchKeysMax || push.size() >= batchKeysMax) {
        return Need.DRAIN;
      }
      KeyVersion m = mine.peekFirst();
      KeyVersion t = theirs.peekFirst();
      if (m == null && !mineExhausted) {
        return Need.MINE;
      }
      if (t == null && !theirsExhausted) {
        return Need.THEIRS;
      }
      if (m == null && t == null) {
        return pull.isEmpty() && push.isEmpty() ? Need.DONE : Need.DRAIN;
      }
      int order = m == null ? 1 : t == null ? -1 : KeyOrder.compare(m.key(), t.key());
      if (order < 0) {
        push.add(mine.pollFirst().key()); // only I hold it
      } else if (order > 0) {
        pull.add(theirs.pollFirst().key()); // only they hold it
      } else {
        mine.pollFirst();
        theirs.pollFirst();
        int newer = m.version().compareTo(t.version());
        if (m.conflictsWith(t)) {
          long mine = m.checksum().getAsLong();
          long their = t.checksum().getAsLong();
          boolean theirsWins = Entry.checksumLoses(mine, their);
          conflicts.add(new Conflict(m.key(), m.version(), mine, their, theirsWins));
          newer = theirsWins ? -1 : 1;
        }
        if (newer > 0) {
          push.add(m.key());
        } else if (newer < 0) {
          pull.add(t.key());
        }
      }
    }
  }

  /** Keys whose entry the peer must send (in key order); empties the list. */
  public List<String> takePull() {
    List<String> out = pull;
    pulled += out.size();
    pull = new ArrayList<>();
    return out;
  }

  /** Keys whose entry this replica must send (in key order); empties the list. */
  public List<String> takePush() {
    List<String> out = push;
    pushed += out.size();
    push = new ArrayList<>();
    return out;
  }

  /**
   * The keys found held at one version with different bytes since the last call (each also in
   * {@link #takePull} or {@link #takePush}); empties the list.
   */
  public List<Conflict> takeConflicts() {
    List<Conflict> out = conflicts;
    conflicts = new ArrayList<>();
    return out;
  }

  /** Keys taken for pulling so far. */
  public long pulled() {
    return pulled;
  }

  /** Keys taken for pushing so far. */
  public long pushed() {
    return pushed;
  }

  @Override
  public String toString() {
    return "VersionMerge{mine=" + mine.size() + (mineExhausted ? "(end)" : "") + " theirs="
        + theirs.size() + (theirsExhausted ? "(end)" : "") + " pull=" + pull.size() + " push="
        + push.size() + "}";
  }
}
