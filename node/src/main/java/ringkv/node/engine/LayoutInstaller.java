package ringkv.node.engine;

import io.vertx.core.Future;
import java.util.List;
import java.util.Optional;
import java.util.function.Predicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import ringkv.gossip.Entry;
import ringkv.gossip.HandOff;
import ringkv.gossip.KeptKeys;
import ringkv.gossip.KeyValueCore;
import ringkv.gossip.NodeStability;
import ringkv.gossip.Store;
import ringkv.node.log.LogFields;
import ringkv.ring.ClusterConfig;

/**
 * Installs a configuration on this node — one a change it took part in committed, one it
 * learned from a peer, one it found at start — and drops the keys it no longer owns, paged.
 */
final class LayoutInstaller {
  private static final Logger LOG = LoggerFactory.getLogger(LayoutInstaller.class);
  /** How often keys kept for a hand-off are checked for delivery. */
  static final long RELEASE_CHECK_MS = 200;

  private final NodeServices node;
  /** This node's replica and its stability. */
  private final KeyValueCore core;
  private final NodeMeta meta;
  /** Keys kept in the store until a hand-off delivered them (with DATA_DIR). */
  private final KeptKeys kept;
  private long releaseTimer = -1;
  /** Run after each install: requests waiting for causal dependencies are routed again. */
  private final Runnable installed;

  LayoutInstaller(NodeServices node, KeyValueCore core, NodeMeta meta, Runnable installed) {
    this.node = node;
    this.core = core;
    this.meta = meta;
    this.installed = installed;
    this.kept = new KeptKeys(meta.durable());
  }

  /**
   * Installs {@code next}, learned from a peer: this node missed its transfer, so writes it made
   * under the old configuration were never queued to its new shard peers; it holds its
   * stability report until anti-entropy has repaired its shard, and hands the writes of keys
   * that leave it which may not be stable to their new owners ({@link HandOff}).
   */
  Future<Integer> adoptLearned(ClusterConfig next) {
    if (core.stability().onLearnedConfiguration(core.replica().clock().current())) {
      LOG.info("event=stable-held node={} reason={}", node.state().self(),
          NodeStability.MISSED_VIEW_CHANGE);
    }
    return adopt(next, HandOff.before(node.state().self().toString(), core.stability(),
        core.replica(), ClusterState.shardMap(next)));
  }

  /**
   * Installs {@code next}: routing switches to it, replication follows the new shard peers,
   * stability forgets nodes that left, and keys this node no longer owns are dropped (their new
   * owners received them before the change committed). Completes with how many were dropped.
   */
  Future<Integer> adopt(ClusterConfig next) {
    return adopt(next, null);
  }

  private Future<Integer> adopt(ClusterConfig next, HandOff handOff) {
    if (handOff != null && meta.durable()) {
      // Saved before the new layout is: a restart that finds the new layout finds this too.
      meta.saveHandOff(node.state().current(), handOff.oldStable());
    }
    ClusterConfig previous = node.state().install(next);
    LogFields.epoch(next.epoch());
    node.state().clearForeignLive();
    meta.saveConfig(next);
    core.stability().onLayout(ClusterState.shardMap(next), next.epoch());
    core.replica().queue().retain((peer, key) -> next.membersOf(next.shardOf(key)).stream()
        .anyMatch(m -> m.toString().equals(peer)));
    node.liveness().track(node.state().others());
    LOG.info("event=config-installed node={} epoch={} previous={} shard={} shards={}",
        node.state().self(), next.epoch(), previous.epoch(), next.shardOfNode(node.state().self()),
        next.layout().asMap());
    installed.run();
    recountKept();
    long[] handed = {0};
    int keptBefore = kept.size();
    return dropForeignKeys(e -> handOver(handOff, e, handed))
        .onSuccess(n -> {
          if (n > 0 || handed[0] > 0) {
            LOG.info("event=foreign-keys-dropped node={} epoch={} keys={} handed-off={}"
                + " kept-until-delivered={}", node.state().self(), next.epoch(), n, handed[0],
                kept.size() - keptBefore);
          }
          if (handOff != null && kept.isEmpty()) {
            meta.clearHandOff(); // nothing kept: nothing for a restart to hand over again
          }
          releaseWhenDelivered();
        });
  }

  /**
   * Queues {@code e} for the new owners {@code handOff} names, if any (null: none, a change this
   * node took part in); returns whether the store
   * keeps it until they (and any peer a write of its key is still owed to) acknowledge
   * ({@link KeptKeys}): on a node with {@code DATA_DIR}, so that a crash before that loses
   * nothing (a restart hands it over again, {@link #resumeHandOff}).
   */
  private boolean handOver(HandOff handOff, Entry e, long[] handed) {
    KeptKeys.Leaving leaving = kept.leave(e, handOff, core.replica().queue());
    if (leaving.handedOff()) {
      handed[0]++;
    }
    if (leaving.newlyKept() && !e.isTombstone()) {
      node.state().addForeignLive(1); // not this node's key: key counts leave it out
    }
    return leaving.kept();
  }

  /** Counts the kept keys that are foreign under the installed layout as foreign again. */
  private void recountKept() {
    for (String key : kept.keys()) {
      Entry e = core.replica().store().get(key);
      if (e != null && !e.isTombstone() && !node.state().owns(node.state().current(), key)) {
        node.state().addForeignLive(1);
      }
    }
  }

  /**
   * Drops the keys kept for a hand-off once nobody is owed a write of them any more (checked
   * every {@link #RELEASE_CHECK_MS}); when none is left, forgets the saved hand-off.
   */
  private void releaseWhenDelivered() {
    if (kept.isEmpty() || releaseTimer != -1) {
      return;
    }
    releaseTimer = node.vertx().setPeriodic(RELEASE_CHECK_MS, id -> {
      kept.release(core.replica().queue(), this::ownsNowOrNext).forEach(this::release);
      if (kept.isEmpty()) {
        node.vertx().cancelTimer(releaseTimer);
        releaseTimer = -1;
        meta.clearHandOff();
        LOG.info("event=hand-off-delivered node={} epoch={}", node.state().self(),
            node.state().current().epoch());
      }
    });
  }

  /** Removes a delivered kept key, not given back to this node meanwhile, from the store. */
  private void release(String key) {
    Entry e = core.replica().store().get(key);
    if (e != null) {
      core.replica().store().remove(key);
      if (!e.isTombstone()) {
        node.state().addForeignLive(-1);
      }
    }
  }

  private boolean ownsNowOrNext(String key) {
    return node.state().owns(node.state().current(), key)
        || node.state().underWay().map(next -> node.state().owns(next, key)).orElse(false);
  }

  /**
   * After a restart with {@code DATA_DIR}, before the node reports any stability: hands over
   * again what a hand-off of the previous process had not delivered (the keys it kept for it,
   * and any foreign key the saved hand-off's rule gives to new owners), as {@link #adopt} did.
   */
  Future<Void> resumeHandOff(List<Entry> requeued) {
    Optional<NodeMeta.PendingHandOff> saved = meta.restoredHandOff();
    if (saved.isEmpty()) {
      keepOwed(requeued);
      return Future.succeededFuture();
    }
    HandOff handOff = HandOff.of(node.state().self().toString(),
        ClusterState.shardMap(saved.get().old()), ClusterState.shardMap(node.state().current()),
        saved.get().oldStable());
    long[] handed = {0};
    return dropForeignKeys(e -> handOver(handOff, e, handed)).map(n -> {
      LOG.info("event=hand-off-resumed node={} epoch={} handed-off={} kept-until-delivered={}"
          + " dropped={}", node.state().self(), node.state().current().epoch(), handed[0],
          kept.size(), n);
      if (kept.isEmpty()) {
        meta.clearHandOff();
      }
      releaseWhenDelivered();
      return null;
    });
  }

  /**
   * After a restart with {@code DATA_DIR} and no saved hand-off: keeps in the store the keys
   * this node does not own among the writes it just queued again ({@code requeued}: its own
   * writes of keys that left it, queued for their owners), until delivered. The queue was
   * empty before, so no other foreign key can be owed. Drops nothing: leftovers go later
   * ({@link #sweepLeftovers}).
   */
  private void keepOwed(List<Entry> requeued) {
    long[] handed = {0};
    for (Entry e : requeued) {
      if (!ownsNowOrNext(e.key())) {
        handOver(null, e, handed);
      }
    }
    if (!kept.isEmpty()) {
      LOG.info("event=owed-writes-kept node={} epoch={} kept-until-delivered={}",
          node.state().self(), node.state().current().epoch(), kept.size());
      releaseWhenDelivered();
    }
  }

  /** Drops the keys neither the installed configuration nor a change under way gives here. */
  private Future<Integer> dropForeignKeys() {
    return dropForeignKeys(e -> false);
  }

  /**
   * Removes, one page per turn of the event loop, the keys the current
   * configuration does not give this node — checked against the configuration at each key, so
   * a newer one adopted meanwhile is respected, and keys a change begun meanwhile copies here
   * are kept, as are the keys {@code keep} holds on to and those kept for a hand-off not
   * delivered yet. Completes with how many it removed.
   */
  private Future<Integer> dropForeignKeys(Predicate<Entry> keep) {
    int[] dropped = {0};
    Store store = core.replica().store();
    return StorePages.scan(node.vertx(), store, ChangeParticipant.PAGE_ENTRIES, e -> {
      if (!ownsNowOrNext(e.key()) && !keep.test(e) && !kept.keeps(e.key())) {
        store.remove(e.key());
        dropped[0]++;
      }
    }).map(v -> dropped[0]);
  }

  /**
   * Drops the keys an aborted change copied here; afterwards the only foreign keys this node
   * holds are those it keeps until delivered, and the key count leaves exactly those out.
   */
  Future<Integer> dropCopies() {
    return dropForeignKeys().onSuccess(n -> {
      node.state().clearForeignLive();
      recountKept();
    });
  }

  /**
   * Drops keys left by a change this process does not know (copied in before the node was
   * killed, or a roll-back cut short); run once start-up has learned the cluster's configuration.
   * Keys of a change under way are kept.
   */
  Future<Integer> sweepLeftovers() {
    return dropForeignKeys().onSuccess(n -> {
      if (n > 0) {
        LOG.info("event=leftover-keys-dropped node={} epoch={} keys={}", node.state().self(),
            node.state().current().epoch(), n);
      }
    });
  }
}
