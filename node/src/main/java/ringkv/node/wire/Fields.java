package ringkv.node.wire;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import ringkv.gossip.CausalContext;
import ringkv.gossip.Entry;
import ringkv.node.json.Json;
import ringkv.ring.ClusterConfig;
import ringkv.ring.NodeAddress;

/**
 * Strict typed reads of one JSON object's fields, for the small messages between nodes: a field
 * that is missing (where required), of the wrong type or out of its bounds is a 400 naming it.
 * Contexts and entries inside go through their one reader ({@link ContextJson},
 * {@link EntryJson}).
 */
public final class Fields {
  private final JsonNode object;
  private final String what;

  private Fields(JsonNode object, String what) {
    this.object = object;
    this.what = what;
  }

  /** Reads the object starting at the parser's next token. */
  public static Fields read(JsonParser p, String what) throws IOException {
    JsonToken t = p.nextToken();
    if (t != JsonToken.START_OBJECT) {
      throw JsonReader.bad(what + " must be an object");
    }
    return new Fields(Json.MAPPER.readTree(p), what);
  }

  /** Wraps an object already parsed. */
  public static Fields of(JsonNode object, String what) {
    if (object == null || !object.isObject()) {
      throw JsonReader.bad(what + " must be an object");
    }
    return new Fields(object, what);
  }

  public boolean has(String field) {
    JsonNode n = object.get(field);
    return n != null && !n.isNull();
  }

  private JsonNode required(String field) {
    JsonNode n = object.get(field);
    if (n == null || n.isNull()) {
      throw JsonReader.bad(what + ": \"" + field + "\" is missing");
    }
    return n;
  }

  public long number(String field, long min, long max) {
    JsonNode n = required(field);
    if (!n.isIntegralNumber() || !n.canConvertToLong() || n.asLong() < min || n.asLong() > max) {
      throw JsonReader.bad(what + ": \"" + field + "\" must be a whole number in " + min + ".."
          + max);
    }
    return n.asLong();
  }

  public long number(String field, long min, long max, long absent) {
    return has(field) ? number(field, min, max) : absent;
  }

  public String text(String field, int charsMax) {
    JsonNode n = required(field);
    if (!n.isTextual() || n.textValue().length() > charsMax) {
      throw JsonReader.bad(what + ": \"" + field + "\" must be a string of at most " + charsMax
          + " characters");
    }
    return n.textValue();
  }

  public String textOrNull(String field, int charsMax) {
    return has(field) ? text(field, charsMax) : null;
  }

  public boolean bool(String field, boolean absent) {
    if (!has(field)) {
      return absent;
    }
    JsonNode n = object.get(field);
    if (!n.isBoolean()) {
      throw JsonReader.bad(what + ": \"" + field + "\" must be true or false");
    }
    return n.booleanValue();
  }

  public NodeAddress address(String field) {
    return parseAddress(field, text(field, NodeAddress.HOST_CHARS_MAX + 6));
  }

  private NodeAddress parseAddress(String field, String text) {
    try {
      return NodeAddress.parse(text);
    } catch (IllegalArgumentException e) {
      throw JsonReader.bad(what + ": \"" + field + "\": " + e.getMessage());
    }
  }

  /** An array of at most {@code itemsMax} strings of at most {@code charsMax} characters. */
  public List<String> texts(String field, int itemsMax, int charsMax) {
    return array(field, itemsMax, n -> {
      if (!n.isTextual() || n.textValue().length() > charsMax) {
        throw JsonReader.bad(what + ": \"" + field + "\" must hold strings of at most "
            + charsMax + " characters");
      }
      return n.textValue();
    });
  }

  public List<NodeAddress> addresses(String field, int itemsMax) {
    return texts(field, itemsMax, NodeAddress.HOST_CHARS_MAX + 6).stream()
        .map(t -> parseAddress(field, t)).toList();
  }

  public <T> List<T> array(String field, int itemsMax, Function<JsonNode, T> item) {
    JsonNode n = required(field);
    if (!n.isArray() || n.size() > itemsMax) {
      throw JsonReader.bad(what + ": \"" + field + "\" must be an array of at most " + itemsMax
          + " items");
    }
    List<T> out = new ArrayList<>(n.size());
    n.forEach(i -> out.add(item.apply(i)));
    return out;
  }

  public CausalContext context(String field, long clockLimit) {
    return ContextJson.read(object.get(field), clockLimit);
  }

  public List<Entry> entries(String field, int entriesMax, long clockLimit) {
    JsonNode n = required(field);
    return JsonReader.read(n, p -> {
      p.nextToken();
      return EntryJson.readAll(p, field, entriesMax, clockLimit);
    });
  }

  public ClusterConfig config(String field) {
    JsonNode n = required(field);
    return JsonReader.read(n, p -> ConfigJson.read(p, p.nextToken()));
  }
}
