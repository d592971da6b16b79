package ringkv.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import ringkv.tests.support.Commands;
import ringkv.tests.support.FakePeer;
import ringkv.tests.support.FakePeerShard;
import ringkv.tests.support.Http;
import ringkv.tests.support.Http.Reply;

/*
 * Goal: GET /health/live and GET /health/ready (SPEC §7, issue 14 item 5) tell a supervisor what
 * it needs and nothing else: live answers 200 whenever the process serves HTTP; ready answers 200
 * only once the node has its shard's data and installs no view change, else 503 with a JSON
 * error; neither changes anything nor contacts a peer; the image's HEALTHCHECK (the command in
 * the Dockerfile, which the compose files repeat) follows ready.
 *
 * Method: one real node whose shard peers are two fakes (FakePeer) in its VIEW, so every step is
 * held deterministically. Catch-up: the node is restarted and the fakes serve one page of its
 * shard's data and hold the second, so it stays catching up until the test releases them. View
 * change: the test plays a coordinator and sends the node a prepare for epoch + 1, then an
 * abort. No effect: with heartbeats and anti-entropy slowed to a minute and more, the fakes count
 * every request they get while the test sends 100 health requests; the ring (epoch, shards,
 * members, tokens) and the view are compared before and after.
 */
class HealthTest {
  private static final String LIVE = "/health/live";
  private static final String READY = "/health/ready";
  private static final Duration CATCH_UP_TIMEOUT = Duration.ofSeconds(30);

  @Test
  void restartedNodeIsLiveButNotReadyUntilCaughtUp() {
    try (FakePeerShard shard = FakePeerShard.start("HealthTest")) {
      String a = shard.a();
      assertEquals(0, imageHealthCheck(a).code(), "healthy before the restart");
      shard.restartCatchingUp("{\"entries\":[{\"key\":\"k\",\"json\":\"1\",\"version\":[1,\""
          + a + "\"]}],\"last\":\"k\"}", CATCH_UP_TIMEOUT);

      Reply live = Http.get(a, LIVE);
      assertEquals(200, live.status(), live.toString());
      assertEquals("live", live.field("status").asText(), live.toString());
      Reply ready = Http.get(a, READY);
      assertEquals(503, ready.status(), ready.toString());
      assertEquals("catching-up", ready.field("status").asText(), ready.toString());
      assertJsonError(ready);
      assertEquals(1, ready.field("epoch").asLong(), ready.toString());
      Commands.Result check = imageHealthCheck(a);
      assertFalse(check.ok(), "the image's health check passed while catching up: " + check);

      shard.release();
      shard.cluster().awaitServing(0); // polls GET /health/ready until 200
      ready = Http.get(a, READY);
      assertEquals("ready", ready.field("status").asText(), ready.toString());
      assertEquals(shard.cluster().address(0), ready.field("node").asText(), ready.toString());
      assertEquals(0, imageHealthCheck(a).code(), "healthy once caught up");
    }
  }

  @Test
  void healthChangesNothingAndContactsNoPeer() {
    try (FakePeerShard shard = FakePeerShard.start("HealthNoEffectTest", node -> node
        .env("HEARTBEAT_INTERVAL_MS", "60000").env("FAILURE_TIMEOUT_MS", "120000")
        .env("ANTI_ENTROPY_INTERVAL_MS", "3600000"))) {
      String a = shard.a();
      FakePeer b = shard.b();
      FakePeer c = shard.c();
      JsonNode ring = Http.get(a, "/ring").body();
      JsonNode view = Http.get(a, "/key-value-store-view").body();
      Map<String, Integer> before = Map.of("b", total(b), "c", total(c));
      for (int i = 0; i < 50; i++) {
        assertEquals(200, Http.get(a, LIVE).status());
        assertEquals(200, Http.get(a, READY).status());
      }
      assertEquals(before, Map.of("b", total(b), "c", total(c)),
          "a health request contacted a peer: " + b.requests() + " " + c.requests());
      assertEquals(ring, Http.get(a, "/ring").body(), "configuration (epoch, ring) changed");
      assertEquals(view, Http.get(a, "/key-value-store-view").body(), "view changed");
      // No other method does anything either, and none needs a body or a token.
      for (String method : List.of("POST", "PUT", "DELETE")) {
        Reply r = Http.send(method, a, READY, "{\"epoch\":99}");
        assertEquals(405, r.status(), method + " " + r);
        assertJsonError(r);
      }
      assertEquals(ring, Http.get(a, "/ring").body(), "configuration (epoch, ring) changed");
    }
  }

  @Test
  void aViewChangeBeingInstalledMakesTheNodeNotReady() {
    try (FakePeerShard shard = FakePeerShard.start("HealthViewChangeTest")) {
      String a = shard.a();
      String self = shard.cluster().address(0);
      ObjectNode next = (ObjectNode) Http.send("POST", a, "/internal/config", "{}").body();
      long epoch = next.get("epoch").asLong();
      next.put("epoch", epoch + 1);
      Reply prepared = Http.send("POST", a, "/internal/view/prepare", "{\"config\":" + next
          + ",\"participants\":[\"" + self + "\"],\"coordinator\":\"" + self + "\"}");
      assertEquals(200, prepared.status(), prepared.toString());

      Reply ready = Http.get(a, READY);
      assertEquals(503, ready.status(), ready.toString());
      assertEquals("view-change", ready.field("status").asText(), ready.toString());
      assertEquals(epoch, ready.field("epoch").asLong(), ready.toString());
      assertEquals(epoch + 1, ready.field("pending-epoch").asLong(), ready.toString());
      assertJsonError(ready);
      assertEquals(200, Http.get(a, LIVE).status());

      Reply aborted = Http.send("POST", a, "/internal/view/abort",
          "{\"epoch\":" + (epoch + 1) + "}");
      assertEquals(200, aborted.status(), aborted.toString());
      ready = Http.get(a, READY);
      assertEquals(200, ready.status(), ready.toString());
      assertEquals(epoch, ready.field("epoch").asLong(), ready.toString());
    }
  }

  private static int total(FakePeer peer) {
    return peer.requests().values().stream().mapToInt(Integer::intValue).sum();
  }

  private static void assertJsonError(Reply r) {
    assertEquals("application/json", r.header("content-type").orElse(""), r.toString());
    assertTrue(r.field("message").isTextual() && r.field("error").isTextual(), r.toString());
  }

  /**
   * Runs the Dockerfile's HEALTHCHECK command (its exec-form array, as Docker runs it) against
   * the node at {@code address}, given as SOCKET_ADDRESS like in the container.
   */
  static Commands.Result imageHealthCheck(String address) {
    try {
      String dockerfile = Files.readString(Commands.repository().resolve("Dockerfile"));
      Matcher m = Pattern.compile("(?m)^\\s*CMD (\\[.*\\])\\s*$").matcher(dockerfile);
      assertTrue(m.find(), "no HEALTHCHECK CMD in the Dockerfile");
      List<String> command = List.of(Http.MAPPER.readValue(m.group(1), String[].class));
      assertTrue(String.join(" ", command).contains(READY), command.toString());
      return Commands.runWithEnv(Duration.ofSeconds(10), Map.of("SOCKET_ADDRESS", address),
          command.toArray(String[]::new));
    } catch (IOException e) {
      throw new AssertionError("cannot read the Dockerfile", e);
    }
  }
}
