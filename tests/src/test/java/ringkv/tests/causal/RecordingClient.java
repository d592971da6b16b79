package ringkv.tests.causal;

import static ringkv.tests.support.Http.obj;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.net.ConnectException;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Random;
import ringkv.tests.causal.CausalChecker.Op;
import ringkv.tests.causal.CausalChecker.OpKind;
import ringkv.tests.causal.CausalChecker.Version;
import ringkv.tests.support.Dialect;
import ringkv.tests.support.Http;
import ringkv.tests.support.Http.Reply;

/**
 * One client session that records every operation for {@link CausalChecker}: it passes the
 * causal metadata of the last answer that carried one with each request (as a well-behaved
 * client does), writes unique values ({@code "<id>-<n>"}) and appends an {@link Op} per request
 * to a shared history, failures included: {@link CausalChecker#REFUSED} when the connection was
 * refused (a killed node), {@link CausalChecker#NO_ANSWER} when no answer came otherwise. Either
 * dialect ({@link Dialect}), over any {@link Transport} (plain HTTP by default; the chaos suite's
 * backends bring their own).
 *
 * <p>Not thread-safe: one thread per client; the history list must be thread-safe.
 */
public final class RecordingClient {
  /**
   * Sends one request to a node and returns its answer; throws {@link AssertionError} when no
   * answer came (refused, reset, timed out), as {@link Http#send} does. Thread-safe.
   */
  @FunctionalInterface
  public interface Transport {
    Reply send(String node, String method, String path, String rawBody);
  }

  private final String id;
  private final List<Op> history;
  private final Dialect dialect;
  private final Transport transport;
  private JsonNode metadata;
  private int written;

  /** A shard-dialect client over plain HTTP to {@code host:port} addresses. */
  public RecordingClient(String id, List<Op> history) {
    this(id, history, Dialect.SHARD, (node, method, path, body) ->
        Http.send(method, node, path, body));
  }

  public RecordingClient(String id, List<Op> history, Dialect dialect, Transport transport) {
    this.id = Objects.requireNonNull(id, "id");
    this.history = Objects.requireNonNull(history, "history");
    this.dialect = Objects.requireNonNull(dialect, "dialect");
    this.transport = Objects.requireNonNull(transport, "transport");
    this.metadata = dialect.emptyMetadata();
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

  /** One operation on {@code key} through {@code node}: 45% GETs, 40% PUTs, 15% DELETEs. */
  public Op randomOp(String node, String key, Random random) {
    double dice = random.nextDouble();
    if (dice < 0.45) {
      return get(node, key);
    } else if (dice < 0.85) {
      return put(node, key);
    }
    return delete(node, key);
  }

  public Op delete(String node, String key) {
    return send(OpKind.DELETE, node, key, null);
  }

  private Op send(OpKind kind, String node, String key, String value) {
    ObjectNode body = obj(dialect.metadataField(), metadata);
    if (value != null) {
      body.put("value", value);
    }
    String rawBody = body.toString();
    Map<String, Version> sent = versions(metadata);
    long start = System.nanoTime();
    Reply reply = null;
    int status;
    try {
      reply = transport.send(node, kind.name(), dialect.keyPath(key), rawBody);
      status = reply.status();
    } catch (AssertionError noAnswer) {
      // A failed connection or a timeout is reported this way.
      status = refused(noAnswer) ? CausalChecker.REFUSED : CausalChecker.NO_ANSWER;
    }
    long end = System.nanoTime();
    Map<String, Version> received = Map.of();
    String returned = value;
    if (reply != null && (status == 200 || status == 201 || status == 404)) {
      // A 404 that carries metadata (what it learned about the delete) is passed on too.
      JsonNode meta = reply.field(dialect.metadataField());
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

  /**
   * Whether a transport failure was a refused connection ({@link ConnectException} among its
   * causes): the request was never sent. Java's HTTP client resends a PUT or DELETE only after
   * a refused connection (nothing sent yet), so a refusal never follows a request that was sent.
   */
  public static boolean refused(Throwable failure) {
    for (Throwable t = failure; t != null; t = t.getCause()) {
      if (t instanceof ConnectException) {
        return true;
      }
    }
    return false;
  }

  /** {@code {"keys":{"k":[counter,"node"]}}} as a map; anything else as empty. */
  public static Map<String, Version> versions(JsonNode metadata) {
    Map<String, Version> out = new HashMap<>();
    JsonNode keys = metadata == null ? null : metadata.get("keys");
    if (keys != null && keys.isObject()) {
      keys.fields().forEachRemaining(e -> out.put(e.getKey(),
          new Version(e.getValue().path(0).asLong(), e.getValue().path(1).asText())));
    }
    return out;
  }
}
