package ringkv.node.engine;

import io.vertx.core.Future;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import ringkv.node.peer.Empty;
import ringkv.node.peer.PeerClient;
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
 * <p>Not thread-safe; runs on the node's event loop.
 */
public final class ConfigSync {
  private static final Logger LOG = LoggerFactory.getLogger(ConfigSync.class);

  private final ClusterState state;
  private final ChangeParticipant participant;
  private final CatchUp catchUp;
  private final PeerClient peers;
  private final long timeoutMs;

  public ConfigSync(ClusterState state, ChangeParticipant participant, CatchUp catchUp, PeerClient peers,
      long timeoutMs) {
    this.state = state;
    this.participant = participant;
    this.catchUp = catchUp;
    this.peers = peers;
    this.timeoutMs = timeoutMs;
  }

  /**
   * Fetches and adopts {@code peer}'s configuration if it is newer; completes when done (or
   * when the peer did not answer). Never fails.
   */
  public Future<Void> learnFrom(NodeAddress peer) {
    return peers.call(peer, PeerProtocol.CONFIG, Empty.INSTANCE, timeoutMs).onSuccess(theirs -> {
      if (state.participant().isPrepared(theirs.epoch())) {
        participant.commit(theirs.epoch()); // committed elsewhere; our data already moved
      } else if (theirs.isNewerThan(state.current())) {
        LOG.info("event=config-learned node={} from={} epoch={}", state.self(), peer,
            theirs.epoch());
        participant.adopt(theirs);
        catchUp.catchUp(); // we missed the transfer: copy our shard from a peer
      }
    }).<Void>mapEmpty().recover(err -> Future.succeededFuture());
  }

  /** Whether a message from a node holding {@code epoch} tells this node something new. */
  public boolean isNews(long epoch) {
    ClusterConfig current = state.current();
    return epoch > current.epoch()
        && state.pending().map(p -> p.epoch() <= epoch).orElse(true);
  }
}
