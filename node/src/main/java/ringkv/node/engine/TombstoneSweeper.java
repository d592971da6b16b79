package ringkv.node.engine;

import java.util.OptionalInt;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import ringkv.gossip.KeyValueCore;

/**
 * Collects, every {@link #TOMBSTONE_SWEEP_MS}, the tombstones every replica holds
 * ({@link KeyValueCore#sweepTombstones}), one page per turn of the event loop, at most one sweep
 * at a time; never during a view change or while this replica catches up
 * ({@link KeyValueCore#maySweepTombstones}, the rule the simulation runs too).
 *
 * <p>Not thread-safe; every method runs on the node's event loop.
 */
final class TombstoneSweeper {
  private static final Logger LOG = LoggerFactory.getLogger(KvService.class);
  /** How often tombstones every replica holds are collected. */
  static final long TOMBSTONE_SWEEP_MS = 2_000;
  /** Entries a tombstone sweep looks at per turn of the event loop. */
  static final int SWEEP_PAGE_ENTRIES = 1024;

  private final NodeServices node;
  private final KeyValueCore core;
  private long sweepTimer = -1;
  private boolean sweeping;

  TombstoneSweeper(NodeServices node, KeyValueCore core) {
    this.node = node;
    this.core = core;
  }

  void start() {
    sweepTimer = node.vertx().setPeriodic(TOMBSTONE_SWEEP_MS, id -> sweepTombstones());
  }

  void stop() {
    if (sweepTimer >= 0) {
      node.vertx().cancelTimer(sweepTimer);
      sweepTimer = -1;
    }
  }

  /** Starts a sweep (one page per turn of the event loop) unless one is running. */
  private void sweepTombstones() {
    if (!sweeping) {
      sweeping = true;
      sweepPage(null, 0);
    }
  }

  private void sweepPage(String after, int removedSoFar) {
    OptionalInt shard = node.state().current().shardOfNode(node.state().self());
    if (!KeyValueCore.maySweepTombstones(shard.isPresent(), node.state().underWay().isPresent(),
        node.state().catchingUp())) {
      sweeping = false;
      return;
    }
    var sweep = core.sweepTombstones(after, SWEEP_PAGE_ENTRIES);
    int removed = removedSoFar + sweep.removed();
    if (sweep.resumeAfter() == null) {
      sweeping = false;
      if (removed > 0) {
        LOG.debug("event=tombstones-collected node={} count={}", node.state().self(), removed);
      }
      return;
    }
    Turns.afterIo(node.vertx(), () -> sweepPage(sweep.resumeAfter(), removed));
  }
}
