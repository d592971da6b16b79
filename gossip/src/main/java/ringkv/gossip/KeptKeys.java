package ringkv.gossip;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.function.Predicate;

/**
 * The keys a node with durable data keeps in its store after a layout took them away from it,
 * until nobody is owed a write of them: those it handed to their new owners ({@link HandOff})
 * and those whose writes are still owed to a peer that keeps them. A crash before the peers
 * acknowledge then loses nothing: the restarted node finds them and hands them over again. A
 * node without durable data keeps nothing (a crash loses its store anyway). The rule the node's
 * layout installer and the simulation both run.
 *
 * <p>Pure; not thread-safe.
 */
public final class KeptKeys {
  /** What became of an entry of a key leaving this node. */
  public record Leaving(boolean handedOff, boolean kept, boolean newlyKept) {}

  private final boolean durable;
  private final Set<String> kept = new LinkedHashSet<>();

  public KeptKeys(boolean durable) {
    this.durable = durable;
  }

  /**
   * Entry {@code e} of a key the installed layout takes away from this node: queued for the new
   * owners {@code handOff} names, if any ({@code handOff} null: none), and kept in the store
   * when this node is durable and either it was handed off or {@code queue} still owes a write
   * of its key; the caller drops it from the store when it is not kept.
   */
  public Leaving leave(Entry e, HandOff handOff, ReplicationQueue queue) {
    Optional<List<String>> targets = handOff == null ? Optional.empty() : handOff.targets(e);
    targets.ifPresent(t -> queue.handOff(e, t));
    if (!durable || targets.isEmpty() && !queue.owes(e.key())) {
      return new Leaving(targets.isPresent(), kept.contains(e.key()), false);
    }
    boolean added = kept.add(e.key());
    return new Leaving(targets.isPresent(), true, added);
  }

  /** Whether {@code key} is kept for a hand-off not delivered yet (the store must keep it). */
  public boolean keeps(String key) {
    return kept.contains(key);
  }

  /** The keys kept, in the order they were kept. */
  public Set<String> keys() {
    return Collections.unmodifiableSet(kept);
  }

  public boolean isEmpty() {
    return kept.isEmpty();
  }

  public int size() {
    return kept.size();
  }

  /**
   * Stops keeping every key {@code queue} owes nothing of any more; returns those of them the
   * store drops now, the ones {@code ownedNowOrNext} does not give back to this node (a layout
   * installed or under way may have, meanwhile).
   */
  public List<String> release(ReplicationQueue queue, Predicate<String> ownedNowOrNext) {
    List<String> drop = new ArrayList<>();
    kept.removeIf(key -> {
      if (queue.owes(key)) {
        return false;
      }
      if (!ownedNowOrNext.test(key)) {
        drop.add(key);
      }
      return true;
    });
    return drop;
  }
}
