package ringkv.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import org.HdrHistogram.Histogram;
import ringkv.client.RingKvClient;

/**
 * The results of a bench run, as text for people and as JSON for tools: per target the load
 * phase, the measured phase (throughput, p50/p99/p99.9/max latency in ms, errors by status,
 * reads of missing records), the client's counters, and RingKV's ratios to the ceiling.
 *
 * <p>Immutable; thread-safe.
 */
final class Report {
  /** What one target (RingKV or the ceiling) gave. */
  record Target(String name, String description, LoadRunner.PhaseResult load,
      LoadRunner.PhaseResult measure, RingKvClient.Stats client) {}

  private static final ObjectMapper MAPPER = new ObjectMapper()
      .enable(SerializationFeature.INDENT_OUTPUT);

  private final BenchOptions options;
  private final List<Target> targets;
  private final List<String> args;

  Report(BenchOptions options, List<String> args, List<Target> targets) {
    this.options = options;
    this.args = List.copyOf(args);
    this.targets = List.copyOf(targets);
  }

  private Target find(String name) {
    return targets.stream().filter(t -> t.name().equals(name)).findFirst().orElse(null);
  }

  static double ms(Histogram h, double percentile) {
    return h.getTotalCount() == 0 ? 0 : h.getValueAtPercentile(percentile) / 1000.0;
  }

  String header() {
    return String.format(Locale.ROOT, "workload %s, %s keys, %,d records x %d B values, "
        + "%d connections, routing %s, warmup %.1fs, duration %.1fs, %d cores, seed %d",
        options.workload().describe(), options.zipfian() ? "zipfian" : "uniform",
        options.records(), options.valueSize(), options.connections(),
        options.routing() == RingKvClient.Routing.SMART ? "smart" : "naive",
        options.warmupMs() / 1000.0, options.durationMs() / 1000.0,
        Runtime.getRuntime().availableProcessors(), options.seed());
  }

  String text() {
    StringBuilder b = new StringBuilder();
    b.append("\n== ").append(header()).append('\n');
    b.append(String.format(Locale.ROOT, "%-28s %10s %9s %9s %9s %9s  %s%n", "target", "ops/s",
        "p50 ms", "p99 ms", "p99.9 ms", "max ms", "errors"));
    for (Target t : targets) {
      LoadRunner.PhaseResult m = t.measure();
      b.append(String.format(Locale.ROOT, "%-28s %10.0f %9.2f %9.2f %9.2f %9.2f  %s%n",
          t.name() + " (" + t.description() + ")", m.throughput(), ms(m.all(), 50),
          ms(m.all(), 99), ms(m.all(), 99.9), m.all().getMaxValue() / 1000.0,
          m.errors().isEmpty() ? "0" : m.errors().toString()));
      for (String kind : List.of("read", "update")) {
        Histogram h = kind.equals("read") ? m.reads() : m.updates();
        if (h.getTotalCount() > 0) {
          b.append(String.format(Locale.ROOT, "  %-26s %10d %9.2f %9.2f %9.2f %9.2f%n",
              kind + "s (count)", h.getTotalCount(), ms(h, 50), ms(h, 99), ms(h, 99.9),
              h.getMaxValue() / 1000.0));
        }
      }
      if (m.notFound() > 0) {
        b.append("  reads of missing records: ").append(m.notFound()).append('\n');
      }
      if (t.load() != null) {
        b.append(String.format(Locale.ROOT, "  load: %,d records in %.1f s (%.0f ops/s), "
            + "errors %s%n", t.load().ops(), t.load().seconds(), t.load().throughput(),
            t.load().errors().isEmpty() ? "0" : t.load().errors()));
      }
      RingKvClient.Stats s = t.client();
      b.append(String.format(Locale.ROOT, "  client: %d attempts, %d retries (%d view change),"
          + " %d unreachable, %d timeouts, %d ring reads, %d misrouted%n", s.attempts(),
          s.retries(), s.viewChangeRetries(), s.unreachable(), s.timeouts(),
          s.ringRefreshes(), s.misrouted()));
    }
    Target ring = find("ringkv");
    Target ceiling = find("ceiling");
    if (ring != null && ceiling != null) {
      b.append(String.format(Locale.ROOT, "ringkv / ceiling: throughput %.3f, p50 latency "
          + "%.2fx, p99 latency %.2fx%n", ratio(ring, ceiling, "throughput"),
          ratio(ring, ceiling, "p50"), ratio(ring, ceiling, "p99")));
    }
    return b.toString();
  }

  private static double ratio(Target a, Target b, String what) {
    LoadRunner.PhaseResult x = a.measure();
    LoadRunner.PhaseResult y = b.measure();
    double num;
    double den;
    switch (what) {
      case "throughput" -> {
        num = x.throughput();
        den = y.throughput();
      }
      case "p50" -> {
        num = ms(x.all(), 50);
        den = ms(y.all(), 50);
      }
      default -> {
        num = ms(x.all(), 99);
        den = ms(y.all(), 99);
      }
    }
    return den == 0 ? 0 : num / den;
  }

  ObjectNode json() {
    ObjectNode root = MAPPER.createObjectNode();
    root.put("command", "kvs bench " + String.join(" ", args));
    ObjectNode o = root.putObject("options");
    o.put("workload", options.workload().name());
    o.put("read-fraction", options.workload().readFraction());
    o.put("distribution", options.zipfian() ? "zipfian" : "uniform");
    o.put("records", options.records());
    o.put("value-size", options.valueSize());
    o.put("connections", options.connections());
    o.put("warmup-ms", options.warmupMs());
    o.put("duration-ms", options.durationMs());
    o.put("routing", options.routing() == RingKvClient.Routing.SMART ? "smart" : "naive");
    o.put("cluster", options.describeCluster());
    o.put("seed", options.seed());
    o.put("cores", Runtime.getRuntime().availableProcessors());
    o.put("java", System.getProperty("java.version"));
    ArrayNode runs = root.putArray("targets");
    for (Target t : targets) {
      ObjectNode r = runs.addObject();
      r.put("name", t.name());
      r.put("description", t.description());
      if (t.load() != null) {
        r.set("load", phase(t.load()));
      }
      r.set("measure", phase(t.measure()));
      RingKvClient.Stats s = t.client();
      ObjectNode c = r.putObject("client");
      c.put("attempts", s.attempts());
      c.put("retries", s.retries());
      c.put("view-change-retries", s.viewChangeRetries());
      c.put("unreachable", s.unreachable());
      c.put("timeouts", s.timeouts());
      c.put("ring-reads", s.ringRefreshes());
      c.put("epoch-changes", s.epochChanges());
      c.put("misrouted", s.misrouted());
    }
    Target ring = find("ringkv");
    Target ceiling = find("ceiling");
    if (ring != null && ceiling != null) {
      ObjectNode ratio = root.putObject("ratio-to-ceiling");
      ratio.put("throughput", ratio(ring, ceiling, "throughput"));
      ratio.put("p50-latency", ratio(ring, ceiling, "p50"));
      ratio.put("p99-latency", ratio(ring, ceiling, "p99"));
    }
    return root;
  }

  private static ObjectNode phase(LoadRunner.PhaseResult p) {
    ObjectNode n = MAPPER.createObjectNode();
    n.put("ops", p.ops());
    n.put("seconds", p.seconds());
    n.put("throughput", p.throughput());
    n.set("latency-ms", latency(p.all()));
    if (p.reads().getTotalCount() > 0) {
      n.set("read-latency-ms", latency(p.reads()));
    }
    if (p.updates().getTotalCount() > 0) {
      n.set("update-latency-ms", latency(p.updates()));
    }
    ObjectNode errors = n.putObject("errors");
    p.errors().forEach(errors::put);
    n.put("reads-not-found", p.notFound());
    return n;
  }

  private static ObjectNode latency(Histogram h) {
    ObjectNode n = MAPPER.createObjectNode();
    n.put("count", h.getTotalCount());
    n.put("mean", h.getTotalCount() == 0 ? 0 : h.getMean() / 1000.0);
    n.put("p50", ms(h, 50));
    n.put("p99", ms(h, 99));
    n.put("p99.9", ms(h, 99.9));
    n.put("max", h.getMaxValue() / 1000.0);
    return n;
  }

  void writeJson(Path path) throws IOException {
    Path parent = path.toAbsolutePath().getParent();
    if (parent != null) {
      Files.createDirectories(parent);
    }
    MAPPER.writeValue(path.toFile(), json());
  }
}
