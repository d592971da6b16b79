package ringkv.client;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import ringkv.ring.KeyHash;
import ringkv.ring.Ring;
import ringkv.ring.TokenEntry;

/**
 * What one node's {@code GET /ring} said: the configuration epoch, the token table (rebuilt as
 * the server's own {@link Ring}, so keys route exactly as the server places them) and each
 * shard's members and live members.
 *
 * <p>Invariants: the token table is a valid ring (each shard 1..N owns exactly
 * {@code vnodes-per-shard} tokens); every shard of the ring has an entry in the member maps.
 * Immutable; thread-safe.
 */
public final class RingSnapshot {
  private final long epoch;
  private final Ring ring;
  private final Map<Integer, List<String>> members;
  private final Map<Integer, List<String>> liveMembers;
  private final List<String> nodes;
  private final long fetchedAtNanos;

  RingSnapshot(long epoch, Ring ring, Map<Integer, List<String>> members,
      Map<Integer, List<String>> liveMembers, long fetchedAtNanos) {
    this.epoch = epoch;
    this.ring = Objects.requireNonNull(ring, "ring");
    this.members = Map.copyOf(members);
    this.liveMembers = Map.copyOf(liveMembers);
    for (int shard : ring.shardIds()) {
      if (!members.containsKey(shard) || !liveMembers.containsKey(shard)) {
        throw new IllegalArgumentException("ring has shard " + shard + " but no members for it");
      }
    }
    Set<String> all = new LinkedHashSet<>();
    new TreeMap<>(members).values().forEach(all::addAll);
    this.nodes = List.copyOf(all);
    this.fetchedAtNanos = fetchedAtNanos;
  }

  /**
   * Parses a {@code GET /ring} body. Shard ids may be numbers (shard dialect) or numeric
   * strings (view-change dialect).
   *
   * @throws IllegalArgumentException if the body is not a ring description
   */
  public static RingSnapshot fromJson(JsonNode body, long fetchedAtNanos) {
    JsonNode epoch = body.path("epoch");
    JsonNode vnodes = body.path("vnodes-per-shard");
    if (!epoch.canConvertToLong() || !vnodes.canConvertToInt()) {
      throw new IllegalArgumentException("not a ring: no epoch or vnodes-per-shard");
    }
    if (!KeyHash.HASH_FUNCTION.equals(body.path("hash-function").asText())) {
      throw new IllegalArgumentException("unknown hash function "
          + body.path("hash-function") + "; this client hashes with " + KeyHash.HASH_FUNCTION);
    }
    List<TokenEntry> tokens = new ArrayList<>();
    for (JsonNode t : body.path("tokens")) {
      JsonNode token = t.path("token");
      if (!token.isIntegralNumber() || !token.canConvertToLong()) {
        throw new IllegalArgumentException("bad token " + t);
      }
      tokens.add(new TokenEntry(token.asLong(), shardId(t.path("shard-id"))));
    }
    Map<Integer, List<String>> members = new TreeMap<>();
    Map<Integer, List<String>> live = new TreeMap<>();
    for (JsonNode s : body.path("shards")) {
      int id = shardId(s.path("shard-id"));
      members.put(id, texts(s.path("members")));
      live.put(id, texts(s.path("live-members")));
    }
    Ring ring = Ring.fromTokens(vnodes.asInt(), tokens);
    return new RingSnapshot(epoch.asLong(), ring, members, live, fetchedAtNanos);
  }

  private static int shardId(JsonNode node) {
    if (node.isIntegralNumber()) {
      return node.asInt();
    }
    if (node.isTextual()) {
      try {
        return Integer.parseInt(node.asText());
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException("bad shard id " + node, e);
      }
    }
    throw new IllegalArgumentException("bad shard id " + node);
  }

  private static List<String> texts(JsonNode array) {
    List<String> out = new ArrayList<>();
    for (JsonNode n : array) {
      out.add(n.asText());
    }
    return List.copyOf(out);
  }

  public long epoch() {
    return epoch;
  }

  public Ring ring() {
    return ring;
  }

  /** The shard that owns {@code key}: owner of the first token &gt;= the key's token. */
  public int shardOf(String key) {
    return ring.shardOf(key);
  }

  /** The shard that owns {@code token} (a key's {@link KeyHash#tokenOf}). */
  public int shardOfToken(long token) {
    return ring.shardOfToken(token);
  }

  /** Members of {@code shard} (empty for an unknown shard). */
  public List<String> membersOf(int shard) {
    return members.getOrDefault(shard, List.of());
  }

  /** Members of {@code shard} that the answering node considered live. */
  public List<String> liveMembersOf(int shard) {
    return liveMembers.getOrDefault(shard, List.of());
  }

  /** Every node of every shard, shard by shard. */
  public List<String> nodes() {
    return nodes;
  }

  /** Every node some shard lists as live. */
  public List<String> liveNodes() {
    Set<String> all = new LinkedHashSet<>();
    new TreeMap<>(liveMembers).values().forEach(all::addAll);
    return List.copyOf(all);
  }

  /** {@link System#nanoTime()} when the ring was fetched. */
  long fetchedAtNanos() {
    return fetchedAtNanos;
  }

  @Override
  public String toString() {
    return "RingSnapshot[epoch=" + epoch + ", shards=" + ring.shardCount() + ", live="
        + new TreeMap<>(liveMembers) + "]";
  }
}
