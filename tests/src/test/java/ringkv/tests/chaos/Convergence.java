package ringkv.tests.chaos;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.awaitility.Awaitility;
import org.awaitility.core.ConditionTimeoutException;
import ringkv.tests.causal.CausalChecker.Op;
import ringkv.tests.causal.CausalChecker.OpKind;
import ringkv.tests.causal.CausalChecker.Version;
import ringkv.tests.causal.RecordingClient;
import ringkv.tests.support.Dialect;
import ringkv.tests.support.Http;

/**
 * After the heal, waits (bounded) until the cluster has converged: every node answers the same
 * value, or the same "not found", for every key of the workload, and every replica of each shard
 * reports the same live key count, the number of that shard's keys found. Each round reads every
 * key at every node with empty causal metadata (a fresh observer per node, so nothing it read
 * makes a node wait); the reads of the last round become operations of observers
 * {@code final@<node>} for the checkers, which thus check the final state too.
 */
final class Convergence {
  private static final Duration POLL_INTERVAL = Duration.ofMillis(250);

  /**
   * @param converged  whether a round found agreement within the bound
   * @param millis     from the call until that round ended (or until the bound)
   * @param finalReads the reads of the last round
   * @param disagreement what still differed in the last round (empty when converged)
   * @param rounds     how many rounds of reads it took
   * @param firstRound what differed in the first round (empty if nothing), for the log
   */
  record Outcome(boolean converged, long millis, List<Op> finalReads, String disagreement,
      int rounds, List<String> firstRound) {}

  private final ClusterBackend backend;
  private final Layout layout;
  private final List<String> keys;
  private List<Op> lastReads = List.of();
  private String lastDisagreement = "no round finished";
  private int rounds;
  private List<String> firstRound = List.of();

  private Convergence(ClusterBackend backend, Layout layout, List<String> keys) {
    this.backend = backend;
    this.layout = layout;
    this.keys = List.copyOf(keys);
  }

  static Outcome await(ClusterBackend backend, Layout layout, List<String> keys,
      Duration timeout) {
    Convergence c = new Convergence(backend, layout, keys);
    long start = System.nanoTime();
    boolean converged;
    try {
      Awaitility.await("every replica converges").atMost(timeout).pollDelay(Duration.ZERO)
          .pollInterval(POLL_INTERVAL).until(c::round);
      converged = true;
    } catch (ConditionTimeoutException e) {
      converged = false;
    }
    long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
    return new Outcome(converged, millis, c.lastReads, converged ? "" : c.lastDisagreement,
        c.rounds, c.firstRound);
  }

  /** One round of reads; true if everything agrees. */
  private boolean round() {
    List<String> addresses = backend.addresses();
    Dialect dialect = backend.dialect();
    String body = Http.obj(dialect.metadataField(), dialect.emptyMetadata()).toString();
    List<Op> reads = new ArrayList<>();
    Map<String, Map<Integer, String>> states = new TreeMap<>();
    for (int node = 0; node < addresses.size(); node++) {
      for (String key : keys) {
        Op op = read(node, key, body);
        reads.add(op);
        states.computeIfAbsent(key, k -> new LinkedHashMap<>()).put(node, state(op));
      }
    }
    if (Thread.currentThread().isInterrupted()) {
      // Awaitility gave up during this round: its reads failed at once; keep the last
      // complete round as the evidence.
      return false;
    }
    List<String> problems = new ArrayList<>();
    Map<String, Long> found = new TreeMap<>();
    states.forEach((key, byNode) -> {
      boolean agreed = byNode.values().stream().distinct().count() == 1;
      String state = byNode.get(0);
      if (!agreed || !(state.startsWith("value ") || state.equals("not found"))) {
        problems.add(key + " " + byNode);
      } else if (state.startsWith("value ")) {
        found.merge(layout.shardOfKey().get(key), 1L, Long::sum);
      }
    });
    layout.members().forEach((shard, members) -> {
      Map<Integer, Long> counts = new LinkedHashMap<>();
      for (int m : members) {
        counts.put(m, ownKeyCount(m, shard));
      }
      long expected = found.getOrDefault(shard, 0L);
      if (counts.values().stream().anyMatch(n -> n != expected)) {
        problems.add("shard " + shard + " key counts by node " + counts + ", " + expected
            + " keys found; what each holds of the workload's keys:\n" + holdings(members));
      }
    });
    lastReads = reads;
    lastDisagreement = String.join("\n", problems);
    if (rounds++ == 0) {
      firstRound = List.copyOf(problems);
    }
    return problems.isEmpty();
  }

  private Op read(int node, String key, String body) {
    Dialect dialect = backend.dialect();
    long start = System.nanoTime();
    Http.Reply r = null;
    try {
      r = backend.send(node, "GET", dialect.keyPath(key), body);
    } catch (AssertionError noAnswer) {
      // recorded as status -1
    }
    long end = System.nanoTime();
    int status = r == null ? -1 : r.status();
    String value = status == 200 ? r.field("value").asText() : null;
    Map<String, Version> received = r == null
        ? Map.of() : RecordingClient.versions(r.field(dialect.metadataField()));
    return new Op("final@" + backend.addresses().get(node), OpKind.GET, key, value, status,
        Map.of(), received, start, end);
  }

  private static String state(Op read) {
    return switch (read.status()) {
      case 200 -> "value " + read.value();
      case 404 -> "not found";
      default -> "status " + read.status();
    };
  }

  /**
   * For a shard whose replicas' counts disagree: each member's entries of the workload's keys
   * ({@code /internal/entries}; the chaos clusters run without CLUSTER_SECRET), each marked with
   * the shard that key belongs to, so a key one replica holds and the other lacks, or a key of
   * another shard still counted, shows in the failure.
   */
  private String holdings(List<Integer> members) {
    List<String> lines = new ArrayList<>();
    for (int m : members) {
      String from = backend.addresses().get(members.get(0) == m && members.size() > 1
          ? members.get(1) : members.get(0));
      String body = Http.obj("from", from, "keys", keys).toString();
      try {
        Http.Reply r = backend.send(m, "POST", "/internal/entries", body);
        List<String> held = new ArrayList<>();
        for (JsonNode e : r.field("entries")) {
          String key = e.path("key").asText();
          held.add(key + "@" + layout.shardOfKey().get(key) + (e.has("json") ? "" : "(deleted)")
              + e.path("version"));
        }
        lines.add("    n" + m + ": " + String.join(" ", held));
      } catch (AssertionError noAnswer) {
        lines.add("    n" + m + ": no answer");
      }
    }
    return String.join("\n", lines);
  }

  private long ownKeyCount(int node, String shard) {
    Dialect.Figure figure = backend.dialect().ownKeyCount(shard);
    try {
      Http.Reply r = backend.send(node, "GET", figure.path(), null);
      JsonNode n = r.field(figure.field());
      return r.status() == 200 && n.canConvertToLong() ? n.asLong() : -1;
    } catch (AssertionError noAnswer) {
      return -1;
    }
  }
}
