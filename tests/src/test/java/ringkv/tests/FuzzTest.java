package ringkv.tests;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static ringkv.tests.support.Http.json;
import static ringkv.tests.support.Http.obj;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.BooleanNode;
import com.fasterxml.jackson.databind.node.IntNode;
import com.fasterxml.jackson.databind.node.TextNode;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import ringkv.tests.FuzzRequests.Answer;
import ringkv.tests.FuzzRequests.Expect;
import ringkv.tests.FuzzRequests.Req;
import ringkv.tests.support.Http;
import ringkv.tests.support.LocalCluster;

/*
 * Goal (issue 6 item 5, bad input): malformed requests to a live cluster - broken and
 * wrong-typed JSON, huge bodies, keys with slashes, percent-encoding, unicode and empty segments,
 * bogus metadata, unknown shard ids, view changes with nonsense addresses, wrong methods, unknown
 * routes, odd content types, missing bodies, garbage for the node-to-node endpoints - get a JSON
 * answer of SPEC §2 every time (a success only for requests that are valid, else 400, 404, 405,
 * 413, 503, or 500 "View change in progress"), no node dies, and the data already stored is
 * unchanged.
 *
 * Method: one cluster of 4 nodes with SHARD_COUNT=2. 200 keys ("seed-000"...) are written with
 * known values of every JSON type, keeping the writer's causal metadata, and read back from every
 * node. FuzzRequests builds -Dfuzz.requests (default 2,000) requests from a seed (printed; replay
 * with -Dfuzz.seed=) and 8 threads send them to random nodes. Each answer is checked against what
 * its request must get; every contract violation is recorded with one example per kind, so that
 * one run shows them all. After the barrage: every node process still runs and answers, every
 * node sees all four live, the layout (epoch, shards, members) is the one from before, and every
 * seeded key reads back its exact value from every node. Requests that may succeed only write
 * keys starting with "fuzz-", so seeded keys can only change through a request that should have
 * been refused, and no request names a valid new node or a usable shard count.
 */
@Tag("fuzz")
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class FuzzTest {
  private static final int NODES = 4;
  private static final int SEEDED_KEYS = 200;
  private static final int THREADS = 8;
  private static final int RAW_TIMEOUT_MS = (int) Http.REQUEST_TIMEOUT_MS;
  private static final Set<Integer> ERROR_STATUSES = Set.of(400, 404, 405, 413, 500, 503);
  private static final String VIEW_CHANGE_IN_PROGRESS = "View change in progress";

  private final long seed = Long.getLong("fuzz.seed", new Random().nextLong());
  private final int requests = Integer.getInteger("fuzz.requests", 2_000);

  @AutoClose
  private LocalCluster cluster;
  private final Map<String, JsonNode> seeded = new LinkedHashMap<>();
  private final Map<String, Integer> shardOfSeeded = new HashMap<>();
  private JsonNode seedMetadata = Http.MAPPER.nullNode();

  /** Contract violations by "family | problems", with a count and the first example. */
  private final Map<String, Violation> violations = new ConcurrentSkipListMap<>();
  private final Map<Integer, AtomicInteger> statusCounts = new ConcurrentSkipListMap<>();
  private final AtomicInteger sent = new AtomicInteger();

  private static final class Violation {
    final AtomicInteger count = new AtomicInteger();
    final String example;

    Violation(String example) {
      this.example = example;
    }
  }

  /** Seeded keys read back by node and shard, and every read that went wrong. */
  private record Readback(Map<String, Integer> counts, List<String> problems) {}

  @BeforeAll
  void startAndSeed() {
    System.out.println("FuzzTest seed=" + seed + " requests=" + requests + " (replay with"
        + " -Dfuzz.seed=" + seed + " -Dfuzz.requests=" + requests + ")");
    cluster = LocalCluster.builder(getClass().getSimpleName()).nodes(NODES).shards(2).start();
    for (int i = 0; i < SEEDED_KEYS; i++) {
      String key = String.format("seed-%03d", i);
      JsonNode value = seedValue(i);
      Http.Reply r = Http.put(cluster.node(i % NODES), FuzzRequests.KV + key,
          obj("value", value, "causal-metadata", seedMetadata));
      assertEquals(201, r.status(), key + ": " + r);
      assertTrue(r.field("shard-id").isInt(), r.toString());
      seeded.put(key, value);
      shardOfSeeded.put(key, r.field("shard-id").asInt());
      seedMetadata = r.metadata();
    }
  }

  @Test
  void malformedRequestsGetJsonErrorsOfTheSpecAndChangeNothing() throws Exception {
    String layoutBefore = layout();
    Readback before = readSeeded();
    assertTrue(before.problems().isEmpty(), "seeded keys do not read back before the fuzzing: "
        + before.problems());

    List<Req> all = new FuzzRequests.Generator(seed, NODES, seeded,
        Http.MAPPER.writeValueAsString(seedMetadata), cluster.view(), clock())
        .generate(requests);
    long start = System.nanoTime();
    sendAll(all);
    long ms = (System.nanoTime() - start) / 1_000_000;
    System.out.printf("FuzzTest: %d requests (%d with follow-ups) in %d ms; statuses %s%n",
        all.size(), sent.get(), ms, statusCounts);

    List<String> damage = new ArrayList<>();
    checkNodesServe(damage);
    if (damage.isEmpty()) {
      String layoutAfter = layout();
      if (!layoutAfter.equals(layoutBefore)) {
        damage.add("the layout changed:\n  before " + layoutBefore + "\n  after  " + layoutAfter);
      }
      Readback after = readSeeded();
      damage.addAll(after.problems());
      if (!after.counts().equals(before.counts())) {
        damage.add("seeded keys read per node and shard changed: before " + before.counts()
            + ", after " + after.counts());
      }
    }
    report(damage);
  }

  // ------------------------------------------------------------------------- barrage

  private void sendAll(List<Req> all) throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(THREADS);
    try {
      List<Future<?>> done = new ArrayList<>();
      for (Req r : all) {
        done.add(pool.submit(() -> exchange(r)));
      }
      for (Future<?> f : done) {
        f.get();
      }
    } finally {
      pool.shutdownNow();
    }
  }

  /** Sends a request and its follow-ups (in order, on this thread) and checks each answer. */
  private void exchange(Req first) {
    Answer previous = null;
    for (Req r = first; r != null; r = r.then) {
      if (previous != null && r.body != null) {
        r.body = r.body.replace(FuzzRequests.PREVIOUS_METADATA, metadataOf(previous));
      }
      Answer a = send(r);
      sent.incrementAndGet();
      statusCounts.computeIfAbsent(a.status(), s -> new AtomicInteger()).incrementAndGet();
      List<String> problems = problems(r, a);
      if (!problems.isEmpty()) {
        String example = r.describe(cluster.node(r.node)) + "\n        -> " + a.describe();
        violations.computeIfAbsent(r.family + " | " + String.join("; ", problems),
            k -> new Violation(example)).count.incrementAndGet();
      }
      previous = a;
    }
  }

  private Answer send(Req r) {
    String address = cluster.node(r.node);
    if (r.needsRawSocket()) {
      return FuzzRequests.sendRaw(r, address, RAW_TIMEOUT_MS);
    }
    try {
      Http.Reply reply = Http.send(r.method, address, r.path, r.body);
      return new Answer(reply.status(), reply.header("content-type").orElse(null), reply.raw(),
          null);
    } catch (AssertionError e) { // no answer: timeout, reset, refused
      Throwable cause = e.getCause() != null ? e.getCause() : e;
      return Answer.failed(cause.getClass().getSimpleName() + ": " + cause.getMessage());
    } catch (IllegalArgumentException e) { // a path java.net.URI refuses after all
      return FuzzRequests.sendRaw(r, address, RAW_TIMEOUT_MS);
    }
  }

  /** The causal metadata of an answer (either dialect) as JSON text, or null. */
  private static String metadataOf(Answer a) {
    JsonNode body = parseObject(a.body());
    JsonNode m = body == null ? null
        : body.has("causal-metadata") ? body.get("causal-metadata") : body.get("causal-context");
    return m == null ? "null" : m.toString();
  }

  /** Every way the answer breaks the contract for this request (short, stable kinds). */
  static List<String> problems(Req r, Answer a) {
    List<String> out = new ArrayList<>();
    if (a.failure() != null) {
      int colon = a.failure().indexOf(':');
      out.add("no answer (" + (colon < 0 ? a.failure() : a.failure().substring(0, colon)) + ")");
      return out;
    }
    int s = a.status();
    boolean success = s >= 200 && s < 300;
    String type = a.contentType();
    if (type == null || !type.toLowerCase().startsWith("application/json")) {
      out.add("status " + s + " with content-type " + type);
    }
    JsonNode body = r.method.equals("HEAD") ? null : parseObject(a.body());
    if (body == null && !r.method.equals("HEAD")) {
      out.add("status " + s + " with a body that is not a JSON object");
    }
    String error = body == null ? null : body.path("error").asText(null);
    String why = error == null ? "" : " (" + error.split(":")[0] + ")";
    if (success && r.expect == Expect.INVALID) {
      out.add("status " + s + " for an invalid request");
    } else if (!r.statuses.isEmpty() && !r.statuses.contains(s)) {
      out.add("status " + s + ", expected " + new TreeSet<>(r.statuses) + why);
    } else if (!success && r.expect == Expect.VALID && r.statuses.isEmpty()) {
      out.add("status " + s + " for a valid request" + why);
    }
    if (!success) {
      if (!ERROR_STATUSES.contains(s)) {
        out.add("status " + s + " is not an error status of SPEC §2");
      } else if (s == 500 && !VIEW_CHANGE_IN_PROGRESS.equals(error)) {
        out.add("status 500 " + error);
      }
      if (body != null && (!body.path("message").isTextual() || !body.path("error").isTextual())) {
        out.add("error body without string \"message\" and \"error\"");
      }
    } else if (r.value != null && body != null && !r.value.equals(body.get("value"))) {
      out.add("a seeded key read back another value");
    }
    return out;
  }

  private static JsonNode parseObject(String text) {
    if (text == null || text.isBlank()) {
      return null;
    }
    try {
      JsonNode node = Http.MAPPER.readTree(text);
      return node != null && node.isObject() ? node : null;
    } catch (JsonProcessingException e) {
      return null;
    }
  }

  // ------------------------------------------------------------------------- checks after

  /** Every node process runs, answers its readiness probe and sees all four nodes live. */
  private void checkNodesServe(List<String> damage) {
    for (int i = 0; i < NODES; i++) {
      if (!cluster.isRunning(i)) {
        damage.add("node " + cluster.node(i) + " exited; log tail:\n" + cluster.logTail(i));
      }
    }
    if (!damage.isEmpty()) {
      return;
    }
    Set<String> all = new TreeSet<>(cluster.addresses());
    for (int i = 0; i < NODES; i++) {
      String node = cluster.node(i);
      try {
        await("node " + node + " ready and seeing every node live")
            .atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(200))
            .until(() -> serves(node, all));
      } catch (RuntimeException | AssertionError e) {
        damage.add("node " + node + " does not serve (or does not see all nodes live) after the"
            + " fuzzing: " + e.getMessage() + "\n" + cluster.logTail(i));
      }
    }
  }

  private static boolean serves(String node, Set<String> all) {
    try {
      Http.Reply ready = Http.get(node, "/health/ready");
      Http.Reply view = Http.get(node, "/key-value-store-view");
      return ready.status() == 200
          && view.status() == 200
          && new TreeSet<>(List.of(view.field("view").asText().split(","))).equals(all);
    } catch (AssertionError noAnswer) {
      return false;
    }
  }

  /** Every node's configuration: epoch, and each shard with its members. */
  private String layout() {
    StringBuilder out = new StringBuilder();
    for (int i = 0; i < NODES; i++) {
      Http.Reply ring = Http.get(cluster.node(i), "/ring");
      assertEquals(200, ring.status(), ring.toString());
      out.append(cluster.node(i)).append(": epoch ").append(ring.field("epoch"));
      for (JsonNode shard : ring.field("shards")) {
        out.append(" shard ").append(shard.path("shard-id")).append(' ')
            .append(new TreeSet<>(strings(shard.path("members"))));
      }
      out.append("; ");
    }
    return out.toString();
  }

  /** Reads every seeded key from every node (with the writer's metadata), in parallel. */
  private Readback readSeeded() throws Exception {
    Map<String, Integer> counts = new TreeMap<>();
    List<String> problems = new ArrayList<>();
    ExecutorService pool = Executors.newFixedThreadPool(THREADS);
    try {
      Map<String, Future<Http.Reply>> replies = new LinkedHashMap<>();
      for (int i = 0; i < NODES; i++) {
        String node = cluster.node(i);
        for (String key : seeded.keySet()) {
          replies.put(node + " " + key, pool.submit(() -> readOne(node, key)));
        }
      }
      for (Map.Entry<String, Future<Http.Reply>> e : replies.entrySet()) {
        String[] nodeAndKey = e.getKey().split(" ");
        Http.Reply r = e.getValue().get();
        if (r.status() == 200 && seeded.get(nodeAndKey[1]).equals(r.field("value"))) {
          counts.merge(nodeAndKey[0] + " shard " + shardOfSeeded.get(nodeAndKey[1]), 1,
              Integer::sum);
        } else {
          problems.add("seeded key " + nodeAndKey[1] + " (value "
              + seeded.get(nodeAndKey[1]) + ") from " + nodeAndKey[0] + ": " + r);
        }
      }
    } finally {
      pool.shutdownNow();
    }
    return new Readback(counts, problems);
  }

  private Http.Reply readOne(String node, String key) {
    try {
      return Http.get(node, FuzzRequests.KV + key, obj("causal-metadata", seedMetadata));
    } catch (AssertionError noAnswer) {
      return new Http.Reply(-1, null, Map.of(), String.valueOf(noAnswer.getMessage()));
    }
  }

  // ------------------------------------------------------------------------- helpers

  private void report(List<String> damage) {
    if (violations.isEmpty() && damage.isEmpty()) {
      return;
    }
    StringBuilder out = new StringBuilder("FuzzTest seed=" + seed + " (replay: -Dfuzz.seed="
        + seed + " -Dfuzz.requests=" + requests + "): ");
    int answers = violations.values().stream().mapToInt(v -> v.count.get()).sum();
    out.append(violations.size()).append(" kinds of contract violation in ").append(answers)
        .append(" answers");
    violations.forEach((kind, v) -> out.append("\n- ").append(kind).append("  x")
        .append(v.count.get()).append("\n        e.g. ").append(v.example));
    if (!damage.isEmpty()) {
      out.append("\nafter the fuzzing:\n- ").append(damage.stream().limit(20)
          .collect(Collectors.joining("\n- ")));
      if (damage.size() > 20) {
        out.append("\n- ... and ").append(damage.size() - 20).append(" more");
      }
    }
    fail(out.toString());
  }

  /** The highest Lamport counter the seeding produced, or the wall clock if higher. */
  private long clock() {
    long max = System.currentTimeMillis();
    for (JsonNode version : seedMetadata.path("keys")) {
      max = Math.max(max, version.path(0).asLong());
    }
    return max;
  }

  /** Values of every JSON type, with escapes and characters outside the BMP. */
  private static JsonNode seedValue(int i) {
    switch (i % 8) {
      case 0:
        return TextNode.valueOf("seed " + i + " \u00fcn\u00efc\u00f6d\u00e9 \ud83d\ude00 \u202e"
            + " \"q\" \\ / \n");
      case 1:
        return IntNode.valueOf(i * 7 - 500);
      case 2:
        return json("90071992547409" + (10 + i));
      case 3:
        return json(i + ".25");
      case 4:
        return obj("n", i, "tags", List.of("a", "b"), "nested", Map.of("x", List.of()));
      case 5:
        return json("[" + i + ",\"x\",null,true,{\"k\":[]}]");
      case 6:
        return BooleanNode.valueOf(i % 16 == 6);
      default:
        return TextNode.valueOf(i % 16 == 7 ? "" : "%2F/" + i);
    }
  }

  private static List<String> strings(JsonNode array) {
    List<String> out = new ArrayList<>();
    array.forEach(n -> out.add(n.asText()));
    return out;
  }
}
