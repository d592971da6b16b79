package ringkv.node.engine;

import io.vertx.core.Future;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import ringkv.gossip.Entry;
import ringkv.gossip.HandOff;
import ringkv.gossip.NodeStability;
import ringkv.gossip.Replica;
import ringkv.node.log.LogFields;
import ringkv.ring.ClusterConfig;

/**
 * Installs a configuration on this node — one a change it took part in committed, one it
 * learned from a peer, one it found at start — and drops the keys it no longer owns, paged.
 */
final class LayoutInstaller {
  private static final Logger LOG = LoggerFactory.getLogger(LayoutInstaller.class);

  private final NodeServices node;
  private final NodeStability stability;
  private final Replica replica;
  private final NodeMeta meta;

  LayoutInstaller(NodeServices node, NodeStability stability, Replica replica, NodeMeta meta) {
    this.node = node;
    this.stability = stability;
    this.replica = replica;
    this.meta = meta;
  }

  /**
   * Installs {@code next}, learned from a peer: this node missed its transfer, so writes it made
   * under the old configuration were never queued to its new shard peers; it holds its
   * stability report until anti-entropy has repaired its shard, and hands the writes of keys
   * that leave it which may not be stable to their new owners ({@link HandOff}).
   */
  Future<Integer> adoptLearned(ClusterConfig next) {
    if (stability.onLearnedConfiguration()) {
      LOG.info("event=stable-held node={} reason={}", node.state().self(),
          NodeStability.MISSED_VIEW_CHANGE);
    }
    return adopt(next, HandOff.before(node.state().self().toString(), stability, replica,
        ClusterState.shardMap(next)));
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
    ClusterConfig previous = node.state().install(next);
    LogFields.epoch(next.epoch());
    node.state().clearForeignLive();
    meta.saveConfig(next);
    stability.onLayout(ClusterState.shardMap(next), next.epoch());
    replica.queue().retain((peer, key) -> next.membersOf(next.shardOf(key)).stream()
        .anyMatch(m -> m.toString().equals(peer)));
    node.liveness().track(node.state().others());
    LOG.info("event=config-installed node={} epoch={} previous={} shard={} shards={}",
        node.state().self(), next.epoch(), previous.epoch(), next.shardOfNode(node.state().self()),
        next.layout().asMap());
    long[] handed = {0};
    return dropForeignKeys(handOff == null ? e -> { } : e -> handOff.targets(e).ifPresent(t -> {
      replica.queue().handOff(e, t);
      handed[0]++;
    })).onSuccess(n -> {
      if (n > 0) {
        LOG.info("event=foreign-keys-dropped node={} epoch={} keys={} handed-off={}",
            node.state().self(), next.epoch(), n, handed[0]);
      }
    });
  }

  /** Drops the keys neither the installed configuration nor a change under way gives here. */
  Future<Integer> dropForeignKeys() {
    return dropForeignKeys(e -> { });
  }

  /**
   * Removes, one page per turn of the event loop, the keys the current
   * configuration does not give this node — checked against the configuration at each key, so
   * a newer one adopted meanwhile is respected, and keys a change begun meanwhile copies here
   * are kept. Completes with how many it removed.
   */
  private Future<Integer> dropForeignKeys(Consumer<Entry> beforeDrop) {
    int[] dropped = {0};
    return StorePages.scan(node.vertx(), replica.store(), ChangeParticipant.PAGE_ENTRIES, e -> {
      if (!node.state().owns(node.state().current(), e.key())
          && node.state().underWay().map(next -> !node.state().owns(next, e.key())).orElse(true)) {
        beforeDrop.accept(e);
        replica.store().remove(e.key());
        dropped[0]++;
      }
    }).map(v -> dropped[0]);
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
