package ringkv.node.engine;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import ringkv.gossip.NodeStability;
import ringkv.gossip.Replica;
import ringkv.node.peer.MembershipMessages.Ping;
import ringkv.node.peer.MembershipMessages.Pong;
import ringkv.node.peer.PeerProtocol;
import ringkv.ring.NodeAddress;

/**
 * Heartbeats: every {@code HEARTBEAT_INTERVAL_MS} this node pings every other node of the view.
 * An answer proves the peer alive, carries its stable-time report (per process incarnation) and
 * its epoch (a higher one makes this node learn the newer configuration); silence past
 * {@code FAILURE_TIMEOUT_MS} marks it down. Each beat also releases a stable-time hold once
 * anti-entropy has repaired the shard, and records the stable mark in {@code DATA_DIR}.
 *
 * <p>Not thread-safe; runs on the node's event loop.
 */
public final class Heartbeats {
  private static final Logger LOG = LoggerFactory.getLogger(Heartbeats.class);

  private final NodeServices node;
  private final NodeStability stability;
  private final Replica replica;
  private final GossipDriver gossip;
  private final ConfigSync configSync;
  private final NodeMeta meta;
  private final long intervalMs;
  private final long timeoutMs;
  private final java.util.function.LongSupplier clockLimit;
  private long timer = -1;

  public Heartbeats(NodeServices node, NodeStability stability, Replica replica,
      GossipDriver gossip, ConfigSync configSync, NodeMeta meta, long intervalMs, long timeoutMs,
      java.util.function.LongSupplier clockLimit) {
    this.node = node;
    this.stability = stability;
    this.replica = replica;
    this.gossip = gossip;
    this.configSync = configSync;
    this.meta = meta;
    this.intervalMs = intervalMs;
    this.timeoutMs = timeoutMs;
    this.clockLimit = clockLimit;
  }

  public void start() {
    node.liveness().track(node.state().others());
    timer = node.vertx().setPeriodic(intervalMs, id -> beat());
  }

  public void stop() {
    if (timer >= 0) {
      node.vertx().cancelTimer(timer);
      timer = -1;
    }
  }

  private void beat() {
    node.liveness().track(node.state().others());
    Ping ping = new Ping(node.state().self(), node.state().current().epoch());
    for (NodeAddress peer : node.state().others()) {
      node.peers().call(peer, PeerProtocol.PING, ping, timeoutMs)
          .onSuccess(pong -> onPong(peer, pong));
    }
    for (String down : node.liveness().onTick()) {
      LOG.info("event=peer-down node={} peer={}", node.state().self(), down);
    }
    stability.releaseIfRepaired(node.liveness().live(node.state().shardPeers()).stream()
        .map(NodeAddress::toString).toList()).ifPresent(reason -> LOG.info(
            "event=stable-released node={} reason={} anti-entropy-passes={}", node.state().self(),
            reason, NodeStability.HOLD_PASSES));
    meta.saveStableMark(stability.localStable(replica));
  }

  private void onPong(NodeAddress peer, Pong pong) {
    if (!pong.node().equals(peer)) {
      return; // another process answers at that address
    }
    heard(peer);
    if (pong.stable() <= clockLimit.getAsLong()) {
      // A stable time beyond any honest clock would make this node prune contexts and collect
      // tombstones its peers still need: such a report is ignored.
      stability.onReport(peer.toString(), pong.incarnation(), pong.epoch(),
          pong.stable());
    }
    if (pong.epoch() > node.state().current().epoch()) {
      configSync.learnFrom(peer);
    }
  }

  /**
   * A peer's heartbeat: it is alive. A newer epoch it reports is not fetched from it here (a ping
   * names its sender, and a node contacts no address because a request named it): this node
   * pings that peer too and learns the epoch from the answer, within one interval.
   */
  public Pong onPing(Ping ping) {
    if (node.state().current().view().contains(ping.from())) {
      heard(ping.from());
    }
    return status();
  }

  /** What this node reports about itself (no side effects). */
  public Pong status() {
    return new Pong(node.state().self(), node.state().current().epoch(),
        stability.localStable(replica), stability.incarnation(), !node.state().catchingUp());
  }

  /** Any message from {@code peer} proves it alive. */
  public void heard(NodeAddress peer) {
    if (node.liveness().heard(peer)) {
      LOG.info("event=peer-up node={} peer={}", node.state().self(), peer);
      gossip.onPeerUp(peer);
      configSync.peerUp(peer);
    }
  }
}
