package ringkv.gossip;

import static com.google.common.base.Preconditions.checkArgument;

import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * A timeout failure detector: a peer is up while it has answered a heartbeat within
 * {@code failureTimeoutMs}. A peer never heard of counts as up from the moment it is first tracked
 * (a starting cluster must not begin with everyone down). {@link #onTick} reports transitions so
 * the driver can log them once.
 *
 * <p>Not thread-safe; confine to one event loop.
 */
public final class FailureDetector {
  /** A change of a peer's state, reported once. */
  public record Transition(String peer, boolean up) {}

  private final long failureTimeoutMs;
  private final Map<String, Long> lastHeardMs = new HashMap<>();
  private final Set<String> down = new TreeSet<>();

  public FailureDetector(long failureTimeoutMs) {
    checkArgument(failureTimeoutMs > 0, "failureTimeoutMs must be > 0");
    this.failureTimeoutMs = failureTimeoutMs;
  }

  /** Tracks exactly {@code peers} (others are forgotten); new ones start as up at {@code nowMs}. */
  public void track(Collection<String> peers, long nowMs) {
    lastHeardMs.keySet().retainAll(peers);
    down.retainAll(peers);
    for (String p : peers) {
      lastHeardMs.putIfAbsent(p, nowMs);
    }
  }

  /** A tracked {@code peer} answered (or sent us anything) at {@code nowMs}. */
  public Transition onHeard(String peer, long nowMs) {
    if (!lastHeardMs.containsKey(peer)) {
      return null; // not a peer we track: ignore rather than grow
    }
    lastHeardMs.merge(peer, nowMs, Math::max);
    return down.remove(peer) ? new Transition(peer, true) : null;
  }

  /** Marks peers silent for longer than the timeout as down; returns the new transitions. */
  public List<Transition> onTick(long nowMs) {
    List<Transition> out = new ArrayList<>();
    lastHeardMs.forEach((peer, heard) -> {
      if (nowMs - heard > failureTimeoutMs && down.add(peer)) {
        out.add(new Transition(peer, false));
      }
    });
    return out;
  }

  public boolean isUp(String peer) {
    return !down.contains(peer);
  }

  @Override
  public String toString() {
    return "FailureDetector{down=" + down + "}";
  }
}
