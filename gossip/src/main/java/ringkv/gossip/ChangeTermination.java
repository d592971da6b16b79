package ringkv.gossip;

import java.util.Comparator;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import ringkv.ring.ClusterConfig;
import ringkv.ring.NodeAddress;

/**
 * What a participant does with a prepared change whose coordinator fell silent (the deadline of
 * {@link ViewChangeParticipant} passed while it was prepared): the termination step of two-phase
 * commit. A prepared participant never aborts on its own word — once the coordinator decided to
 * commit, the other participants install the change and drop the keys that moved here, so an
 * abort here would lose them. It asks the coordinator and the other participants instead, and:
 * <ul>
 *   <li><b>commits</b> when any of them installed exactly this change, or the coordinator says
 *       it committed it;
 *   <li>is <b>superseded</b> when one of them holds a newer configuration (or another
 *       configuration at the same epoch): it forgets the change without dropping anything and
 *       installs that configuration as a node that missed a change does;
 *   <li><b>aborts</b> when the coordinator answers that it aborted the change, or that it does
 *       not know it (it restarted before it committed anything, else someone would hold it);
 *   <li><b>waits</b> (still refusing key-value requests) while the coordinator runs the change
 *       or does not answer: nobody can tell whether it committed.
 * </ul>
 * The last case is two-phase commit's blocking case; it ends when the coordinator answers again,
 * or when the operator declares the coordinator gone for good ({@link #settle}).
 *
 * <p>Pure and deterministic.
 */
public final class ChangeTermination {
  private ChangeTermination() {}

  /** What a coordinator knows of a change it was asked about. */
  public enum Standing {
    /** It runs the change and has not decided yet (or is sending the commits). */
    RUNNING,
    /** It decided to commit the change. */
    COMMITTED,
    /** It aborted the change. */
    ABORTED,
    /** It has no record of this change (another change, or it restarted since). */
    UNKNOWN
  }

  /**
   * One node's answer about a change: the configuration it has installed, and what it knows of
   * the change as its coordinator.
   */
  public record Answer(ClusterConfig installed, Standing standing) {
    public Answer {
      Objects.requireNonNull(installed, "installed");
      Objects.requireNonNull(standing, "standing");
    }
  }

  /** What to do. */
  public sealed interface Decision {
    /** Install the prepared change. */
    record Commit(String why) implements Decision {}

    /** Roll the change back (drop what was copied in), keep serving the old configuration. */
    record Abort(String why) implements Decision {}

    /** Forget the change without dropping anything and install {@code newer}. */
    record Superseded(ClusterConfig newer, NodeAddress from) implements Decision {}

    /** Ask again later; requests stay refused. */
    record Wait(String why) implements Decision {}
  }

  /**
   * Decides from the {@code answers} received (a node that did not answer is absent) what a
   * participant holding {@code pending}, coordinated by {@code coordinator}, does.
   */
  public static Decision decide(ClusterConfig pending, NodeAddress coordinator,
      Map<NodeAddress, Answer> answers) {
    Objects.requireNonNull(pending, "pending");
    Objects.requireNonNull(coordinator, "coordinator");
    Map<NodeAddress, Answer> sorted = new TreeMap<>(answers);
    for (var e : sorted.entrySet()) {
      if (e.getValue().installed().equals(pending)) {
        return new Decision.Commit(e.getKey() + " installed epoch " + pending.epoch());
      }
    }
    Optional<Map.Entry<NodeAddress, Answer>> newer = sorted.entrySet().stream()
        .filter(e -> e.getValue().installed().epoch() >= pending.epoch())
        .max(Comparator.comparingLong(e -> e.getValue().installed().epoch()));
    if (newer.isPresent()) {
      return new Decision.Superseded(newer.get().getValue().installed(), newer.get().getKey());
    }
    Answer c = sorted.get(coordinator);
    if (c == null) {
      return new Decision.Wait("the coordinator " + coordinator + " does not answer and no "
          + "participant installed epoch " + pending.epoch());
    }
    return byCoordinator(coordinator, c);
  }

  /**
   * The operator's way out of the blocking case: the coordinator is declared gone for good (it
   * will be removed from the view, or come back without its data). Decides as {@link #decide}
   * while anyone installed the change, holds a newer configuration or the coordinator answers
   * after all; else the change can only have committed on the coordinator itself, whose copy
   * is gone, so it <b>aborts</b> — but only when every participant but the coordinator answered
   * (one that does not answer may have installed it), and it <b>waits</b> otherwise, naming
   * them. Every participant settled this way decides the same.
   */
  public static Decision settle(ClusterConfig pending, NodeAddress coordinator,
      Set<NodeAddress> participants, Map<NodeAddress, Answer> answers) {
    Objects.requireNonNull(participants, "participants");
    Decision d = decide(pending, coordinator, answers);
    if (!(d instanceof Decision.Wait) || answers.containsKey(coordinator)) {
      return d;
    }
    Set<NodeAddress> silent = new TreeSet<>(participants);
    silent.remove(coordinator);
    silent.removeAll(answers.keySet());
    if (!silent.isEmpty()) {
      return new Decision.Wait("the coordinator " + coordinator + " is declared gone, but "
          + silent + " do not answer and may have installed epoch " + pending.epoch());
    }
    return new Decision.Abort("the coordinator " + coordinator + " is declared gone and no "
        + "participant installed epoch " + pending.epoch());
  }

  private static Decision byCoordinator(NodeAddress coordinator, Answer c) {
    return switch (c.standing()) {
      case COMMITTED -> new Decision.Commit("the coordinator " + coordinator + " committed it");
      case ABORTED -> new Decision.Abort("the coordinator " + coordinator + " aborted it");
      case UNKNOWN -> new Decision.Abort("the coordinator " + coordinator
          + " does not know it (restarted before committing)");
      case RUNNING -> new Decision.Wait("the coordinator " + coordinator + " still runs it");
    };
  }
}
