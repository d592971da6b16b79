package ringkv.node.engine;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.util.Objects;
import ringkv.node.config.NodeConfig;
import ringkv.node.metrics.NodeMetrics;
import ringkv.node.peer.PeerClient;
import ringkv.node.peer.PeerRoute;
import ringkv.node.time.Clock;
import ringkv.ring.NodeAddress;

/**
 * What every part of a node's engine shares: its event loop ({@code vertx}, {@code context}),
 * its one clock, its settings, the cluster configuration it holds ({@link ClusterState}), what it
 * knows of its peers' liveness, the one client it calls them through, and its metrics. Built once
 * by the composition root (NodeVerticle); each part keeps only its own collaborators beside it.
 */
public record NodeServices(Vertx vertx, Context context, Clock clock, NodeConfig config,
    ClusterState state, PeerLiveness liveness, PeerClient peers, NodeMetrics metrics) {
  public NodeServices {
    Objects.requireNonNull(vertx, "vertx");
    Objects.requireNonNull(context, "context");
    Objects.requireNonNull(clock, "clock");
    Objects.requireNonNull(config, "config");
    Objects.requireNonNull(state, "state");
    Objects.requireNonNull(liveness, "liveness");
    Objects.requireNonNull(peers, "peers");
    Objects.requireNonNull(metrics, "metrics");
  }

  /**
   * Calls {@code to} on {@code route} with the node's timeout for peer calls
   * (FORWARD_TIMEOUT_MS).
   */
  public <Q, A> Future<A> ask(NodeAddress to, PeerRoute<Q, A> route, Q request) {
    return peers.call(to, route, request, config.forwardTimeoutMs());
  }
}
