package ringkv.tests.causal;

import static ringkv.tests.support.Http.obj;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import ringkv.tests.causal.CausalChecker.Op;
import ringkv.tests.causal.CausalChecker.OpKind;
import ringkv.tests.causal.CausalChecker.Version;
import ringkv.tests.support.Http;
import ringkv.tests.support.Http.Reply;

/**
 * One client session of the shard dialect that records every operation for
 * {@link CausalChecker}: it passes the causal metadata of the last answer that carried one with
 * each request (as a well-behaved client does), writes unique values ({@code "<id>-<n>"}) and
 * appends an {@link Op} per request to a shared history, failures included (status -1 when no
 * answer came, e.g. the node was killed).
 *
 * <p>Not thread-safe: one thread per client; the history list must be thread-safe.
 */
public final class RecordingClient {
  private static final String STORE = "/key-value-store/";

  private final String id;
  private final List<Op> history;
  private JsonNode metadata = Http.MAPPER.nullNode();
  private int written;

  public RecordingClient(String id, List<Op> history) {
    this.id = Objects.requireNonNull(id, "id");
    this.history = Objects.requireNonNull(history, "history");
  }

  public String id() {
    return id;
  }

  public Op put(String node, String key) {
    return send(OpKind.PUT, node, key, id + "-" + written++);
  }

  public Op get(String node, String key) {
    return send(OpKind.GET, node, key, null);
  }

  public Op delete(String node, String key) {
    return send(OpKind.DELETE, node, key, null);
  }

  private Op send(OpKind kind, String node, String key, String value) {
    ObjectNode body = obj("causal-metadata", metadata);
    if (value != null) {
      body.put("value", value);
    }
    Map<String, Version> sent = versions(metadata);
    long start = System.nanoTime();
    Reply reply = null;
    try {
      reply = switch (kind) {
        case PUT -> Http.put(node, STORE + key, body);
        case GET -> Http.get(node, STORE + key, body);
        case DELETE -> Http.delete(node, STORE + key, body);
      };
    } catch (AssertionError noAnswer) {
      // Http reports a failed connection or a timeout this way: recorded as status -1.
    }
    long end = System.nanoTime();
    int status = reply == null ? -1 : reply.status();
    Map<String, Version> received = Map.of();
    String returned = value;
    if (reply != null && (status == 200 || status == 201 || status == 404)) {
      // A 404 that carries metadata (what it learned about the delete) is passed on too.
      JsonNode meta = reply.field("causal-metadata");
      if (!meta.isMissingNode()) {
        metadata = meta;
        received = versions(meta);
      }
      if (kind == OpKind.GET && status == 200) {
        returned = reply.field("value").asText();
      }
    }
    Op op = new Op(id, kind, key, returned, status, sent, received, start, end);
    history.add(op);
    return op;
  }

  /** {@code {"keys":{"k":[counter,"node"]}}} as a map; anything else as empty. */
  static Map<String, Version> versions(JsonNode metadata) {
    Map<String, Version> out = new HashMap<>();
    JsonNode keys = metadata == null ? null : metadata.get("keys");
    if (keys != null && keys.isObject()) {
      keys.fields().forEachRemaining(e -> out.put(e.getKey(),
          new Version(e.getValue().path(0).asLong(), e.getValue().path(1).asText())));
    }
    return out;
  }
}
