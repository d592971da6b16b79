package ringkv.node.engine;

import java.util.List;
import java.util.Optional;
import ringkv.gossip.FailureDetector;
import ringkv.node.time.Clock;
import ringkv.ring.NodeAddress;

/**
 * Which nodes answer: the {@link FailureDetector} of this node, fed by every message a peer
 * sends or answers, and asked by routing, replication and view changes.
 *
 * <p>Not thread-safe; confine to the node's event loop.
 */
public final class PeerLiveness {
  private final NodeAddress self;
  private final Clock clock;
  private final FailureDetector detector;

  public PeerLiveness(NodeAddress self, Clock clock, long failureTimeoutMs) {
    this.self = self;
    this.clock = clock;
    this.detector = new FailureDetector(failureTimeoutMs);
  }

  public boolean isLive(NodeAddress node) {
    return node.equals(self) || detector.isUp(node.toString());
  }

  public List<NodeAddress> live(List<NodeAddress> nodes) {
    return nodes.stream().filter(this::isLive).toList();
  }

  /** Tracks exactly these peers (new ones start as up). */
  void track(List<NodeAddress> peers) {
    detector.track(peers.stream().map(NodeAddress::toString).toList(), clock.millis());
  }

  /** {@code peer} sent or answered something: returns true when it was down until now. */
  boolean heard(NodeAddress peer) {
    FailureDetector.Transition t = detector.onHeard(peer.toString(), clock.millis());
    return t != null && t.up();
  }

  /** Peers silent past the timeout, newly marked down. */
  List<String> onTick() {
    return detector.onTick(clock.millis()).stream().map(FailureDetector.Transition::peer)
        .toList();
  }

  /** The peer's address, if {@code text} is one. */
  static Optional<NodeAddress> address(String text) {
    try {
      return Optional.of(NodeAddress.parse(text));
    } catch (IllegalArgumentException e) {
      return Optional.empty();
    }
  }
}
