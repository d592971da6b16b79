package ringkv.tools;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/**
 * One node as {@code ./kvs status} shows it, from the node's own answers: reachable or not, its
 * readiness and epoch ({@code GET /health/ready}), its keys ({@code ringkv_store_keys} of
 * {@code GET /metrics}), and its replication queue and lag ({@code GET /ring/replication}: keys
 * its shard peers have not acknowledged, and the age of the oldest). Null figures are unknown.
 */
record NodeStatus(String address, Integer shard, boolean up, String state, Long epoch,
    Long keys, Long queue, Long lagMs, boolean liveAtSeed, String problem) {

  /** Asks {@code address} for its figures, all at once; a node that does not answer is DOWN. */
  static CompletableFuture<NodeStatus> probe(NodeClient client, String address, Integer shard,
      boolean liveAtSeed) {
    CompletableFuture<Reply> health =
        client.sendAsync(address, NodeClient.Request.get("/health/ready"));
    CompletableFuture<Optional<Reply>> replication =
        optional(client.sendAsync(address, NodeClient.Request.get("/ring/replication")));
    CompletableFuture<Optional<Reply>> metrics =
        optional(client.sendAsync(address, NodeClient.Request.get("/metrics")));
    // Both optional futures complete normally (a missing figure is null), so this waits for all.
    return CompletableFuture.allOf(replication, metrics).thenCombine(health,
        (done, h) -> reachable(address, shard, liveAtSeed, h, replication.join().orElse(null),
            metrics.join().orElse(null)))
        .exceptionally(e -> {
          Throwable cause = e.getCause() == null ? e : e.getCause();
          return new NodeStatus(address, shard, false, "unreachable", null, null, null, null,
              liveAtSeed, cause.getMessage());
        });
  }

  private static CompletableFuture<Optional<Reply>> optional(CompletableFuture<Reply> f) {
    return f.thenApply(Optional::of).exceptionally(e -> Optional.empty());
  }

  private static NodeStatus reachable(String address, Integer shard, boolean liveAtSeed,
      Reply health, Reply replication, Reply metrics) {
    JsonNode h = health.json();
    String state = h.path("status").asText(health.ok() ? "ready" : "http " + health.status());
    Long epoch = h.path("epoch").isNumber() ? h.path("epoch").asLong() : null;
    Long queue = null;
    Long lag = null;
    if (replication != null && replication.ok()) {
      JsonNode r = replication.json();
      queue = r.path("pending-total").isNumber() ? r.path("pending-total").asLong() : null;
      long oldest = 0;
      for (JsonNode peer : r.path("peers")) {
        oldest = Math.max(oldest, peer.path("oldest-unacked-age-ms").asLong(0));
      }
      lag = queue == null ? null : oldest;
    }
    Long keys = null;
    if (metrics != null && metrics.ok()) {
      keys = MetricsText.value(metrics.text(), "ringkv_store_keys")
          .map(v -> (long) (double) v).orElse(null);
    }
    return new NodeStatus(address, shard, true, state, epoch, keys, queue, lag, liveAtSeed,
        null);
  }

  ObjectNode toJson() {
    ObjectNode o = Json.object();
    o.put("address", address).put("shard-id", shard).put("status", up ? "UP" : "DOWN");
    o.put("state", state).put("epoch", epoch).put("key-count", keys)
        .put("replication-queue", queue).put("lag-ms", lagMs).put("live-at-seed", liveAtSeed);
    if (problem != null) {
      o.put("problem", problem);
    }
    return o;
  }
}
