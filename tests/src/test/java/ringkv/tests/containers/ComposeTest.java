package ringkv.tests.containers;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import ringkv.tests.support.ContainerEngine;
import ringkv.tests.support.Commands;
import ringkv.tests.support.Commands.Result;
import ringkv.tests.support.Http;
import ringkv.tests.support.Http.Reply;
import ringkv.tests.support.LocalCluster;

/*
 * Goal: the repository's compose files start working clusters (issue 8 item 3):
 * docker-compose.host.yml a 6-node shard-dialect cluster whose named volumes keep the data,
 * docker-compose.kvs.host.yml a 6-node view-change-dialect cluster that serves, survives a
 * graceful stop and a view change, and keeps its data and its view in its volumes; and the
 * bridge-network files users run on a Docker host, docker-compose.yml and
 * docker-compose.kvs.yml, serve through their published ports, side by side.
 *
 * Method: docker-compose 1.29 (Debian's package) against the shared ContainerEngine (a private
 * namespace with its own dockerd, CONTAINERS.md), run as the files' headers say: `up -d
 * --build` with BASE_IMAGE=ringkv-base:local from the repository root. The test reaches the
 * nodes (or their published ports) through socat bridges in the namespace. The two host-network
 * files run side by side in one test (12 containers start and restart together), as do the two
 * bridge-network files in another.
 *  - shard dialect, host network: the view lists all 6 nodes; shard ids and members; 60 keys
 *    written through all nodes, readable from every node; docker-compose kill node2 drops it
 *    from the others' view, 30 more writes, docker-compose start node2 brings it back with
 *    every key; then the whole cluster is killed and its containers removed (docker-compose
 *    rm), and `up -d` makes new containers on the same named volumes: all 90 keys are back,
 *    which only the volumes can explain, and the key counts agree. Every container turns
 *    healthy (the image's check).
 *  - view-change dialect, host network: 3 shards of 2; 60 keys; docker-compose stop node3
 *    (graceful, exit 143) and start; a view change to repl-factor 3 (2 shards); then kill, rm
 *    and up again: the 2-shard view and all keys come back from the volumes.
 *  - both bridge-network files at once (their own subnets, inside the engine's namespace; the
 *    engine has no iptables rules, docker-proxy publishes the ports): layout, 30 keys each
 *    through the published ports (killing and restarting a node is the host-network test's job:
 *    the image and the node are the same).
 * `docker-compose down -v` must remove containers and volumes; it also runs after each test
 * whatever happened, followed by a reset of the engine. Skipped, with the reason, where
 * containers cannot run or docker-compose is not installed.
 */
@Tag("containers")
@ExtendWith(ContainerEngine.Shared.class)
@Timeout(value = 10, unit = TimeUnit.MINUTES)
class ComposeTest {
  private static final Duration READY = Duration.ofSeconds(120);
  private static final Duration COMPOSE_TIMEOUT = Duration.ofMinutes(5);
  private static final String SECRET = "compose-test-" + java.util.UUID.randomUUID();

  private ContainerEngine engine;
  private Path repository;
  private Path logDir;
  /** Every project a test brought up, for the cleanup. */
  private final List<Compose> projects = new ArrayList<>();
  private final List<Bridges> bridges = new ArrayList<>();

  /** One compose project of one file, run as its header says. */
  private record Compose(ContainerEngine engine, String executable, Path file, String project) {
    Result run(String... args) {
      List<String> command = new ArrayList<>(List.of(executable, "--ansi", "never", "-f",
          file.toString(), "-p", project));
      command.addAll(List.of(args));
      Map<String, String> env = new LinkedHashMap<>();
      env.put("BASE_IMAGE", ContainerEngine.BASE_IMAGE);
      // docker-py's builder, whatever the environment says: BuildKit needs buildx, which
      // Debian's docker.io lacks.
      env.put("COMPOSE_DOCKER_CLI_BUILD", "0");
      env.put("DOCKER_BUILDKIT", "0");
      env.put("JAVA_TOOL_OPTIONS", String.join(" ", LocalCluster.JVM_FLAGS));
      env.put("CLUSTER_SECRET", SECRET); // the files refuse to start without one
      return engine.withEngine(COMPOSE_TIMEOUT, env, command.toArray(String[]::new));
    }

    Result check(String... args) {
      return run(args).checked("docker-compose " + String.join(" ", args));
    }

    /** Container ids of the project, sorted. */
    Set<String> containerIds() {
      return new TreeSet<>(check("ps", "-q").lines());
    }

    /**
     * {@code down -v}, which must remove the project's containers and its named volumes
     * ({@code <project>_…}).
     */
    void downRemovesContainersAndVolumes() {
      check("down", "-v");
      assertTrue(containerIds().isEmpty(), "down removes the containers");
      List<String> volumes = engine.volumes();
      assertTrue(volumes.stream().noneMatch(v -> v.startsWith(project + "_")),
          "down -v removes the named volumes: " + volumes);
    }
  }

  @BeforeEach
  void engine(TestInfo test) throws Exception {
    Assumptions.assumeTrue(ContainerEngine.compose().isPresent(), "docker-compose is not"
        + " installed (apt-get install -y docker-compose; .ci/run installs it)");
    engine = ContainerEngine.shared();
    repository = Commands.repository();
    logDir = Paths.get(System.getProperty("kvs.logs", "target/node-logs"), "ComposeTest",
        test.getTestMethod().orElseThrow().getName());
    Files.createDirectories(logDir);
    engine.reset();
  }

  /** Always: each project's logs, docker-compose down -v, the bridges, then an engine reset. */
  @AfterEach
  void down() throws Exception {
    if (engine == null) {
      return; // skipped before anything started
    }
    try {
      for (Compose project : projects) {
        Files.writeString(logDir.resolve(project.project() + ".log"), project.run("logs",
            "--no-color").output(), StandardCharsets.UTF_8);
        Result r = project.run("down", "-v", "--remove-orphans");
        if (!r.ok()) {
          System.err.println("[compose] " + project.project() + " down -v failed: "
              + r.output());
        }
      }
    } finally {
      bridges.forEach(Bridges::close);
      engine.reset();
    }
  }

  private Compose project(String file, String name) {
    Compose project = new Compose(engine, ContainerEngine.compose().orElseThrow(),
        repository.resolve(file), name);
    projects.add(project);
    return project;
  }

  private Bridges bridges(String name, List<String> addresses) {
    Bridges b = new Bridges(engine, engine.workDir().resolve(name), addresses);
    bridges.add(b);
    return b;
  }

  /**
   * A host-network project that {@link #upOnHostNetwork} brought up: its 6 nodes
   * ({@code 127.0.0.2..7}), bridges to them, and when its {@code up} began.
   */
  private record HostProject(Compose compose, List<String> nodes, Bridges bridges,
      long startNs) {}

  /** {@code up -d --build} of {@code file}, whose nodes listen on {@code port}. */
  private HostProject upOnHostNetwork(String file, String name, int port) {
    long startNs = System.nanoTime();
    Compose compose = project(file, name);
    compose.check("up", "-d", "--build");
    List<String> nodes = IntStream.rangeClosed(2, 7).mapToObj(i -> "127.0.0." + i + ":" + port)
        .toList();
    return new HostProject(compose, nodes, bridges(name, nodes), startNs);
  }

  /**
   * Both host-network files side by side (their ports differ: 8085 and 13800 on 127.0.0.2..7),
   * so the 12 JVMs start, restart and are recreated together rather than one project after the
   * other.
   */
  @Test
  void hostNetworkFilesServeSurviveRestartsAndKeepTheirDataInTheirVolumes() {
    HostProject shard = upOnHostNetwork("docker-compose.host.yml", "ringkvtest", 8085);
    HostProject kvs = upOnHostNetwork("docker-compose.kvs.host.yml", "ringkvkvstest", 13800);
    shard.bridges().awaitReady(READY);
    kvs.bridges().awaitReady(READY);
    long readyS = TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - shard.startNs());
    engine.awaitHealthy(IntStream.rangeClosed(1, 6).mapToObj(i -> "ringkv-node" + i).toList(),
        Duration.ofSeconds(60));
    assertShardLayout(shard.bridges(), shard.nodes());
    Http.Reply unsigned = shard.bridges().send(0, "POST", "/internal/config", "{}");
    assertEquals(401, unsigned.status(), "peers authenticate (CLUSTER_SECRET): " + unsigned);
    assertKvsShards(kvs.bridges(), 3, 2, kvs.nodes());

    Map<String, String> shardKeys = new LinkedHashMap<>();
    Map<String, String> kvsKeys = new LinkedHashMap<>();
    for (int k = 0; k < 60; k++) {
      ShardStore.put(shard.bridges(), k % 6, "key" + k, "v" + k, shardKeys);
      putKvs(kvs.bridges(), k % 6, "key" + k, "v" + k, kvsKeys);
    }
    ShardStore.assertReadable(shard.bridges(), shardKeys, List.of(0, 1, 2, 3, 4, 5));
    assertKvsData(kvs.bridges(), kvsKeys);
    assertEquals(60, kvsKeyCount(kvs.bridges()), "keys over all shards");

    shardNodeKilledLeavesTheViewAndComesBackWithEveryKey(shard, shardKeys);
    kvsNodeStopsGracefullyAndChangesItsView(kvs, kvsKeys);

    // Both clusters killed and their containers removed: new containers on the same volumes.
    Set<String> before = new TreeSet<>(shard.compose().containerIds());
    before.addAll(kvs.compose().containerIds());
    for (HostProject p : List.of(shard, kvs)) {
      p.compose().check("kill");
      p.compose().check("rm", "-f");
      assertTrue(p.compose().containerIds().isEmpty(), "containers removed");
    }
    shard.compose().check("up", "-d");
    kvs.compose().check("up", "-d");
    Set<String> after = new TreeSet<>(shard.compose().containerIds());
    after.addAll(kvs.compose().containerIds());
    assertEquals(12, after.size(), after.toString());
    assertTrue(after.stream().noneMatch(before::contains), "new containers: " + before + " "
        + after);
    shard.bridges().awaitReady(READY);
    kvs.bridges().awaitReady(READY);
    ShardStore.assertReadable(shard.bridges(), shardKeys, List.of(0, 1, 2, 3, 4, 5));
    awaitShardCounts(shard.bridges(), shardKeys.size());
    assertKvsShards(kvs.bridges(), 2, 3, kvs.nodes());
    assertKvsData(kvs.bridges(), kvsKeys);
    assertEquals(60, kvsKeyCount(kvs.bridges()), "keys over all shards after the recreation");

    shard.compose().downRemovesContainersAndVolumes();
    kvs.compose().downRemovesContainersAndVolumes();
    System.out.printf("[compose] docker-compose.host.yml and docker-compose.kvs.host.yml side by"
        + " side: 12 containers ready %d s after up; %d shard-dialect keys through kill + start"
        + " of node2, %d view-change-dialect keys through a graceful stop of node3 and a view"
        + " change 3x2 -> 2x3, both through a recreation of every container on the same"
        + " volumes%n", readyS, shardKeys.size(), kvsKeys.size());
  }

  /** node2 (index 1) killed: it leaves the others' view; writes go on; it comes back. */
  private static void shardNodeKilledLeavesTheViewAndComesBackWithEveryKey(HostProject p,
      Map<String, String> written) {
    Bridges b = p.bridges();
    List<String> nodes = p.nodes();
    p.compose().check("kill", "node2");
    awaitView(b, 0, nodes.stream().filter(a -> !a.equals(nodes.get(1))).toList());
    for (int k = 60; k < 90; k++) {
      ShardStore.put(b, k % 2 == 0 ? 0 : 2 + k % 4, "key" + k, "w" + k, written);
    }
    p.compose().check("start", "node2");
    b.awaitReady(1, READY);
    awaitView(b, 1, nodes);
    ShardStore.assertReadable(b, written, List.of(1));
  }

  /** A graceful stop (SIGTERM to PID 1 of node3's container) and a start; a view change. */
  private void kvsNodeStopsGracefullyAndChangesItsView(HostProject p,
      Map<String, String> written) {
    Bridges b = p.bridges();
    p.compose().check("stop", "node3");
    Result code = engine.docker(Duration.ofSeconds(30), "inspect", "-f", "{{.State.ExitCode}}",
        "ringkv-kvs-node3");
    assertEquals("143", code.output().strip(), "node3 exits cleanly after SIGTERM");
    p.compose().check("start", "node3");
    b.awaitReady(2, READY);
    assertKvsData(b, written);

    Reply change = b.send(0, "PUT", "/kvs/view-change", Http.obj("view",
        String.join(",", p.nodes()), "repl-factor", 3).toString());
    assertEquals(200, change.status(), change.toString());
    assertEquals(2, change.field("shards").size(), change.toString());
    assertKvsShards(b, 2, 3, p.nodes());
    assertKvsData(b, written);
  }

  @Test
  void bridgeNetworkFilesRunSideBySideThroughPublishedPorts() {
    // docker-compose.yml and docker-compose.kvs.yml as on any Docker host: their own bridge
    // networks (created inside the engine's namespace, as is every veth) with fixed addresses,
    // each node published on 127.0.0.1 (docker-proxy; the engine has no iptables rules).
    long startNs = System.nanoTime();
    Compose shard = project("docker-compose.yml", "ringkvbridgetest");
    Compose kvs = project("docker-compose.kvs.yml", "ringkvkvsbridgetest");
    shard.check("up", "-d", "--build");
    kvs.check("up", "-d", "--build");
    List<String> shardNodes = IntStream.rangeClosed(2, 7).mapToObj(i -> "10.78.0." + i + ":8085")
        .toList();
    List<String> kvsNodes = IntStream.rangeClosed(2, 7).mapToObj(i -> "10.79.0." + i + ":13800")
        .toList();
    Bridges s = bridges("bridge-shard", IntStream.rangeClosed(8082, 8087)
        .mapToObj(p -> "127.0.0.1:" + p).toList());
    Bridges k = bridges("bridge-kvs", IntStream.rangeClosed(13800, 13805)
        .mapToObj(p -> "127.0.0.1:" + p).toList());
    s.awaitReady(READY);
    k.awaitReady(READY);
    long readyS = TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - startNs);
    assertShardLayout(s, shardNodes);
    assertKvsShards(k, 3, 2, kvsNodes);

    Map<String, String> shardKeys = new LinkedHashMap<>();
    Map<String, String> kvsKeys = new LinkedHashMap<>();
    for (int i = 0; i < 30; i++) {
      ShardStore.put(s, i % 6, "key" + i, "s" + i, shardKeys);
      putKvs(k, i % 6, "key" + i, "k" + i, kvsKeys);
    }
    ShardStore.assertReadable(s, shardKeys, List.of(0, 1, 2, 3, 4, 5));
    assertKvsData(k, kvsKeys);

    awaitShardCounts(s, shardKeys.size());
    assertEquals(30, kvsKeyCount(k), "view-change dialect keys over all shards");

    shard.check("down", "-v");
    kvs.check("down", "-v");
    assertTrue(engine.volumes().isEmpty(), "down -v removes the named volumes: "
        + engine.volumes());
    System.out.printf("[compose] docker-compose.yml and docker-compose.kvs.yml side by side on"
        + " their bridge networks: 12 containers ready %d s after up, 30 keys each%n", readyS);
  }

  // ---------------------------------------------------------------------------------------------

  /** The view lists every node, shard ids are 1 and 2, and each node is in one shard of 3. */
  private void assertShardLayout(Bridges b, List<String> nodes) {
    awaitView(b, 0, nodes);
    Reply ids = b.get(0, "/key-value-store-shard/shard-ids");
    assertEquals(List.of(1, 2), ints(ids.field("shard-ids")), ids.toString());
    Set<String> members = new HashSet<>();
    for (int shard = 1; shard <= 2; shard++) {
      Reply m = b.get(shard, "/key-value-store-shard/shard-id-members/" + shard);
      assertEquals(3, m.field("shard-id-members").size(), m.toString());
      m.field("shard-id-members").forEach(a -> members.add(a.asText()));
    }
    assertEquals(Set.copyOf(nodes), members, "every node in one shard");
  }

  /** Each replica of each shard holds the same number of keys, and they add up to total. */
  private static void awaitShardCounts(Bridges b, int total) {
    await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
      long sum = 0;
      for (int shard = 1; shard <= 2; shard++) {
        sum += ShardStore.agreedKeyCount(b::get, b.size(), shard);
      }
      assertEquals(total, sum, "keys over both shards");
    });
  }

  /** Node {@code node}'s view becomes exactly {@code expected} (failure detector, ~2 s). */
  private static void awaitView(Bridges b, int node, List<String> expected) {
    await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> {
      Reply v = b.get(node, "/key-value-store-view");
      assertEquals(200, v.status(), v.toString());
      assertEquals(Set.copyOf(expected), Set.of(v.field("view").asText().split(",")),
          v.toString());
    });
  }

  private static void putKvs(Bridges b, int node, String key, String value,
      Map<String, String> written) {
    Reply r = b.send(node, "PUT", "/kvs/keys/" + key, Http.obj("value", value,
        "causal-context", Http.obj()).toString());
    assertEquals(201, r.status(), key + " via " + b.address(node) + ": " + r);
    written.put(key, value);
  }

  /** {@code shards} shards of {@code replicas}, every node in one of them. */
  private static void assertKvsShards(Bridges b, int shards, int replicas, List<String> nodes) {
    Reply list = b.get(0, "/kvs/shards");
    assertEquals(200, list.status(), list.toString());
    assertEquals(shards, list.field("shards").size(), list.toString());
    Set<String> all = new HashSet<>();
    for (JsonNode id : list.field("shards")) {
      Reply shard = b.get(1, "/kvs/shards/" + id.asText());
      assertEquals(200, shard.status(), shard.toString());
      assertEquals(replicas, shard.field("replicas").size(), shard.toString());
      shard.field("replicas").forEach(a -> all.add(a.asText()));
    }
    assertEquals(Set.copyOf(nodes), all, "every node in one shard");
  }

  private static void assertKvsData(Bridges b, Map<String, String> written) {
    String empty = Http.obj("causal-context", Http.obj()).toString();
    for (int node = 0; node < b.size(); node++) {
      for (Map.Entry<String, String> e : written.entrySet()) {
        Reply r = b.sendAnswered(node, "GET", "/kvs/keys/" + e.getKey(), empty);
        assertEquals(200, r.status(), b.address(node) + " " + e.getKey() + " " + r);
        assertEquals(e.getValue(), r.field("value").asText(), b.address(node));
      }
    }
  }

  /** Keys over all shards, as GET /kvs/shards/<id> reports them. */
  private static long kvsKeyCount(Bridges b) {
    long sum = 0;
    for (JsonNode id : b.get(0, "/kvs/shards").field("shards")) {
      sum += b.get(0, "/kvs/shards/" + id.asText()).field("key-count").asLong();
    }
    return sum;
  }

  private static List<Integer> ints(JsonNode array) {
    List<Integer> out = new ArrayList<>();
    array.forEach(n -> out.add(n.asInt()));
    assertNotEquals(0, out.size(), "an empty list");
    return out;
  }
}
