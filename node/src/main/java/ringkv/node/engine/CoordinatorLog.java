package ringkv.node.engine;

import java.util.LinkedHashMap;
import java.util.Map;
import ringkv.gossip.ChangeTermination.Standing;
import ringkv.ring.ClusterConfig;

/**
 * What this process decided about the view changes it coordinated, for participants whose change
 * is in doubt ({@link ringkv.gossip.ChangeTermination}): the change it runs, and the last few it
 * committed or aborted. Kept in memory, so a restarted coordinator knows none of them — which
 * participants read as "it committed nothing", true unless someone installed the change (and
 * then they learn it from that node).
 *
 * <p>Not thread-safe; runs on the node's event loop.
 */
public final class CoordinatorLog {
  /** Decided changes remembered; a participant asks about the last one it prepared. */
  static final int REMEMBERED = 16;

  private record Record(ClusterConfig next, Standing standing) {}

  private final Map<Long, Record> byEpoch = new LinkedHashMap<>() {
    @Override
    protected boolean removeEldestEntry(Map.Entry<Long, Record> eldest) {
      return size() > REMEMBERED;
    }
  };

  /** This node started coordinating the change to {@code next}. */
  void running(ClusterConfig next) {
    put(next, Standing.RUNNING);
  }

  /** It decided to commit the change to {@code next} (before any commit is sent). */
  void committed(ClusterConfig next) {
    put(next, Standing.COMMITTED);
  }

  /** It aborted the change to {@code next}. */
  void aborted(ClusterConfig next) {
    put(next, Standing.ABORTED);
  }

  private void put(ClusterConfig next, Standing standing) {
    byEpoch.remove(next.epoch()); // re-inserted last: the newest stays longest
    byEpoch.put(next.epoch(), new Record(next, standing));
  }

  /** What this node knows of the change to exactly {@code pending}. */
  public Standing standing(ClusterConfig pending) {
    Record r = byEpoch.get(pending.epoch());
    return r != null && r.next().equals(pending) ? r.standing() : Standing.UNKNOWN;
  }
}
