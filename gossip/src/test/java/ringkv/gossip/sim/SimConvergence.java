package ringkv.gossip.sim;

import java.util.List;
import java.util.Map;
import ringkv.gossip.Version;
import ringkv.ring.ClusterConfig;
import ringkv.ring.NodeAddress;

/**
 * The healed phase's liveness and end-state checks, over the newest configuration: every node
 * serves at the newest epoch with no change under way and its queue drained; every shard's
 * replicas hold the same version of each of its keys; then no acknowledged write is lost and
 * every key lives on exactly the replicas of its shard.
 *
 * <p>Not thread-safe; a simulation runs in one thread.
 */
final class SimConvergence {
  private final Map<String, SimNode> nodes;
  private final SimPlacement placement;
  private final SimViewChanges views;
  private final SafetyChecker checker;

  SimConvergence(Map<String, SimNode> nodes, SimPlacement placement, SimViewChanges views,
      SafetyChecker checker) {
    this.nodes = nodes;
    this.placement = placement;
    this.views = views;
    this.checker = checker;
  }

  /** Why the cluster has not converged yet, or null if it has. */
  String divergence() {
    if (views.underWay(nodes.values())) {
      return "a view change is under way: " + views;
    }
    ClusterConfig latest = placement.latest();
    for (SimNode node : nodes.values()) {
      if (!node.serves()) {
        return node.id() + " is " + node.phase();
      }
      if (node.config().epoch() != latest.epoch()) {
        return node.id() + " is at epoch " + node.config().epoch() + " of " + latest.epoch();
      }
      if (!node.isDrained()) {
        return node.id() + " still has " + node.replica().queue().pendingTotal() + " queued";
      }
    }
    for (int s : latest.layout().shardIds()) {
      List<SimNode> members = placement.membersOf(s);
      for (String key : members.isEmpty() ? List.<String>of() : placement.keysOf(s)) {
        // The checker's effective versions: a collected tombstone counts as held, and a
        // version names one acknowledged write (the checker checked the data is that write's).
        Version first = checker.effective(members.get(0).id(), key);
        for (SimNode other : members) {
          Version version = checker.effective(other.id(), key);
          if (!first.equals(version)) {
            return key + ": " + members.get(0).id() + " holds " + first + ", " + other.id()
                + " holds " + version;
          }
        }
      }
    }
    return null;
  }

  /**
   * After convergence every replica holds the newest acknowledged write of each key of its
   * shard, and no node holds a key of another shard: after view changes every key lives on
   * exactly the replicas of its shard.
   */
  void checkNoLostWrites() {
    ClusterConfig latest = placement.latest();
    for (SimNode node : nodes.values()) {
      for (String key : placement.keysOf(placement.shardOf(node))) {
        Version held = checker.effective(node.id(), key);
        Version newest = checker.history().newest(key);
        if (!newest.equals(held)) {
          throw new SimViolation("lost-write", node.id() + " converged on " + held
              + " but the newest acknowledged write of " + key + " is " + newest);
        }
      }
      node.replica().store().forEach(e -> {
        if (!latest.membersOf(latest.shardOf(e.key())).contains(NodeAddress.parse(node.id()))) {
          throw new SimViolation("placement", node.id() + " holds " + e + " of shard "
              + latest.shardOf(e.key()) + " at epoch " + latest.epoch());
        }
      });
    }
  }

}
