package ringkv.tests;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import ringkv.tests.support.Commands;
import ringkv.tests.support.Http;
import ringkv.tests.support.LocalCluster;

/*
 * Goal: a real Prometheus scrapes RingKV nodes with a configuration like the shipped one
 * (deploy/prometheus), and every query of the shipped Grafana dashboard is valid PromQL over
 * what it scraped; the shipped configurations pass Prometheus' own checker.
 *
 * Method: where Debian's prometheus package is installed (.ci/run installs it; elsewhere the
 * test skips, saying so), promtool checks deploy/prometheus/*.yml; then two nodes and one
 * Prometheus process (a generated configuration naming the nodes, its TSDB in a temporary
 * directory, its web API on a free loopback port) run until the API reports both targets up and
 * a ringkv_ series of each; each dashboard query (Grafana's variables replaced) is evaluated.
 * The Prometheus process is stopped whatever happens, the cluster closed by try-with-resources.
 */
class PrometheusScrapeTest {
  private static final Duration SCRAPED = Duration.ofSeconds(60);

  @Test
  void shippedConfigurationsAreValid() {
    String promtool = Commands.which("promtool").orElse(null);
    Assumptions.assumeTrue(promtool != null,
        "no promtool (Debian package prometheus): the configurations are not checked here");
    for (String file : List.of("prometheus.yml", "prometheus.host.yml")) {
      Path config = Paths.get("..", "deploy", "prometheus", file);
      Commands.Result r = Commands.run(Duration.ofSeconds(60), promtool, "check", "config",
          config.toString());
      assertEquals(0, r.code(), r.output());
    }
  }

  @Test
  void prometheusScrapesTheNodes() throws Exception {
    String prometheus = Commands.which("prometheus").orElse(null);
    Assumptions.assumeTrue(prometheus != null,
        "no prometheus binary (Debian package prometheus, installed by .ci/run): skipped");
    Path dir = Files.createTempDirectory(Paths.get("target"), "prometheus-");
    try (LocalCluster cluster = LocalCluster.builder("PrometheusScrapeTest").nodes(2).shards(1)
        .start()) {
      int port = freePort();
      Path config = dir.resolve("prometheus.yml");
      StringBuilder yml = new StringBuilder("global:\n  scrape_interval: 1s\n"
          + "  scrape_timeout: 1s\nscrape_configs:\n  - job_name: ringkv\n"
          + "    static_configs:\n");
      for (int i = 0; i < cluster.size(); i++) {
        yml.append("      - targets: [\"").append(cluster.node(i)).append("\"]\n")
            .append("        labels: {node: \"").append(cluster.address(i)).append("\"}\n");
      }
      Files.writeString(config, yml);
      Process p = new ProcessBuilder(prometheus, "--config.file=" + config,
          "--storage.tsdb.path=" + dir.resolve("data"),
          "--web.listen-address=127.0.0.1:" + port)
          .redirectErrorStream(true).redirectOutput(dir.resolve("prometheus.log").toFile())
          .start();
      try {
        String api = "127.0.0.1:" + port;
        await("Prometheus scraped both nodes").atMost(SCRAPED)
            .pollInterval(Duration.ofMillis(500))
            .failFast("prometheus exited", () -> !p.isAlive())
            .untilAsserted(() -> {
              JsonNode up = query(api, "up{job=\"ringkv\"}");
              assertEquals(2, up.size(), up.toString());
              for (JsonNode series : up) {
                assertEquals("1", series.get("value").get(1).asText(), series.toString());
              }
              JsonNode epochs = query(api, "ringkv_config_epoch");
              Set<String> nodes = new HashSet<>();
              epochs.forEach(s -> nodes.add(s.get("metric").get("node").asText()));
              assertEquals(Set.copyOf(cluster.addresses()), nodes, epochs.toString());
            });
        List<String> failures = new ArrayList<>();
        for (String expr : dashboardQueries()) {
          String q = expr.replace("$__rate_interval", "1m").replace("$__range", "1h")
              .replace("$instance", ".*");
          Http.Reply r = Http.get(api, "/api/v1/query?query=" + encode(q));
          if (r.status() != 200 || !"success".equals(r.field("status").asText())) {
            failures.add(q + " -> " + r);
          }
        }
        assertTrue(failures.isEmpty(), "dashboard queries Prometheus refused: " + failures);
      } finally {
        p.destroy();
        if (!p.waitFor(20, TimeUnit.SECONDS)) {
          p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
      }
    } catch (AssertionError | RuntimeException e) {
      Path log = dir.resolve("prometheus.log");
      if (Files.exists(log)) {
        System.out.println("--- prometheus.log\n" + Files.readString(log));
      }
      throw e;
    }
  }

  private static JsonNode query(String api, String promql) {
    Http.Reply r = Http.get(api, "/api/v1/query?query=" + encode(promql));
    assertEquals(200, r.status(), r.toString());
    return r.field("data").get("result");
  }

  private static String encode(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8);
  }

  private static List<String> dashboardQueries() throws IOException {
    JsonNode dashboard = Http.MAPPER.readTree(Files.readString(
        Paths.get("..", "deploy", "grafana", "ringkv-dashboard.json")));
    List<String> exprs = new ArrayList<>();
    MetricsTest.collectExprs(dashboard, exprs);
    return exprs;
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
      return s.getLocalPort();
    }
  }
}
