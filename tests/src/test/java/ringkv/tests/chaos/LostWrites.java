package ringkv.tests.chaos;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import ringkv.tests.causal.CausalChecker;
import ringkv.tests.causal.CausalChecker.Op;
import ringkv.tests.causal.CausalChecker.OpKind;
import ringkv.tests.causal.CausalChecker.Version;

/**
 * Finds the acknowledged writes a cluster lost: pure, a history and its final reads in, the lost
 * writes out.
 *
 * <h2>What "the last write" means under concurrency</h2>
 *
 * RingKV is available under partitions and orders concurrent writes of a key by last-writer-wins
 * on (Lamport clock, node id) (SPEC §4, §6). Real time does not order writes: a write that
 * started after another's acknowledgement, through a node that had not received it yet, is
 * concurrent with it and may lose to it, correctly. So "superseded" is decided by the order
 * {@link CausalChecker.Analysis#older} proves: {@code a} is older than {@code b} when {@code b}'s
 * writer knew {@code a} (from the history alone), or else when the versions the system claimed
 * for both (in the replies to the writes and to reads of them, the final reads included) order
 * them, which is the order every replica must converge to.
 *
 * <h2>The check</h2>
 *
 * A final read of key {@code k} at a node shows a state {@code F}: a value (the PUT that wrote
 * it, acknowledged or maybe) or "not found". Every acknowledged write of {@code k} newer than
 * {@code F} should have replaced it, so it was lost:
 * <ul>
 *   <li>a value: the acknowledged PUTs and DELETEs {@code w} of {@code k} with
 *       {@code older(F, w)} (a newer delete lost is a resurrection);
 *   <li>not found: explained by some DELETE {@code d} of {@code k} (acknowledged or maybe); the
 *       acknowledged PUTs {@code w} with {@code older(d, w)}, for the {@code d} that leaves the
 *       fewest (all acknowledged PUTs when no delete exists); and, when the reply names the
 *       version of the node's tombstone, the acknowledged PUTs whose version is above it.
 * </ul>
 * Of those, the ones counted are the last acknowledged writes of {@code k}: those no other
 * acknowledged write of {@code k} is newer than (an overwritten write is not lost when its
 * successor is). A value no PUT wrote is the causal checker's FABRICATED, not counted here.
 */
final class LostWrites {
  /** An acknowledged write that a final read of {@code read} shows lost. */
  record Lost(Op write, Op read, String why) {
    @Override
    public String toString() {
      return brief(write) + " lost: " + read.client() + " reads " + read.key() + " as "
          + (read.status() == 200 ? read.value() : "not found") + " (" + why + ")";
    }
  }

  private LostWrites() {}

  /**
   * @param history  every operation, final reads included
   * @param finals   the final reads (GETs of observers)
   * @param analysis {@link CausalChecker#analyze} of {@code history}
   */
  static List<Lost> find(List<Op> history, List<Op> finals, CausalChecker.Analysis analysis) {
    Map<String, List<Op>> writesOfKey = new LinkedHashMap<>();
    for (Op op : history) {
      if (op.kind() != OpKind.GET && (op.acknowledgedWrite() || op.maybeWrite())) {
        writesOfKey.computeIfAbsent(op.key(), k -> new ArrayList<>()).add(op);
      }
    }
    Map<Op, Lost> lost = new LinkedHashMap<>();
    for (Op read : finals) {
      List<Op> writes = writesOfKey.getOrDefault(read.key(), List.of());
      List<Op> acknowledged = writes.stream().filter(Op::acknowledgedWrite).toList();
      List<Op> newer;
      String why;
      if (read.readsValue()) {
        Optional<Op> put = writes.stream().filter(w -> w.kind() == OpKind.PUT
            && w.value().equals(read.value())).findFirst();
        if (put.isEmpty()) {
          continue; // fabricated: the causal checker reports it
        }
        newer = acknowledged.stream()
            .filter(w -> w != put.get() && analysis.older(put.get(), w)).toList();
        why = "the value read, " + brief(put.get())
            + versionOf(put.get(), analysis).orElse("") + ", is older than it";
      } else if (read.readsNotFound()) {
        List<Op> puts = acknowledged.stream().filter(w -> w.kind() == OpKind.PUT).toList();
        Optional<Op> delete = writes.stream().filter(w -> w.kind() == OpKind.DELETE)
            .min(Comparator.comparingLong(d -> puts.stream()
                .filter(w -> analysis.older(d, w)).count()));
        Version tombstone = read.received().get(read.key());
        newer = puts.stream().filter(w -> delete.isEmpty() || analysis.older(delete.get(), w)
            || (tombstone != null && analysis.version(w).filter(v -> v.compareTo(tombstone) > 0)
                .isPresent())).toList();
        why = (delete.isEmpty() ? "no delete of the key was ever issued"
            : "newer than every delete of the key, e.g. " + brief(delete.get())
                + versionOf(delete.get(), analysis).orElse(""))
            + (tombstone == null ? "" : "; the node's tombstone is " + tombstone);
      } else {
        continue; // no answer: the convergence check reports it
      }
      for (Op w : last(newer, acknowledged, analysis)) {
        lost.putIfAbsent(w, new Lost(w, read, "its version" + versionOf(w, analysis)
            .orElse(" unknown") + "; " + why));
      }
    }
    return List.copyOf(lost.values());
  }

  /** Those of {@code candidates} no acknowledged write is newer than (all if none is). */
  private static List<Op> last(List<Op> candidates, List<Op> acknowledged,
      CausalChecker.Analysis analysis) {
    List<Op> last = candidates.stream()
        .filter(w -> acknowledged.stream().noneMatch(x -> x != w && analysis.older(w, x)))
        .toList();
    return last.isEmpty() ? candidates : last;
  }

  /** An operation without its (long) metadata. */
  static String brief(Op op) {
    return op.client() + " " + op.kind() + " " + op.key()
        + (op.value() == null ? "" : "=" + op.value()) + " -> " + op.status();
  }

  private static Optional<String> versionOf(Op w, CausalChecker.Analysis analysis) {
    return analysis.version(w).map(v -> " " + v);
  }
}
