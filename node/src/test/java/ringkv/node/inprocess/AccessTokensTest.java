package ringkv.node.inprocess;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.parallel.Isolated;
import org.slf4j.LoggerFactory;
import ringkv.node.api.AccessGate;
import ringkv.ring.NodeAddress;

/*
 * Goal: with ADMIN_TOKEN, every route that changes the cluster answers 401 JSON without the
 * token (or with a wrong one) and changes nothing, read-only routes stay open, an operator with
 * the token can still reshard, and every admin request is logged with caller, route and outcome;
 * with CLIENT_TOKEN, key-value routes of both dialects — the fast path and the router's — need
 * it (the admin token also does). Method: InProcessCluster with the tokens in the environment.
 * Isolated: it reads what AccessGate logs, which a class running beside it would add to.
 */
@Isolated
class AccessTokensTest {
  private static final String ADMIN = "operator-token-0123456789abcdef";
  private static final String CLIENT = "client-token-0123456789abcdef";

  private static Map<String, String> env(String... more) {
    Map<String, String> env = new HashMap<>(PeerAuthenticationTest.SECURED);
    env.put("SHARD_COUNT", "2");
    for (int i = 0; i < more.length; i += 2) {
      env.put(more[i], more[i + 1]);
    }
    return env;
  }

  private static Map<String, String> bearer(String token) {
    return Map.of("Authorization", "Bearer " + token);
  }

  @Test
  void everyRouteThatChangesTheClusterNeedsTheAdminToken() {
    Logger gateLog = (Logger) LoggerFactory.getLogger(AccessGate.class);
    ListAppender<ILoggingEvent> log = new ListAppender<>();
    log.start();
    gateLog.addAppender(log);
    try (InProcessCluster c = new InProcessCluster(4, env("ADMIN_TOKEN", ADMIN))) {
      NodeAddress to = c.node(0);
      String member = "{\"socket-address\":\"" + c.node(3) + "\"}";
      String[][] changes = {
          {"PUT", "/key-value-store-view", "{\"socket-address\":\"127.0.0.1:9\"}"},
          {"DELETE", "/key-value-store-view", member},
          {"PUT", "/key-value-store-shard/add-member/1", member},
          {"PUT", "/key-value-store-shard/reshard", "{\"shard-count\":1}"},
          {"PUT", "/kvs/view-change", "{\"view\":\"" + c.node(0) + "\",\"repl-factor\":1}"},
          {"POST", "/admin/plan", "{\"kind\":\"reshard\",\"shard-count\":1}"},
          {"DELETE", "/admin/plan", null},
          {"POST", "/admin/plan/commit", "{\"epoch\":1}"},
          {"POST", "/admin/view-change/abort", null},
          {"POST", "/admin/view-change/settle", "{\"epoch\":2}"}};
      String before = c.send(to, "GET", "/ring", null).body();
      for (String[] change : changes) {
        for (Map<String, String> headers : List.of(Map.<String, String>of(), bearer("wrong"),
            Map.of("Authorization", ADMIN))) {
          var answer = c.send(to, change[0], change[1], change[2], headers);
          PeerAuthenticationTest.assertUnauthorized(answer, change[0] + " " + change[1]);
        }
      }
      assertEquals(before, c.send(to, "GET", "/ring", null).body(), "nothing changed");
      for (String open : new String[] {"/ring", "/key-value-store-view", "/health/ready",
          "/key-value-store-shard/shard-ids", "/key-value-store-shard/shard-id-members/1",
          "/key-value-store-shard/shard-id-key-count/1", "/kvs/shards", "/ring/key/k",
          "/admin/view-change", "/metrics"}) {
        assertEquals(200, c.send(to, "GET", open, null).status(), open);
      }
      var reshard = c.send(to, "PUT", "/key-value-store-shard/reshard", "{\"shard-count\":1}",
          bearer(ADMIN));
      assertEquals(200, reshard.status(), reshard.toString());
      assertTrue(c.send(to, "GET", "/key-value-store-shard/shard-ids", null).body()
          .contains("[1]"));
    } finally {
      gateLog.detachAppender(log);
    }
    List<String> lines = log.list.stream().map(ILoggingEvent::getFormattedMessage).toList();
    assertTrue(lines.stream().anyMatch(l -> l.contains("event=admin-request")
        && l.contains("path=/key-value-store-shard/reshard") && l.contains("status=200")
        && l.contains("outcome=done") && l.contains("caller=127.0.0.1")), lines.toString());
    assertTrue(lines.stream().anyMatch(l -> l.contains("outcome=unauthorized")), lines.toString());
  }

  @Test
  void keyValueRoutesNeedTheClientToken() {
    try (InProcessCluster c = new InProcessCluster(2,
        env("SHARD_COUNT", "1", "CLIENT_TOKEN", CLIENT, "ADMIN_TOKEN", ADMIN))) {
      NodeAddress to = c.node(0);
      String body = "{\"value\":1}";
      PeerAuthenticationTest.assertUnauthorized(c.send(to, "PUT", "/key-value-store/k", body),
          "fast path");
      PeerAuthenticationTest.assertUnauthorized(c.send(to, "PUT", "/kvs/keys/k", body,
          bearer("nope")), "view-change dialect");
      PeerAuthenticationTest.assertUnauthorized(c.send(to, "PUT",
          "/key-value-store/x/../k", body), "through the router");
      assertEquals(201, c.send(to, "PUT", "/key-value-store/k", body, bearer(CLIENT)).status());
      assertEquals(200, c.send(to, "GET", "/kvs/keys/k", null, bearer(ADMIN)).status());
      assertEquals(200, c.send(to, "GET", "/key-value-store-shard/shard-id-key-count/1", null)
          .status(), "counts are read-only");
    }
  }
}
