package ringkv.client;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.io.JsonStringEncoder;
import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;

/**
 * The causal metadata of the shard dialect, {@code {"keys":{"<key>":[counter,"<node>"],...}}}:
 * for each key, the newest version a client has seen. The server treats {@code ""}, {@code null},
 * {@code {}} and a missing field as "no history" ({@link #EMPTY}).
 *
 * <p>{@link #merge} is the per-key maximum by (counter, node): commutative, associative and
 * idempotent, so responses that arrive in any order merge to the same metadata.
 * {@link #afterResponse} also forgets entries the server dropped because every replica of
 * their shard holds them (that is what keeps the metadata bounded, README "Causal
 * consistency").
 *
 * <p>Immutable; thread-safe. The JSON text is computed once, on first use.
 */
public final class CausalMetadata {
  /** Bound on entries, the server's own limit on what a client may send. */
  public static final int ENTRIES_MAX = 100_000;
  /** No history. */
  public static final CausalMetadata EMPTY = new CausalMetadata(Map.of());

  private final Map<String, Version> keys;
  private volatile String json;
  private volatile byte[] jsonBytes;

  private CausalMetadata(Map<String, Version> keys) {
    if (keys.size() > ENTRIES_MAX) {
      throw new IllegalArgumentException("causal metadata has " + keys.size()
          + " entries, more than " + ENTRIES_MAX);
    }
    this.keys = keys;
  }

  /** Metadata holding exactly these entries. */
  public static CausalMetadata of(Map<String, Version> keys) {
    Objects.requireNonNull(keys, "keys");
    return keys.isEmpty() ? EMPTY : new CausalMetadata(Map.copyOf(keys));
  }

  /**
   * Parses the {@code causal-metadata} field of a response (null, missing, {@code ""} and
   * {@code {}} give {@link #EMPTY}).
   *
   * @throws IllegalArgumentException if the field is not causal metadata
   */
  public static CausalMetadata fromJson(JsonNode node) {
    if (node == null || node.isNull() || node.isMissingNode()
        || (node.isTextual() && node.asText().isBlank())) {
      return EMPTY;
    }
    if (!node.isObject()) {
      throw new IllegalArgumentException("causal metadata must be an object: " + node);
    }
    JsonNode keys = node.get("keys");
    if (keys == null || keys.isNull() || keys.isEmpty()) {
      return EMPTY;
    }
    if (!keys.isObject()) {
      throw new IllegalArgumentException("\"keys\" must be an object: " + node);
    }
    Map<String, Version> out = new HashMap<>();
    for (Map.Entry<String, JsonNode> e : keys.properties()) {
      JsonNode v = e.getValue();
      if (!v.isArray() || v.size() != 2 || !v.get(0).isIntegralNumber()
          || !v.get(1).isTextual()) {
        throw new IllegalArgumentException("a version must be [counter, \"node\"]: " + v);
      }
      out.put(e.getKey(), new Version(v.get(0).asLong(), v.get(1).asText()));
    }
    return of(out);
  }

  /**
   * The metadata in {@code bytes[start, start + length)}, read with a streaming parser (no JSON
   * tree): {@code sent} itself when it holds exactly the same entries, in any order (the usual
   * read: the answer carries back what the request sent, in the server's order, which is not
   * the client's), else new metadata equal to what {@link #fromJson} reads. Null when the text
   * is anything but the plain form {@code {"keys":{"k":[c,"n"],...}}} with at least one entry,
   * for the caller to read it with {@link #fromJson} (which also says what is wrong).
   */
  static CausalMetadata readPlain(JsonFactory factory, byte[] bytes,
      int start, int length, CausalMetadata sent) {
    try (JsonParser p = factory.createParser(bytes, start, length)) {
      if (p.nextToken() != JsonToken.START_OBJECT
          || !"keys".equals(p.nextFieldName())
          || p.nextToken() != JsonToken.START_OBJECT) {
        return null;
      }
      Map<String, Version> out = new HashMap<>(Math.max(4, sent.keys.size() * 2));
      boolean same = true;
      String key;
      while ((key = p.nextFieldName()) != null) {
        if (p.nextToken() != JsonToken.START_ARRAY
            || p.nextToken() != JsonToken.VALUE_NUMBER_INT) {
          return null;
        }
        long counter = p.getLongValue();
        String node = p.nextTextValue();
        if (node == null || p.nextToken() != JsonToken.END_ARRAY) {
          return null;
        }
        Version seen = sent.keys.get(key);
        boolean known = seen != null && seen.counter() == counter && seen.node().equals(node);
        same &= known;
        if (out.put(key, known ? seen : new Version(counter, node)) != null) {
          same = false; // a key named twice: the last one counts, as in a JSON tree
        }
      }
      if (p.currentToken() != JsonToken.END_OBJECT
          || p.nextToken() != JsonToken.END_OBJECT
          || p.nextToken() != null || out.isEmpty() || out.size() > ENTRIES_MAX) {
        return null;
      }
      return same && out.size() == sent.keys.size() ? sent : new CausalMetadata(Map.copyOf(out));
    } catch (IOException | RuntimeException e) {
      return null;
    }
  }

  /** Every entry: key to the newest version seen. */
  public Map<String, Version> keys() {
    return keys;
  }

  public boolean isEmpty() {
    return keys.isEmpty();
  }

  public int size() {
    return keys.size();
  }

  /** The version seen of {@code key}, or null. */
  public Version versionOf(String key) {
    return keys.get(key);
  }

  /** Per-key maximum by (counter, node) of this and {@code other}. */
  public CausalMetadata merge(CausalMetadata other) {
    if (other.keys.isEmpty() || other == this) {
      return this;
    }
    if (keys.isEmpty()) {
      return other;
    }
    Map<String, Version> out = new HashMap<>(keys);
    other.keys.forEach((k, v) -> out.merge(k, v, Version::max));
    return new CausalMetadata(Map.copyOf(out));
  }

  /**
   * This metadata after a request that carried {@code sent} got {@code received} back.
   *
   * <p>The server answers with the context it was sent, merged with what the operation taught
   * it, minus the entries every replica of their shard already holds. An entry of {@code sent}
   * missing from {@code received} was dropped for that reason, so it is dropped here as well,
   * unless this metadata has meanwhile moved to a newer version of that key (another request
   * of the same session). The rest is {@link #merge}d.
   */
  public CausalMetadata afterResponse(CausalMetadata sent, CausalMetadata received) {
    if (received == sent && this == sent) {
      return this; // the answer brought nothing new: the usual read
    }
    if (received.keys.isEmpty() && sent.keys.isEmpty()) {
      return this;
    }
    Map<String, Version> out = new HashMap<>(keys.size() + received.keys.size());
    keys.forEach((k, v) -> {
      boolean droppedAsStable = v.equals(sent.keys.get(k)) && !received.keys.containsKey(k);
      if (!droppedAsStable) {
        out.put(k, v);
      }
    });
    received.keys.forEach((k, v) -> out.merge(k, v, Version::max));
    return out.isEmpty() ? EMPTY : new CausalMetadata(Map.copyOf(out));
  }

  /** The JSON form sent to the server, {@code {"keys":{...}}}. */
  public String toJson() {
    String text = json;
    if (text == null) {
      JsonStringEncoder encoder = JsonStringEncoder.getInstance();
      StringBuilder b = new StringBuilder(16 + keys.size() * 48).append("{\"keys\":{");
      boolean first = true;
      for (Map.Entry<String, Version> e : keys.entrySet()) {
        if (!first) {
          b.append(',');
        }
        first = false;
        b.append('"').append(encoder.quoteAsString(e.getKey())).append("\":[")
            .append(e.getValue().counter()).append(",\"")
            .append(encoder.quoteAsString(e.getValue().node())).append("\"]");
      }
      text = b.append("}}").toString();
      json = text;
    }
    return text;
  }

  /** {@link #toJson()} in UTF-8; computed once. Callers must not change the array. */
  byte[] jsonBytes() {
    byte[] b = jsonBytes;
    if (b == null) {
      b = toJson().getBytes(StandardCharsets.UTF_8);
      jsonBytes = b;
    }
    return b;
  }

  @Override
  public boolean equals(Object other) {
    return other instanceof CausalMetadata m && m.keys.equals(keys);
  }

  @Override
  public int hashCode() {
    return keys.hashCode();
  }

  @Override
  public String toString() {
    return keys.toString();
  }
}
