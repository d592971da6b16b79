package ringkv.gossip.sim;

import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import ringkv.gossip.sim.SimMessage.ChangeAnswer;
import ringkv.gossip.sim.SimMessage.ChangeCall;
import ringkv.gossip.sim.SimMessage.ChangeStep;
import ringkv.ring.ClusterConfig;
import ringkv.ring.NodeAddress;

/**
 * The coordinator of one view change in the simulation, following the node's ViewChanges (which
 * is not a pure class yet, so its sequence is restated here): <b>copy</b> on every participant,
 * <b>poll</b> their progress until every one copied (abort on a failure or a stall),
 * <b>prepare</b> (the stop), <b>transfer</b>, <b>commit</b>; any refusal, or a participant that
 * does not answer a call within {@link #CALL_TIMEOUT_MS}, aborts everywhere. A call unanswered
 * is sent again every {@link #RESEND_MS} (the node's calls run over TCP, which retransmits; a
 * participant answers a repeated call as the first). Commit is sent once: stragglers learn the
 * epoch from heartbeats. It lives in its node's process and dies with it.
 *
 * <p>Not thread-safe; a simulation runs in one thread.
 */
final class SimCoordinator {
  /** A call a participant has not answered within this fails the change. */
  static final long CALL_TIMEOUT_MS = 1_000;
  /** An unanswered call is sent again this often. */
  static final long RESEND_MS = 100;
  /** Progress is asked this often while keys are copied. */
  static final long POLL_MS = 100;
  /** A copy that makes no progress this long is aborted. */
  static final long STALL_MS = 1_200;

  /** How the change ended, or RUNNING. */
  enum Outcome { RUNNING, COMMITTED, ABORTED }

  private final SimNode node;
  private final ClusterConfig next;
  private final Set<NodeAddress> participants;
  private final String what;
  private ChangeStep step = ChangeStep.COPY;
  private final Map<String, ChangeAnswer> answers = new HashMap<>();
  private long stepStartMs;
  private long sentMs;
  private long lastKeysDone = -1;
  private long lastProgressMs;
  private Outcome outcome = Outcome.RUNNING;
  private String failure;

  SimCoordinator(SimNode node, ClusterConfig next, Set<NodeAddress> participants, String what,
      long local) {
    this.node = node;
    this.next = next;
    this.participants = Set.copyOf(participants);
    this.what = what;
    this.lastProgressMs = local;
    begin(ChangeStep.COPY, local);
  }

  ClusterConfig next() {
    return next;
  }

  Outcome outcome() {
    return outcome;
  }

  String failure() {
    return failure;
  }

  private void begin(ChangeStep s, long local) {
    step = s;
    answers.clear();
    stepStartMs = local;
    callAll(local);
  }

  private void callAll(long local) {
    sentMs = local;
    for (NodeAddress p : new TreeSet<>(participants)) {
      if (!answers.containsKey(p.toString())) {
        node.network().send(node.id(), p.toString(), new ChangeCall(step, next, participants));
      }
    }
  }

  void onTick(long local) {
    if (outcome != Outcome.RUNNING) {
      return;
    }
    if (answers.size() < participants.size() && local - stepStartMs > CALL_TIMEOUT_MS) {
      abort("no answer to " + step + " from " + missing());
      return;
    }
    if (step == ChangeStep.PROGRESS && local - lastProgressMs > STALL_MS) {
      abort("the copy made no progress for " + STALL_MS + " ms");
      return;
    }
    long every = step == ChangeStep.PROGRESS && answers.size() == participants.size()
        ? POLL_MS : RESEND_MS;
    if (local - sentMs >= every) {
      if (step == ChangeStep.PROGRESS && answers.size() == participants.size()) {
        begin(ChangeStep.PROGRESS, local); // the next poll
      } else {
        callAll(local);
      }
    }
  }

  private Set<String> missing() {
    Set<String> out = new TreeSet<>();
    participants.forEach(p -> {
      if (!answers.containsKey(p.toString())) {
        out.add(p.toString());
      }
    });
    return out;
  }

  /** Takes a participant's answer; false if {@code m} is none. */
  boolean onMessage(String from, SimMessage m, long local) {
    if (!(m instanceof ChangeAnswer a)) {
      return false;
    }
    if (outcome != Outcome.RUNNING || a.step() != step || a.epoch() != next.epoch()
        || !participants.contains(NodeAddress.parse(from))) {
      return true; // late, duplicated or for another step
    }
    if (a.refusal() != null) {
      abort(from + " refused " + step + ": " + a.refusal());
      return true;
    }
    answers.put(from, a);
    if (answers.size() == participants.size()) {
      advance(local);
    }
    return true;
  }

  private void advance(long local) {
    switch (step) {
      case COPY -> begin(ChangeStep.PROGRESS, local);
      case PROGRESS -> {
        long done = answers.values().stream().mapToLong(ChangeAnswer::keysDone).sum();
        if (done != lastKeysDone) {
          lastKeysDone = done;
          lastProgressMs = local;
        }
        if (answers.values().stream().anyMatch(a -> "failed".equals(a.state()))) {
          abort("a participant could not copy");
        } else if (answers.values().stream().allMatch(a -> "copied".equals(a.state()))) {
          begin(ChangeStep.PREPARE, local);
        }
      }
      case PREPARE -> begin(ChangeStep.TRANSFER, local);
      case TRANSFER -> {
        begin(ChangeStep.COMMIT, local);
        outcome = Outcome.COMMITTED;
      }
      default -> throw new IllegalStateException("no answer awaited in " + step);
    }
  }

  private void abort(String why) {
    failure = why;
    outcome = Outcome.ABORTED;
    step = ChangeStep.ABORT;
    answers.clear();
    sentMs = stepStartMs;
    for (NodeAddress p : new TreeSet<>(participants)) {
      node.network().send(node.id(), p.toString(), new ChangeCall(ChangeStep.ABORT, next,
          participants));
    }
  }

  @Override
  public String toString() {
    return "coordinating{" + what + " epoch=" + next.epoch() + " step=" + step + " answers="
        + answers.keySet() + " outcome=" + outcome + (failure == null ? "" : " " + failure)
        + "}";
  }
}
