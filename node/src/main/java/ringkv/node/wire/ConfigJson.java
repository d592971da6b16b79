package ringkv.node.wire;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import java.io.IOException;
import java.util.List;
import java.util.TreeMap;
import ringkv.ring.ClusterConfig;
import ringkv.ring.Layout;
import ringkv.ring.NodeAddress;
import ringkv.ring.Ring;
import ringkv.ring.TokenEntry;

/**
 * The JSON form of a cluster configuration, between nodes and in {@code DATA_DIR}:
 * {@code {"epoch":E,"view":["h:p",...],"vnodes-per-shard":V,"shards":{"1":["h:p",...],...},
 * "tokens":[[token,shard],...]}}. Reading checks sizes against the ring's bounds and the
 * configuration's own invariants (a bad one is a 400, never a half-built ring).
 */
public final class ConfigJson {
  private ConfigJson() {}

  public static void write(JsonGenerator g, ClusterConfig c) throws IOException {
    g.writeStartObject();
    g.writeNumberField("epoch", c.epoch());
    g.writeArrayFieldStart("view");
    for (NodeAddress a : c.view()) {
      g.writeString(a.toString());
    }
    g.writeEndArray();
    g.writeNumberField("vnodes-per-shard", c.ring().vnodesPerShard());
    g.writeObjectFieldStart("shards");
    for (var e : c.layout().asMap().entrySet()) {
      g.writeArrayFieldStart(Integer.toString(e.getKey()));
      for (NodeAddress a : e.getValue()) {
        g.writeString(a.toString());
      }
      g.writeEndArray();
    }
    g.writeEndObject();
    g.writeArrayFieldStart("tokens");
    for (TokenEntry t : c.ring().tokens()) {
      g.writeStartArray();
      g.writeNumber(t.token());
      g.writeNumber(t.shardId());
      g.writeEndArray();
    }
    g.writeEndArray();
    g.writeEndObject();
  }

  public static byte[] bytes(ClusterConfig c) {
    return JsonWriter.bytes(1024, g -> write(g, c));
  }

  public static ClusterConfig read(byte[] bytes) {
    return JsonReader.read(bytes, p -> read(p, p.nextToken()));
  }

  /** Reads the configuration whose START_OBJECT is {@code start}. */
  public static ClusterConfig read(JsonParser p, JsonToken start) throws IOException {
    long[] epoch = {-1};
    int[] vnodes = {-1};
    List<?>[] view = {null};
    List<?>[] tokens = {null};
    TreeMap<Integer, List<NodeAddress>> shards = new TreeMap<>();
    boolean[] haveShards = {false};
    JsonReader.object(p, start, "a cluster configuration", (name, q) -> {
      switch (name) {
        case "epoch" -> epoch[0] = JsonReader.number(q, "epoch", 0, Long.MAX_VALUE);
        case "vnodes-per-shard" -> vnodes[0] = (int) JsonReader.number(q, "vnodes-per-shard", 1,
            Ring.VNODES_PER_SHARD_MAX);
        case "view" -> view[0] = JsonReader.array(q, "view", NodeAddress.ADDRESSES_PER_LIST_MAX,
            r -> JsonReader.address(r, "view"));
        case "tokens" -> tokens[0] = JsonReader.array(q, "tokens", Ring.TOKENS_MAX,
            ConfigJson::token);
        case "shards" -> {
          haveShards[0] = true;
          JsonReader.object(q, q.currentToken(), "\"shards\"", (id, r) -> {
            if (shards.size() >= Ring.SHARD_COUNT_MAX) {
              throw JsonReader.bad("more than " + Ring.SHARD_COUNT_MAX + " shards");
            }
            shards.put(shardId(id), JsonReader.array(r, "shards",
                NodeAddress.ADDRESSES_PER_LIST_MAX, s -> JsonReader.address(s, "shards")));
          });
        }
        default -> JsonReader.skip(q);
      }
    });
    if (epoch[0] < 0 || vnodes[0] < 1 || view[0] == null || tokens[0] == null
        || !haveShards[0]) {
      throw JsonReader.bad("bad cluster configuration: a field is missing");
    }
    try {
      @SuppressWarnings("unchecked")
      List<NodeAddress> addresses = (List<NodeAddress>) view[0];
      @SuppressWarnings("unchecked")
      List<TokenEntry> entries = (List<TokenEntry>) tokens[0];
      Ring ring = Ring.fromTokens(vnodes[0], entries);
      return new ClusterConfig(epoch[0], addresses, ring, Layout.of(shards));
    } catch (IllegalArgumentException | IllegalStateException e) {
      throw JsonReader.bad("bad cluster configuration: " + e.getMessage());
    }
  }

  private static TokenEntry token(JsonParser p) throws IOException {
    if (p.currentToken() != JsonToken.START_ARRAY) {
      throw JsonReader.bad("a token must be [token, shard]");
    }
    p.nextToken();
    long token = JsonReader.number(p, "token", Long.MIN_VALUE, Long.MAX_VALUE);
    p.nextToken();
    int shard = (int) JsonReader.number(p, "shard", 0, Integer.MAX_VALUE);
    if (p.nextToken() != JsonToken.END_ARRAY) {
      throw JsonReader.bad("a token must be [token, shard]");
    }
    try {
      return new TokenEntry(token, shard);
    } catch (IllegalArgumentException e) {
      throw JsonReader.bad("bad token: " + e.getMessage());
    }
  }

  private static int shardId(String text) {
    if (!text.matches("[0-9]{1,9}")) {
      throw JsonReader.bad("bad shard id '" + text + "'");
    }
    return Integer.parseInt(text);
  }
}
