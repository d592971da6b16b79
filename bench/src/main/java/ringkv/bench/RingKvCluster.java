package ringkv.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import ringkv.client.RingSnapshot;
import ringkv.ring.Rendezvous;

/**
 * The RingKV side of {@code --compare redis}: {@code nodes} node processes with {@code
 * SHARD_COUNT=shards} (so {@code nodes / shards} replicas per shard), started as {@code ./kvs
 * bench} starts them ({@link ChildProcesses}, through the one local launcher), data in memory.
 * Requests go to the member of the key's shard that a forwarding node and the client library
 * would pick ({@link Rendezvous}, highest weight first), computed from {@code GET /ring} with
 * the node's own ring code, so no request is forwarded; {@link #start} checks a sample of keys
 * against {@code GET /ring/key/<key>}.
 *
 * <p>Not thread-safe; the comparison's main thread uses it.
 */
final class RingKvCluster extends LocalCluster {
  static final long START_TIMEOUT_MS = 60_000;
  /** Keys whose placement is checked against {@code GET /ring/key/<key>} at start. */
  static final int PLACEMENT_CHECKS = 30;
  private static final ObjectMapper MAPPER = new ObjectMapper();

  /**
   * What {@code GET /ring} says: the ring and each shard's members, as the client library
   * parses it ({@link RingSnapshot#fromJson}).
   */
  record Placement(RingSnapshot snapshot) {
    /** Parses a {@code GET /ring} body (shard ids as numbers or numeric strings). */
    static Placement fromJson(JsonNode body) {
      return new Placement(RingSnapshot.fromJson(body, System.nanoTime()));
    }

    /** The member of the key's shard a request for it goes to. */
    String ownerOf(String key) {
      int shard = snapshot.shardOf(key);
      List<String> m = snapshot.membersOf(shard);
      if (m.isEmpty()) {
        throw new IllegalStateException("shard " + shard + " has no members");
      }
      return Rendezvous.orderNames(key, m).get(0);
    }

    /** Every member is live. */
    boolean allLive() {
      return snapshot.ring().shardIds().stream().allMatch(s ->
          snapshot.liveMembersOf(s).containsAll(snapshot.membersOf(s)));
    }

    /** Every member, shard by shard. */
    List<String> nodes() {
      return snapshot.nodes();
    }
  }

  private final Path nodeJar;
  private final int nodes;
  private final int shards;
  private final List<String> jvmFlags;
  private final HttpClient http = HttpClient.newBuilder()
      .version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(2)).build();
  private Placement placement;

  RingKvCluster(Path nodeJar, int nodes, int shards, List<String> jvmFlags, Path logDir) {
    super(logDir.resolve("ringkv"), jvmFlags);
    this.nodeJar = nodeJar;
    this.nodes = nodes;
    this.shards = shards;
    this.jvmFlags = List.copyOf(jvmFlags);
  }

  @Override
  public String name() {
    return "ringkv";
  }

  @Override
  public String describe() {
    return "RingKV: " + nodes + " nodes, SHARD_COUNT=" + shards + " (" + nodes / shards
        + " replicas per shard), in memory, JVM flags " + String.join(" ", jvmFlags);
  }

  @Override
  public Routes start() throws IOException {
    List<String> addresses = processes.startCluster(nodeJar, nodes, shards);
    processes.nodePids().forEach((address, pid) -> servers.put(pid, address));
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(START_TIMEOUT_MS);
    for (String a : addresses) {
      while (true) {
        Placement p = Placement.fromJson(getJson(a, "/ring"));
        if (p.allLive() && p.nodes().size() == nodes) {
          placement = p;
          break;
        }
        if (System.nanoTime() - deadline > 0) {
          throw new IOException(a + " does not see every node live within "
              + START_TIMEOUT_MS + " ms; see the logs in " + processes.logDir());
        }
        Pause.sleep(100);
      }
    }
    checkPlacement();
    return new Routes(placement.nodes(), placement::ownerOf);
  }

  /** The ring code here and the node agree on a sample of keys. */
  private void checkPlacement() throws IOException {
    for (int i = 0; i < PLACEMENT_CHECKS; i++) {
      String key = BenchOptions.key(i * 97L);
      JsonNode r = getJson(placement.nodes().get(0), "/ring/key/" + key);
      List<String> members = new ArrayList<>();
      r.path("members").forEach(n -> members.add(n.asText()));
      String owner = placement.ownerOf(key);
      if (!members.contains(owner)) {
        throw new IllegalStateException("placement differs from the node's: key " + key
            + " computed owner " + owner + ", node says members " + members);
      }
    }
  }

  private JsonNode getJson(String address, String path) throws IOException {
    HttpRequest request = HttpRequest.newBuilder(URI.create("http://" + address + path))
        .timeout(Duration.ofSeconds(5)).GET().build();
    try {
      HttpResponse<String> r = http.send(request, HttpResponse.BodyHandlers.ofString());
      if (r.statusCode() != 200) {
        throw new IOException("GET " + path + " on " + address + ": " + r.statusCode());
      }
      return MAPPER.readTree(r.body());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted", e);
    }
  }

  @Override
  public LoadGenerator.Requests requests(String owner, String key, String value) {
    return new LoadGenerator.Requests(HttpWire.get(owner, key),
        HttpWire.put(owner, key, value));
  }

  @Override
  public LoadGenerator.ReplyParser newParser(int valueBytes) {
    return new HttpWire.ReplyParser();
  }
}
