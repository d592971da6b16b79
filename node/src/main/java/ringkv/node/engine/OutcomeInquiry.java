package ringkv.node.engine;

import io.vertx.core.Future;
import java.util.ArrayList;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import ringkv.gossip.ChangeTermination;
import ringkv.gossip.ChangeTermination.Answer;
import ringkv.gossip.ChangeTermination.Decision;
import ringkv.node.peer.MembershipMessages.OutcomeReply;
import ringkv.node.peer.MembershipMessages.OutcomeRequest;
import ringkv.node.peer.PeerProtocol;
import ringkv.ring.ClusterConfig;
import ringkv.ring.NodeAddress;

/**
 * Asks the coordinator and the other participants of a prepared change in doubt what became of
 * it, and decides by {@link ChangeTermination} (a node that does not answer in time is left
 * out: the decision only waits for it if it is the coordinator).
 *
 * <p>Not thread-safe; runs on the node's event loop.
 */
final class OutcomeInquiry {
  /** How long one node is given to answer. */
  static final long ASK_TIMEOUT_MS = 2_000;

  private final NodeServices node;
  private final CoordinatorLog coordinated;

  OutcomeInquiry(NodeServices node, CoordinatorLog coordinated) {
    this.node = node;
    this.coordinated = coordinated;
  }

  /**
   * Asks about {@code pending} and decides by {@link ChangeTermination#decide}, or by {@link
   * ChangeTermination#settle} when the operator declared the coordinator gone ({@code
   * coordinatorGone}); never fails.
   */
  Future<Decision> ask(ClusterConfig pending, NodeAddress coordinator,
      Set<NodeAddress> participants, boolean coordinatorGone) {
    Set<NodeAddress> asked = new TreeSet<>(participants);
    asked.add(coordinator);
    asked.remove(node.state().self());
    Map<NodeAddress, Future<OutcomeReply>> calls = new TreeMap<>();
    OutcomeRequest request = new OutcomeRequest(pending);
    for (NodeAddress n : asked) {
      calls.put(n, node.peers().call(n, PeerProtocol.OUTCOME, request, ASK_TIMEOUT_MS));
    }
    return Future.join(new ArrayList<>(calls.values())).transform(done -> {
      Map<NodeAddress, Answer> answers = new TreeMap<>();
      answers.put(node.state().self(),
          new Answer(node.state().current(), coordinated.standing(pending)));
      calls.forEach((n, f) -> {
        if (f.succeeded()) {
          answers.put(n, new Answer(f.result().installed(), f.result().standing()));
        }
      });
      return Future.succeededFuture(coordinatorGone
          ? ChangeTermination.settle(pending, coordinator, participants, answers)
          : ChangeTermination.decide(pending, coordinator, answers));
    });
  }

  /** This node's answer to a participant asking about {@code pending}. */
  OutcomeReply answer(ClusterConfig pending) {
    return new OutcomeReply(node.state().current(), coordinated.standing(pending));
  }
}
