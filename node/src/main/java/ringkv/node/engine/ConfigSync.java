package ringkv.node.engine;

import io.vertx.core.Future;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import ringkv.gossip.ViewChangeParticipant;
import ringkv.node.peer.Empty;
import ringkv.node.peer.PeerProtocol;
import ringkv.ring.ClusterConfig;
import ringkv.ring.NodeAddress;

/**
 * How a node that missed a configuration change (restarted without data, partitioned, or absent
 * from the commit) learns it: from a peer that reports a higher epoch, it fetches that peer's
 * configuration; if it is the change this node prepared, the change committed elsewhere and
 * commits here too; if it is newer, it is installed and this node copies its shard from a peer.
 * Nodes converge to the highest epoch.
 *
 * <p>What a node adopts this way is bounded: it asks only members of its current view (never an
 * address a request named), over the peer protocol (authenticated when {@code CLUSTER_SECRET}
 * is set, answer included), and adopts only an epoch newer than its own and within
 * {@code EPOCH_AHEAD_MAX} of it ({@link ringkv.gossip.EpochBound}).
 *
 * <p>Not thread-safe; runs on the node's event loop.
 */
public final class ConfigSync {
  private static final Logger LOG = LoggerFactory.getLogger(ConfigSync.class);
  private static final int REFUSALS_REMEMBERED = 64;

  private final NodeServices node;
  private final ChangeParticipant participant;
  private final CatchUp catchUp;
  /** Epochs refused and logged once each (the last few: all an operator needs to see). */
  private final Set<Long> refused = Collections.newSetFromMap(new LinkedHashMap<>() {
    @Override
    protected boolean removeEldestEntry(Map.Entry<Long, Boolean> eldest) {
      return size() > REFUSALS_REMEMBERED;
    }
  });

  public ConfigSync(NodeServices node, ChangeParticipant participant, CatchUp catchUp) {
    this.node = node;
    this.participant = participant;
    this.catchUp = catchUp;
  }

  /**
   * Fetches and adopts {@code peer}'s configuration if it is newer; completes when done (or
   * when the peer did not answer). Never fails.
   */
  public Future<Void> learnFrom(NodeAddress peer) {
    if (!node.state().current().view().contains(peer) || peer.equals(node.state().self())) {
      return Future.succeededFuture(); // not a member: never contacted on a request's word
    }
    return node.ask(peer, PeerProtocol.CONFIG, Empty.INSTANCE)
        .onSuccess(theirs -> adopt(peer, theirs))
        .<Void>mapEmpty().recover(err -> Future.succeededFuture());
  }

  /** Adopts {@code theirs}, {@code peer}'s configuration, if it is newer and acceptable. */
  private void adopt(NodeAddress peer, ClusterConfig theirs) {
    ClusterConfig current = node.state().current();
    var refusal = node.state().epochs().refusal(current.epoch(), theirs.epoch());
    if (node.state().underWay().filter(theirs::equals).isPresent()) {
      participant.commit(theirs.epoch()); // committed elsewhere; our data already moved
      return;
    }
    if (node.state().participant().isPrepared(theirs.epoch())) {
      // Another change at that epoch won (ours was aborted and retried differently): ours is
      // forgotten, not rolled back; the configuration installed below decides what stays.
      participant.forget(theirs.epoch());
    }
    if (refusal.isEmpty()) {
      LOG.info("event=config-learned node={} from={} epoch={}", node.state().self(), peer,
          theirs.epoch());
      participant.adoptLearned(theirs);
      catchUp.catchUp(); // we missed the transfer: copy our shard from a peer
    } else if (theirs.isNewerThan(current) && refused.add(theirs.epoch())) {
      LOG.warn("event=config-refused node={} from={} epoch={} reason=\"{}\"",
          node.state().self(), peer, theirs.epoch(), refusal.get());
    }
  }

  /** {@code peer} was heard again after it was down (a catch-up waiting for it asks now). */
  public void peerUp(NodeAddress peer) {
    catchUp.peerUp(peer);
  }

  /** Whether a message from a node holding {@code epoch} tells this node something new. */
  public boolean isNews(long epoch) {
    return ViewChangeParticipant.isNews(node.state().current().epoch(), node.state().pending(),
        epoch);
  }
}
