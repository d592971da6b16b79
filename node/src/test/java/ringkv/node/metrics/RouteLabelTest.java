package ringkv.node.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;
import ringkv.node.peer.PeerProtocol;
import ringkv.node.peer.PeerRoute;

/**
 * Goal: the {@code route} label is a template, never a raw path, so its values are bounded by
 * the routes a node serves. Method: a path of every route the node mounts (SPEC §3, §4, §5, §7
 * and every peer route) maps to its template; paths with keys and ids of any shape map to one
 * value; unknown paths all map to {@code other}.
 */
class RouteLabelTest {
  @Test
  void everyRouteMapsToItsTemplate() {
    String[][] cases = {
        {"/key-value-store/k", "/key-value-store/{key}"},
        {"/key-value-store/a/b/c", "/key-value-store/{key}"},
        {"/key-value-store", "/key-value-store/{key}"},
        {"/key-value-store/", "/key-value-store/{key}"},
        {"/key-value-store-view", "/key-value-store-view"},
        {"/key-value-store-shard/shard-ids", "/key-value-store-shard/shard-ids"},
        {"/key-value-store-shard/node-shard-id", "/key-value-store-shard/node-shard-id"},
        {"/key-value-store-shard/shard-id-members/2",
            "/key-value-store-shard/shard-id-members/{id}"},
        {"/key-value-store-shard/shard-id-key-count/1",
            "/key-value-store-shard/shard-id-key-count/{id}"},
        {"/key-value-store-shard/add-member/1", "/key-value-store-shard/add-member/{id}"},
        {"/key-value-store-shard/reshard", "/key-value-store-shard/reshard"},
        {"/kvs/keys/x%2Fy", "/kvs/keys/{key}"},
        {"/kvs/key-count", "/kvs/key-count"},
        {"/kvs/shards", "/kvs/shards"},
        {"/kvs/shards/1", "/kvs/shards/{id}"},
        {"/kvs/view-change", "/kvs/view-change"},
        {"/ring", "/ring"},
        {"/ring/key/abc", "/ring/key/{key}"},
        {"/health/live", "/health/live"},
        {"/health/ready", "/health/ready"},
        {"/metrics", "/metrics"},
        {"/nope", "other"},
        {"/kvs/shards/1/extra", "other"},
        {"/key-value-store-shard/shard-id-members/", "other"},
        {"/", "other"}};
    for (String[] c : cases) {
      assertEquals(c[1], RouteLabel.of(c[0]).template(), c[0]);
    }
    assertEquals("shard", RouteLabel.of("/key-value-store/k").dialect());
    assertEquals("view-change", RouteLabel.of("/kvs/keys/k").dialect());
    for (PeerRoute<?, ?> route : PeerProtocol.ALL) {
      RouteLabel label = RouteLabel.of(route.path());
      assertEquals(route.path(), label.template());
      assertEquals("internal", label.dialect());
    }
    assertEquals("other", RouteLabel.of("/internal/unknown").template());
  }

  @Test
  void labelsAreFewAndDistinct() {
    Set<String> templates = new HashSet<>();
    for (RouteLabel label : RouteLabel.all()) {
      assertEquals(true, templates.add(label.template()), label.template());
      assertNotEquals(-1, label.template().indexOf('/') + (label == RouteLabel.OTHER ? 1 : 0));
    }
    assertEquals(true, RouteLabel.all().size() < 64, RouteLabel.all().toString());
  }
}
