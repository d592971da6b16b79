package ringkv.gossip.sim;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import ringkv.ring.ClusterConfig;
import ringkv.ring.NodeAddress;

/**
 * The operator of the simulation's view changes: now and then it asks a node at the newest epoch
 * to coordinate a change ({@link SimCoordinator}) — a reshard to another shard count, or one node
 * moved to another shard — over the nodes that node believes live (the node's participants), and
 * counts how changes end. A change starts only when none is under way anywhere and every running
 * node is at the newest epoch (so no participant plans from an older configuration).
 *
 * <p>Not thread-safe; a simulation runs in one thread.
 */
final class SimViewChanges {
  private final Random random;
  private long started;
  private long committed;
  private long aborted;
  private long coordinatorsLost;
  private SimNode coordinatorNode;
  private SimCoordinator coordinator;

  SimViewChanges(Random random) {
    this.random = random;
  }

  /** The newest configuration any node installed. */
  static ClusterConfig latest(Collection<SimNode> nodes) {
    ClusterConfig best = null;
    for (SimNode n : nodes) {
      if (best == null || n.config().isNewerThan(best)) {
        best = n.config();
      }
    }
    return best;
  }

  /** Whether a change is under way anywhere (coordinated, or prepared on some node). */
  boolean underWay(Collection<SimNode> nodes) {
    observe();
    return coordinator != null || nodes.stream().anyMatch(n -> n.phase() != SimNode.Phase.DOWN
        && n.change().participant().underWay().isPresent());
  }

  /** Counts the change that ended or whose coordinator died. */
  void observe() {
    if (coordinator == null) {
      return;
    }
    if (coordinatorNode.coordinator() != coordinator) {
      coordinatorsLost++; // its process died: participants abort at their deadline
      coordinator = null;
    } else if (coordinator.outcome() != SimCoordinator.Outcome.RUNNING) {
      if (coordinator.outcome() == SimCoordinator.Outcome.COMMITTED) {
        committed++;
      } else {
        aborted++;
      }
      coordinatorNode.coordinate(null);
      coordinator = null;
    }
  }

  /** Starts a random change if none is under way; returns whether one started. */
  boolean maybeStart(Collection<SimNode> nodes, long nowMs) {
    if (underWay(nodes)) {
      return false;
    }
    ClusterConfig latest = latest(nodes);
    List<SimNode> up = nodes.stream().filter(n -> n.phase() != SimNode.Phase.DOWN).toList();
    if (up.stream().anyMatch(n -> n.config().epoch() != latest.epoch())) {
      return false;
    }
    List<SimNode> serving = up.stream().filter(SimNode::serves).toList();
    if (serving.isEmpty()) {
      return false;
    }
    SimNode c = serving.get(random.nextInt(serving.size()));
    ClusterConfig next = random.nextBoolean() ? reshard(latest) : move(latest);
    if (next == null) {
      next = reshard(latest);
    }
    if (next == null) {
      return false;
    }
    Set<NodeAddress> participants = new TreeSet<>();
    for (NodeAddress n : latest.view()) {
      if (n.toString().equals(c.id()) || c.detector().isUp(n.toString())) {
        participants.add(n);
      }
    }
    String what = next.layout().shardCount() != latest.layout().shardCount()
        ? "reshard " + latest.layout().shardCount() + "->" + next.layout().shardCount()
        : "move";
    coordinator = new SimCoordinator(c, next, participants, what, c.localMs(nowMs));
    coordinatorNode = c;
    c.coordinate(coordinator);
    started++;
    return true;
  }

  /** Another shard count with at least two members a shard, or null if there is none. */
  private ClusterConfig reshard(ClusterConfig c) {
    int n = c.view().size();
    int current = c.layout().shardCount();
    List<Integer> counts = new ArrayList<>();
    for (int m = 1; m <= n / 2; m++) {
      if (m != current) {
        counts.add(m);
      }
    }
    return counts.isEmpty() ? null
        : c.reshard(c.view(), counts.get(random.nextInt(counts.size())));
  }

  /** One node of a shard of two or more moved to another shard, or null if none can move. */
  private ClusterConfig move(ClusterConfig c) {
    List<Integer> shards = new ArrayList<>(c.layout().shardIds());
    if (shards.size() < 2) {
      return null;
    }
    int from = shards.get(random.nextInt(shards.size()));
    List<NodeAddress> members = c.membersOf(from);
    if (members.size() < 2) {
      return null;
    }
    int to = shards.get(random.nextInt(shards.size()));
    if (to == from) {
      return null;
    }
    return c.withMember(to, members.get(random.nextInt(members.size())));
  }

  long started() {
    return started;
  }

  long committed() {
    return committed;
  }

  long aborted() {
    return aborted;
  }

  long coordinatorsLost() {
    return coordinatorsLost;
  }

  @Override
  public String toString() {
    return "viewChanges{started=" + started + " committed=" + committed + " aborted=" + aborted
        + " coordinatorsLost=" + coordinatorsLost + (coordinator == null ? ""
        : " " + coordinatorNode.id() + ":" + coordinator) + "}";
  }
}
