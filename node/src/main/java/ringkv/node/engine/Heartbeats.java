package ringkv.node.engine;

import io.vertx.core.Vertx;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import ringkv.gossip.NodeStability;
import ringkv.gossip.Replica;
import ringkv.node.peer.MembershipMessages.Ping;
import ringkv.node.peer.MembershipMessages.Pong;
import ringkv.node.peer.PeerClient;
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

  private final Vertx vertx;
  private final ClusterState state;
  private final NodeStability stability;
  private final Replica replica;
  private final PeerLiveness liveness;
  private final GossipDriver gossip;
  private final ConfigSync configSync;
  private final PeerClient peers;
  private final NodeMeta meta;
  private final long intervalMs;
  private final long timeoutMs;
  private final java.util.function.LongSupplier clockLimit;
  private long timer = -1;

  public Heartbeats(Vertx vertx, ClusterState state, NodeStability stability, Replica replica,
      PeerLiveness liveness, GossipDriver gossip, ConfigSync configSync, PeerClient peers,
      NodeMeta meta, long intervalMs, long timeoutMs,
      java.util.function.LongSupplier clockLimit) {
    this.vertx = vertx;
    this.state = state;
    this.stability = stability;
    this.replica = replica;
    this.liveness = liveness;
    this.gossip = gossip;
    this.configSync = configSync;
    this.peers = peers;
    this.meta = meta;
    this.intervalMs = intervalMs;
    this.timeoutMs = timeoutMs;
    this.clockLimit = clockLimit;
  }

  public void start() {
    liveness.track(state.others());
    timer = vertx.setPeriodic(intervalMs, id -> beat());
  }

  public void stop() {
    if (timer >= 0) {
      vertx.cancelTimer(timer);
      timer = -1;
    }
  }

  private void beat() {
    liveness.track(state.others());
    Ping ping = new Ping(state.self(), state.current().epoch());
    for (NodeAddress peer : state.others()) {
      peers.call(peer, PeerProtocol.PING, ping, timeoutMs).onSuccess(pong -> onPong(peer, pong));
    }
    for (String down : liveness.onTick()) {
      LOG.info("event=peer-down node={} peer={}", state.self(), down);
    }
    stability.releaseIfRepaired(liveness.live(state.shardPeers()).stream()
        .map(NodeAddress::toString).toList()).ifPresent(reason -> LOG.info(
            "event=stable-released node={} reason={} anti-entropy-passes={}", state.self(),
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
    if (pong.epoch() > state.current().epoch()) {
      configSync.learnFrom(peer);
    }
  }

  /**
   * A peer's heartbeat: it is alive. A newer epoch it reports is not fetched from it here (a ping
   * names its sender, and a node contacts no address because a request named it): this node
   * pings that peer too and learns the epoch from the answer, within one interval.
   */
  public Pong onPing(Ping ping) {
    if (state.current().view().contains(ping.from())) {
      heard(ping.from());
    }
    return status();
  }

  /** What this node reports about itself (no side effects). */
  public Pong status() {
    return new Pong(state.self(), state.current().epoch(), stability.localStable(replica),
        stability.incarnation(), !state.catchingUp());
  }

  /** Any message from {@code peer} proves it alive. */
  public void heard(NodeAddress peer) {
    if (liveness.heard(peer)) {
      LOG.info("event=peer-up node={} peer={}", state.self(), peer);
      gossip.onPeerUp(peer);
      configSync.peerUp(peer);
    }
  }
}
