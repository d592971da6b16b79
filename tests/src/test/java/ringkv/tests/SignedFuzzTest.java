package ringkv.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import ringkv.tests.FuzzRequests.Answer;
import ringkv.tests.FuzzRequests.Req;
import ringkv.tests.support.Http;
import ringkv.tests.support.LocalCluster;
import ringkv.tests.support.PeerSigner;

/*
 * Goal (issue 14 item 8): with CLUSTER_SECRET and ADMIN_TOKEN set, requests to every internal
 * route that would harm the cluster if accepted (a commit, a prepare that empties the shard, a
 * forged replicated entry at counter 2^63-1, a forwarded write, a join) carry every kind of bad
 * signature — none, garbage, the right key id with a made-up MAC, another secret, a valid MAC
 * over another body, URI, node or method, a stale or future timestamp, a replay of a request
 * that was accepted once — and routes that change the cluster get no token or a wrong one; every
 * answer is 401 JSON, and afterwards every node serves, the layout and epoch are unchanged and
 * every seeded key reads back as written.
 * Method: 3 nodes (one shard); -Dfuzz.signed.requests (default 600) requests drawn from a seed
 * (printed; replay with -Dfuzz.seed=), signed by PeerSigner, written from the README's
 * description of the header, not from the node's code.
 */
@Tag("fuzz")
class SignedFuzzTest {
  private static final String SECRET = "signed-fuzz-cluster-secret-01";
  private static final String ADMIN = "signed-fuzz-admin-token-0123";
  private static final List<String> INTERNAL = List.of("/internal/kv", "/internal/replicate",
      "/internal/entries", "/internal/settle", "/internal/count", "/internal/ping",
      "/internal/config", "/internal/scan", "/internal/join", "/internal/view/prepare",
      "/internal/view/transfer", "/internal/view/commit", "/internal/view/abort",
      "/internal/ae/digest", "/internal/ae/versions", "/internal/nope");
  private static final int KEYS = 30;
  private static final int TIMEOUT_MS = (int) Http.REQUEST_TIMEOUT_MS;

  private final long seed = Long.getLong("fuzz.seed", new Random().nextLong());
  private final Random rnd = new Random(seed);
  private final PeerSigner signer = new PeerSigner(SECRET);
  private final PeerSigner stranger = new PeerSigner("an-attackers-own-secret-0000");

  @Test
  void badSignaturesAndMissingTokensChangeNothing() {
    int requests = Integer.getInteger("fuzz.signed.requests", 600);
    System.out.println("SignedFuzzTest seed=" + seed + " requests=" + requests);
    try (LocalCluster c = LocalCluster.builder(getClass().getSimpleName()).nodes(3).shards(1)
        .env("CLUSTER_SECRET", SECRET).env("ADMIN_TOKEN", ADMIN).start()) {
      for (int i = 0; i < KEYS; i++) {
        var put = Http.put(c.node(i % 3), FuzzRequests.KV + "seed-" + i, Http.obj("value", i));
        assertEquals(201, put.status(), put.toString());
      }
      String ringBefore = layout(c);
      Map<String, Integer> wrong = new TreeMap<>();
      List<String> examples = new ArrayList<>();
      String wipe = wipe(c);
      for (int n = 0; n < requests; n++) {
        int node = rnd.nextInt(3);
        Req r = rnd.nextInt(10) == 0 ? admin(node) : internal(c, node, wipe);
        Answer a = FuzzRequests.sendRaw(r, c.node(node), TIMEOUT_MS);
        if (a.status() != 401 || a.body() == null || !a.body().contains("\"Unauthorized\"")) {
          wrong.merge(r.family, 1, Integer::sum);
          if (examples.size() < 10) {
            examples.add(r.describe(c.node(node)) + " -> " + a.describe());
          }
        }
      }
      for (int n = 0; n < 20; n++) {
        replayOnce(c, rnd.nextInt(3), wrong, examples);
      }
      assertTrue(wrong.isEmpty(), "seed " + seed + ": answers other than 401: " + wrong + "\n"
          + String.join("\n", examples));
      assertEquals(ringBefore, layout(c), "the layout and epoch changed");
      for (int n = 0; n < 3; n++) {
        for (int i = 0; i < KEYS; i++) {
          var get = Http.get(c.node(n), FuzzRequests.KV + "seed-" + i);
          assertEquals(200, get.status(), get.toString());
          assertEquals(i, get.field("value").asInt(), get.toString());
        }
      }
    }
  }

  /** Epoch, shards and members as node 0 reports them. */
  private static String layout(LocalCluster c) {
    var ring = Http.get(c.node(0), "/ring").body();
    return ring.get("epoch") + " " + ring.get("shards").findValues("members");
  }

  /** A prepare of the cluster's configuration at the next epoch with its one shard empty. */
  private String wipe(LocalCluster c) {
    Req config = new Req("config", "POST", "/internal/config").body("{}");
    sign(config, signer, "POST", "/internal/config", c.address(0), "{}", now());
    Answer a = FuzzRequests.sendRaw(config, c.node(0), TIMEOUT_MS);
    assertEquals(200, a.status(), a.describe());
    ObjectNode cfg = (ObjectNode) Http.json(a.body());
    cfg.put("epoch", cfg.get("epoch").asLong() + 1);
    cfg.putObject("shards").putArray("1");
    return "{\"config\":" + cfg + ",\"participants\":[],\"coordinator\":\"" + c.address(1)
        + "\"}";
  }

  private Req internal(LocalCluster c, int node, String wipe) {
    String path = INTERNAL.get(rnd.nextInt(INTERNAL.size()));
    String body = switch (path) {
      case "/internal/view/prepare" -> wipe;
      case "/internal/view/commit", "/internal/view/transfer", "/internal/view/abort" ->
          "{\"epoch\":2}";
      case "/internal/replicate" -> "{\"from\":\"" + c.address(1) + "\",\"entries\":[{\"key\":"
          + "\"seed-0\",\"json\":\"\\\"evil\\\"\",\"version\":[9223372036854775807,\"~\"]}]}";
      case "/internal/kv" -> "{\"op\":\"PUT\",\"key\":\"seed-1\",\"value-json\":\"\\\"evil\\\"\","
          + "\"from\":\"" + c.address(1) + "\",\"epoch\":1}";
      case "/internal/join" -> "{\"node\":\"127.0.0.1:9\"}";
      default -> "{}";
    };
    String to = c.address(node);
    long now = now();
    int variant = rnd.nextInt(12);
    Req r = new Req("internal-signature-" + variant, "POST", path).body(body);
    switch (variant) {
      case 0 -> { } // no signature at all
      case 1 -> r.headers.add(PeerSigner.HEADER + ": ");
      case 2 -> r.headers.add(PeerSigner.HEADER + ": " + garbage());
      case 3 -> r.headers.add(PeerSigner.HEADER + ": v1 key=" + signer.keyId() + " ts=" + now
          + " nonce=" + PeerSigner.nonce(rnd) + " sig=" + PeerSigner.nonce(rnd)
          + PeerSigner.nonce(rnd).substring(0, 21));
      case 4 -> sign(r, stranger, "POST", path, to, body, now);
      case 5 -> sign(r, signer, "POST", path, to, body + " ", now);
      case 6 -> sign(r, signer, "POST", INTERNAL.get(rnd.nextInt(INTERNAL.size())) + "x", to,
          body, now);
      case 7 -> sign(r, signer, "POST", path, c.address((node + 1) % 3), body, now);
      case 8 -> sign(r, signer, "GET", path, to, body, now);
      case 9 -> sign(r, signer, "POST", path, to, body, now - 31_000 - rnd.nextInt(86_400_000));
      case 10 -> sign(r, signer, "POST", path, to, body, now + 31_000 + rnd.nextInt(86_400_000));
      default -> {
        sign(r, signer, "POST", path, to, body, now);
        String valid = r.headers.remove(0);
        r.headers.add(valid.replace(" sig=", " extra=1 sig="));
      }
    }
    r.node = node;
    return r;
  }

  private Req admin(int node) {
    String[][] routes = {{"PUT", "/key-value-store-view", "{\"socket-address\":\"127.0.0.1:9\"}"},
        {"DELETE", "/key-value-store-view", "{\"socket-address\":\"127.0.0.1:9\"}"},
        {"PUT", "/key-value-store-shard/add-member/1", "{\"socket-address\":\"127.0.0.1:9\"}"},
        {"PUT", "/key-value-store-shard/reshard", "{\"shard-count\":1}"},
        {"PUT", "/kvs/view-change", "{\"view\":\"127.0.0.1:9\",\"repl-factor\":1}"}};
    String[] route = routes[rnd.nextInt(routes.length)];
    Req r = new Req("admin-token", route[0], route[1]).body(route[2]);
    switch (rnd.nextInt(4)) {
      case 0 -> { }
      case 1 -> r.headers.add("Authorization: Bearer " + garbage());
      case 2 -> r.headers.add("Authorization: Basic " + ADMIN);
      default -> r.headers.add("Authorization: Bearer " + ADMIN.substring(1));
    }
    r.node = node;
    return r;
  }

  /** A valid signed request is accepted once; the very same request again is a replay. */
  private void replayOnce(LocalCluster c, int node, Map<String, Integer> wrong,
      List<String> examples) {
    Req r = new Req("replay", "POST", "/internal/config").body("{}");
    sign(r, signer, "POST", "/internal/config", c.address(node), "{}", now());
    r.node = node;
    Answer first = FuzzRequests.sendRaw(r, c.node(node), TIMEOUT_MS);
    Answer again = FuzzRequests.sendRaw(r, c.node(node), TIMEOUT_MS);
    if (first.status() != 200 || again.status() != 401) {
      wrong.merge("replay", 1, Integer::sum);
      examples.add("replay: first " + first.describe() + ", again " + again.describe());
    }
  }

  private void sign(Req r, PeerSigner by, String method, String uri, String to, String body,
      long ts) {
    r.headers.add(PeerSigner.HEADER + ": " + by.header(method, uri, to,
        body.getBytes(StandardCharsets.UTF_8), ts, PeerSigner.nonce(rnd)));
  }

  private String garbage() {
    StringBuilder s = new StringBuilder();
    int length = rnd.nextInt(rnd.nextBoolean() ? 40 : 400);
    for (int i = 0; i < length; i++) {
      s.append((char) (0x21 + rnd.nextInt(0x5e)));
    }
    return s.toString();
  }

  private static long now() {
    return System.currentTimeMillis();
  }
}
