package ringkv.node.api;
import ringkv.node.json.Json;
import ringkv.node.error.KvException;
import ringkv.node.error.ErrorCode;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import ringkv.gossip.CausalContext;
import ringkv.gossip.Entry;
import ringkv.gossip.Version;
import ringkv.ring.ClusterConfig;
import ringkv.ring.Layout;
import ringkv.ring.NodeAddress;
import ringkv.ring.Ring;
import ringkv.ring.TokenEntry;

/**
 * JSON forms of the core values, for clients (causal metadata) and for peers (entries, cluster
 * configurations). Decoding validates everything that comes from outside and throws
 * {@link KvException} with a clear message.
 *
 * <p>Causal metadata is {@code {"keys":{"<key>":[<counter>,"<node>"],...}}}; clients treat it as
 * opaque. {@code ""}, {@code null}, {@code {}} or no field at all mean "no history".
 */
public final class Wire {
  /** Bound on the entries of a context a client may send. */
  public static final int CONTEXT_ENTRIES_MAX = 100_000;
  /** Counters further than this ahead of the serving node's clock are absurd, not just fast. */
  public static final long CLOCK_AHEAD_MS_MAX = 24L * 3600 * 1000;

  private Wire() {}

  public static ArrayNode version(Version v) {
    ArrayNode a = Json.MAPPER.createArrayNode();
    a.add(v.counter());
    a.add(v.node());
    return a;
  }

  public static ObjectNode context(CausalContext ctx) {
    ObjectNode keys = Json.object();
    ctx.keys().forEach((k, v) -> keys.set(k, version(v)));
    ObjectNode out = Json.object();
    out.set("keys", keys);
    return out;
  }

  /**
   * Decodes client metadata. {@code clockLimit} is the largest counter accepted (the serving
   * node's clock plus {@link #CLOCK_AHEAD_MS_MAX}).
   */
  public static CausalContext decodeContext(JsonNode node, long clockLimit) {
    if (node == null || node.isNull() || node.isMissingNode()) {
      return CausalContext.EMPTY;
    }
    if (node.isTextual()) {
      String text = node.asText().trim();
      if (text.isEmpty()) {
        return CausalContext.EMPTY;
      }
      try {
        return decodeContext(Json.MAPPER.readTree(text), clockLimit);
      } catch (java.io.IOException | KvException e) {
        throw badMetadata("it is not the metadata a RingKV response gave");
      }
    }
    if (!node.isObject()) {
      throw badMetadata("it must be an object (or empty)");
    }
    JsonNode keys = node.get("keys");
    if (keys == null || keys.isNull()) {
      return CausalContext.EMPTY;
    }
    if (!keys.isObject()) {
      throw badMetadata("\"keys\" must be an object");
    }
    if (keys.size() > CONTEXT_ENTRIES_MAX) {
      throw badMetadata("more than " + CONTEXT_ENTRIES_MAX + " entries");
    }
    Map<String, Version> out = new HashMap<>();
    Iterator<Map.Entry<String, JsonNode>> it = keys.fields();
    while (it.hasNext()) {
      Map.Entry<String, JsonNode> e = it.next();
      out.put(e.getKey(), decodeVersion(e.getValue(), clockLimit));
    }
    return CausalContext.of(out);
  }

  private static Version decodeVersion(JsonNode node, long clockLimit) {
    if (node == null || !node.isArray() || node.size() != 2 || !node.get(0).canConvertToLong()
        || !node.get(0).isIntegralNumber() || !node.get(1).isTextual()) {
      throw badMetadata("a version must be [counter, \"node\"]");
    }
    long counter = node.get(0).asLong();
    String writer = node.get(1).asText();
    if (counter < 1 || writer.isEmpty() || writer.length() > 300) {
      throw badMetadata("bad version " + node);
    }
    if (counter > clockLimit) {
      throw badMetadata("clock " + counter + " is absurdly far in the future");
    }
    return Version.decoded(counter, writer);
  }

  private static KvException badMetadata(String why) {
    return new KvException(ErrorCode.BAD_METADATA, why);
  }

  public static ObjectNode entry(Entry e) {
    ObjectNode o = Json.object();
    o.put("key", e.key());
    if (e.isTombstone()) {
      o.put("tombstone", true);
    } else {
      o.put("json", e.value()); // the stored text, verbatim (a re-parse would not keep it)
    }
    o.set("version", version(e.version()));
    if (!e.deps().isEmpty()) {
      o.set("deps", context(e.deps()));
    }
    return o;
  }

  /** Decodes an entry sent by a peer (trusted shape, still checked). */
  public static Entry decodeEntry(JsonNode o) {
    String key = o.path("key").asText(null);
    if (key == null) {
      throw new KvException(ErrorCode.BAD_REQUEST, "entry without key");
    }
    Version v = decodeVersion(o.get("version"), Long.MAX_VALUE);
    CausalContext deps = decodeContext(o.get("deps"), Long.MAX_VALUE);
    if (o.path("tombstone").asBoolean(false)) {
      return Entry.tombstone(key, v, deps);
    }
    JsonNode value = o.get("json");
    if (value == null || !value.isTextual()) {
      throw new KvException(ErrorCode.BAD_REQUEST, "entry without value");
    }
    return Entry.value(key, Json.requireValue(value.textValue()), v, deps);
  }

  public static ArrayNode entries(List<Entry> entries) {
    ArrayNode a = Json.MAPPER.createArrayNode();
    entries.forEach(e -> a.add(entry(e)));
    return a;
  }

  public static List<Entry> decodeEntries(JsonNode array) {
    if (array == null || !array.isArray()) {
      throw new KvException(ErrorCode.BAD_REQUEST, "\"entries\" must be an array");
    }
    List<Entry> out = new ArrayList<>(array.size());
    array.forEach(n -> out.add(decodeEntry(n)));
    return out;
  }

  public static ObjectNode config(ClusterConfig c) {
    ObjectNode o = Json.object();
    o.put("epoch", c.epoch());
    ArrayNode view = o.putArray("view");
    c.view().forEach(a -> view.add(a.toString()));
    o.put("vnodes-per-shard", c.ring().vnodesPerShard());
    ObjectNode shards = o.putObject("shards");
    c.layout().asMap().forEach((id, members) -> {
      ArrayNode m = shards.putArray(Integer.toString(id));
      members.forEach(a -> m.add(a.toString()));
    });
    ArrayNode tokens = o.putArray("tokens");
    c.ring().tokens().forEach(t -> tokens.add(Json.MAPPER.createArrayNode()
        .add(t.token()).add(t.shardId())));
    return o;
  }

  public static ClusterConfig decodeConfig(JsonNode o) {
    try {
      long epoch = o.get("epoch").asLong();
      List<NodeAddress> view = new ArrayList<>();
      o.get("view").forEach(n -> view.add(NodeAddress.parse(n.asText())));
      TreeMap<Integer, List<NodeAddress>> shards = new TreeMap<>();
      o.get("shards").fields().forEachRemaining(e -> {
        List<NodeAddress> members = new ArrayList<>();
        e.getValue().forEach(n -> members.add(NodeAddress.parse(n.asText())));
        shards.put(Integer.parseInt(e.getKey()), members);
      });
      List<TokenEntry> tokens = new ArrayList<>();
      o.get("tokens").forEach(t -> tokens.add(new TokenEntry(t.get(0).asLong(), t.get(1).asInt())));
      Ring ring = Ring.fromTokens(o.get("vnodes-per-shard").asInt(), tokens);
      return new ClusterConfig(epoch, view, ring, Layout.of(shards));
    } catch (RuntimeException e) {
      throw new KvException(ErrorCode.BAD_REQUEST, "bad cluster configuration: " + e.getMessage());
    }
  }
}
