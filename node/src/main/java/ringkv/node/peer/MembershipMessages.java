package ringkv.node.peer;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;
import ringkv.gossip.ChangeTermination.Standing;
import ringkv.gossip.Entry;
import ringkv.node.wire.ConfigJson;
import ringkv.node.wire.EntryJson;
import ringkv.ring.ClusterConfig;
import ringkv.ring.NodeAddress;
import ringkv.ring.Ring;

/**
 * Messages of liveness and membership: heartbeats, the configuration, a catching-up replica's
 * pages of its shard, a joining node's announcement, and the three phases of a view change.
 */
public final class MembershipMessages {
  private MembershipMessages() {}

  /** Entries one catch-up page may carry (each page is also bounded by bytes). */
  public static final int SCAN_LIMIT_MAX = 4096;

  /** A heartbeat from {@code from}, which holds configuration {@code epoch}. */
  public record Ping(NodeAddress from, long epoch) {
    public Ping {
      Objects.requireNonNull(from, "from");
    }

    public static final Codec<Ping> CODEC = Codec.object("a ping",
        (out, m) -> out.address("from", m.from()).number("epoch", m.epoch()),
        f -> new Ping(f.address("from"), f.number("epoch", 0, Long.MAX_VALUE)));
  }

  /**
   * The answer to a heartbeat: who answered, its configuration's epoch, its stable-time report
   * and the process that made it, and whether it serves (caught up).
   */
  public record Pong(NodeAddress node, long epoch, long stable, long incarnation,
      boolean ready) {
    public Pong {
      Objects.requireNonNull(node, "node");
    }

    public static final Codec<Pong> CODEC = Codec.object("a pong",
        (out, m) -> out.address("node", m.node()).number("epoch", m.epoch())
            .number("stable", m.stable()).number("incarnation", m.incarnation())
            .bool("ready", m.ready()),
        f -> new Pong(f.address("node"), f.number("epoch", 0, Long.MAX_VALUE),
            f.number("stable", 0, Long.MAX_VALUE), f.number("incarnation", 0, Long.MAX_VALUE),
            f.bool("ready", false)));
  }

  /** The cluster configuration as a message. */
  public static final Codec<ClusterConfig> CONFIG = new Codec<>() {
    @Override
    public void write(JsonGenerator g, ClusterConfig c) throws IOException {
      ConfigJson.write(g, c);
    }

    @Override
    public ClusterConfig read(JsonParser p) throws IOException {
      return ConfigJson.read(p, p.nextToken());
    }
  };

  /** A page of {@code shard}'s entries after key {@code after} (null: from the first). */
  public record ScanRequest(int shard, String after, int limit) {
    public static final Codec<ScanRequest> CODEC = Codec.object("a scan request",
        (out, m) -> out.number("shard", m.shard()).text("after", m.after())
            .number("limit", m.limit()),
        f -> new ScanRequest((int) f.number("shard", 0, Ring.SHARD_COUNT_MAX),
            f.textOrNull("after", EntryJson.KEY_CHARS_MAX),
            (int) f.number("limit", 1, SCAN_LIMIT_MAX, SCAN_LIMIT_MAX)));
  }

  /** A page of entries, and the last key looked at (null: the scan is over). */
  public record ScanPage(List<Entry> entries, String last) {
    public ScanPage {
      entries = List.copyOf(entries);
    }

    public static final Codec<ScanPage> CODEC = Codec.object("a scan page",
        (out, m) -> out.entries("entries", m.entries()).textOrNull("last", m.last()),
        f -> new ScanPage(f.entries("entries", SCAN_LIMIT_MAX, Long.MAX_VALUE),
            f.textOrNull("last", EntryJson.KEY_CHARS_MAX)));
  }

  /** A node started without a place in the cluster announces itself. */
  public record JoinRequest(NodeAddress node) {
    public JoinRequest {
      Objects.requireNonNull(node, "node");
    }

    public static final Codec<JoinRequest> CODEC = Codec.object("a join request",
        (out, m) -> out.address("node", m.node()), f -> new JoinRequest(f.address("node")));
  }

  /** Phases 2 and 3 (and an abort) of the view change to {@code epoch}. */
  public record EpochRequest(long epoch) {
    public static final Codec<EpochRequest> CODEC = Codec.object("a view-change step",
        (out, m) -> out.number("epoch", m.epoch()),
        f -> new EpochRequest(f.number("epoch", 0, Long.MAX_VALUE)));
  }

  /** A participant whose prepared change is in doubt asks what became of {@code pending}. */
  public record OutcomeRequest(ClusterConfig pending) {
    public OutcomeRequest {
      Objects.requireNonNull(pending, "pending");
    }

    public static final Codec<OutcomeRequest> CODEC = Codec.object("an outcome request",
        (out, m) -> out.config("pending", m.pending()),
        f -> new OutcomeRequest(f.config("pending")));
  }

  /**
   * The answer: the configuration installed at the answering node, and what it knows of the
   * change as its coordinator.
   */
  public record OutcomeReply(ClusterConfig installed, Standing standing) {
    public OutcomeReply {
      Objects.requireNonNull(installed, "installed");
      Objects.requireNonNull(standing, "standing");
    }

    public static final Codec<OutcomeReply> CODEC = Codec.object("an outcome answer",
        (out, m) -> out.config("installed", m.installed())
            .text("standing", m.standing().name().toLowerCase(java.util.Locale.ROOT)),
        f -> new OutcomeReply(f.config("installed"), standing(f.text("standing", 16))));

    private static Standing standing(String text) {
      for (Standing s : Standing.values()) {
        if (s.name().equalsIgnoreCase(text)) {
          return s;
        }
      }
      throw ringkv.node.wire.JsonReader.bad("an outcome answer: unknown standing \"" + text
          + "\"");
    }
  }

  /** What a participant sent in phase 2. */
  /**
   * A participant's answer to the commit: how long it refused key-value requests for the change
   * ({@code window-ms}; -1 when it had no stop to end: the change was settled already, or it
   * learned it otherwise). An answer without the field (an empty object) reads as -1.
   */
  public record Committed(long windowMs) {
    public static final Committed UNKNOWN = new Committed(-1);
    public static final Codec<Committed> CODEC = Codec.object("a commit answer",
        (out, m) -> out.number("window-ms", m.windowMs()),
        f -> new Committed(f.number("window-ms", -1, Long.MAX_VALUE, -1)));
  }

  public record TransferReply(long keys, long bytes) {
    public static final Codec<TransferReply> CODEC = Codec.object("a transfer answer",
        (out, m) -> out.number("keys", m.keys()).number("bytes", m.bytes()),
        f -> new TransferReply(f.number("keys", 0, Long.MAX_VALUE),
            f.number("bytes", 0, Long.MAX_VALUE)));
  }

  /**
   * A view change to {@code config} with these participants and its coordinator: the body of
   * its plan (what each sender would send), of its copy phase (start copying while serving) and
   * of its phase 1, the prepare ({@link #PREPARE_CODEC}).
   */
  public record ChangeRequest(ClusterConfig config, Set<NodeAddress> participants,
      NodeAddress coordinator) {
    public ChangeRequest {
      Objects.requireNonNull(config, "config");
      Objects.requireNonNull(coordinator, "coordinator");
      participants = Set.copyOf(participants);
    }

    public static final Codec<ChangeRequest> CODEC = codec("a view-change request");
    /** The same message as phase 1 of a view change (its errors call it a prepare request). */
    public static final Codec<ChangeRequest> PREPARE_CODEC = codec("a prepare request");

    private static Codec<ChangeRequest> codec(String what) {
      return Codec.object(what,
          (out, m) -> out.config("config", m.config())
              .addresses("participants", new TreeSet<>(m.participants()))
              .address("coordinator", m.coordinator()),
          f -> new ChangeRequest(f.config("config"),
              new TreeSet<>(f.addresses("participants", NodeAddress.ADDRESSES_PER_LIST_MAX)),
              f.address("coordinator")));
    }
  }

  /** What one sender sends to one receiver in a planned change. */
  public record Transfer(NodeAddress target, long keys, long bytes) {
    public Transfer {
      Objects.requireNonNull(target, "target");
    }
  }

  /**
   * A sender's part of a plan: its transfers, the keys it would send (each once, whatever the
   * number of receivers), and the keys it holds of its shard.
   */
  public record PlanReply(List<Transfer> transfers, long keysMoving, long keysHeld) {
    public PlanReply {
      transfers = List.copyOf(transfers);
    }

    public static final Codec<PlanReply> CODEC = Codec.object("a plan answer",
        (out, m) -> out.array("transfers", m.transfers(), PlanReply::writeTransfer)
            .number("keys-moving", m.keysMoving()).number("keys-held", m.keysHeld()),
        f -> new PlanReply(f.array("transfers", NodeAddress.ADDRESSES_PER_LIST_MAX,
            PlanReply::transfer), f.number("keys-moving", 0, Long.MAX_VALUE),
            f.number("keys-held", 0, Long.MAX_VALUE)));

    private static void writeTransfer(JsonGenerator g, Transfer t) throws IOException {
      g.writeStartObject();
      g.writeStringField("target", t.target().toString());
      g.writeNumberField("keys", t.keys());
      g.writeNumberField("bytes", t.bytes());
      g.writeEndObject();
    }

    private static Transfer transfer(JsonNode n) {
      ringkv.node.wire.Fields t = ringkv.node.wire.Fields.of(n, "a transfer");
      return new Transfer(t.address("target"), t.number("keys", 0, Long.MAX_VALUE),
          t.number("bytes", 0, Long.MAX_VALUE));
    }
  }

  /**
   * How a participant's part of a change stands: {@code state} is idle, copying, copied, or
   * failed (with {@code error}); the progress of its sends.
   */
  public record Progress(String state, long keysTotal, long keysDone, long bytesDone,
      long startedMs, long nowMs, String error) {
    public Progress {
      Objects.requireNonNull(state, "state");
    }

    public static final Codec<Progress> CODEC = Codec.object("a progress report",
        (out, m) -> out.text("state", m.state()).number("keys-total", m.keysTotal())
            .number("keys-done", m.keysDone()).number("bytes-done", m.bytesDone())
            .number("started-ms", m.startedMs()).number("now-ms", m.nowMs())
            .text("error", m.error()),
        f -> new Progress(f.text("state", 16), f.number("keys-total", 0, Long.MAX_VALUE),
            f.number("keys-done", 0, Long.MAX_VALUE), f.number("bytes-done", 0, Long.MAX_VALUE),
            f.number("started-ms", 0, Long.MAX_VALUE), f.number("now-ms", 0, Long.MAX_VALUE),
            f.textOrNull("error", 4096)));
  }
}
