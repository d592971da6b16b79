package ringkv.gossip.sim;

import java.util.HashSet;
import java.util.List;
import java.util.Set;
import ringkv.gossip.Entry;
import ringkv.gossip.sim.SimMessage.ConfigRequest;
import ringkv.gossip.sim.SimMessage.ScanPage;
import ringkv.gossip.sim.SimMessage.ScanShard;
import ringkv.ring.ClusterConfig;

/**
 * A node's catch-up in the simulation (the node's CatchUp): after a restart, or after it adopted
 * a configuration whose transfer it missed, the node copies its shard from a peer page by page
 * (copied data, merged as is) before it serves; a peer that does not answer within
 * {@link SimNode#EXCHANGE_TIMEOUT_MS} is replaced by the next. A node with durable data serves
 * with what it kept once each peer in turn failed to answer; one without must wait for a peer
 * ({@link ringkv.gossip.NodeStability#mayEndCatchUpUncopied}, the node's own rule). After a
 * restart it first asks the other nodes of its view for their configuration and installs a newer
 * one as learned (the node's CatchUp.bootstrap, one attempt of {@code discover}): a node down
 * for a whole change learns it before it copies and serves.
 *
 * <p>Not thread-safe; a simulation runs in one thread.
 */
final class SimCatchUp {
  private final SimNode node;
  // The peer copied from, where the next page starts, when it was asked for.
  private int source;
  private String after;
  private long askedMs = -1;
  private long copied;
  // Discovery after a restart: the nodes not answered yet, the newest configuration answered.
  private final Set<String> unanswered = new HashSet<>();
  private boolean discovering;
  private ClusterConfig discovered;

  SimCatchUp(SimNode node) {
    this.node = node;
  }

  void start() {
    node.setPhase(SimNode.Phase.CATCHING_UP);
    source = 0;
    after = null;
    copied = 0;
    askedMs = -1;
  }

  /** After a restart: asks the other nodes of the view for their configuration, then copies. */
  void startAfterRestart(long local) {
    start();
    discovering = true;
    discovered = null;
    unanswered.clear();
    node.config().view().forEach(a -> unanswered.add(a.toString()));
    unanswered.remove(node.id());
    askedMs = local;
    unanswered.forEach(p -> node.network().send(node.id(), p, new ConfigRequest()));
  }

  /** Whether a configuration answered now is the answer to the discovery of a restart. */
  boolean discovering() {
    return discovering;
  }

  /** {@code from} answered the discovery with {@code config}. */
  void onDiscovered(String from, ClusterConfig config) {
    if (discovered == null || config.isNewerThan(discovered)) {
      discovered = config;
    }
    unanswered.remove(from);
  }

  void stop() {
    askedMs = -1;
    discovering = false;
  }

  void step(long local) {
    if (discovering) {
      if (!unanswered.isEmpty() && local - askedMs < SimNode.EXCHANGE_TIMEOUT_MS) {
        return; // waiting for the answers
      }
      discovering = false;
      askedMs = -1;
      if (discovered != null && discovered.isNewerThan(node.config())) {
        node.change().learn(discovered, local); // installs it as learned, then copies anew
        return;
      }
    }
    if (askedMs >= 0 && local - askedMs < SimNode.EXCHANGE_TIMEOUT_MS) {
      return; // waiting for the page
    }
    if (askedMs >= 0) {
      source++; // no answer: try the next peer, from where we were
    }
    List<String> peers = node.peers();
    if (node.stability().mayEndCatchUpUncopied(source, peers.size())) {
      caughtUp(); // nobody answers: serve with what it kept (catch-up skipped)
      return;
    }
    String from = peers.get(source % peers.size());
    askedMs = local;
    node.network().send(node.id(), from, new ScanShard(node.shard(), after,
        node.incarnation()));
  }

  private void caughtUp() {
    node.stability().onCaughtUp(copied, node.replica().clock().current());
    node.setPhase(SimNode.Phase.UP);
    askedMs = -1;
    if (node.change().participant().underWay().isEmpty()) {
      // Keys copied in for a change this process no longer knows (the node's
      // ChangeParticipant.sweepLeftovers, run once its start-up is over).
      node.dropForeignKeys();
    }
  }

  /** Catch-up pages, both sides. */
  void onMessage(String from, SimMessage message, long local) {
    if (message instanceof ScanShard scan) {
      // Answered while catching up too, as the node's CatchUp.scan does (a node that refused
      // then kept a fresh cluster with one member of a shard down from ever being ready).
      if (node.phase() != SimNode.Phase.DOWN) {
        List<Entry> page = node.replica().store().scan(scan.after(), SimNode.SCAN_PAGE_ENTRIES);
        String last = page.size() < SimNode.SCAN_PAGE_ENTRIES ? null
            : page.get(page.size() - 1).key();
        List<Entry> ofShard = page.stream()
            .filter(e -> node.shards().shardOf(e.key()) == scan.shard()).toList();
        node.network().send(node.id(), from, new ScanPage(ofShard, last, scan.incarnation()));
      }
    } else if (message instanceof ScanPage page) {
      if (page.incarnation() == node.incarnation()
          && node.phase() == SimNode.Phase.CATCHING_UP && askedMs >= 0) {
        node.core().applyFromPeers(page.entries(), false, k -> true);
        copied += page.entries().size();
        after = page.last();
        askedMs = -1;
        if (page.last() == null) {
          caughtUp();
        } else {
          step(local);
        }
      }
    } else if (!(message instanceof SimMessage.ChangeAnswer)) {
      // A coordinator's answer may arrive after it crashed or finished: ignored.
      throw new IllegalStateException("unknown message " + message);
    }
  }
}
