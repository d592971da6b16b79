package ringkv.tests;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import ringkv.tests.support.Commands;
import ringkv.tests.support.Http;
import ringkv.tests.support.Http.Reply;
import ringkv.tests.support.LocalCluster;
import ringkv.tests.support.PrometheusText;
import ringkv.tests.support.PrometheusText.Family;

/*
 * Goal: GET /metrics (SPEC §7, issue 18 item 1) lists every family from the start, in
 * Prometheus' text format and naming conventions, and its figures measure what the cluster did:
 * requests by route template, method and status, forwarding, replication per peer, anti-entropy,
 * causal waits, a view change, liveness, the store and RocksDB; scraping needs no token and
 * changes nothing; the shipped Grafana dashboard asks only for series the nodes export.
 *
 * The methods run in order on one cluster (fresh first, the view change last).
 *
 * Method: four real nodes (two shards of two, DATA_DIR), scraped fresh and parsed with a strict
 * text-format parser (PrometheusText: no Java library parses the format), and checked by
 * Prometheus' own linter (promtool check metrics) where it is installed. Then known traffic
 * through node 0 (counted exactly: the cluster is fresh), two requests whose causal dependency
 * no replica has (one read, one write), and a reshard to one shard; each family's figures are
 * checked against that traffic, across nodes where the work lands on an owner.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class MetricsTest {
  /**
   * Families every node lists from its start (with DATA_DIR, in a shard with peers). Not
   * {@code jvm_gc_pause_seconds}: Micrometer lists it at the JVM's first collection, which a node
   * started from the tests' class-data archive (NodeClassArchive) may not have had yet.
   */
  static final Map<String, String> FAMILIES = Map.ofEntries(
      Map.entry("ringkv_http_requests_seconds", "histogram"),
      Map.entry("ringkv_http_requests_in_flight", "gauge"),
      Map.entry("ringkv_forwarded_requests_seconds", "histogram"),
      Map.entry("ringkv_causal_waits_seconds", "histogram"),
      Map.entry("ringkv_causal_waits_pending", "gauge"),
      Map.entry("ringkv_replication_batches_total", "counter"),
      Map.entry("ringkv_replication_entries_acknowledged_total", "counter"),
      Map.entry("ringkv_replication_queue_entries", "gauge"),
      Map.entry("ringkv_replication_lag_seconds", "gauge"),
      Map.entry("ringkv_anti_entropy_rounds_seconds", "histogram"),
      Map.entry("ringkv_anti_entropy_keys_repaired_total", "counter"),
      Map.entry("ringkv_view_changes_total", "counter"),
      Map.entry("ringkv_view_change_window_seconds", "histogram"),
      Map.entry("ringkv_view_change_keys_moved_total", "counter"),
      Map.entry("ringkv_view_change_moved_bytes_total", "counter"),
      Map.entry("ringkv_peer_up", "gauge"),
      Map.entry("ringkv_store_keys", "gauge"),
      Map.entry("ringkv_store_tombstones", "gauge"),
      Map.entry("ringkv_store_quarantined", "gauge"),
      Map.entry("ringkv_rocksdb_estimated_keys", "gauge"),
      Map.entry("ringkv_rocksdb_sst_files_size_bytes", "gauge"),
      Map.entry("ringkv_rocksdb_live_data_size_bytes", "gauge"),
      Map.entry("ringkv_rocksdb_memtables_size_bytes", "gauge"),
      Map.entry("ringkv_config_epoch", "gauge"),
      Map.entry("ringkv_node_info", "gauge"),
      Map.entry("jvm_memory_used_bytes", "gauge"),
      Map.entry("jvm_threads_live_threads", "gauge"),
      Map.entry("jvm_classes_loaded_classes", "gauge"),
      Map.entry("process_cpu_usage", "gauge"),
      Map.entry("process_cpu_seconds_total", "counter"),
      Map.entry("process_uptime_seconds", "gauge"),
      Map.entry("process_files_open_files", "gauge"),
      Map.entry("system_cpu_count", "gauge"));
  static final String KEY_ROUTE = "/key-value-store/{key}";
  static final Duration SETTLE = Duration.ofSeconds(30);
  static final int KEYS = 30;

  private static LocalCluster cluster;
  private static Path data;

  @BeforeAll
  static void startCluster() throws IOException {
    data = Files.createTempDirectory(Paths.get("target"), "metrics-test-");
    cluster = LocalCluster.builder("MetricsTest").nodes(4).shards(2).dataDirs(data)
        .env("ANTI_ENTROPY_INTERVAL_MS", "300")
        .env("CAUSAL_WAIT_MS", "300")
        .start();
  }

  @AfterAll
  static void stopCluster() {
    if (cluster != null) {
      cluster.close();
    }
  }

  static Map<String, Family> scrape(int node) {
    Reply r = Http.get(cluster.node(node), "/metrics");
    assertEquals(200, r.status(), r.toString());
    assertTrue(r.header("content-type").orElse("").startsWith("text/plain; version=0.0.4"),
        r.toString());
    return PrometheusText.parse(r.raw());
  }

  static double value(Map<String, Family> f, String family, String sample, String... labels) {
    Family fam = f.get(family);
    assertTrue(fam != null, family + " missing");
    Map<String, String> wanted = new java.util.HashMap<>();
    for (int i = 0; i < labels.length; i += 2) {
      wanted.put(labels[i], labels[i + 1]);
    }
    return fam.sum(sample, wanted);
  }

  static double clusterSum(String family, String sample, String... labels) {
    double sum = 0;
    for (int i = 0; i < cluster.size(); i++) {
      sum += value(scrape(i), family, sample, labels);
    }
    return sum;
  }

  @Test
  @Order(1)
  void everyFamilyIsListedFromTheStartByConvention() {
    for (int i = 0; i < cluster.size(); i++) {
      Map<String, Family> f = scrape(i);
      for (Map.Entry<String, String> e : FAMILIES.entrySet()) {
        Family fam = f.get(e.getKey());
        assertTrue(fam != null, "node " + i + " lacks " + e.getKey() + "; has "
            + PrometheusText.names(f, n -> n.startsWith("ringkv_")));
        assertEquals(e.getValue(), fam.type(), e.getKey());
        assertFalse(fam.samples().isEmpty(), e.getKey() + " has no series");
      }
      // The failure detector and replication series name this node's peers, and only them.
      Set<String> others = new TreeSet<>(cluster.addresses());
      others.remove(cluster.address(i));
      assertEquals(others, labelValues(f.get("ringkv_peer_up"), "peer"));
      assertEquals(1, labelValues(f.get("ringkv_replication_queue_entries"), "peer").size());
      assertEquals(cluster.address(i), f.get("ringkv_node_info").samples().get(0).labels()
          .get("address"));
      assertEquals(1, value(f, "ringkv_config_epoch", "ringkv_config_epoch"));
    }
    Map<String, Family> f = scrape(0);
    for (Family fam : f.values()) {
      if (!fam.name().startsWith("ringkv_")) {
        continue;
      }
      String n = fam.name();
      assertTrue(n.matches("ringkv_[a-z0-9_]+"), n);
      assertTrue(fam.help() != null && !fam.help().isBlank(), n + " has no HELP");
      assertFalse(n.matches(".*_(ms|millis|milliseconds|us|kb|mb|percent)(_.*)?"),
          n + ": base units only");
      switch (fam.type()) {
        case "counter" -> assertTrue(n.endsWith("_total"), n + ": counters end in _total");
        case "histogram" -> assertTrue(n.endsWith("_seconds"), n + ": histograms of seconds");
        default -> assertFalse(n.endsWith("_total"), n + ": only counters end in _total");
      }
    }
    Set<String> routes = labelValues(f.get("ringkv_http_requests_seconds"), "route");
    for (String route : routes) {
      assertTrue(route.equals("other") || !route.matches(".*/[0-9]+$"), route + ": a path");
    }
  }

  @Test
  @Order(2)
  void prometheusLintsNothingOfOurs() {
    var promtool = Commands.which("promtool");
    org.junit.jupiter.api.Assumptions.assumeTrue(promtool.isPresent(),
        "no promtool on this machine (Debian package prometheus): lint skipped");
    String text = Http.get(cluster.node(0), "/metrics").raw();
    Commands.Result lint = Commands.runWithInput(Duration.ofSeconds(60), text,
        promtool.get(), "check", "metrics");
    System.out.println("promtool check metrics (exit " + lint.code() + "):\n" + lint.output());
    for (String line : lint.output().split("\n")) {
      assertFalse(line.contains("ringkv_"), "promtool: " + line);
      assertFalse(line.contains("error while linting"), "promtool: " + line);
    }
  }

  @Test
  @Order(3)
  void scrapingNeedsNoTokenAndChangesNothing() {
    Map<String, Family> before = scrape(3);
    Map<String, Family> after = scrape(3);
    assertEquals(clientRequests(before), clientRequests(after));
    assertFalse(labelValues(after.get("ringkv_http_requests_seconds"), "route")
        .contains("/metrics"), "a scrape is not counted as a request");
    Reply post = Http.send("POST", cluster.node(3), "/metrics", "{}");
    assertEquals(405, post.status(), post.toString());
    assertEquals("Error in POST", post.field("message").asText(), post.toString());
  }

  @Test
  @Order(4)
  void figuresFollowTheTraffic() {
    String a = cluster.node(0);
    Map<String, Family> fresh = scrape(0);
    double puts0 = requests(fresh, "PUT", "201");
    for (int k = 0; k < KEYS; k++) {
      assertEquals(201, Http.put(a, "/key-value-store/m" + k, Http.obj("value", k)).status());
    }
    for (int k = 0; k < 5; k++) {
      assertEquals(200, Http.put(a, "/key-value-store/m" + k, Http.obj("value", -k)).status());
    }
    for (int k = 0; k < KEYS; k++) {
      assertEquals(200, Http.get(a, "/key-value-store/m" + k).status());
    }
    assertEquals(404, Http.get(a, "/key-value-store/missing").status());
    assertEquals(200, Http.delete(a, "/key-value-store/m0", null).status());

    Map<String, Family> f = scrape(0);
    assertEquals(puts0 + KEYS, requests(f, "PUT", "201"));
    assertEquals(5, requests(f, "PUT", "200") - requests(fresh, "PUT", "200"));
    assertEquals(KEYS, requests(f, "GET", "200") - requests(fresh, "GET", "200"));
    assertEquals(1, requests(f, "GET", "404") - requests(fresh, "GET", "404"));
    assertEquals(1, requests(f, "DELETE", "200") - requests(fresh, "DELETE", "200"));
    double forwarded = value(f, "ringkv_forwarded_requests_seconds",
        "ringkv_forwarded_requests_seconds_count", "outcome", "answered");
    assertTrue(forwarded > 0 && forwarded < KEYS * 2 + 12, "forwarded " + forwarded);
    // The owners answered the forwarded requests on the peer route.
    assertEquals(forwarded, clusterSum("ringkv_http_requests_seconds",
        "ringkv_http_requests_seconds_count", "route", "/internal/kv", "status", "200"));

    await("every write replicated, acknowledged and counted").atMost(SETTLE).untilAsserted(() -> {
      assertTrue(clusterSum("ringkv_replication_entries_acknowledged_total",
          "ringkv_replication_entries_acknowledged_total") >= KEYS + 5 + 1);
      assertTrue(clusterSum("ringkv_replication_batches_total",
          "ringkv_replication_batches_total", "outcome", "acknowledged") > 0);
      assertEquals(0, clusterSum("ringkv_replication_queue_entries",
          "ringkv_replication_queue_entries"));
      assertEquals(0, clusterSum("ringkv_replication_lag_seconds",
          "ringkv_replication_lag_seconds"));
      // Each key lives on the two members of its shard; the delete left a tombstone on both,
      // until the sweep collects it (every replica has it).
      assertEquals(2 * (KEYS - 1), clusterSum("ringkv_store_keys", "ringkv_store_keys"));
      assertTrue(clusterSum("ringkv_store_tombstones", "ringkv_store_tombstones") <= 2);
    });
    Map<String, Family> now = scrape(0);
    assertEquals(3, value(now, "ringkv_peer_up", "ringkv_peer_up"), "every peer up");
    assertTrue(value(now, "ringkv_rocksdb_estimated_keys", "ringkv_rocksdb_estimated_keys") > 0);
    await("anti-entropy rounds").atMost(SETTLE).untilAsserted(() -> assertTrue(
        clusterSum("ringkv_anti_entropy_rounds_seconds",
            "ringkv_anti_entropy_rounds_seconds_count", "outcome", "completed") > 0));
  }

  @Test
  @Order(5)
  void causalWaitsAndAViewChangeAreCounted() {
    String a = cluster.node(0);
    JsonNode ring = Http.get(a, "/ring/key/cw").body();
    String writer = ring.get("members").get(0).asText();
    // A dependency no replica holds: a version of the key from a minute ahead of any clock.
    JsonNode ahead = Http.json("{\"keys\":{\"cw\":[" + (System.currentTimeMillis() + 600_000)
        + ",\"" + writer + "\"]}}");
    Reply read = Http.get(a, "/key-value-store/cw", Http.obj("causal-metadata", ahead));
    assertEquals(503, read.status(), read.toString());
    Reply write = Http.put(a, "/key-value-store/cw", Http.obj("value", 1,
        "causal-metadata", ahead));
    // Created or updated, as the client's context says: the write goes ahead either way.
    assertTrue(write.status() == 201 || write.status() == 200, write.toString());
    assertEquals(1, clusterSum("ringkv_causal_waits_seconds",
        "ringkv_causal_waits_seconds_count", "outcome", "timed_out"));
    assertEquals(1, clusterSum("ringkv_causal_waits_seconds",
        "ringkv_causal_waits_seconds_count", "outcome", "went_ahead"));

    Reply reshard = Http.put(a, "/key-value-store-shard/reshard", Http.obj("shard-count", 1));
    assertEquals(200, reshard.status(), reshard.toString());
    Map<String, Family> f = scrape(0);
    assertEquals(1, value(f, "ringkv_view_changes_total", "ringkv_view_changes_total",
        "role", "coordinator", "outcome", "committed"));
    await("every node committed the change").atMost(SETTLE).untilAsserted(() -> {
      for (int i = 0; i < cluster.size(); i++) {
        Map<String, Family> n = scrape(i);
        assertEquals(2, value(n, "ringkv_config_epoch", "ringkv_config_epoch"), "node " + i);
        assertEquals(1, value(n, "ringkv_view_changes_total", "ringkv_view_changes_total",
            "role", "participant", "outcome", "committed"), "node " + i);
        assertEquals(1, value(n, "ringkv_view_change_window_seconds",
            "ringkv_view_change_window_seconds_count"), "node " + i);
        // One shard of four: three peers, and the replication series follow the view.
        assertEquals(3, labelValues(n.get("ringkv_replication_lag_seconds"), "peer").size());
      }
    });
    assertTrue(clusterSum("ringkv_view_change_keys_moved_total",
        "ringkv_view_change_keys_moved_total") > 0);
    assertTrue(clusterSum("ringkv_view_change_moved_bytes_total",
        "ringkv_view_change_moved_bytes_total") > 0);
  }

  @Test
  @Order(6)
  void theDashboardAsksOnlyForExportedSeries() throws IOException {
    JsonNode dashboard = Http.MAPPER.readTree(Files.readString(
        Paths.get("..", "deploy", "grafana", "ringkv-dashboard.json")));
    Map<String, Family> f = scrape(0);
    Set<String> exported = new HashSet<>();
    for (Family fam : f.values()) {
      exported.add(fam.name());
      fam.samples().forEach(s -> exported.add(s.name()));
    }
    List<String> exprs = new ArrayList<>();
    collectExprs(dashboard, exprs);
    assertTrue(exprs.size() >= 8, "panels with queries: " + exprs);
    Pattern metric = Pattern.compile("\\b((?:ringkv|jvm|process)_[a-z0-9_]+)");
    Set<String> used = new TreeSet<>();
    for (String expr : exprs) {
      Matcher m = metric.matcher(expr);
      while (m.find()) {
        used.add(m.group(1));
      }
    }
    for (String name : used) {
      assertTrue(exported.contains(name), "the dashboard asks for " + name
          + ", which no node exports");
    }
    for (String needed : List.of("ringkv_http_requests_seconds_bucket",
        "ringkv_replication_lag_seconds", "ringkv_replication_queue_entries",
        "ringkv_view_change_window_seconds_bucket", "ringkv_anti_entropy_keys_repaired_total",
        "ringkv_peer_up")) {
      assertTrue(used.contains(needed), "no panel shows " + needed);
    }
  }

  static void collectExprs(JsonNode node, List<String> out) {
    if (node.isObject()) {
      if (node.has("expr") && node.get("expr").isTextual()) {
        out.add(node.get("expr").asText());
      }
      node.forEach(child -> collectExprs(child, out));
    } else if (node.isArray()) {
      node.forEach(child -> collectExprs(child, out));
    }
  }

  private static double requests(Map<String, Family> f, String method, String status) {
    return value(f, "ringkv_http_requests_seconds", "ringkv_http_requests_seconds_count",
        "route", KEY_ROUTE, "method", method, "status", status);
  }

  /** Requests of the client routes (peer routes move with heartbeats). */
  private static double clientRequests(Map<String, Family> f) {
    return f.get("ringkv_http_requests_seconds").samples().stream()
        .filter(s -> s.name().endsWith("_count"))
        .filter(s -> !s.labels().get("dialect").equals("internal"))
        .mapToDouble(PrometheusText.Sample::value).sum();
  }

  static Set<String> labelValues(Family f, String label) {
    Set<String> out = new TreeSet<>();
    f.samples().forEach(s -> {
      if (s.labels().containsKey(label)) {
        out.add(s.labels().get(label));
      }
    });
    return out;
  }
}
