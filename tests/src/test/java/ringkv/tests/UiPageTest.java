package ringkv.tests;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static ringkv.tests.support.Http.obj;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import ringkv.tests.support.Chromium;
import ringkv.tests.support.Http;
import ringkv.tests.support.Http.Reply;
import ringkv.tests.support.LocalCluster;

/*
 * Goal: the ring page (GET /ui, issue 18 item 3) shows, in a real browser, what the node's JSON
 * endpoints say: every member with its liveness, the ring drawn with one mark per token coloured
 * by shard, key counts equal to GET /ring's, where a key lives (GET /ring/key), the replication
 * queue toward each shard peer (GET /ring/replication), the last view change and one being
 * installed (GET /health/ready) — in both dialects (integer and string shard ids). Its files are
 * served from the jar with the right types and cache headers, and unknown ones get JSON errors.
 *
 * Method: 4 real nodes; shard dialect: 1 shard, 200 keys, a reshard to 2 shards (so there is a
 * view change to show); view-change dialect: REPL_FACTOR=2 (2 shards from the start). Headless
 * Chromium (Debian's chromium) loads http://<node>/ui?key=<key> (the page looks the key up on
 * load) and prints the DOM after the page's scripts and first polls ran; the test compares the
 * DOM with GET /ring and GET /ring/key/<key> read right after, and saves screenshots under
 * tests/target/. A view change being installed is held by sending the page's node a prepare for
 * the next epoch (as a coordinator would), then an abort. Skipped, with the reason, where there
 * is no Chromium. Every browser run has a deadline and is killed with its children.
 */
class UiPageTest {
  private static final int KEYS = 200;
  private static final String LOOKUP_KEY = "user:42/ü x";
  private static final Path TARGET = Paths.get("target");
  private static final Path SCREENSHOT = TARGET.resolve("ui-screenshot.png");
  private static final Path SCREENSHOT_KVS = TARGET.resolve("ui-screenshot-kvs.png");
  /** Four JVMs starting at once on a shared 2-core machine (twice the harness's default). */
  private static final Duration START_TIMEOUT = LocalCluster.START_TIMEOUT.multipliedBy(2);
  private static final Duration SETTLE_TIMEOUT = Duration.ofSeconds(30);
  private static final Duration PAGE_TIMEOUT = Duration.ofMinutes(4);
  private static final HttpClient CLIENT = HttpClient.newBuilder()
      .version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(2)).build();

  /** A page's DOM and the ring its node answered right after. */
  private record Loaded(String dom, JsonNode ring) {}

  /**
   * Once node {@code index}'s ring settled at {@code epoch}, loads its page looking up
   * LOOKUP_KEY ({@code name}: the name of its logs); checks that the page shows the ring, the
   * key's shard (its id of the dialect's form), every member and the node itself, and names
   * the {@code dialect}.
   */
  private static Loaded loadAndCheck(Chromium chromium, LocalCluster cluster, int index,
      long epoch, String name, Predicate<JsonNode> shardIdForm, String dialect) {
    String page = cluster.node(index);
    settledRing(page, epoch);
    String dom = load(chromium, page, LOOKUP_KEY, name);
    JsonNode ring = Http.get(page, "/ring").body();
    JsonNode where = Http.get(page, "/ring/key/" + encode(LOOKUP_KEY)).body();
    assertTrue(shardIdForm.test(where.get("shard-id")), where.toString());
    assertPageShows(dom, ring, where, cluster.addresses(), cluster.address(index));
    assertTrue(dom.contains(dialect), "dialect named");
    return new Loaded(dom, ring);
  }

  @Test
  void shardDialectPageShowsRingMembersCountsLookupAndViewChanges() {
    Chromium chromium = Chromium.assumeInstalled("UiPageTest", TARGET.resolve("chromium"));
    try (LocalCluster cluster = LocalCluster.builder("UiPageTest").nodes(4).shards(1)
        // The held view change below must outlast a page load on a busy machine.
        .env("VIEW_CHANGE_TIMEOUT_MS", "120000").startTimeout(START_TIMEOUT).start()) {
      for (int i = 0; i < KEYS; i++) {
        Reply w = Http.put(cluster.node(i % 4), "/key-value-store/key" + i, obj("value", i));
        assertEquals(201, w.status(), w.toString());
      }
      Reply reshard = Http.put(cluster.node(3), "/key-value-store-shard/reshard",
          obj("shard-count", 2));
      assertEquals(200, reshard.status(), reshard.toString());
      String page = cluster.node(0);
      assertAssetsServed(page);
      Loaded loaded = loadAndCheck(chromium, cluster, 0, 2, "shard-dialect", JsonNode::isInt,
          "shard (/key-value-store)");
      String dom = loaded.dom();
      JsonNode ring = loaded.ring();
      assertEquals("2", lastViewChangeEpoch(dom), "the reshard to epoch 2 is shown");
      assertReplicationShown(dom, page);

      chromium.screenshot(url(page, LOOKUP_KEY), SCREENSHOT, 1280, 900, "shard-dialect-shot");
      assertPng(SCREENSHOT);

      assertPendingViewChangeShown(chromium, cluster, ring.get("epoch").asLong());
    }
  }

  @Test
  void viewChangeDialectPageShowsStringShardIds() {
    Chromium chromium = Chromium.assumeInstalled("UiPageTest", TARGET.resolve("chromium"));
    try (LocalCluster cluster = LocalCluster.builder("UiPageKvsTest").nodes(4).replFactor(2)
        .startTimeout(START_TIMEOUT).start()) {
      for (int i = 0; i < KEYS; i++) {
        Reply w = Http.put(cluster.node(i % 4), Kvs.path("key" + i),
            obj("value", i, "causal-context", Http.json("{}")));
        assertEquals(201, w.status(), w.toString());
      }
      String page = cluster.node(2);
      String dom = loadAndCheck(chromium, cluster, 2, 1, "view-change-dialect",
          JsonNode::isTextual, "view-change (/kvs)").dom();
      assertTrue(dom.contains("taken part in no view change"), "no view change yet");
      assertReplicationShown(dom, page);

      chromium.screenshot(url(page, LOOKUP_KEY), SCREENSHOT_KVS, 1280, 900, "kvs-dialect-shot");
      assertPng(SCREENSHOT_KVS);

      // A node that stops answering is shown down, wherever it appears.
      String gone = cluster.address(3);
      cluster.stop(3);
      await(gone + " down for " + page).atMost(SETTLE_TIMEOUT).until(() ->
          !Http.get(page, "/ring").body().findValues("live-members").toString().contains(gone));
      dom = load(chromium, page, null, "view-change-dialect-down");
      assertTrue(dom.contains("data-member=\"" + gone + "\">" + gone
          + "</span><span class=\"badge down\">down</span>"), gone + " shown down");
      for (int i = 0; i < 3; i++) {
        String address = cluster.address(i);
        assertTrue(dom.contains("data-member=\"" + address + "\">" + address
            + "</span><span class=\"badge live\">live</span>"), address + " still live");
      }
      assertTrue(dom.contains("1 of 2 live"), "the shard counts its live members");
    }
  }

  // ------------------------------------------------------------------------------ steps

  /**
   * The page's node's ring once it has {@code epoch}, two shards, and key counts that add up to
   * every key written and stay put between two reads.
   */
  private static JsonNode settledRing(String node, long epoch) {
    JsonNode[] last = {null};
    await("ring of " + node + " settled").atMost(SETTLE_TIMEOUT)
        .pollInterval(Duration.ofMillis(200)).untilAsserted(() -> {
          JsonNode ring = Http.get(node, "/ring").body();
          assertEquals(epoch, ring.get("epoch").asLong(), ring.toString());
          assertEquals(2, ring.get("shards").size(), ring.toString());
          long total = 0;
          for (JsonNode s : ring.get("shards")) {
            total += s.get("key-count").asLong();
            assertEquals(s.get("members"), s.get("live-members"), "every member live: " + s);
          }
          assertEquals(KEYS, total, ring.toString());
          JsonNode previous = last[0];
          last[0] = ring;
          assertEquals(previous, ring, "unchanged since the last read");
        });
    return last[0];
  }

  /**
   * The DOM of the page once its first poll has been drawn with the look-up answered (a load on
   * a busy machine may be cut short by the virtual time budget: it is loaded again).
   */
  private static String load(Chromium chromium, String node, String key, String name) {
    String[] dom = {null};
    await("page of " + node + " rendered").atMost(PAGE_TIMEOUT).pollDelay(Duration.ZERO)
        .pollInterval(Duration.ofMillis(500)).until(() -> {
          dom[0] = chromium.dumpDom(url(node, key), name);
          return polls(dom[0]) >= 1 && (key == null || dom[0].contains("data-lookup=\"found\""));
        });
    return dom[0];
  }

  private static void assertPageShows(String dom, JsonNode ring, JsonNode where,
      List<String> addresses, String self) {
    Matcher problem = Pattern.compile("<p id=\"problem\"[^>]*>").matcher(dom);
    assertTrue(problem.find() && problem.group().contains("hidden"),
        "no error banner: " + excerpt(dom, "id=\"problem\""));
    assertTrue(dom.contains("id=\"fact-node\">" + self + "<"), "the node names itself");
    assertTrue(dom.contains("id=\"fact-epoch\">" + ring.get("epoch").asLong() + "<"), "epoch");
    for (String address : addresses) {
      assertTrue(dom.contains("data-member=\"" + address + "\">" + address
          + "</span><span class=\"badge live\">live</span>"), address + " shown as live");
    }
    assertTokensDrawn(dom, ring);
    for (JsonNode s : ring.get("shards")) {
      String id = s.get("shard-id").asText();
      assertEquals(Long.toString(s.get("key-count").asLong()),
          shardCell(dom, id, "key-count").replace(",", ""), "key count of shard " + id);
      assertEquals(String.format(Locale.ROOT, "%.2f %%", s.get("owned-fraction").asDouble() * 100),
          shardCell(dom, id, "owned-fraction"), "owned fraction of shard " + id);
      assertTrue(dom.contains("<li data-shard=\"" + id + "\">"), "legend of shard " + id);
    }
    assertLookupShown(dom, where);
    assertTrue(dom.contains("data-phase=\"idle\""), "no view change in progress");
  }

  /** One circle per token, at the token's shard and colour; one colour per shard. */
  private static void assertTokensDrawn(String dom, JsonNode ring) {
    Map<String, String> expected = new TreeMap<>();
    ring.get("tokens").forEach(t -> expected.put(t.get("token").asText(),
        t.get("shard-id").asText()));
    assertEquals(40, expected.size(), "2 shards of 20 vnodes");
    Map<String, String> drawn = new TreeMap<>();
    Map<String, Set<String>> fills = new HashMap<>();
    Matcher m = Pattern.compile("<circle class=\"token\"([^>]*)>").matcher(dom);
    int circles = 0;
    while (m.find()) {
      circles++;
      Map<String, String> a = attributes(m.group(1));
      drawn.put(a.get("data-token"), a.get("data-shard"));
      fills.computeIfAbsent(a.get("data-shard"), k -> new HashSet<>()).add(a.get("fill"));
    }
    assertEquals(expected.size(), circles, "one circle per token");
    assertEquals(expected, drawn, "each token drawn with its shard");
    Set<String> colours = new HashSet<>();
    fills.forEach((shard, f) -> {
      assertEquals(1, f.size(), "shard " + shard + " has one colour: " + f);
      colours.addAll(f);
    });
    assertEquals(fills.size(), colours.size(), "shards have distinct colours: " + fills);
  }

  private static void assertLookupShown(String dom, JsonNode where) {
    String key = where.get("key").asText();
    int at = dom.indexOf("data-lookup=\"found\" data-key=\"" + key + "\"");
    assertTrue(at >= 0, "look-up of " + key + " shown: " + excerpt(dom, "lookup-result"));
    String result = dom.substring(at);
    Matcher token = Pattern.compile("data-field=\"token\"><span class=\"mono\">(-?\\d+)<")
        .matcher(result);
    assertTrue(token.find(), "token shown");
    assertEquals(where.get("token").asText(), token.group(1), "the exact 64-bit token");
    Matcher shard = Pattern.compile("data-field=\"shard-id\"><span class=\"shard-id\">"
        + "<span[^>]*></span>([^<]+)<").matcher(result);
    assertTrue(shard.find(), "shard shown");
    assertEquals(where.get("shard-id").asText(), shard.group(1));
    String members = result.substring(result.indexOf("data-field=\"members\""));
    where.get("members").forEach(mb -> assertTrue(
        members.contains("data-member=\"" + mb.asText() + "\""), mb + " among the replicas"));
    assertTrue(dom.contains("<g class=\"key-marker\" data-key=\"" + key + "\">"),
        "the key marked on the ring");
  }

  /** The replication table lists each peer of the node's shard, as GET /ring/replication. */
  private static void assertReplicationShown(String dom, String node) {
    JsonNode repl = Http.get(node, "/ring/replication").body();
    assertTrue(repl.get("peers").size() >= 1, repl.toString());
    for (JsonNode p : repl.get("peers")) {
      assertTrue(p.get("pending").isInt() && p.has("oldest-unacked-age-ms"), p.toString());
      assertTrue(dom.contains("<tr data-peer=\"" + p.get("peer").asText() + "\">"),
          "peer " + p.get("peer") + " in the replication table");
    }
  }

  /**
   * A view change being installed: the page's node prepared for the next epoch (its coordinator
   * then silent) says so, with both epochs; after the abort it is idle again.
   */
  private static void assertPendingViewChangeShown(Chromium chromium, LocalCluster cluster,
      long epoch) {
    String node = cluster.node(0);
    String self = cluster.address(0);
    ObjectNode next = (ObjectNode) Http.send("POST", node, "/internal/config", "{}").body();
    next.put("epoch", epoch + 1);
    Reply prepared = Http.send("POST", node, "/internal/view/prepare", "{\"config\":" + next
        + ",\"participants\":[\"" + self + "\"],\"coordinator\":\"" + self + "\"}");
    try {
      assertEquals(200, prepared.status(), prepared.toString());
      String dom = load(chromium, node, null, "view-change-pending");
      assertTrue(dom.contains("data-phase=\"installing\""),
          "installing shown: " + excerpt(dom, "vc-state"));
      assertTrue(dom.contains("epoch " + epoch + " → " + (epoch + 1)), "both epochs shown");
      assertTrue(dom.contains("<progress class=\"vc-progress\""), "a progress bar");
    } finally {
      Reply aborted = Http.send("POST", node, "/internal/view/abort",
          "{\"epoch\":" + (epoch + 1) + "}");
      assertEquals(200, aborted.status(), aborted.toString());
    }
    assertEquals(200, Http.get(node, "/health/ready").status());
  }

  /** Types, cache headers and errors of the page's files, and the replication endpoint. */
  private static void assertAssetsServed(String node) {
    Map<String, String> types = Map.of("/ui", "text/html; charset=utf-8",
        "/ui/", "text/html; charset=utf-8", "/ui/ui.js", "text/javascript; charset=utf-8",
        "/ui/ui.css", "text/css; charset=utf-8", "/ui/favicon.svg", "image/svg+xml");
    types.forEach((path, type) -> {
      HttpResponse<String> r = get(node, path, null);
      assertEquals(200, r.statusCode(), path);
      assertEquals(type, r.headers().firstValue("content-type").orElse(""), path);
      assertEquals("no-cache", r.headers().firstValue("cache-control").orElse(""), path);
      String etag = r.headers().firstValue("etag").orElseThrow();
      assertEquals(304, get(node, path, etag).statusCode(), path + " revalidated");
    });
    String html = get(node, "/ui", null).body();
    assertTrue(html.contains("<script src=\"/ui/ui.js\""), "the script is a file of the jar");
    assertFalse(html.matches("(?s).*(src|href)=\"(https?:)?//.*"), "nothing from elsewhere");
    assertTrue(get(node, "/ui", null).headers().firstValue("content-security-policy")
        .orElse("").contains("default-src 'none'"), "a content security policy");
    for (String path : List.of("/ui/nope.js", "/ui/../ring/x", "/ui/index.htm")) {
      Reply r = Http.get(node, path);
      assertEquals(404, r.status(), path + " " + r);
      assertTrue(r.field("error").isTextual(), "a JSON error: " + r);
    }
    Reply post = Http.send("POST", node, "/ui", "{}");
    assertEquals(405, post.status(), post.toString());
    assertTrue(post.field("error").isTextual(), post.toString());
    JsonNode repl = Http.get(node, "/ring/replication").body();
    for (String field : List.of("node", "epoch", "shard-id", "now-ms", "lamport-clock",
        "queue-entries-max", "pending-total", "peers")) {
      assertTrue(repl.has(field), field + " in " + repl);
    }
  }

  // ------------------------------------------------------------------------------ helpers

  private static String url(String node, String key) {
    return "http://" + node + "/ui" + (key == null ? "" : "?key=" + encode(key));
  }

  private static String encode(String key) {
    return URLEncoder.encode(key, StandardCharsets.UTF_8).replace("+", "%20");
  }

  private static HttpResponse<String> get(String node, String path, String ifNoneMatch) {
    HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://" + node + path))
        .timeout(Duration.ofSeconds(10)).GET();
    if (ifNoneMatch != null) {
      request.header("If-None-Match", ifNoneMatch);
    }
    try {
      return CLIENT.send(request.build(), HttpResponse.BodyHandlers.ofString());
    } catch (IOException e) {
      throw new AssertionError("GET " + path + " failed: " + e, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }

  /** How many polls the page has drawn ({@code <body data-polls="N">}), 0 if none. */
  private static int polls(String dom) {
    Matcher m = Pattern.compile("data-polls=\"(\\d+)\"").matcher(dom);
    return m.find() ? Integer.parseInt(m.group(1)) : 0;
  }

  /** The text of a cell of a shard's row in the shards table. */
  private static String shardCell(String dom, String shard, String field) {
    int row = dom.indexOf("<tr data-shard-id=\"" + shard + "\">");
    assertTrue(row >= 0, "row of shard " + shard + ": " + excerpt(dom, "id=\"shards\""));
    Matcher m = Pattern.compile("data-field=\"" + field + "\"[^>]*>([^<]*)<").matcher(dom);
    assertTrue(m.find(row), field + " of shard " + shard);
    return m.group(1);
  }

  private static String lastViewChangeEpoch(String dom) {
    Matcher m = Pattern.compile("data-section=\"last-view-change\"><div><dt>Epoch</dt><dd>"
        + "(\\d+)</dd>").matcher(dom);
    assertTrue(m.find(), "last view change: " + excerpt(dom, "id=\"view-change\""));
    return m.group(1);
  }

  private static Map<String, String> attributes(String text) {
    Map<String, String> out = new HashMap<>();
    Matcher m = Pattern.compile("([\\w-]+)=\"([^\"]*)\"").matcher(text);
    while (m.find()) {
      out.put(m.group(1), m.group(2));
    }
    return out;
  }

  private static void assertPng(Path png) {
    try {
      byte[] bytes = Files.readAllBytes(png);
      assertTrue(bytes.length > 10_000, png + " has " + bytes.length + " bytes");
      assertEquals(List.of(0x89, 0x50, 0x4e, 0x47), List.of(bytes[0] & 0xff, bytes[1] & 0xff,
          bytes[2] & 0xff, bytes[3] & 0xff), png + " is a PNG");
    } catch (IOException e) {
      throw new AssertionError(e);
    }
  }

  /** Up to 600 characters of {@code dom} from {@code marker} on, for failure messages. */
  private static String excerpt(String dom, String marker) {
    int at = Math.max(0, dom.indexOf(marker));
    return dom.substring(at, Math.min(dom.length(), at + 600));
  }
}
