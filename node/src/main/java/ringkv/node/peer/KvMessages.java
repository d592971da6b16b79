package ringkv.node.peer;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import java.io.IOException;
import java.util.List;
import java.util.Objects;
import ringkv.gossip.CausalContext;
import ringkv.gossip.Entry;
import ringkv.gossip.KeyValueCore;
import ringkv.node.wire.ContextJson;
import ringkv.node.wire.EntryJson;
import ringkv.node.wire.Fields;
import ringkv.node.wire.JsonReader;
import ringkv.ring.NodeAddress;

/**
 * Messages of the key-value path between nodes: a request forwarded to the owning shard and its
 * answer, the entries a waiting reader (or anti-entropy) asks of a peer, and a peer's promise
 * that what it acknowledged reached a counting replica. Counters are read as peers send them;
 * the engine bounds them against its clock.
 */
public final class KvMessages {
  private KvMessages() {}

  /** Longest causal wait a forwarded request may ask for (the bound of CAUSAL_WAIT_MS). */
  public static final long WAIT_MS_MAX = 60_000;
  /** Keys one entries request may name. */
  public static final int KEYS_PER_REQUEST_MAX = 4096;
  /** Entries one answer or batch may carry (each is also bounded by bytes). */
  public static final int ENTRIES_PER_MESSAGE_MAX = 100_000;
  /** Forwarding hops a request may have made (a stale route needs one more, never many). */
  public static final int HOPS_MAX = 8;
  /** Longest request id a forwarded request may carry. */
  public static final int REQUEST_ID_CHARS_MAX = 64;
  /** Longest node id in a reply. */
  static final int NODE_CHARS_MAX = 300;

  /**
   * A client's request, forwarded by {@code from} (routing with configuration {@code epoch}) to
   * a member of the key's shard. {@code valueJson} is the PUT value's exact text (null if none).
   * {@code requestId} (optional) is the id the forwarding node gave the client's request, so
   * both nodes log it.
   */
  public record ForwardRequest(KeyValueCore.Op op, String key, String valueJson,
      CausalContext context, long waitMs, int hops, long epoch, NodeAddress from,
      boolean fromCatchingUp, String requestId) {
    public ForwardRequest {
      Objects.requireNonNull(op, "op");
      Objects.requireNonNull(key, "key");
      Objects.requireNonNull(context, "context");
      Objects.requireNonNull(from, "from");
    }

    public ForwardRequest(KeyValueCore.Op op, String key, String valueJson,
        CausalContext context, long waitMs, int hops, long epoch, NodeAddress from,
        boolean fromCatchingUp) {
      this(op, key, valueJson, context, waitMs, hops, epoch, from, fromCatchingUp, null);
    }

    public static final Codec<ForwardRequest> CODEC = new Codec<>() {
      @Override
      public void write(JsonGenerator g, ForwardRequest m) throws IOException {
        g.writeStartObject();
        g.writeStringField("op", m.op().name());
        g.writeStringField("key", m.key());
        if (m.valueJson() != null) {
          g.writeStringField("value-json", m.valueJson());
        }
        g.writeFieldName("context");
        ContextJson.write(g, m.context());
        g.writeNumberField("wait-ms", m.waitMs());
        g.writeNumberField("hops", m.hops());
        g.writeNumberField("epoch", m.epoch());
        g.writeStringField("from", m.from().toString());
        g.writeBooleanField("from-catching-up", m.fromCatchingUp());
        if (m.requestId() != null) {
          g.writeStringField("request-id", m.requestId());
        }
        g.writeEndObject();
      }

      @Override
      public ForwardRequest read(JsonParser p) throws IOException {
        Fields f = Fields.read(p, "a forwarded request");
        return new ForwardRequest(KvMessages.op(f.text("op", 16)), f.text("key", Integer.MAX_VALUE),
            f.textOrNull("value-json", Integer.MAX_VALUE), f.context("context", Long.MAX_VALUE),
            f.number("wait-ms", 0, WAIT_MS_MAX, 0), (int) f.number("hops", 0, HOPS_MAX, 0),
            f.number("epoch", 0, Long.MAX_VALUE, 0), f.address("from"),
            f.bool("from-catching-up", false),
            f.textOrNull("request-id", REQUEST_ID_CHARS_MAX));
      }
    };
  }

  static KeyValueCore.Op op(String text) {
    try {
      return KeyValueCore.Op.valueOf(text);
    } catch (IllegalArgumentException e) {
      throw JsonReader.bad("unknown op " + text);
    }
  }

  static KeyValueCore.Outcome outcome(String text) {
    try {
      return KeyValueCore.Outcome.valueOf(text);
    } catch (IllegalArgumentException e) {
      throw JsonReader.bad("unknown outcome " + text);
    }
  }

  /** The owner's answer to a forwarded request (errors travel as error bodies). */
  public record ForwardReply(KeyValueCore.Outcome outcome, String valueJson,
      CausalContext context, int shardId, String servedBy) {
    public ForwardReply {
      Objects.requireNonNull(outcome, "outcome");
      Objects.requireNonNull(context, "context");
      Objects.requireNonNull(servedBy, "servedBy");
    }

    public static final Codec<ForwardReply> CODEC = new Codec<>() {
      @Override
      public void write(JsonGenerator g, ForwardReply m) throws IOException {
        g.writeStartObject();
        g.writeStringField("outcome", m.outcome().name());
        if (m.valueJson() != null) {
          g.writeStringField("value-json", m.valueJson());
        }
        g.writeFieldName("context");
        ContextJson.write(g, m.context());
        g.writeNumberField("shard-id", m.shardId());
        g.writeStringField("served-by", m.servedBy());
        g.writeEndObject();
      }

      @Override
      public ForwardReply read(JsonParser p) throws IOException {
        Fields f = Fields.read(p, "a forwarded answer");
        return new ForwardReply(KvMessages.outcome(f.text("outcome", 16)),
            f.textOrNull("value-json", Integer.MAX_VALUE), f.context("context", Long.MAX_VALUE),
            (int) f.number("shard-id", 0, Integer.MAX_VALUE),
            f.text("served-by", NODE_CHARS_MAX));
      }
    };
  }

  /**
   * The entries {@code from} wants for {@code keys}: a reader waiting for a dependency, or an
   * anti-entropy round pulling what it lacks.
   */
  public record EntriesRequest(NodeAddress from, List<String> keys) {
    public EntriesRequest {
      Objects.requireNonNull(from, "from");
      keys = List.copyOf(keys);
    }

    public static final Codec<EntriesRequest> CODEC = new Codec<>() {
      @Override
      public void write(JsonGenerator g, EntriesRequest m) throws IOException {
        g.writeStartObject();
        g.writeStringField("from", m.from().toString());
        g.writeArrayFieldStart("keys");
        for (String k : m.keys()) {
          g.writeString(k);
        }
        g.writeEndArray();
        g.writeEndObject();
      }

      @Override
      public EntriesRequest read(JsonParser p) throws IOException {
        Fields f = Fields.read(p, "an entries request");
        return new EntriesRequest(f.address("from"),
            f.texts("keys", KEYS_PER_REQUEST_MAX, EntryJson.KEY_CHARS_MAX));
      }
    };
  }

  /**
   * The entries held for a prefix of the requested keys, bounded by bytes: {@code served} keys
   * were looked up (at least one), the caller asks again for the rest.
   */
  public record EntriesReply(List<Entry> entries, int served) {
    public EntriesReply {
      entries = List.copyOf(entries);
    }

    public static final Codec<EntriesReply> CODEC = new Codec<>() {
      @Override
      public void write(JsonGenerator g, EntriesReply m) throws IOException {
        g.writeStartObject();
        g.writeFieldName("entries");
        EntryJson.writeAll(g, m.entries());
        g.writeNumberField("served", m.served());
        g.writeEndObject();
      }

      @Override
      public EntriesReply read(JsonParser p) throws IOException {
        Fields f = Fields.read(p, "an entries answer");
        return new EntriesReply(f.entries("entries", ENTRIES_PER_MESSAGE_MAX, Long.MAX_VALUE),
            (int) f.number("served", 0, KEYS_PER_REQUEST_MAX));
      }
    };
  }

  /**
   * {@code to} counts keys: answer once every write this node had made is acknowledged by it,
   * or after {@code waitMs}.
   */
  public record SettleRequest(NodeAddress to, long waitMs) {
    public SettleRequest {
      Objects.requireNonNull(to, "to");
    }

    public static final Codec<SettleRequest> CODEC = new Codec<>() {
      @Override
      public void write(JsonGenerator g, SettleRequest m) throws IOException {
        g.writeStartObject();
        g.writeStringField("to", m.to().toString());
        g.writeNumberField("wait-ms", m.waitMs());
        g.writeEndObject();
      }

      @Override
      public SettleRequest read(JsonParser p) throws IOException {
        Fields f = Fields.read(p, "a settle request");
        return new SettleRequest(f.address("to"), f.number("wait-ms", 0, WAIT_MS_MAX));
      }
    };
  }

  /** Asks a member of {@code shard} for the shard's key count (it settles first). */
  public record CountRequest(int shard) {
    public static final Codec<CountRequest> CODEC = new Codec<>() {
      @Override
      public void write(JsonGenerator g, CountRequest m) throws IOException {
        g.writeStartObject();
        g.writeNumberField("shard", m.shard());
        g.writeEndObject();
      }

      @Override
      public CountRequest read(JsonParser p) throws IOException {
        return new CountRequest((int) Fields.read(p, "a count request")
            .number("shard", 0, ringkv.ring.Ring.SHARD_COUNT_MAX));
      }
    };
  }

  /** A shard's live keys. */
  public record Count(long keys) {
    public static final Codec<Count> CODEC = new Codec<>() {
      @Override
      public void write(JsonGenerator g, Count m) throws IOException {
        g.writeStartObject();
        g.writeNumberField("keys", m.keys());
        g.writeEndObject();
      }

      @Override
      public Count read(JsonParser p) throws IOException {
        return new Count(Fields.read(p, "a count").number("keys", 0, Long.MAX_VALUE));
      }
    };
  }
}
