package ringkv.node.peer;

import java.util.List;
import java.util.Objects;
import ringkv.gossip.CausalContext;
import ringkv.gossip.ContextBound;
import ringkv.gossip.Entry;
import ringkv.gossip.KeyValueCore;
import ringkv.node.wire.EntryJson;
import ringkv.node.wire.JsonReader;
import ringkv.ring.NodeAddress;
import ringkv.ring.Ring;

/**
 * Messages of the key-value path between nodes: a request forwarded to the owning shard and its
 * answer, the entries a waiting reader (or anti-entropy) asks of a peer, a peer's promise that
 * what it acknowledged reached a counting replica, and a shard's key count. Counters are read as
 * peers send them; the engine bounds them against its clock.
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
  /** The most replicas a write may ask to be answered after ({@code RingKV-Acks}). */
  public static final int ACKS_MAX = ringkv.ring.NodeAddress.ADDRESSES_PER_LIST_MAX;
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
      boolean fromCatchingUp, String requestId, int acks, int contextEntries) {
    public ForwardRequest {
      Objects.requireNonNull(op, "op");
      Objects.requireNonNull(key, "key");
      Objects.requireNonNull(context, "context");
      Objects.requireNonNull(from, "from");
    }

    public ForwardRequest(KeyValueCore.Op op, String key, String valueJson,
        CausalContext context, long waitMs, int hops, long epoch, NodeAddress from,
        boolean fromCatchingUp) {
      this(op, key, valueJson, context, waitMs, hops, epoch, from, fromCatchingUp, null, 1,
          ContextBound.ENTRIES_MAX);
    }

    public ForwardRequest(KeyValueCore.Op op, String key, String valueJson,
        CausalContext context, long waitMs, int hops, long epoch, NodeAddress from,
        boolean fromCatchingUp, String requestId) {
      this(op, key, valueJson, context, waitMs, hops, epoch, from, fromCatchingUp, requestId,
          1, ContextBound.ENTRIES_MAX);
    }

    public static final Codec<ForwardRequest> CODEC = Codec.object("a forwarded request",
        (out, m) -> out.text("op", m.op().name()).text("key", m.key())
            .text("value-json", m.valueJson()).context("context", m.context())
            .number("wait-ms", m.waitMs()).number("hops", m.hops()).number("epoch", m.epoch())
            .address("from", m.from()).bool("from-catching-up", m.fromCatchingUp())
            .text("request-id", m.requestId()).number("acks", m.acks())
            .number("context-entries", m.contextEntries()),
        f -> new ForwardRequest(KvMessages.op(f.text("op", 16)), f.text("key", Integer.MAX_VALUE),
            f.textOrNull("value-json", Integer.MAX_VALUE), f.context("context", Long.MAX_VALUE),
            f.number("wait-ms", 0, WAIT_MS_MAX, 0), (int) f.number("hops", 0, HOPS_MAX, 0),
            f.number("epoch", 0, Long.MAX_VALUE, 0), f.address("from"),
            f.bool("from-catching-up", false),
            f.textOrNull("request-id", REQUEST_ID_CHARS_MAX),
            (int) f.number("acks", 1, ACKS_MAX, 1),
            (int) f.number("context-entries", 1, ContextBound.ENTRIES_MAX,
                ContextBound.ENTRIES_MAX)));
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

    public static final Codec<ForwardReply> CODEC = Codec.object("a forwarded answer",
        (out, m) -> out.text("outcome", m.outcome().name()).text("value-json", m.valueJson())
            .context("context", m.context()).number("shard-id", m.shardId())
            .text("served-by", m.servedBy()),
        f -> new ForwardReply(KvMessages.outcome(f.text("outcome", 16)),
            f.textOrNull("value-json", Integer.MAX_VALUE), f.context("context", Long.MAX_VALUE),
            (int) f.number("shard-id", 0, Integer.MAX_VALUE),
            f.text("served-by", NODE_CHARS_MAX)));
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

    public static final Codec<EntriesRequest> CODEC = Codec.object("an entries request",
        (out, m) -> out.address("from", m.from()).texts("keys", m.keys()),
        f -> new EntriesRequest(f.address("from"),
            f.texts("keys", KEYS_PER_REQUEST_MAX, EntryJson.KEY_CHARS_MAX)));
  }

  /**
   * The entries held for a prefix of the requested keys, bounded by bytes: {@code served} keys
   * were looked up (at least one), the caller asks again for the rest.
   */
  public record EntriesReply(List<Entry> entries, int served) {
    public EntriesReply {
      entries = List.copyOf(entries);
    }

    public static final Codec<EntriesReply> CODEC = Codec.object("an entries answer",
        (out, m) -> out.entries("entries", m.entries()).number("served", m.served()),
        f -> new EntriesReply(f.entries("entries", ENTRIES_PER_MESSAGE_MAX, Long.MAX_VALUE),
            (int) f.number("served", 0, KEYS_PER_REQUEST_MAX)));
  }

  /**
   * {@code to} counts keys: answer once every write this node had made is acknowledged by it,
   * or after {@code waitMs}.
   */
  public record SettleRequest(NodeAddress to, long waitMs) {
    public SettleRequest {
      Objects.requireNonNull(to, "to");
    }

    public static final Codec<SettleRequest> CODEC = Codec.object("a settle request",
        (out, m) -> out.address("to", m.to()).number("wait-ms", m.waitMs()),
        f -> new SettleRequest(f.address("to"), f.number("wait-ms", 0, WAIT_MS_MAX)));
  }

  /**
   * Asks a member of {@code shard} for the shard's key count (it settles first). A member still
   * copying its shard refuses unless {@code uncopied}: the asker found no member that has copied
   * it (a cluster just started, a partition) and takes what one holds.
   */
  public record CountRequest(int shard, boolean uncopied) {
    /** A count from a member that serves with its shard's data. */
    public CountRequest(int shard) {
      this(shard, false);
    }

    public static final Codec<CountRequest> CODEC = Codec.object("a count request",
        (out, m) -> out.number("shard", m.shard()).bool("uncopied", m.uncopied()),
        f -> new CountRequest((int) f.number("shard", 0, Ring.SHARD_COUNT_MAX),
            f.bool("uncopied", false)));
  }

  /** A shard's live keys. */
  public record Count(long keys) {
    public static final Codec<Count> CODEC = Codec.object("a count",
        (out, m) -> out.number("keys", m.keys()),
        f -> new Count(f.number("keys", 0, Long.MAX_VALUE)));
  }
}
