package ringkv.node.inprocess;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static ringkv.node.inprocess.InProcessCluster.json;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import ringkv.gossip.ContextBound;
import ringkv.ring.NodeAddress;

/*
 * Goal: the RingKV-Context-Entries header bounds the causal metadata of a reply to fewer entries
 * than the 16 that round-trip by default (SPEC: metadata round-trips for the course clients),
 * dropping only stable entries (every replica of their shard holds them), oldest first, never
 * below one entry; the owner applies it to a forwarded request too; a bad value is a 400 JSON
 * error. The client library sends 1, so its sessions stop carrying 16 entries forever (issue
 * 16: that metadata cost the node a third of its reads/s against wrk's bare GETs).
 * Method: four nodes in this JVM (2 shards of 2); a session writes 20 keys, carrying each answer's
 * metadata into the next request (20 entries, none stable yet); once they are stable, a read of
 * the newest key with that metadata and the header 1, through an owner and through a non-owner,
 * keeps one entry; without the header the 16 newest; with 4 the 4 newest.
 */
class ContextEntriesTest {
  private static final HttpClient HTTP = HttpClient.newBuilder()
      .version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(2)).build();

  @Test
  void theHeaderBoundsTheReplysMetadataToStableEntriesDropped() throws Exception {
    try (InProcessCluster c = new InProcessCluster(4, Map.of("SHARD_COUNT", "2"))) {
      NodeAddress at = c.node(0);
      String metadata = null;
      for (int i = 0; i < 20; i++) {
        String body = "{\"value\":" + i + (metadata == null ? "" : ",\"causal-metadata\":"
            + metadata) + "}";
        var put = c.send(at, "PUT", "/key-value-store/s" + i, body);
        assertTrue(put.status() == 201, put.toString());
        metadata = json(put).get("causal-metadata").toString();
      }
      String full = metadata;
      assertEquals(20, keys(full).size(), "none stable yet, none dropped: " + full);
      String key = "s19";
      NodeAddress owner = null;
      NodeAddress other = null;
      for (int n = 0; n < 4; n++) {
        boolean owns = json(c.send(c.node(n), "GET", "/ring/key/" + key, null)).get("members")
            .toString().contains("\"" + c.node(n) + "\"");
        if (owns) {
          owner = c.node(n);
        } else {
          other = c.node(n);
        }
      }
      String read = "{\"causal-metadata\":" + full + "}";
      for (NodeAddress through : new NodeAddress[] {owner, other}) {
        await(through + " drops the stable entries").atMost(Duration.ofSeconds(20))
            .untilAsserted(() -> {
              HttpResponse<String> r = get(through, key, read, "1");
              assertEquals(200, r.statusCode(), r.body());
              assertEquals(1, keys(body(r)).size(), through + ": " + r.body());
            });
        HttpResponse<String> plain = get(through, key, read, null);
        assertEquals(200, plain.statusCode(), plain.body());
        assertEquals(newest(full, ContextBound.ENTRIES_MAX), keys(body(plain)),
            "without the header: the 16 newest entries, the oldest stable ones dropped");
        HttpResponse<String> four = get(through, key, read, "4");
        assertEquals(newest(full, 4), keys(body(four)), four.body());
      }
      for (String bad : new String[] {"0", "17", "abc", "-1"}) {
        HttpResponse<String> r = get(owner, key, read, bad);
        assertEquals(400, r.statusCode(), bad + ": " + r.body());
        assertTrue(body(r).get("error").asText().contains("RingKV-Context-Entries"),
            r.body());
      }
    }
  }

  private static HttpResponse<String> get(NodeAddress node, String key, String body,
      String entries) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://" + node
            + "/key-value-store/" + key))
        .timeout(Duration.ofSeconds(10)).header("Content-Type", "application/json")
        .method("GET", HttpRequest.BodyPublishers.ofString(body));
    if (entries != null) {
      b.header("RingKV-Context-Entries", entries);
    }
    return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  private static JsonNode body(HttpResponse<String> r) {
    return InProcessCluster.json(new InProcessCluster.Answer(r.statusCode(), r.body()));
  }

  private static java.util.Set<String> keys(String metadata) {
    return keys(InProcessCluster.json(new InProcessCluster.Answer(200,
        "{\"causal-metadata\":" + metadata + "}")));
  }

  /** The keys of the {@code n} entries of {@code metadata} with the highest counters. */
  private static java.util.Set<String> newest(String metadata, int n) {
    JsonNode keys = InProcessCluster.json(new InProcessCluster.Answer(200,
        "{\"m\":" + metadata + "}")).get("m").get("keys");
    java.util.List<String> names = new java.util.ArrayList<>();
    keys.fieldNames().forEachRemaining(names::add);
    names.sort(java.util.Comparator.comparingLong((String k) -> keys.get(k).get(0).asLong())
        .reversed());
    return new java.util.TreeSet<>(names.subList(0, n));
  }

  private static java.util.Set<String> keys(JsonNode answer) {
    java.util.Set<String> out = new java.util.TreeSet<>();
    answer.get("causal-metadata").get("keys").fieldNames().forEachRemaining(out::add);
    return out;
  }
}
