package ringkv.node.api;

import ringkv.node.config.NodeConfig;
import ringkv.node.engine.ClusterState;
import ringkv.node.engine.KvService;
import ringkv.node.engine.PeerLiveness;
import ringkv.node.engine.ViewChanges;

/**
 * What the client-facing routes (both dialects, the ring and the page) read and drive, built once
 * by the composition root: the key-value service, the one owner of the configuration, which
 * peers are live, the view-change coordinator and the node's configuration.
 */
public record ApiServices(KvService kv, ClusterState state, PeerLiveness liveness,
    ViewChanges views, NodeConfig config) {}
