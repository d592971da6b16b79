package ringkv.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import ringkv.client.RingSnapshot;
import ringkv.ring.Ring;
import ringkv.ring.TokenEntry;

/*
 * Goal: the lag probe writes each shard's probe key (owned by that shard, prefixed lagprobe-)
 * on one member, rotating the writer, probes the shards in turn, and records one lag per other
 * member once that member shows the new value; a member that never shows it is a failure, not
 * a sample.
 *
 * Method: fake members (JDK HttpServer, one per member, two shards of three) that keep a
 * shard's values and show a write to the other members only from their third GET after it
 * (replication as a count of polls, not of time). The test waits on a latch counting PUTs, not
 * on a clock; assertions are on what the members were asked and on the probe's counts.
 */
class LagProbeTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final int SHARDS = 2;
  private static final int MEMBERS = 3;

  /** The members of one fake cluster and what they saw. */
  private final class Cluster {
    final List<HttpServer> servers = new ArrayList<>();
    final Map<String, Integer> shardOf = new HashMap<>();
    final Map<Integer, List<String>> members = new HashMap<>();
    /** shard -> key -> value (the newest write). */
    final Map<Integer, Map<String, String>> values = new HashMap<>();
    /** member -> key -> GETs still to answer with the old value. */
    final Map<String, Map<String, Integer>> hidden = new HashMap<>();
    final List<String[]> puts = new ArrayList<>();
    final CountDownLatch putsSeen;
    final boolean replicates;
    /** The bearer token every request must carry (CLIENT_TOKEN), or null. */
    final String token;
    /** Requests refused for a missing or wrong token. */
    int unauthorized;
    final CountDownLatch refused = new CountDownLatch(1);

    Cluster(int puts, boolean replicates) throws IOException {
      this(puts, replicates, null);
    }

    Cluster(int puts, boolean replicates, String token) throws IOException {
      this.putsSeen = new CountDownLatch(puts);
      this.replicates = replicates;
      this.token = token;
      for (int shard = 1; shard <= SHARDS; shard++) {
        values.put(shard, new HashMap<>());
        for (int m = 0; m < MEMBERS; m++) {
          HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
          String address = "127.0.0.1:" + server.getAddress().getPort();
          server.createContext("/key-value-store/", ex -> handle(address, ex));
          server.start();
          servers.add(server);
          shardOf.put(address, shard);
          members.computeIfAbsent(shard, s -> new ArrayList<>()).add(address);
          hidden.put(address, new HashMap<>());
        }
      }
    }

    RingSnapshot ring() {
      ObjectNode body = JSON.createObjectNode();
      body.put("epoch", 1).put("hash-function", "murmur3_128").put("vnodes-per-shard", 20);
      ArrayNode shards = body.putArray("shards");
      members.forEach((id, list) -> {
        ObjectNode s = shards.addObject().put("shard-id", id);
        list.forEach(s.putArray("members")::add);
        list.forEach(s.putArray("live-members")::add);
      });
      ArrayNode tokens = body.putArray("tokens");
      for (TokenEntry t : Ring.initial(SHARDS, 20).tokens()) {
        tokens.addObject().put("token", t.token()).put("shard-id", t.shardId());
      }
      return RingSnapshot.fromJson(body, System.nanoTime());
    }

    private synchronized void handle(String member, HttpExchange ex) throws IOException {
      if (token != null && !("Bearer " + token).equals(
          ex.getRequestHeaders().getFirst("Authorization"))) {
        unauthorized++;
        refused.countDown();
        answer(ex, 401, "{\"error\":\"Unauthorized\"}");
        return;
      }
      String key = ex.getRequestURI().getPath().substring("/key-value-store/".length());
      int shard = shardOf.get(member);
      Map<String, String> store = values.get(shard);
      if (ex.getRequestMethod().equals("PUT")) {
        JsonNode body = JSON.readTree(ex.getRequestBody());
        store.put(key, body.path("value").asText());
        for (String peer : members.get(shard)) {
          if (!peer.equals(member)) {
            hidden.get(peer).put(key, replicates ? 2 : Integer.MAX_VALUE);
          }
        }
        puts.add(new String[] {member, key});
        answer(ex, 200, "{\"message\":\"Updated successfully\"}");
        putsSeen.countDown();
        return;
      }
      int stillHidden = hidden.get(member).getOrDefault(key, 0);
      if (stillHidden > 0) {
        hidden.get(member).put(key, stillHidden - 1);
        answer(ex, 200, "{\"value\":\"an older value\"}");
        return;
      }
      answer(ex, 200, JSON.createObjectNode().put("value", store.get(key)).toString());
    }

    private void answer(HttpExchange ex, int status, String body) throws IOException {
      byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
      ex.getResponseHeaders().set("Content-Type", "application/json");
      ex.sendResponseHeaders(status, bytes.length);
      ex.getResponseBody().write(bytes);
      ex.close();
    }

    void close() {
      servers.forEach(s -> s.stop(0));
    }
  }

  private Cluster cluster;

  @AfterEach
  void stop() {
    if (cluster != null) {
      cluster.close();
    }
  }

  @Test
  void probesShardsInTurnAndRecordsALagPerOtherMember() throws Exception {
    cluster = new Cluster(8, true);
    RingSnapshot ring = cluster.ring();
    LagProbe probe = new LagProbe(() -> ring, 1, LagProbe.Access.PLAIN);
    probe.open();
    assertTrue(cluster.putsSeen.await(30, TimeUnit.SECONDS), "8 probes within 30 s");
    probe.close();
    LagProbe.Result r = probe.result();

    List<String[]> puts;
    synchronized (cluster) {
      puts = List.copyOf(cluster.puts);
    }
    assertEquals(r.probes(), puts.size(), "one PUT per probe");
    Map<Integer, Set<String>> writers = new HashMap<>();
    for (int i = 0; i < puts.size(); i++) {
      String member = puts.get(i)[0];
      String key = puts.get(i)[1];
      int shard = cluster.shardOf.get(member);
      assertEquals(i % SHARDS + 1, shard, "shards in turn");
      assertTrue(key.startsWith(LagProbe.KEY_PREFIX), key);
      assertEquals(shard, ring.shardOf(key), "the probe key belongs to the probed shard");
      writers.computeIfAbsent(shard, s -> new HashSet<>()).add(member);
    }
    assertEquals(MEMBERS, writers.get(1).size(), "the writer rotates over the members");
    // Each finished probe gives one sample per other member; the last may be abandoned.
    long samples = r.lagMicros().getTotalCount();
    assertTrue(samples <= (MEMBERS - 1) * r.probes(), samples + " of " + r.probes());
    assertTrue(samples >= (MEMBERS - 1) * (r.probes() - 1), samples + " of " + r.probes());
    assertEquals(0, r.failureCount(), r.failures().toString());
    // Every sample took three polls of its member (two old answers, then the new value).
    assertTrue(r.polls() >= 3 * samples, r.polls() + " polls for " + samples + " samples");
    assertEquals(0, r.pollErrors());
    assertEquals(0, r.firstPollSamples(), "the first poll never shows a fresh write here");
  }

  @Test
  void sendsTheClientTokenToASecuredCluster() throws Exception {
    cluster = new Cluster(4, true, "s3cret");
    RingSnapshot ring = cluster.ring();
    LagProbe probe = new LagProbe(() -> ring, 1, new LagProbe.Access(null, "s3cret"));
    probe.open();
    assertTrue(cluster.putsSeen.await(30, TimeUnit.SECONDS), "4 probes within 30 s");
    probe.close();
    LagProbe.Result r = probe.result();
    assertEquals(0, cluster.unauthorized, "every request carried the token");
    assertEquals(0, r.failureCount(), r.failures().toString());
    assertTrue(r.lagMicros().getTotalCount() > 0, "lags measured");

    Cluster refusing = new Cluster(1, true, "s3cret");
    try {
      LagProbe plain = new LagProbe(refusing::ring, 1, 50, LagProbe.Access.PLAIN);
      plain.open();
      assertTrue(refusing.refused.await(30, TimeUnit.SECONDS), "a request without the token");
      plain.close();
      assertTrue(plain.result().failures().keySet().stream().anyMatch(f -> f.contains("401")),
          "without the token the probe fails and says why: " + plain.result().failures());
    } finally {
      refusing.close();
    }
  }

  @Test
  void aMemberThatNeverShowsTheValueIsAFailureNotASample() throws Exception {
    cluster = new Cluster(2, false);
    RingSnapshot ring = cluster.ring();
    LagProbe probe = new LagProbe(() -> ring, 1, 50, LagProbe.Access.PLAIN);
    probe.open();
    assertTrue(cluster.putsSeen.await(30, TimeUnit.SECONDS), "2 probes within 30 s");
    probe.close();
    LagProbe.Result r = probe.result();
    assertEquals(0, r.lagMicros().getTotalCount());
    // The first probe timed out on both other members before the second PUT was sent.
    assertTrue(r.failures().getOrDefault("not seen within 50 ms", 0L) >= MEMBERS - 1,
        r.failures().toString());
    assertTrue(r.probes() >= 2);
  }
}
