package ringkv.tools;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * A node's {@code GET /ring} (SPEC §5) as values: the epoch, every shard with its members, live
 * members, key count and owned fraction, and the sorted token table. Shard ids are integers
 * here whichever dialect the node speaks (the view-change dialect sends them as strings).
 */
record RingSnapshot(String node, long epoch, String hashFunction, int vnodesPerShard,
    List<Shard> shards, List<Token> tokens) {

  /** A shard: members in the configuration, those the node sees live, keys (null: unknown). */
  record Shard(int id, List<String> members, List<String> liveMembers, Long keyCount,
      Double ownedFraction) {}

  /** A token of the ring and the shard it belongs to. */
  record Token(long token, int shardId) {}

  static RingSnapshot fetch(NodeClient client, String address) {
    Reply r = client.send(address, NodeClient.Request.get("/ring")).expectOk();
    return parse(address, r.json());
  }

  static RingSnapshot parse(String node, JsonNode ring) {
    if (!ring.isObject() || !ring.path("shards").isArray()) {
      throw new CliException(ExitCode.UNAVAILABLE, node + " answered GET /ring without a ring");
    }
    List<Shard> shards = new ArrayList<>();
    for (JsonNode s : ring.path("shards")) {
      JsonNode keys = s.path("key-count");
      JsonNode owns = s.path("owned-fraction");
      shards.add(new Shard(shardId(s.path("shard-id")), strings(s.path("members")),
          strings(s.path("live-members")), keys.isNumber() ? keys.asLong() : null,
          owns.isNumber() ? owns.asDouble() : null));
    }
    List<Token> tokens = new ArrayList<>();
    for (JsonNode t : ring.path("tokens")) {
      tokens.add(new Token(t.path("token").asLong(), shardId(t.path("shard-id"))));
    }
    return new RingSnapshot(node, ring.path("epoch").asLong(),
        ring.path("hash-function").asText("?"), ring.path("vnodes-per-shard").asInt(),
        List.copyOf(shards), List.copyOf(tokens));
  }

  /** Every member of every shard, in shard order. */
  Set<String> members() {
    Set<String> all = new LinkedHashSet<>();
    shards.forEach(s -> all.addAll(s.members()));
    return all;
  }

  /** The shard {@code address} is a member of, or null. */
  Integer shardOf(String address) {
    for (Shard s : shards) {
      if (s.members().contains(address)) {
        return s.id();
      }
    }
    return null;
  }

  /** The part of the ring a token owns: the arc from the previous token (exclusive) to it. */
  static double rangeFraction(List<Token> tokens, int index) {
    long token = tokens.get(index).token();
    long previous = tokens.get(Math.floorMod(index - 1, tokens.size())).token();
    long width = token - previous; // modulo 2^64, read as unsigned
    if (width == 0) {
      return 1.0; // a single token owns the whole ring
    }
    double unsigned = (width >>> 1) * 2.0 + (width & 1);
    return unsigned / 0x1p64;
  }

  ObjectNode toJson() {
    ObjectNode o = Json.object();
    o.put("node", node).put("epoch", epoch).put("hash-function", hashFunction)
        .put("vnodes-per-shard", vnodesPerShard);
    ArrayNode ss = o.putArray("shards");
    for (Shard s : shards) {
      ObjectNode so = ss.addObject().put("shard-id", s.id());
      so.put("owned-fraction", s.ownedFraction()).put("key-count", s.keyCount());
      s.members().forEach(so.putArray("members")::add);
      s.liveMembers().forEach(so.putArray("live-members")::add);
    }
    ArrayNode ts = o.putArray("tokens");
    for (int i = 0; i < tokens.size(); i++) {
      ts.addObject().put("token", tokens.get(i).token()).put("shard-id", tokens.get(i).shardId())
          .put("range-fraction", rangeFraction(tokens, i));
    }
    return o;
  }

  static int shardId(JsonNode id) {
    try {
      return id.isIntegralNumber() ? id.asInt() : Integer.parseInt(id.asText().strip());
    } catch (NumberFormatException e) {
      throw new CliException(ExitCode.UNAVAILABLE, "a node sent shard id " + id
          + ", not an integer");
    }
  }

  static List<String> strings(JsonNode array) {
    List<String> out = new ArrayList<>();
    array.forEach(n -> out.add(n.asText()));
    return List.copyOf(out);
  }
}
