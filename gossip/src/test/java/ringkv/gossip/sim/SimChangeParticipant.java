package ringkv.gossip.sim;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import ringkv.gossip.ChangeTermination;
import ringkv.gossip.Entry;
import ringkv.gossip.EpochBound;
import ringkv.gossip.TransferPlan;
import ringkv.gossip.ViewChangeParticipant;
import ringkv.gossip.sim.SimMessage.ChangeAnswer;
import ringkv.gossip.sim.SimMessage.ChangeCall;
import ringkv.gossip.sim.SimMessage.ChangeStep;
import ringkv.gossip.sim.SimMessage.OutcomeReply;
import ringkv.gossip.sim.SimMessage.OutcomeRequest;
import ringkv.gossip.sim.SimMessage.TransferAck;
import ringkv.gossip.sim.SimMessage.TransferBatch;
import ringkv.ring.ClusterConfig;
import ringkv.ring.NodeAddress;

/**
 * A node's part in view changes in the simulation, doing what the node's ChangeParticipant does
 * around the production {@link ViewChangeParticipant} (phases, deadline) and
 * {@link TransferPlan} (which keys move, from whom, to whom): <b>copy</b> while serving (track
 * changed keys, send this node's keys under the plan in acknowledged batches, retried),
 * <b>progress</b> (extends the deadline), <b>prepare</b> (stop serving, wait for the replication
 * queue to drain to live shard peers), <b>transfer</b> (what changed since the copy began, or
 * everything when no copy completed), <b>commit</b> (install, drop keys no longer owned) or
 * <b>abort</b> (by the coordinator or at the deadline: drop what was copied in). A node that
 * installed a configuration learned from a peer holds its report and refuses copy and prepare
 * meanwhile, by the node's own rules ({@link ringkv.gossip.NodeStability#onLearnedConfiguration},
 * {@link ringkv.gossip.NodeStability#refusalWhileHeld}).
 *
 * <p>Not thread-safe; a simulation runs in one thread.
 */
final class SimChangeParticipant {
  /** A change not committed within this of its last sign of the coordinator aborts itself. */
  static final long TIMEOUT_MS = 1_500;
  /** Entries per transfer batch (the node's: 256 and 128 KiB; tiny here). */
  static final int BATCH_ENTRIES_MAX = 2;
  /** How long prepare waits for the replication queue to drain. */
  static final long DRAIN_WAIT_MS = 600;
  /** An unacknowledged batch is sent again after this, this many times at most. */
  static final long RETRY_DELAY_MS = 150;
  static final int SEND_ATTEMPTS_MAX = 10;
  /** An in-doubt participant decides on the answers it has after this, then asks again. */
  static final long INQUIRY_WAIT_MS = 200;

  /** A batch sent to a receiver and not yet acknowledged. */
  private static final class Sending {
    final String target;
    final List<Entry> entries;
    long sentMs;
    int attempts = 1;

    Sending(String target, List<Entry> entries, long sentMs) {
      this.target = target;
      this.entries = entries;
      this.sentMs = sentMs;
    }
  }

  /** One phase of sending (the copy, or the transfer): its batches and how it stands. */
  private static final class Sends {
    final long epoch;
    /** The fingerprint of the change's configuration, which every batch carries. */
    final long change;
    final Map<Long, Sending> open = new TreeMap<>();
    long keysDone;
    String failure;
    String coordinator;

    Sends(ClusterConfig next) {
      this.epoch = next.epoch();
      this.change = next.fingerprint();
    }

    String state() {
      return failure != null ? "failed" : open.isEmpty() ? "copied" : "copying";
    }
  }

  /** Which epochs a node adopts after its own (the node's EPOCH_AHEAD_MAX). */
  private static final EpochBound EPOCHS = new EpochBound(EpochBound.AHEAD_MAX_DEFAULT);

  private final SimNode node;
  private final ViewChangeParticipant participant = new ViewChangeParticipant();
  private Sends copy;
  private Sends transfer;
  /** Prepare waits for the queue to drain: the coordinator, and until when. */
  private String drainFor;
  private long drainUntilMs;
  private long nextBatchId;
  private long commits;
  private long aborts;
  /** Who called the change under way (its coordinator), for an in-doubt inquiry. */
  private String coordinatorId;
  /** The in-doubt inquiry under way: for which change, since when, the answers so far. */
  private ClusterConfig inquiryFor;
  private long inquiryStartMs;
  private final Map<NodeAddress, ChangeTermination.Answer> inquiryAnswers = new TreeMap<>();
  private long inDoubtDecisions;

  SimChangeParticipant(SimNode node) {
    this.node = node;
  }

  ViewChangeParticipant participant() {
    return participant;
  }

  /** A newer configuration learned from a peer (the node's ConfigSync.learnFrom). */
  void learn(ClusterConfig theirs, long local) {
    ViewChangeParticipant p = participant;
    if (p.underWay().filter(theirs::equals).isPresent()) {
      commit(theirs.epoch(), local); // committed elsewhere; our data already moved
      return;
    }
    if (p.isPrepared(theirs.epoch())) {
      p.abort(theirs.epoch()); // another change at that epoch won: forgotten, not rolled back
    }
    if (EPOCHS.refusal(node.config().epoch(), theirs.epoch()).isEmpty()) {
      reset();
      node.installLearned(theirs);
      // Writes made under the old configuration were never queued to the new shard peers.
      node.stability().onLearnedConfiguration(node.replica().clock().current());
      node.startCatchUp(); // we missed the transfer: copy our shard from a peer
    }
  }

  /** Forgets the change's sending state (a configuration was learned another way). */
  void reset() {
    copy = null;
    transfer = null;
    drainFor = null;
    node.core().takeChanges();
  }

  /** Handles a view-change message; false if {@code m} is none. */
  boolean onMessage(String from, SimMessage m, long local) {
    if (m instanceof ChangeCall call) {
      onCall(from, call, local);
    } else if (m instanceof TransferBatch batch) {
      if (!participant.acceptsTransfer(batch.epoch(), batch.change())) {
        return true; // not (or no longer) part of that change: unacknowledged, the copy fails
      }
      // Copied data, merged as is (the node's applyTransfer).
      node.core().applyTransferred(batch.entries());
      node.network().send(node.id(), from, new TransferAck(batch.epoch(), batch.batchId(),
          batch.incarnation()));
    } else if (m instanceof OutcomeRequest q) {
      node.network().send(node.id(), from, new OutcomeReply(q.pending(), node.config(),
          node.standing(q.pending())));
    } else if (m instanceof OutcomeReply r) {
      if (inquiryFor != null && inquiryFor.equals(r.pending())) {
        inquiryAnswers.put(NodeAddress.parse(from),
            new ChangeTermination.Answer(r.installed(), r.standing()));
      }
    } else if (m instanceof TransferAck ack) {
      if (ack.incarnation() == node.incarnation()) {
        acked(copy, ack);
        acked(transfer, ack);
      }
    } else {
      return false;
    }
    return true;
  }

  private void acked(Sends sends, TransferAck ack) {
    if (sends != null && sends.epoch == ack.epoch()) {
      Sending s = sends.open.remove(ack.batchId());
      if (s != null) {
        sends.keysDone += s.entries.size();
      }
    }
  }

  private void onCall(String from, ChangeCall call, long local) {
    long epoch = call.next().epoch();
    ClusterConfig current = node.config();
    if (call.step() == ChangeStep.COPY || call.step() == ChangeStep.PREPARE) {
      var refusal = node.stability().refusalWhileHeld(participant, epoch);
      if (refusal.isPresent()) {
        answer(from, call.step(), epoch, null, 0, refusal.get()); // the node's copy and prepare
        return;
      }
    }
    if (call.step() == ChangeStep.COPY || call.step() == ChangeStep.PREPARE) {
      coordinatorId = from;
    }
    switch (call.step()) {
      case COPY -> {
        var p = participant.startCopy(current, call.next(), call.participants(), local,
            local + TIMEOUT_MS);
        if (p.prepared() && (copy == null || copy.epoch != epoch)) {
          node.core().trackChanges();
          copy = new Sends(call.next());
          sendAll(copy, plan(), allEntries(), local);
        }
        answer(from, call.step(), epoch, p.prepared() ? "ok" : null, 0,
            p.refusal().orElse(null));
      }
      case PROGRESS -> {
        if (!participant.isPrepared(epoch)) {
          answer(from, call.step(), epoch, "idle", 0, null);
        } else {
          participant.extend(local + TIMEOUT_MS);
          Sends c = copy != null && copy.epoch == epoch ? copy : null;
          answer(from, call.step(), epoch, c == null ? "copied" : c.state(),
              c == null ? 0 : c.keysDone, c == null ? null : c.failure);
        }
      }
      case PREPARE -> {
        var p = participant.prepare(current, call.next(), call.participants(), local,
            local + TIMEOUT_MS);
        if (!p.prepared()) {
          answer(from, call.step(), epoch, null, 0, p.refusal().orElseThrow());
        } else if (drainFor == null) {
          drainFor = from;
          drainUntilMs = local + DRAIN_WAIT_MS;
          checkDrained(local);
        }
      }
      case TRANSFER -> onTransfer(from, epoch, local);
      case COMMIT -> commit(epoch, local);
      case ABORT -> {
        if (participant.abort(epoch)) {
          rollBack();
        }
      }
      default -> throw new IllegalStateException("unknown step " + call.step());
    }
  }

  private TransferPlan plan() {
    return participant.plan(node.config()).orElseThrow();
  }

  private List<Entry> allEntries() {
    List<Entry> all = new ArrayList<>();
    node.replica().store().forEach(all::add);
    return all;
  }

  private void onTransfer(String from, long epoch, long local) {
    if (participant.pending().filter(p -> p.epoch() == epoch).isEmpty()) {
      answer(from, ChangeStep.TRANSFER, epoch, null, 0, "no prepared change for epoch " + epoch);
      return;
    }
    if (transfer != null && transfer.epoch == epoch) {
      transfer.coordinator = from; // a retried call: answered when done
      checkTransferred();
      return;
    }
    transfer = new Sends(participant.pending().orElseThrow());
    transfer.coordinator = from;
    participant.onTransferStarted();
    TransferPlan plan = plan();
    boolean copied = copy != null && copy.epoch == epoch && "copied".equals(copy.state());
    List<Entry> entries = new ArrayList<>();
    if (copied) {
      for (String key : node.core().takeChanges()) {
        Entry e = node.replica().store().get(key);
        if (e != null) {
          entries.add(e);
        }
      }
    } else {
      entries = allEntries();
    }
    sendAll(transfer, plan, entries, local);
    checkTransferred();
  }

  /** Sends {@code entries} to their receivers under {@code plan}, in bounded batches. */
  private void sendAll(Sends sends, TransferPlan plan, List<Entry> entries, long local) {
    NodeAddress self = NodeAddress.parse(node.id());
    Map<String, List<Entry>> batches = new HashMap<>();
    for (Entry e : entries) {
      for (NodeAddress t : plan.targetsOf(self, e.key())) {
        List<Entry> batch = batches.computeIfAbsent(t.toString(), k -> new ArrayList<>());
        batch.add(e);
        if (batch.size() >= BATCH_ENTRIES_MAX) {
          send(sends, t.toString(), batches.remove(t.toString()), local);
        }
      }
    }
    new TreeMap<>(batches).forEach((t, batch) -> send(sends, t, batch, local));
  }

  private void send(Sends sends, String target, List<Entry> batch, long local) {
    long id = ++nextBatchId;
    sends.open.put(id, new Sending(target, batch, local));
    node.network().send(node.id(), target, new TransferBatch(sends.epoch, sends.change, id,
        batch, node.incarnation()));
  }

  /** Retries unacknowledged batches, answers a drained prepare, aborts at the deadline. */
  void onTick(long local) {
    retry(copy, local);
    retry(transfer, local);
    checkTransferred();
    if (drainFor != null) {
      checkDrained(local);
    }
    if (participant.onTick(local).isPresent()) {
      rollBack(); // the coordinator vanished while copying: abort at the deadline
    }
    participant.inDoubt(local).ifPresentOrElse(p -> inquire(p, local), () -> inquiryFor = null);
  }

  /**
   * A prepared change past its deadline (the node's ChangeParticipant): asks the coordinator
   * and the other participants what became of it, and settles it by {@link ChangeTermination}.
   */
  private void inquire(ClusterConfig pending, long local) {
    NodeAddress self = NodeAddress.parse(node.id());
    Set<NodeAddress> asked = new TreeSet<>(participant.participants());
    NodeAddress coordinator = NodeAddress.parse(coordinatorId == null ? node.id() : coordinatorId);
    asked.add(coordinator);
    if (!pending.equals(inquiryFor)) {
      inquiryFor = pending;
      inquiryStartMs = local;
      inquiryAnswers.clear();
      inquiryAnswers.put(self, new ChangeTermination.Answer(node.config(),
          node.standing(pending)));
      for (NodeAddress n : asked) {
        if (!n.equals(self)) {
          node.network().send(node.id(), n.toString(), new OutcomeRequest(pending));
        }
      }
      return;
    }
    if (inquiryAnswers.size() < asked.size() && local - inquiryStartMs < INQUIRY_WAIT_MS) {
      return;
    }
    var decision = ChangeTermination.decide(pending, coordinator, inquiryAnswers);
    inquiryFor = null; // asked again next tick if still in doubt
    inDoubtDecisions++;
    long epoch = pending.epoch();
    if (decision instanceof ChangeTermination.Decision.Commit) {
      commit(epoch, local);
    } else if (decision instanceof ChangeTermination.Decision.Abort) {
      if (participant.abort(epoch)) {
        rollBack();
      }
    } else if (decision instanceof ChangeTermination.Decision.Superseded s) {
      participant.abort(epoch); // forgotten, nothing dropped: the newer layout decides
      reset();
      learn(s.newer(), local);
    }
  }

  private void retry(Sends sends, long local) {
    if (sends == null || sends.failure != null) {
      return;
    }
    for (var e : sends.open.entrySet()) {
      Sending s = e.getValue();
      if (local - s.sentMs >= RETRY_DELAY_MS) {
        if (s.attempts >= SEND_ATTEMPTS_MAX) {
          sends.failure = s.target + " did not take " + s.entries.size() + " keys";
          return;
        }
        s.attempts++;
        s.sentMs = local;
        node.network().send(node.id(), s.target, new TransferBatch(sends.epoch, sends.change,
            e.getKey(), s.entries, node.incarnation()));
      }
    }
  }

  private void checkTransferred() {
    Sends t = transfer;
    if (t != null && t.coordinator != null && (t.open.isEmpty() || t.failure != null)) {
      answer(t.coordinator, ChangeStep.TRANSFER, t.epoch, t.failure == null ? "ok" : null,
          t.keysDone, t.failure);
      t.coordinator = null;
    }
  }

  private void checkDrained(long local) {
    long epoch = participant.pending().map(ClusterConfig::epoch).orElse(-1L);
    boolean drained = node.peers().stream().filter(node.detector()::isUp)
        .allMatch(p -> node.replica().queue().pending(p) == 0);
    if (epoch < 0) {
      drainFor = null;
    } else if (drained || local > drainUntilMs) {
      answer(drainFor, ChangeStep.PREPARE, epoch, drained ? "ok" : null, 0,
          drained ? null : node.id() + " could not drain its replication queue");
      drainFor = null;
    }
  }

  /** Installs the prepared configuration of {@code epoch} (a no-op for any other). */
  void commit(long epoch, long local) {
    Optional<ViewChangeParticipant.Commit> c = participant.commit(epoch, local);
    if (c.isPresent()) {
      commits++;
      reset();
      node.install(c.get().next());
    }
  }

  private void rollBack() {
    aborts++;
    reset();
    node.dropForeignKeys();
  }

  private void answer(String to, ChangeStep step, long epoch, String state, long keysDone,
      String refusal) {
    node.network().send(node.id(), to, new ChangeAnswer(step, epoch, state, keysDone, refusal));
  }

  @Override
  public String toString() {
    return participant + "{commits=" + commits + " aborts=" + aborts
        + (inDoubtDecisions == 0 ? "" : " inDoubtDecisions=" + inDoubtDecisions)
        + (copy == null ? "" : " copy=" + copy.state() + "/" + copy.open.size())
        + (transfer == null ? "" : " transfer=" + transfer.state() + "/" + transfer.open.size())
        + "}";
  }
}
